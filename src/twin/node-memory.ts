// What the kubelet and the kernel do when a node runs short of memory: pure arithmetic over one
// node's numbers, that the twin calls every step (cluster-twin.ts kubeletMemory). It must never read
// twin state, a clock or randomness.
//
// The signal is the kubelet's own: memory.available = capacity - working set of everything on the
// node (pods, system daemons, and a leaking daemon's growth, which no eviction frees).
// - Reclaim. Below KUBELET_MEMORY.reclaimOnset of capacity available, the kernel reclaims the page
//   cache the workloads run from (mapped jars, JIT code cache, log and data files) and allocations
//   stall in direct reclaim: every pod on the node serves more slowly, linearly worse down to the
//   eviction threshold, where each core does maxReclaimSlowdown less work.
// - Eviction. Below evictionHard of capacity available (the kubelet's --eviction-hard
//   memory.available, set as a percentage as many production clusters do; the upstream default is
//   100Mi) the kubelet reports MemoryPressure=True, the node lifecycle controller taints the node
//   node.kubernetes.io/memory-pressure:NoSchedule, and the kubelet evicts one pod per housekeeping
//   cycle, ranked as it ranks them: pods using more than they request first, then by how far above
//   their request they are (priorities are all equal in the twin). The condition stays True for
//   --eviction-pressure-transition-period (5 min) after the signal recovers.
// Tuning: with the 64 GiB nodes of the default twin a leak has tens of GiB to eat before anything
// shows; on a node with 2-3 GiB between what it uses and the reclaim onset, a daemon leaking
// 300 MiB/min slows its pods within ~5-10 min, and each eviction buys only (pod's memory / leak
// rate) minutes before the next, so evictions alone never settle it.

export const KUBELET_MEMORY = {
  /** memory.available / capacity below which reclaim slows the pods down. */
  reclaimOnset: 0.15,
  /** memory.available / capacity below which the kubelet evicts (and reports MemoryPressure). */
  evictionHard: 0.05,
  /** Loss of per-core speed at (and below) the eviction threshold. */
  maxReclaimSlowdown: 0.55,
  /** --eviction-pressure-transition-period. */
  pressureTransitionPeriodMs: 5 * 60_000,
  /** The kubelet evicts at most one pod per housekeeping cycle (--housekeeping-interval). */
  housekeepingMs: 10_000,
} as const;

/** memory.available in bytes. */
export const memoryAvailable = (capacityBytes: number, usedBytes: number): number => capacityBytes - usedBytes;

/** The eviction threshold, in bytes of memory.available. */
export const evictionThresholdBytes = (capacityBytes: number): number => capacityBytes * KUBELET_MEMORY.evictionHard;

export function evictionThresholdMet(capacityBytes: number, usedBytes: number): boolean {
  return memoryAvailable(capacityBytes, usedBytes) < evictionThresholdBytes(capacityBytes);
}

/** Per-core speed factor in (0, 1] of every pod on the node while the kernel reclaims memory. */
export function reclaimSpeed(capacityBytes: number, usedBytes: number): number {
  if (capacityBytes <= 0) return 1;
  const available = memoryAvailable(capacityBytes, usedBytes) / capacityBytes;
  const span = KUBELET_MEMORY.reclaimOnset - KUBELET_MEMORY.evictionHard;
  const pressure = Math.min(1, Math.max(0, (KUBELET_MEMORY.reclaimOnset - available) / span));
  return 1 - KUBELET_MEMORY.maxReclaimSlowdown * pressure;
}

export interface EvictionCandidate {
  usageBytes: number;
  requestBytes: number;
}

/** Index of the pod the kubelet evicts first, or -1 when there is none. */
export function evictionVictim(pods: readonly EvictionCandidate[]): number {
  let best = -1;
  for (let i = 0; i < pods.length; i++) {
    if (best < 0 || ranksBefore(pods[i]!, pods[best]!)) best = i;
  }
  return best;
}

function ranksBefore(a: EvictionCandidate, b: EvictionCandidate): boolean {
  const aOver = a.usageBytes > a.requestBytes;
  const bOver = b.usageBytes > b.requestBytes;
  if (aOver !== bOver) return aOver;
  return a.usageBytes - a.requestBytes > b.usageBytes - b.requestBytes;
}

/** "1536Mi", "87572Ki": how the kubelet's messages print quantities. */
export function formatMemory(bytes: number): string {
  const mi = bytes / 2 ** 20;
  return Number.isInteger(mi) ? `${mi}Mi` : `${Math.round(bytes / 1024)}Ki`;
}
