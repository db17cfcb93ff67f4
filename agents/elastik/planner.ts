// Elastik's rule-based planner: from one observation and what the cluster says now, the proposals
// an SRE would make — more replicas to relieve the symptom, and a rollback when a recent rollout
// lines up with the memory / GC signals. Pure: no clock, no I/O; the agent feeds it and publishes.
// It proposes; it never decides whether an action is allowed (that is the gateway's job).
import type { BlastRadius, Observation, Proposal, ToolCall } from '../../src/contracts/events.ts';
import type { DeploymentMetrics, NamespaceCapacity, RolloutHistory } from '../runtime/cluster-views.ts';

export interface PlannedAction {
  action: 'scale_deployment' | 'rollback_deployment';
  params: Record<string, unknown>;
  blast_radius: BlastRadius;
  tool_call: ToolCall;
  compensating_action: ToolCall;
  verification: Proposal['verification'];
  reasoning: string[];
}

export interface PlannerInput {
  observation: Observation;
  metrics: DeploymentMetrics;
  history: RolloutHistory;
  capacity: NamespaceCapacity;
  maxReplicas: number;
  sloP99Ms: number;
}

/** Scale-up step: +50%, never more than the 3x hard limit nor the tenant's entitlement. */
export function targetReplicas(current: number, maxReplicas: number): number {
  return Math.max(current, Math.min(Math.ceil(current * 1.5), current * 3, maxReplicas));
}

/** Signed capacity change of the workload, relative to the tenant's capacity in the namespace (DESIGN §5). */
export function capacityChangePct(capacity: NamespaceCapacity, deployment: string, from: number, to: number): number {
  const cost = (d: NamespaceCapacity['deployments'][number]) => d.cpu_request_millicores || 1;
  const total = capacity.deployments.reduce((sum, d) => sum + d.replicas * cost(d), 0);
  const target = capacity.deployments.find((d) => d.name === deployment);
  if (!target || total <= 0) return 100; // unknown footprint: assume the worst, the gateway limits it
  return Math.round((((to - from) * cost(target)) / total) * 1000) / 10;
}

export function plan(input: PlannerInput): PlannedAction[] {
  const { observation: obs, metrics } = input;
  if (obs.severity !== 'critical' && obs.severity !== 'warning') return [];
  const ns = obs.namespace;
  const name = obs.target.name;
  const actions: PlannedAction[] = [];
  const p99 = metrics.service.p99_ms;
  const gcSignals = obs.signals.filter((s) => s.metric === 'jvm_gc_pause_ms_per_min');
  const memSignals = obs.signals.filter((s) => s.metric === 'memory_utilisation_ratio');

  const from = metrics.deployment.replicas;
  const to = targetReplicas(from, input.maxReplicas);
  if (to > from) {
    const change = capacityChangePct(input.capacity, name, from, to);
    actions.push({
      action: 'scale_deployment',
      params: { from_replicas: from, to_replicas: to },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: change },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: ns, deployment: name, replicas: to } },
      compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: ns, deployment: name, replicas: from } },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: input.sloP99Ms, min_improvement_pct: 20, window_s: 120 },
      reasoning: [
        `p99 latency of ${name} is ${Math.round(p99)} ms against a ${input.sloP99Ms} ms SLO`,
        `spreading load over ${to} instead of ${from} replicas lowers per-pod load and allocation pressure`,
        `+${to - from} pods is a ${change}% capacity change for tenant ${obs.tenant} in ${ns}`,
      ],
    });
  }

  const change = obs.correlated_change;
  if (change && (gcSignals.length > 0 || memSignals.length > 0)) {
    const older = input.history.revisions
      .map((r) => r.revision)
      .filter((r) => r < change.revision)
      .sort((a, b) => b - a)[0];
    if (older !== undefined) {
      actions.push({
        action: 'rollback_deployment',
        params: { from_revision: change.revision, to_revision: older },
        blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
        tool_call: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: ns, deployment: name, to_revision: older } },
        compensating_action: {
          server: 'kubernetes',
          tool: 'rollback_deployment',
          args: { namespace: ns, deployment: name, to_revision: change.revision },
        },
        verification: { metric: 'http_request_duration_p99_ms', slo_threshold: input.sloP99Ms, min_improvement_pct: 50, window_s: 180 },
        reasoning: [
          `revision ${change.revision} (${change.description}) rolled out ${change.minutes_before} min before the incident`,
          `${gcSignals.length} pods show GC pauses far above the fleet and ${memSignals.length} pods memory pressure: the signature of a heap misconfiguration`,
          `rolling back to revision ${older} removes the cause; scaling only relieves the symptom`,
        ],
      });
    }
  }
  return actions;
}
