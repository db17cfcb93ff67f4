// The kubelet and the kernel on each node: containers become ready once their start-up delay is over;
// a container whose leak no longer fits its limit is OOM-killed and restarted (restartCount,
// lastState OOMKilled, CrashLoopBackOff delays for quick repeats, memory back to its baseline); a
// node short of memory slows its pods (reclaim), reports MemoryPressure and evicts one pod per
// housekeeping cycle, leaving it as a Failed/Evicted object (node-memory.ts has the arithmetic). It
// runs on the memory measured at the previous grid step, as the real one acts on its last sample, and
// must never create or scale workloads: evicted pods are replaced by their ReplicaSet.
import type { Pod } from '../kube-objects.ts';
import { KUBELET_MEMORY, evictionThresholdBytes, evictionThresholdMet, evictionVictim, formatMemory, memoryAvailable, reclaimSpeed } from '../node-memory.ts';
import { freshFill, leakHeadroomBytes } from '../performance-model.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderPod } from '../twin-render.ts';
import { iso, nodeMemoryUsed, type NodeState, type PodState } from '../twin-state.ts';
import { nodeRef, podRef, recordEvent } from './events.ts';
import { conditionsOf, podMemory, workloadOf } from './performance.ts';
import { removePod } from './pods.ts';

/** The kubelet resets a container's restart back-off after it has run this long. */
const BACKOFF_RESET_MS = 10 * 60_000;
const BACKOFF_MAX_MS = 5 * 60_000;
const BACKOFF_FIRST_MS = 10_000;

/** Pods whose start-up delay is over become ready. */
export function markReady(store: TwinStore): void {
  for (const p of store.starting) {
    if (p.readyAtMs <= store.eventMs) {
      p.readySinceMs = p.readyAtMs;
      store.starting.delete(p);
      store.modified('pods', p);
    }
  }
}

/** One grid step of every leaking system daemon. */
export function accumulateSystemLeaks(store: TwinStore): void {
  for (const n of store.nodes.values()) n.systemLeakedBytes += n.systemLeakBytesPerMs * store.gridMs;
}

/**
 * The kubelet's memory management, once per grid step: containers whose leak no longer fits their
 * limit are OOM-killed and restarted; nodes short of memory slow their pods down (reclaim), report
 * MemoryPressure and evict.
 */
export function manageMemory(store: TwinStore): void {
  for (const p of store.pods.values()) {
    if (!p.node || p.facts.leakBytesPerMs <= 0 || store.simMs < p.containerStartedMs) continue;
    const c = conditionsOf(store, p, 0);
    if ((c.leakedBytes ?? 0) >= leakHeadroomBytes(c)) oomKill(store, p);
  }
  for (const n of store.nodes.values()) {
    const used = nodeMemoryUsed(n);
    const capacity = n.capacity.memory;
    n.reclaimSpeed = reclaimSpeed(capacity, used);
    const met = evictionThresholdMet(capacity, used);
    if (met) n.evictionThresholdMetMs = store.simMs;
    const pressure = met || (n.memoryPressure && store.simMs - n.evictionThresholdMetMs < KUBELET_MEMORY.pressureTransitionPeriodMs);
    if (pressure !== n.memoryPressure) {
      n.memoryPressure = pressure;
      n.memoryPressureSinceMs = store.simMs;
      store.modified('nodes', n);
      const reason = pressure ? 'NodeHasInsufficientMemory' : 'NodeHasSufficientMemory';
      recordEvent(store, nodeRef(n), 'Normal', reason, `Node ${n.name} status is now: ${reason}`, { component: 'kubelet', host: n.name });
      // The taint comes or goes: pending pods may fit elsewhere, or here again.
      store.dirty = true;
    }
    if (met && store.simMs >= n.nextEvictionMs) {
      n.nextEvictionMs = store.simMs + KUBELET_MEMORY.housekeepingMs;
      evictForMemory(store, n, memoryAvailable(capacity, used));
    }
  }
}

/** The kernel ends the container at its cgroup limit; the kubelet restarts it (restartPolicy Always). */
function oomKill(store: TwinStore, p: PodState): void {
  const n = p.node!;
  // CrashLoopBackOff: the first restart is immediate, quick repeats wait 10 s, 20 s, ... 5 min;
  // ten minutes of running resets it.
  if (store.simMs - p.containerStartedMs >= BACKOFF_RESET_MS) p.backoffMs = 0;
  const delay = p.backoffMs;
  p.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_FIRST_MS, p.backoffMs * 2));
  p.lastTermination = { reason: 'OOMKilled', exitCode: 137, startedMs: p.containerStartedMs, finishedMs: store.simMs };
  p.restartCount++;
  p.containerStartedMs = store.simMs + delay;
  p.readySinceMs = undefined;
  p.readyAtMs = p.containerStartedMs + store.startupDelayMs;
  p.heap = { ...p.heap, fill: freshFill(p.facts.jvm, workloadOf(store, p.rs)) };
  store.starting.add(p);
  store.modified('pods', p);
  store.dirty = true;
  const main = p.rs.template.spec.containers[0]!;
  recordEvent(
    store,
    nodeRef(n),
    'Warning',
    'OOMKilling',
    `Memory cgroup out of memory: Killed process (${main.name}) of container ${main.name} in pod ${p.namespace}/${p.name}, memory limit ${formatMemory(p.facts.memoryLimitBytes)}`,
    { component: 'kernel-monitor', host: n.name },
  );
  const at = { ...podRef(p), fieldPath: `spec.containers{${main.name}}` };
  const kubelet = { component: 'kubelet', host: n.name };
  if (delay > 0) recordEvent(store, at, 'Warning', 'BackOff', `Back-off restarting failed container ${main.name} in pod ${p.name}_${p.namespace}(${p.uid})`, kubelet);
  recordEvent(store, at, 'Normal', 'Pulled', `Container image "${main.image}" already present on machine`, kubelet, p.containerStartedMs);
  recordEvent(store, at, 'Normal', 'Created', `Created container: ${main.name}`, kubelet, p.containerStartedMs);
  recordEvent(store, at, 'Normal', 'Started', `Started container ${main.name}`, kubelet, p.containerStartedMs);
}

/** One eviction of the kubelet's housekeeping cycle: the pod furthest above its memory request goes. */
function evictForMemory(store: TwinStore, n: NodeState, availableBytes: number): void {
  const kubelet = { component: 'kubelet', host: n.name };
  recordEvent(store, nodeRef(n), 'Warning', 'EvictionThresholdMet', 'Attempting to reclaim memory', kubelet);
  const pods = [...n.pods];
  const usage = pods.map((p) => podMemory(store, p));
  const i = evictionVictim(pods.map((p, j) => ({ usageBytes: usage[j]!, requestBytes: p.facts.requestMemory })));
  if (i < 0) return;
  const p = pods[i]!;
  const main = p.rs.template.spec.containers[0]!;
  const message =
    `The node was low on resource: memory. Threshold quantity: ${formatMemory(evictionThresholdBytes(n.capacity.memory))}, ` +
    `available: ${formatMemory(Math.max(0, availableBytes))}. Container ${main.name} was using ${formatMemory(usage[i]!)}, ` +
    `request is ${p.facts.requestMemory > 0 ? formatMemory(p.facts.requestMemory) : '0'}, has larger consumption of memory. `;
  recordEvent(store, podRef(p), 'Warning', 'Evicted', message, kubelet);
  removePod(store, p, true);
  const last = renderPod(p, store.simMs);
  const failed: Pod = {
    ...last,
    status: {
      phase: 'Failed',
      reason: 'Evicted',
      message,
      conditions: last.status.conditions.map((c) =>
        c.type === 'Ready' || c.type === 'ContainersReady' ? { type: c.type, status: 'False', lastTransitionTime: iso(store.simMs), reason: 'PodFailed' } : c,
      ),
      ...(last.status.hostIP ? { hostIP: last.status.hostIP } : {}),
      ...(last.status.startTime ? { startTime: last.status.startTime } : {}),
      containerStatuses: (last.status.containerStatuses ?? []).map((cs) => ({
        ...cs,
        ready: false,
        started: false,
        state: {
          terminated: { exitCode: 137, reason: 'Error', message: 'The container was terminated due to eviction', startedAt: iso(p.containerStartedMs), finishedAt: iso(store.simMs) },
        },
      })),
      qosClass: last.status.qosClass,
    },
  };
  store.failedPods.set(key(p.namespace, p.name), failed);
  store.touch('pods', p.namespace, p.name);
  store.dirty = true;
}

/**
 * A leaking pod set up as running for longer than its leak allows has been OOM-killed before: its
 * current container started at the last kill (start-up time aside).
 */
export function settleLeak(store: TwinStore, p: PodState): void {
  if (p.facts.leakBytesPerMs <= 0) return;
  const lifetimeMs = leakHeadroomBytes(conditionsOf(store, p, 0)) / p.facts.leakBytesPerMs;
  const upMs = store.simMs - p.containerStartedMs;
  if (lifetimeMs <= 0 || upMs < lifetimeMs) return;
  const kills = Math.floor(upMs / lifetimeMs);
  const lastKill = p.containerStartedMs + kills * lifetimeMs;
  p.restartCount = kills;
  p.lastTermination = { reason: 'OOMKilled', exitCode: 137, startedMs: lastKill - lifetimeMs, finishedMs: lastKill };
  p.containerStartedMs = lastKill;
  p.readyAtMs = lastKill + store.startupDelayMs;
  if (p.readyAtMs > store.simMs) {
    p.readySinceMs = undefined;
    store.starting.add(p);
  } else p.readySinceMs = p.readyAtMs;
}
