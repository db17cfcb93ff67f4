// The shapes Configurer reads from the Feature Flag MCP server's read-only tools, validated on
// arrival: an agent never reasons over a response it did not understand. Independent of the server's
// code (agents and servers share only the wire contract).
import { z } from 'zod';

export const FlagSetting = z.object({ state: z.enum(['ENABLED', 'DISABLED']), default_variant: z.string() });
export type FlagSetting = z.infer<typeof FlagSetting>;

export const FlagList = z
  .object({
    namespace: z.string(),
    flag_sets: z.array(
      z
        .object({
          config_map: z.string(),
          resource_version: z.string(),
          referenced_by: z.array(z.string()),
          error: z.string().nullable(),
          flags: z.array(
            z
              .object({ flag: z.string(), state: z.enum(['ENABLED', 'DISABLED']), default_variant: z.string(), served_value: z.unknown(), last_changed_at: z.string().nullable() })
              .passthrough(),
          ),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type FlagList = z.infer<typeof FlagList>;

export const FlagVersion = z
  .object({
    resource_version: z.string(),
    observed_at: z.string(),
    kind: z.enum(['initial', 'created', 'changed', 'deleted']),
    before: FlagSetting.nullable(),
    after: FlagSetting.nullable(),
    definition: z.object({ variants: z.record(z.string(), z.unknown()) }).passthrough().nullable(),
  })
  .passthrough();
export type FlagVersion = z.infer<typeof FlagVersion>;

export const FlagHistoryView = z
  .object({
    namespace: z.string(),
    config_map: z.string(),
    flag: z.string(),
    tracking_since: z.string().nullable(),
    /** Newest first: the versions in which the flag changed. */
    versions: z.array(FlagVersion),
  })
  .passthrough();
export type FlagHistoryView = z.infer<typeof FlagHistoryView>;

/** The Feature Flag server's tools, for routing (agents/runtime/tool-router.ts). */
export const FEATURE_FLAG_TOOLS = ['list_flags', 'get_flag', 'get_flag_history', 'set_flag', 'rollback_flag'] as const;
