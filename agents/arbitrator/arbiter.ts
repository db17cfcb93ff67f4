// The Arbitrator's rule-based decision: given an observation that tenant A's service is degraded and
// who shares its nodes, is a noisy neighbour to blame, and what would an SRE do about it? Pure: no
// clock, no I/O; the agent feeds it what the Billing MCP server said and publishes the proposal.
//
// A neighbour is to blame only when all of these hold on a node carrying A's deployment:
//   - the node is contended (CPU utilisation ≥ CONTENDED_UTILISATION): below that, neighbours do not
//     slow each other down and throttling anyone would not help A;
//   - A takes less of the node's slack than the neighbour (its use above its requests is smaller,
//     absolutely and as a multiple of its requests): otherwise A is the cause of its own trouble;
//   - another tenant's workload uses far more CPU than it requests (> BURST_FACTOR × its request):
//     it is eating the slack the scheduler's accounting promised to everyone else.
// The remedy is the mildest one that removes the cause: the burster's CPU limit down to its request
// — what it is guaranteed anyway. It never proposes anything against A's own tenant, against a
// tenant within its requests, or against a tenant outside its session (it cannot see those).
// It proposes; whether the throttle is allowed is the gateway's decision.
import type { PlannedAction } from '../runtime/planned-action.ts';
import type { Observation } from '../../src/contracts/events.ts';
import type { NodeTenancy, TenantUsage, WorkloadOnNode } from './billing-views.ts';
import { BURST_FACTOR } from '../../src/governance/arbitration.ts';

/** Node CPU utilisation at and above which co-tenants measurably slow each other down. */
export const CONTENDED_UTILISATION = 0.8;
/** A workload using more than this multiple of its CPU request is bursting (the gateway's preemption rule shares it). */
export { BURST_FACTOR };
export const P99_METRIC = 'http_request_duration_p99_ms';

export interface NoisyNeighbour {
  node: string;
  node_utilisation: number;
  tenant: string;
  namespace: string;
  deployment: string;
  /** Per container (single-container pods only), millicores. */
  request_millicores: number;
  limit_millicores: number;
  /** The workload's request and use on that node. */
  node_request_millicores: number;
  node_usage_millicores: number;
  /** The victim tenant's request and use on that node. */
  victim_request_millicores: number;
  victim_usage_millicores: number;
}

export type Finding = { found: true; neighbour: NoisyNeighbour; notes: string[] } | { found: false; notes: string[] };

/**
 * Looks for the neighbour to throttle on the victim deployment's nodes. `notes` say why a candidate
 * was passed over, for the log and the reasoning chain.
 */
export function findNoisyNeighbour(obs: Observation, tenancy: NodeTenancy): Finding {
  const notes: string[] = [];
  if (obs.severity !== 'warning' && obs.severity !== 'critical') return { found: false, notes: ['observation is informational'] };
  const victim = obs.tenant;
  // The cluster's label and the observation should agree; if not, neither may be throttled.
  const own = new Set([obs.tenant, tenancy.tenant]);
  let best: { n: NoisyNeighbour; excess: number } | undefined;
  for (const node of tenancy.nodes) {
    if (node.cpu_utilisation < CONTENDED_UTILISATION) {
      notes.push(`${node.node} is not contended (CPU ${pct(node.cpu_utilisation)} < ${pct(CONTENDED_UTILISATION)})`);
      continue;
    }
    const mine = node.tenants.find((t) => t.tenant === victim);
    // The victim may burst a little itself (most services run above their requests); a neighbour is
    // to blame only when it takes more of the node's slack than the victim, absolutely and relatively.
    const victimExcess = mine ? Math.max(0, mine.cpu_usage_millicores - mine.cpu_request_millicores) : 0;
    const victimRatio = mine && mine.cpu_request_millicores > 0 ? mine.cpu_usage_millicores / mine.cpu_request_millicores : 0;
    let outburst = false;
    for (const t of node.tenants) {
      if (own.has(t.tenant)) continue;
      if (t.cpu_usage_millicores <= BURST_FACTOR * t.cpu_request_millicores) continue;
      if (!t.in_session) {
        notes.push(`${node.node}: tenant ${t.tenant} bursts (${m(t.cpu_usage_millicores)} used, ${m(t.cpu_request_millicores)} requested) but is outside this session`);
        continue;
      }
      for (const w of t.workloads) {
        if (!bursting(w)) continue;
        const why = unthrottleable(w);
        if (why) {
          notes.push(`${node.node}: ${t.tenant}'s ${w.namespace}/${w.deployment ?? '(no deployment)'} bursts but ${why}`);
          continue;
        }
        const excess = w.cpu_usage_millicores - w.cpu_request_millicores;
        if (excess <= victimExcess || w.cpu_usage_millicores / w.cpu_request_millicores <= victimRatio) {
          outburst = true;
          continue;
        }
        if (best && best.excess >= excess) continue;
        best = {
          excess,
          n: {
            node: node.node,
            node_utilisation: node.cpu_utilisation,
            tenant: t.tenant,
            namespace: w.namespace,
            deployment: w.deployment!,
            request_millicores: w.pod_cpu_request_millicores,
            limit_millicores: w.pod_cpu_limit_millicores!,
            node_request_millicores: w.cpu_request_millicores,
            node_usage_millicores: w.cpu_usage_millicores,
            victim_request_millicores: mine?.cpu_request_millicores ?? 0,
            victim_usage_millicores: mine?.cpu_usage_millicores ?? 0,
          },
        };
      }
    }
    if (outburst && mine) {
      notes.push(`${node.node}: ${victim} itself uses ${m(mine.cpu_usage_millicores)} against ${m(mine.cpu_request_millicores)} requested, more than the bursting neighbours take; not a neighbour's fault`);
    }
  }
  return best ? { found: true, neighbour: best.n, notes } : { found: false, notes: notes.length ? notes : ['no co-tenant bursts beyond its requests on a contended node'] };
}

const bursting = (w: WorkloadOnNode): boolean => w.cpu_request_millicores > 0 && w.cpu_usage_millicores > BURST_FACTOR * w.cpu_request_millicores;

/** Why the throttle tool could not act on this workload, or undefined when it can. */
function unthrottleable(w: WorkloadOnNode): string | undefined {
  if (w.deployment === null) return 'no deployment owns it';
  if (w.containers_per_pod !== 1) return 'its pods have several containers (per-container throttling is not supported)';
  if (w.pod_cpu_limit_millicores === null) return 'it has no CPU limit to lower';
  if (w.pod_cpu_limit_millicores <= w.pod_cpu_request_millicores) return 'its limit is already at its request';
  return undefined;
}

export interface ThrottlePlan extends PlannedAction<'throttle_tenant'> {
  tenant: string;
  namespace: string;
  target: { kind: 'Deployment'; name: string };
}

export function planThrottle(input: {
  observation: Observation;
  neighbour: NoisyNeighbour;
  neighbourUsage: TenantUsage;
  victimSloP99Ms: number;
  notes?: readonly string[];
}): ThrottlePlan {
  const { observation: obs, neighbour: n } = input;
  const from = formatMillicores(n.limit_millicores);
  const to = formatMillicores(n.request_millicores);
  const p99 = obs.signals.find((s) => s.metric === P99_METRIC);
  const args = { namespace: n.namespace, deployment: n.deployment };
  return {
    action: 'throttle_tenant',
    tenant: n.tenant,
    namespace: n.namespace,
    target: { kind: 'Deployment', name: n.deployment },
    params: {
      tenant: n.tenant,
      namespace: n.namespace,
      deployment: n.deployment,
      from_cpu_limit: from,
      to_cpu_limit: to,
      node: n.node,
      victim: { tenant: obs.tenant, namespace: obs.namespace, deployment: obs.target.name },
    },
    // DESIGN §5 measures capacity as replicas × requests. A throttle lowers the limit to the request:
    // what the burster is guaranteed does not change, only the slack it took from others, so the
    // capacity change is 0 and the size of the cut is in the reasoning for the approver.
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
    tool_call: { server: 'billing', tool: 'throttle_tenant', args: { ...args, cpu_limit: to } },
    compensating_action: { server: 'billing', tool: 'restore_tenant_limit', args: { ...args, cpu_limit: from } },
    // Judged by the victim's p99: that is what the throttle is for.
    verification: {
      metric: P99_METRIC, slo_threshold: input.victimSloP99Ms, min_improvement_pct: 20, window_s: 180,
      target: { namespace: obs.namespace, deployment: obs.target.name },
    },
    reasoning: [
      p99
        ? `p99 latency of ${obs.tenant}'s ${obs.target.name} is ${Math.round(p99.value)} ms (baseline ${Math.round(p99.baseline)} ms) against a ${input.victimSloP99Ms} ms SLO`
        : `${obs.tenant}'s ${obs.target.name} is degraded (${obs.severity}): ${obs.summary}`,
      `node ${n.node} runs at ${pct(n.node_utilisation)} CPU: co-located pods slow each other down`,
      `${obs.tenant} stays within its requests there (${m(n.victim_usage_millicores)} used of ${m(n.victim_request_millicores)} requested)`,
      `${n.tenant}'s ${n.namespace}/${n.deployment} uses ${m(n.node_usage_millicores)} on that node against ${m(n.node_request_millicores)} requested (${(n.node_usage_millicores / n.node_request_millicores).toFixed(1)}x): it eats the slack its neighbours were promised`,
      `lowering its CPU limit from ${from} to its request ${to} keeps everything it is guaranteed and frees the node (its requested capacity is unchanged; only the burst above it goes); restore_tenant_limit brings ${from} back`,
      ...(input.notes ?? []).map((x) => `also checked: ${x}`),
    ],
  };
}

/** Millicores as a Kubernetes CPU quantity: whole cores as "2", anything else as "500m". */
export function formatMillicores(v: number): string {
  const r = Math.round(v);
  return r % 1000 === 0 ? String(r / 1000) : `${r}m`;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const m = (v: number): string => `${Math.round(v)}m`;
