// Noisy neighbours: how pods sharing a node take CPU from each other. Pure arithmetic over one node;
// the twin calls it once per step for every node and feeds the result back into the performance
// model (performance-model.ts: cpuAvailableCores, cpuSpeed). It must never read twin state.
//
// Two effects, both only on a busy node:
// - Shares. Under contention the kernel's CFS gives each pod CPU in proportion to its request, and a
//   pod may use what its neighbours leave idle: it can get at most its limit, at least its
//   request-weighted share of the node, and otherwise what the node has left after everyone else's
//   demand. A neighbour bursting beyond its request eats that slack.
// - Interference. Shared caches, memory bandwidth and SMT siblings make every core slower as the node
//   fills: below INTERFERENCE.onset of the node's allocatable CPU nothing happens, at 100% each core
//   serves INTERFERENCE.maxSlowdown less. This is what lets a pod within its own request still feel a
//   neighbour: its latency rises with the node's utilisation, not with its own.
// One pass, no fixed point: demand is what each pod would use uncontended.

export const INTERFERENCE = {
  /** Node CPU utilisation (use / allocatable) where neighbours start to slow each other down. */
  onset: 0.5,
  /** Loss of per-core speed at 100% node utilisation. */
  maxSlowdown: 0.4,
} as const;

export interface ContendingPod {
  /** CPU the pod would use if it had the node to itself, in cores. */
  demandCores: number;
  requestCores: number;
  limitCores: number;
}

export interface Contention {
  /** Node CPU use / allocatable, before throttling. */
  utilisation: number;
  /** Per-core speed factor in (0, 1]. */
  speed: number;
  /** Per pod, in input order: the cores it can get (≤ its limit). */
  availableCores: number[];
}

export function nodeContention(allocatableCores: number, pods: readonly ContendingPod[]): Contention {
  let demand = 0;
  let requests = 0;
  for (const p of pods) {
    demand += p.demandCores;
    requests += p.requestCores;
  }
  const utilisation = allocatableCores > 0 ? demand / allocatableCores : 0;
  const pressure = Math.min(1, Math.max(0, (utilisation - INTERFERENCE.onset) / (1 - INTERFERENCE.onset)));
  const speed = 1 - INTERFERENCE.maxSlowdown * pressure;
  const availableCores = pods.map((p) => {
    const fair = requests > 0 ? (allocatableCores * p.requestCores) / requests : allocatableCores / Math.max(1, pods.length);
    const left = allocatableCores - (demand - p.demandCores);
    return Math.min(p.limitCores, Math.max(fair, left));
  });
  return { utilisation, speed, availableCores };
}
