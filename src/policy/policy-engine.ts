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
      seconds_since_last_scale: z.number().nullable().optional(),
      in_flight_actions: z.number().int().nonnegative(),
      tenant: z
        .object({
          tier: z.string(),
          burn_rate: z.number(),
          max_replicas: z.number(),
          monthly_budget_usd: z.number(),
          month_to_date_usd: z.number(),
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
