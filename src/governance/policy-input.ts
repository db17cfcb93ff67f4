// Builds the DESIGN §5 policy input for a proposal from what the gateway knows. Pure: every fact it
// needs is passed in, so the same proposal and facts always yield the same input (and the audit
// record of the input is enough to replay the decision).
import type { Proposal } from '../contracts/events.ts';
import type { PolicyInput } from '../policy/policy-engine.ts';
import type { TenantSpec } from './tenants.ts';

export interface PolicyFacts {
  nowMs: number;
  agentLevel: 1 | 2 | 3;
  tenant: TenantSpec;
  changeFreeze: boolean;
  /** Seconds since the last successful scaling of the same deployment; null if never. */
  secondsSinceLastScale: number | null;
  inFlightActions: number;
}

export function buildPolicyInput(p: Proposal, f: PolicyFacts): PolicyInput {
  const from = Number(p.params['from_replicas'] ?? 0);
  const to = Number(p.params['to_replicas'] ?? 0);
  const podDelta = p.action === 'scale_deployment' && Number.isFinite(to - from) ? to - from : 0;
  return {
    proposal: {
      id: p.id,
      agent: p.agent,
      tenant: p.tenant,
      namespace: p.namespace,
      action: p.action,
      target: p.target,
      params: p.params,
      blast_radius: p.blast_radius,
    },
    context: {
      now: new Date(f.nowMs).toISOString(),
      agent_level: f.agentLevel,
      environment: f.tenant.environment,
      change_freeze: f.changeFreeze,
      seconds_since_last_scale: f.secondsSinceLastScale,
      in_flight_actions: f.inFlightActions,
      tenant: {
        tier: f.tenant.tier,
        burn_rate: f.tenant.burn_rate,
        max_replicas: f.tenant.max_replicas,
        monthly_budget_usd: f.tenant.monthly_budget_usd,
        month_to_date_usd: f.tenant.month_to_date_usd,
      },
      estimated_monthly_cost_delta_usd: podDelta * f.tenant.pod_monthly_cost_usd,
    },
  };
}
