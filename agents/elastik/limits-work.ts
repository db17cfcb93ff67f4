// The incident's next step, when the limit binds: before Elastik adds pods to an incident it is
// working, it asks again whether a container's limit, not the number of pods, is what holds the
// service back now (vertical.ts) — throttling can set in after the first look — and if so proposes
// that one step instead of the next scale. Once per incident and deployment; a change of limits
// already proposed (whatever became of it) is not proposed again, and pods come next.
// It proposes; the gateway decides. Its only I/O is the proposal it records.
import type { AuditRecord } from '../../src/audit/audit-store.ts';
import type { Proposal } from '../../src/contracts/events.ts';
import type { TenantSpec } from '../../src/governance/tenants.ts';
import type { ObservationAgentDeps } from '../runtime/agent-deps.ts';
import type { DeploymentMetrics } from '../runtime/cluster-views.ts';
import { proposalOf, recordProposal } from '../runtime/propose.ts';
import { verticalStep } from './vertical.ts';

export interface LimitsIncident {
  id: string;
  tenant: string;
  namespace: string;
  deployment: string;
}

/** Whether a change of limits for this deployment was already proposed in the incident. */
export function limitsProposed(records: readonly AuditRecord[], deployment: string): boolean {
  return records.some((r) => {
    const p = (r.payload as { proposal?: Proposal }).proposal;
    return r.kind === 'proposal' && p?.action === 'patch_resource_limits' && p.target.name === deployment;
  });
}

/**
 * Proposes raising the limit that binds instead of the next scale, when one does; true when it did
 * (the caller then takes no scaling step now).
 */
export async function proposeLimitsInstead(
  deps: Pick<ObservationAgentDeps, 'recorder' | 'clock' | 'logger'>,
  inc: LimitsIncident,
  records: readonly AuditRecord[],
  metrics: DeploymentMetrics,
  tenant: TenantSpec,
  correlatedChange: boolean,
): Promise<boolean> {
  if (limitsProposed(records, inc.deployment)) return false;
  // A cause being removed (a release rolled back, a node drained) is not a limit that binds.
  if (records.some((r) => r.kind === 'proposal' && ['rollback_deployment', 'cordon_node'].includes((r.payload as { proposal?: Proposal }).proposal?.action ?? ''))) return false;
  const step = verticalStep({
    namespace: inc.namespace,
    deployment: inc.deployment,
    metrics,
    sloP99Ms: tenant.slo.p99_latency_ms,
    maxReplicas: tenant.max_replicas,
    correlatedChange,
  });
  if (step.kind === 'none') return false;
  const proposal = proposalOf(step.action, {
    agent: 'elastik',
    tenant: inc.tenant,
    namespace: inc.namespace,
    target: { kind: 'Deployment', name: inc.deployment },
    nowMs: deps.clock.now(),
    incident_id: inc.id,
  });
  await recordProposal(deps.recorder, proposal, {
    tool_calls: [{ server: 'kubernetes', tool: 'get_pod_metrics', args: { namespace: inc.namespace, deployment: inc.deployment }, response: metrics }],
  });
  deps.logger.info({ agent: 'elastik', incident_id: inc.id, proposal_id: proposal.id }, `next step: ${step.cause === 'cpu_throttling' ? 'CPU' : 'memory'} limit of ${inc.deployment} ${String(step.action.params['from_limit'])} → ${String(step.action.params['to_limit'])} instead of more pods`);
  return true;
}
