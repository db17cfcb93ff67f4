// Builds the DESIGN §5 policy input for a proposal from what the gateway knows. Pure: every fact it
// needs is passed in (the instant included), so the same proposal and facts always yield the same
// input, and the audit record of the input is enough to replay the decision.
//
// Beyond the DESIGN §5 example, the context carries (all read by policies/*):
//   active_freezes            [{name, until, scope: "tenant"|"global"}]  freezes in force now
//   freeze_override           {by, reason}        only when a human has overridden the freeze
//   seconds_since_last_action {<action>: s|null}  per non-scaling action, on the same target
//   tenant.reserved_instances {coverage_pct, utilization_target_pct}  when the tenant has any
//   tenant.known false, tenant.assumed_reason    when the tenants file does not name the tenant
//                                                  and its tier was assumed (assumed-tenant.ts)
// and change_freeze is true when any freeze is in force (or the caller says so).
import type { ActionName, BlastRadius, Proposal } from '../contracts/events.ts';
import type { PolicyInput } from '../policy/policy-engine.ts';
import { isAssumed } from './assumed-tenant.ts';
import { activeFreezes } from './freeze-windows.ts';
import type { TenantSpec } from './tenants.ts';

export interface FreezeOverride {
  /** The human who overrides the freeze, as authenticated (Slack user, CLI operator): never an agent. */
  by: string;
  /** Why; recorded with the decision. An empty reason is refused by the policy. */
  reason: string;
}

export interface PolicyFacts {
  nowMs: number;
  agentLevel: 1 | 2 | 3;
  tenant: TenantSpec;
  /** A freeze the caller knows of beyond the configured windows (e.g. declared in an incident). */
  changeFreeze: boolean;
  /** Seconds since the last successful scaling of the same deployment; null if never. */
  secondsSinceLastScale: number | null;
  inFlightActions: number;
  /** A human's override of the change freezes in force, for this proposal. */
  freezeOverride?: FreezeOverride | undefined;
  /** Seconds since the last successful action of each kind on the same target; absent or null: never. */
  secondsSinceLastAction?: Partial<Record<ActionName, number | null>> | undefined;
  /** The blast radius the gateway computed from the target (blast-radius.ts); the proposal's own figure when absent. */
  blastRadius?: BlastRadius | undefined;
}

export function buildPolicyInput(p: Proposal, f: PolicyFacts): PolicyInput {
  const from = Number(p.params['from_replicas'] ?? 0);
  const to = Number(p.params['to_replicas'] ?? 0);
  const podDelta = p.action === 'scale_deployment' && Number.isFinite(to - from) ? to - from : 0;
  // A node group's cost is its nodes' price, which the agent read from the provider's node groups
  // (list_node_groups) and put in the proposal's params; the whole node counts against the tenant
  // that asks for it (the strict reading: shared capacity paid by whoever needs it first).
  const nodeCost = Number(p.params['monthly_cost_delta_usd']);
  const costDelta = p.action === 'scale_node_group' ? (Number.isFinite(nodeCost) ? nodeCost : 0) : podDelta * f.tenant.pod_monthly_cost_usd;
  const freezes = [
    ...activeFreezes(f.tenant.freezes ?? [], f.nowMs).map((a) => ({ ...a, scope: 'tenant' as const })),
    ...activeFreezes(f.tenant.global_freezes ?? [], f.nowMs).map((a) => ({ ...a, scope: 'global' as const })),
  ];
  const reserved = f.tenant.reserved_instances;
  return {
    proposal: {
      id: p.id,
      agent: p.agent,
      tenant: p.tenant,
      namespace: p.namespace,
      action: p.action,
      target: p.target,
      params: p.params,
      blast_radius: f.blastRadius ?? p.blast_radius,
    },
    context: {
      now: new Date(f.nowMs).toISOString(),
      agent_level: f.agentLevel,
      environment: f.tenant.environment,
      change_freeze: f.changeFreeze || freezes.length > 0,
      active_freezes: freezes,
      ...(f.freezeOverride ? { freeze_override: { by: f.freezeOverride.by, reason: f.freezeOverride.reason } } : {}),
      seconds_since_last_scale: f.secondsSinceLastScale,
      seconds_since_last_action: { ...f.secondsSinceLastAction },
      in_flight_actions: f.inFlightActions,
      tenant: {
        tier: f.tenant.tier,
        burn_rate: f.tenant.burn_rate,
        max_replicas: f.tenant.max_replicas,
        monthly_budget_usd: f.tenant.monthly_budget_usd,
        month_to_date_usd: f.tenant.month_to_date_usd,
        ...(reserved ? { reserved_instances: { coverage_pct: reserved.coverage_pct, utilization_target_pct: reserved.utilization_target_pct } } : {}),
        ...(isAssumed(f.tenant) ? { known: false, assumed_reason: f.tenant.assumed.reason } : {}),
      },
      estimated_monthly_cost_delta_usd: costDelta,
    },
  };
}
