// Elastik's rule-based planner for the causes of an incident: from one observation and what the
// cluster says now, a rollback when a recent rollout lines up with the memory / GC signals, and
// moving the workload off a node when the trouble sits on the one node of the deployment that is
// short of memory. Capacity — how many replicas, step after step — is incident-work.ts's, sized by
// sizing.ts; `scaleAction` here is the one shape of a scale proposal. Pure: no clock, no I/O; the
// agent feeds it and publishes.
// It proposes; it never decides whether an action is allowed (that is the gateway's job).
import type { PlannedAction } from '../runtime/planned-action.ts';
import type { Observation } from '../../src/contracts/events.ts';
import type { DeploymentMetrics, NamespaceCapacity, NodeStatus, RolloutHistory } from '../runtime/cluster-views.ts';
import { capacityChangePct } from './sizing.ts';

export { capacityChangePct } from './sizing.ts';

/**
 * A node counts as short of memory when its kubelet says so (MemoryPressure), or when its memory in
 * use has reached the point where the kernel reclaims and pods slow down, before the kubelet
 * evicts: 85% of capacity (the twin's reclaim onset, node-memory.ts; a real node's page-cache
 * reclaim sets in around there too).
 */
export const NODE_MEMORY_PRESSURE_RATIO = 0.85;

export type ElastikAction = PlannedAction<'scale_deployment' | 'rollback_deployment' | 'cordon_node'>;

export interface PlannerInput {
  observation: Observation;
  metrics: DeploymentMetrics;
  history: RolloutHistory;
  capacity: NamespaceCapacity;
  maxReplicas: number;
  sloP99Ms: number;
  /** get_node_status for the deployment's nodes; absent when it could not be read. */
  nodes?: NodeStatus[];
}

const isPressured = (n: NodeStatus): boolean => n.memory_pressure || (n.memory.used_ratio ?? 0) >= NODE_MEMORY_PRESSURE_RATIO;

/**
 * The one node the deployment's trouble sits on, if it is short of memory: exactly one of the
 * deployment's nodes is pressured, another one is not (cordoning every node helps nobody), it runs
 * pods of the deployment, and the pods the observation singles out (GC, memory) are mostly there.
 */
export function pressuredNode(input: Pick<PlannerInput, 'observation' | 'nodes'>): NodeStatus | undefined {
  const nodes = input.nodes ?? [];
  const pressured = nodes.filter(isPressured);
  if (pressured.length !== 1 || pressured.length === nodes.length) return undefined;
  const node = pressured[0]!;
  const { namespace, target } = input.observation;
  const here = new Set(node.pods.filter((p) => p.namespace === namespace).map((p) => p.pod));
  if (!node.pods.some((p) => p.namespace === namespace && p.deployment === target.name)) return undefined;
  const podSignals = input.observation.signals.filter((s) => s.target !== target.name);
  if (podSignals.length > 0 && podSignals.filter((s) => here.has(s.target)).length * 2 <= podSignals.length) return undefined;
  return node;
}

/** A scale of `deployment` from one size to another, with what undoes it and how it is judged. */
export function scaleAction(a: {
  namespace: string;
  deployment: string;
  tenant: string;
  from: number;
  to: number;
  capacity: NamespaceCapacity;
  sloP99Ms: number;
  reasoning: string[];
}): ElastikAction {
  const change = capacityChangePct(a.capacity, a.deployment, a.from, a.to);
  return {
    action: 'scale_deployment',
    params: { from_replicas: a.from, to_replicas: a.to },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: change },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: a.namespace, deployment: a.deployment, replicas: a.to } },
    compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: a.namespace, deployment: a.deployment, replicas: a.from } },
    // A scale-up adds capacity: judged by throughput and saturation too, so a step that helped but
    // did not restore is followed by the next step, not undone.
    verification: { metric: 'http_request_duration_p99_ms', slo_threshold: a.sloP99Ms, min_improvement_pct: 20, window_s: 120, capacity: a.to > a.from },
    reasoning: a.reasoning,
  };
}

/** The HorizontalPodAutoscaler that owns a deployment's replica count (get_hpa_status). */
export interface OwningHpa {
  name: string;
  min_replicas: number;
  max_replicas: number;
}

/**
 * A scale of a deployment an HPA owns, as the HPA's bounds: minReplicas raised to the step's size (and
 * maxReplicas to at least that), so that the HPA runs at least that many pods instead of setting the
 * count straight back. Judged, undone and limited as the plain scale is; its compensating action
 * restores the bounds it found.
 */
export function hpaScaleAction(a: Parameters<typeof scaleAction>[0] & { hpa: OwningHpa }): ElastikAction {
  const plain = scaleAction(a);
  const max = Math.max(a.hpa.max_replicas, a.to);
  const args = (min: number, maxReplicas: number) => ({ namespace: a.namespace, hpa: a.hpa.name, deployment: a.deployment, min_replicas: min, max_replicas: maxReplicas });
  return {
    ...plain,
    params: { ...plain.params, hpa: a.hpa.name, from_bounds: [a.hpa.min_replicas, a.hpa.max_replicas], to_bounds: [a.to, max] },
    tool_call: { server: 'kubernetes', tool: 'set_hpa_bounds', args: args(a.to, max) },
    compensating_action: { server: 'kubernetes', tool: 'set_hpa_bounds', args: args(a.hpa.min_replicas, a.hpa.max_replicas) },
    reasoning: [
      ...plain.reasoning,
      `HorizontalPodAutoscaler ${a.hpa.name} owns ${a.deployment}'s replica count (${a.hpa.min_replicas}-${a.hpa.max_replicas}): scaling the deployment itself would be undone by it, ` +
        `so its minReplicas goes to ${a.to}${max !== a.hpa.max_replicas ? ` and its maxReplicas to ${max}` : ''}; undone by restoring ${a.hpa.min_replicas}-${a.hpa.max_replicas}`,
    ],
  };
}

export function plan(input: PlannerInput): ElastikAction[] {
  const { observation: obs } = input;
  if (obs.severity !== 'critical' && obs.severity !== 'warning') return [];
  const ns = obs.namespace;
  const name = obs.target.name;
  const actions: ElastikAction[] = [];
  const gcSignals = obs.signals.filter((s) => s.metric === 'jvm_gc_pause_ms_per_min');
  // Memory trouble: pods near their limit now, or killed at it (their memory resets after each restart).
  const memSignals = obs.signals.filter((s) => s.metric === 'memory_utilisation_ratio' || s.metric === 'container_oom_kills');

  const change = obs.correlated_change;
  if (change && (gcSignals.length > 0 || memSignals.length > 0)) {
    const rollback = rollbackTarget(input.history, change);
    if (rollback) {
      const { to, current } = rollback;
      actions.push({
        action: 'rollback_deployment',
        params: { from_revision: current, to_revision: to, blamed_revision: change.revision },
        blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
        tool_call: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: ns, deployment: name, to_revision: to } },
        // Undoing the rollback returns to what runs now, which may be a revision pushed after the blamed one.
        compensating_action: {
          server: 'kubernetes',
          tool: 'rollback_deployment',
          args: { namespace: ns, deployment: name, to_revision: current },
        },
        verification: { metric: 'http_request_duration_p99_ms', slo_threshold: input.sloP99Ms, min_improvement_pct: 50, window_s: 180 },
        reasoning: [
          `revision ${change.revision} (${change.description}) rolled out ${change.minutes_before} min before the incident`,
          ...(change.reasons ?? []),
          `${gcSignals.length} pods show GC pauses far above the fleet and ${memSignals.length} pods memory pressure: the signature of a heap misconfiguration`,
          `rolling back to revision ${to}, the last good revision, removes the cause; scaling only relieves the symptom`,
        ],
      });
    }
  }
  const node = pressuredNode(input);
  if (node) {
    const mine = node.pods.filter((p) => p.namespace === ns);
    const ownServices = new Set(node.pods.map((p) => `${p.namespace}/${p.deployment ?? p.pod}`)).size;
    const tenants = 1 + (node.other_tenants ?? (node.other_tenants_pods > 0 ? 1 : 0));
    const services = ownServices + (node.other_services ?? 0);
    const usedPct = node.memory.used_ratio === null ? null : Math.round(node.memory.used_ratio * 1000) / 10;
    const ofDeployment = mine.filter((p) => p.deployment === name).length;
    actions.push({
      action: 'cordon_node',
      params: { node: node.name, drain: true, memory_pressure: node.memory_pressure, memory_used_pct: usedPct, pods_to_move: mine.length },
      blast_radius: { tenants, services, capacity_change_pct: 0 },
      tool_call: { server: 'kubernetes', tool: 'cordon_node', args: { node: node.name, drain: true } },
      compensating_action: { server: 'kubernetes', tool: 'uncordon_node', args: { node: node.name } },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: input.sloP99Ms, min_improvement_pct: 30, window_s: 180 },
      reasoning: [
        `node ${node.name} is short of memory: ${node.memory_pressure ? 'MemoryPressure=True' : 'no MemoryPressure yet'}, ${usedPct ?? '?'}% of its memory in use` +
          (node.memory.available_bytes !== null ? ` (${Math.round(node.memory.available_bytes / 2 ** 20)} MiB available)` : ''),
        `${ofDeployment} of ${name}'s pods run there and the other nodes of ${name} are healthy: the latency comes from the node, not from the release`,
        `the kubelet's evictions will not settle it while what eats the node's memory keeps growing; cordoning and draining moves ${mine.length} pod(s) of ${ns} to healthy nodes`,
        `node-wide action: ${tenants} tenant(s) and ${services} service(s) have pods there; only ${obs.tenant}'s pods are evicted, capacity is unchanged; uncordon_node undoes the cordon`,
      ],
    });
  }
  return actions;
}

/**
 * The revision to roll back to for a blamed rollout: Watchtower's last good revision (the one that ran
 * before the blamed rollout, before the onset), else the newest one older than the blamed one — never
 * merely the one before the newest. None when the history no longer holds it, or when the deployment
 * already runs it or something older (someone rolled back already).
 */
export function rollbackTarget(
  history: RolloutHistory,
  change: NonNullable<Observation['correlated_change']>,
): { to: number; current: number } | undefined {
  const known = history.revisions.map((r) => r.revision);
  const current = history.current_revision ?? (known.length ? Math.max(...known) : undefined);
  if (current === undefined) return undefined;
  const to = change.last_good_revision ?? known.filter((r) => r < change.revision).sort((a, b) => b - a)[0];
  if (to === undefined || !known.includes(to) || to >= change.revision) return undefined;
  if (current < change.revision) return undefined;
  return { to, current };
}
