// Where the twin's scheduler puts a pod: kube-scheduler's default filters that matter for the twin
// (NodeUnschedulable, the memory-pressure taint, node selector, NodeResourcesFit on cpu / memory / pod count, by requests, not
// usage) and its default scoring (LeastAllocated: the node with the most room left after placing the
// pod), with the FailedScheduling message in kube-scheduler's words when no node fits. Pure: the
// twin owns nodes, pods and time; ties go to the first node in the twin's order, where the real
// scheduler picks at random among equals.

export interface SchedulingNode {
  name: string;
  unschedulable: boolean;
  /** Tainted node.kubernetes.io/memory-pressure:NoSchedule (pods of Deployments do not tolerate it). */
  memoryPressure?: boolean;
  labels: Readonly<Record<string, string>>;
  allocatable: { cpu: number; memory: number; pods: number };
  /** Sum of the requests of the pods already bound to the node. */
  requested: { cpu: number; memory: number; pods: number };
}

export interface SchedulingPod {
  /** cpu in cores, memory in bytes. */
  requests: { cpu: number; memory: number };
  nodeSelector?: Readonly<Record<string, string>> | undefined;
}

export type Placement = { node: string } | { node: undefined; message: string };

/** Why one node cannot take the pod, as the filter plugins say it; empty when it can. */
export function unfitReasons(pod: SchedulingPod, n: SchedulingNode): string[] {
  if (n.unschedulable) return ['node(s) were unschedulable'];
  if (n.memoryPressure) return ['node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }'];
  for (const [k, v] of Object.entries(pod.nodeSelector ?? {})) {
    if (n.labels[k] !== v) return ["node(s) didn't match Pod's node affinity/selector"];
  }
  const reasons: string[] = [];
  if (n.requested.pods + 1 > n.allocatable.pods) reasons.push('Too many pods');
  // A tiny epsilon: requests add up in floating point ("100m" three times is not quite 0.3).
  if (pod.requests.cpu > 0 && n.requested.cpu + pod.requests.cpu > n.allocatable.cpu + 1e-9) reasons.push('Insufficient cpu');
  if (pod.requests.memory > 0 && n.requested.memory + pod.requests.memory > n.allocatable.memory) reasons.push('Insufficient memory');
  return reasons;
}

/** LeastAllocated, cpu and memory weighted equally: 0-100, higher is emptier. */
export function leastAllocatedScore(pod: SchedulingPod, n: SchedulingNode): number {
  const free = (alloc: number, used: number) => (alloc <= 0 ? 0 : Math.max(0, (alloc - used) / alloc) * 100);
  return (free(n.allocatable.cpu, n.requested.cpu + pod.requests.cpu) + free(n.allocatable.memory, n.requested.memory + pod.requests.memory)) / 2;
}

export function placePod(pod: SchedulingPod, nodes: readonly SchedulingNode[]): Placement {
  let best: SchedulingNode | undefined;
  let bestScore = -1;
  const counts = new Map<string, number>();
  let resourceFailures = 0;
  for (const n of nodes) {
    const reasons = unfitReasons(pod, n);
    if (reasons.length > 0) {
      for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      if (reasons.some((r) => r.startsWith('Insufficient') || r === 'Too many pods')) resourceFailures++;
      continue;
    }
    const score = leastAllocatedScore(pod, n);
    if (score > bestScore) {
      best = n;
      bestScore = score;
    }
  }
  if (best) return { node: best.name };
  return { node: undefined, message: failedSchedulingMessage(nodes.length, counts, resourceFailures) };
}

/** "0/4 nodes are available: 1 node(s) were unschedulable, 3 Insufficient cpu. preemption: ..." */
export function failedSchedulingMessage(total: number, counts: ReadonlyMap<string, number>, resourceFailures: number): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const reasons = [...counts].map(([r, c]) => `${c} ${r}`).sort();
  // The twin has no pod priorities, so preemption never finds victims.
  const preemption = [
    ...(total - resourceFailures > 0 ? [`${total - resourceFailures} Preemption is not helpful for scheduling`] : []),
    ...(resourceFailures > 0 ? [`${resourceFailures} No preemption victims found for incoming pod`] : []),
  ].sort();
  return `0/${total} nodes are available: ${reasons.join(', ')}. preemption: 0/${total} nodes are available: ${preemption.join(', ')}.`;
}
