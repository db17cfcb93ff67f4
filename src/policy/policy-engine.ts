// The policy seam. The gateway asks; the engine answers with a DESIGN §5 decision. The real
// engine evaluates the OPA bundle compiled to Wasm in-process.
import { z } from 'zod';
import { ActionName, AgentName, BlastRadius, Verdict, Violation } from '../contracts/events.ts';

export const PolicyInput = z.object({
  proposal: z.object({
    id: z.string(),
    agent: AgentName,
    tenant: z.string(),
    namespace: z.string(),
    action: ActionName,
    target: z.object({ kind: z.string(), name: z.string() }),
    params: z.record(z.string(), z.unknown()),
    blast_radius: BlastRadius,
  }),
  context: z
    .object({
      now: z.string(),
      agent_level: z.number().int().min(1).max(3),
      environment: z.string(),
      change_freeze: z.boolean(),
      /** The freezes in force (src/governance/freeze-windows.ts); absent means none are named. */
      active_freezes: z
        .array(z.object({ name: z.string(), until: z.string(), scope: z.enum(['tenant', 'global']) }).passthrough())
        .optional(),
      /** A human's override of the freezes in force; the policy refuses one without a reason. */
      freeze_override: z.object({ by: z.string(), reason: z.string() }).passthrough().optional(),
      seconds_since_last_scale: z.number().nullable().optional(),
      /** Per non-scaling action: seconds since it last succeeded on the same target, null if never. */
      seconds_since_last_action: z.record(z.string(), z.number().nullable()).optional(),
      in_flight_actions: z.number().int().nonnegative(),
      tenant: z
        .object({
          tier: z.string(),
          burn_rate: z.number(),
          max_replicas: z.number(),
          monthly_budget_usd: z.number(),
          month_to_date_usd: z.number(),
          reserved_instances: z.object({ coverage_pct: z.number(), utilization_target_pct: z.number() }).passthrough().optional(),
        })
        .passthrough(),
      estimated_monthly_cost_delta_usd: z.number(),
    })
    .passthrough(),
});
export type PolicyInput = z.infer<typeof PolicyInput>;

export const PolicyDecision = z.object({
  verdict: Verdict,
  violations: z.array(Violation),
  policy_version: z.string(),
});
export type PolicyDecision = z.infer<typeof PolicyDecision>;

export interface PolicyEngine {
  /** Hash of the compiled bundle in force. */
  readonly version: string;
  /** Fails closed: throws `policy_unavailable` / `policy_invalid` rather than guess a verdict. */
  evaluate(input: PolicyInput): Promise<PolicyDecision>;
}
