// The shapes Configurer reads from the ConfigMap MCP server's read-only tools, validated on
// arrival: an agent never reasons over a response it did not understand. Independent of the
// server's code (agents and servers share only the wire contract).
import { z } from 'zod';

export const KeyChange = z.object({ key: z.string(), before: z.string().nullable(), after: z.string().nullable() });
export type KeyChange = z.infer<typeof KeyChange>;

export const ConfigReference = z
  .object({ deployment: z.string(), wholesale: z.boolean(), keys: z.array(z.string()), via: z.array(z.string()) })
  .passthrough();
export type ConfigReference = z.infer<typeof ConfigReference>;

export const ConfigView = z
  .object({
    namespace: z.string(),
    name: z.string(),
    resource_version: z.string(),
    data: z.record(z.string(), z.string()),
    referenced_by: z.array(ConfigReference),
  })
  .passthrough();
export type ConfigView = z.infer<typeof ConfigView>;

export const ConfigVersion = z
  .object({
    resource_version: z.string(),
    observed_at: z.string(),
    kind: z.enum(['initial', 'created', 'changed', 'deleted']),
    changes: z.array(KeyChange),
    data: z.record(z.string(), z.string()),
  })
  .passthrough();
export type ConfigVersion = z.infer<typeof ConfigVersion>;

export const ConfigHistoryView = z
  .object({
    namespace: z.string(),
    name: z.string(),
    tracking_since: z.string().nullable(),
    /** Newest first. */
    versions: z.array(ConfigVersion),
  })
  .passthrough();
export type ConfigHistoryView = z.infer<typeof ConfigHistoryView>;

export const ConfigList = z
  .object({
    namespace: z.string(),
    config_maps: z.array(z.object({ name: z.string(), resource_version: z.string(), referenced_by: z.array(z.string()) }).passthrough()),
  })
  .passthrough();
export type ConfigList = z.infer<typeof ConfigList>;

/** The ConfigMap server's tools, for routing (agents/runtime/tool-router.ts). */
export const CONFIGMAP_TOOLS = ['list_configs', 'get_config', 'get_config_history', 'update_config'] as const;
