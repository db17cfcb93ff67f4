// How the twin's pods perform: each deployment's offered load (its load shape with a little smooth
// noise) spread over its ready pods, the conditions each pod runs under (its share of the load, its
// limits, its JVM, the workload its config makes of it, a leak, a node reclaiming memory), what the
// performance model makes of that (performance-model.ts), and pods on a busy node taking CPU from each
// other (node-contention.ts). Metrics are read from here and never bump a resourceVersion. It must
// never change an object's spec or status: only the numbers the model integrates.
import { rpsAt } from '../load-shapes.ts';
import type { StringMap } from '../kube-objects.ts';
import { nodeContention } from '../node-contention.ts';
import { advanceHeap, idlePerformance, podPerformance, startingPodMemoryBytes, type PodConditions, type Workload } from '../performance-model.ts';
import { key, type TwinStore } from '../twin-store.ts';
import type { DeploymentState, NodeState, PodState, ReplicaSetState } from '../twin-state.ts';

export function offeredLoad(store: TwinStore, d: DeploymentState): number {
  const base = rpsAt(d.load, store.simMs);
  return Math.max(0, base * (1 + d.loadNoise));
}

/** One grid step of every running pod's heap, under the conditions its performance was last computed for. */
export function advanceHeaps(store: TwinStore): void {
  const dtS = store.gridMs / 1000;
  for (const pod of store.pods.values()) {
    if (!pod.perf || !pod.cond || pod.readySinceMs === undefined) continue;
    pod.heap = advanceHeap(pod.heap, pod.perf, pod.cond, dtS);
  }
}

/** AR(1) noise: load wanders a little, smoothly, instead of jumping every second. */
export function advanceLoadNoise(store: TwinStore): void {
  for (const d of store.deployments.values()) {
    d.loadNoise = 0.9 * d.loadNoise + Math.sqrt(1 - 0.81) * store.loadNoiseSd * d.noise.normal();
  }
}

/**
 * Spreads each deployment's load over its ready pods and computes how each pod performs, then lets
 * pods on busy nodes take CPU from each other (node-contention.ts).
 */
export function refreshPerformance(store: TwinStore): void {
  for (const d of store.deployments.values()) {
    d.currentRps = offeredLoad(store, d);
    let ready = 0;
    for (const p of d.pods) if (p.readySinceMs !== undefined) ready++;
    const share = ready > 0 ? d.currentRps / ready : 0;
    for (const p of d.pods) {
      if (!p.node) {
        p.perf = undefined;
        p.cond = undefined;
        continue;
      }
      const c = conditionsOf(store, p, share);
      p.cond = c;
      p.perf = p.readySinceMs !== undefined ? podPerformance(p.heap, c) : idlePerformance(p.heap, c);
    }
  }
  for (const n of store.nodes.values()) contend(store, n);
}

function contend(store: TwinStore, n: NodeState): void {
  let demand = 0;
  let maxLimit = 0;
  for (const p of n.pods) {
    demand += p.perf!.cpuMillicores / 1000;
    maxLimit = Math.max(maxLimit, p.cond!.cpuLimitCores);
  }
  const alloc = n.allocatable.cpu;
  if (demand > 0.5 * alloc || alloc - demand < maxLimit) {
    const pods = [...n.pods];
    const c = nodeContention(
      alloc,
      pods.map((p) => ({ demandCores: p.perf!.cpuMillicores / 1000, requestCores: p.facts.requestCpu, limitCores: p.cond!.cpuLimitCores })),
    );
    pods.forEach((p, i) => {
      const available = c.availableCores[i]!;
      if (available >= p.cond!.cpuLimitCores && c.speed >= 1) return;
      // Neighbours' interference on top of any memory reclaim the pod already suffers.
      p.cond = { ...p.cond!, cpuAvailableCores: available, cpuSpeed: c.speed * (p.cond!.cpuSpeed ?? 1) };
      p.perf = p.readySinceMs !== undefined ? podPerformance(p.heap, p.cond) : idlePerformance(p.heap, p.cond);
    });
  }
  let cpu = 0;
  let memory = 0;
  for (const p of n.pods) {
    cpu += p.perf!.cpuMillicores;
    memory += podMemory(store, p);
  }
  n.cpuUsedMillicores = cpu;
  n.memoryUsedBytes = memory;
}

/** The workload a ReplicaSet's pods run: the deployment's, changed by the config maps they read. */
export function workloadOf(store: TwinStore, rs: ReplicaSetState): Workload {
  if (rs.workload && rs.workloadVersion === store.configVersion) return rs.workload;
  const d = rs.d;
  let w = d.workload;
  if (d.configEffect) {
    const facts = store.factsOf(rs.template, rs.templateHash);
    const data: StringMap = {};
    for (const name of facts.configMaps) Object.assign(data, store.configMaps.get(key(rs.namespace, name))?.data);
    w = { ...d.workload, ...d.configEffect(data) };
  }
  rs.workload = w;
  rs.workloadVersion = store.configVersion;
  return w;
}

export function conditionsOf(store: TwinStore, p: PodState, rps: number): PodConditions {
  const f = p.facts;
  const leaked = f.leakBytesPerMs > 0 ? f.leakBytesPerMs * Math.max(0, store.simMs - p.containerStartedMs) : 0;
  const speed = p.node?.reclaimSpeed ?? 1;
  return {
    rps,
    cpuLimitCores: f.cpuLimitCores,
    memoryLimitBytes: f.memoryLimitBytes,
    jvm: f.jvm,
    workload: workloadOf(store, p.rs),
    ...(leaked > 0 ? { leakedBytes: leaked } : {}),
    ...(speed < 1 ? { cpuSpeed: speed } : {}),
  };
}

/** A pod's working set: what the model says once it serves, its start-up footprint before. */
export function podMemory(store: TwinStore, p: PodState): number {
  if (!p.node) return 0;
  const c = p.cond ?? conditionsOf(store, p, 0);
  return p.readySinceMs !== undefined && p.perf ? p.perf.memoryBytes : startingPodMemoryBytes(c);
}
