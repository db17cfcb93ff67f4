// The scheduler as a controller: takes a pending pod, asks where it fits (the pure placement of
// ../scheduler.ts, by requests, on the nodes as they stand), and binds it — its IP, its node's
// requested resources, the kubelet starting its containers — or leaves it Pending with a
// FailedScheduling event, repeated when the reason changes or every five minutes. It must never move
// a pod that is already bound.
import { placePod, type SchedulingNode } from '../scheduler.ts';
import type { TwinStore } from '../twin-store.ts';
import type { PodState } from '../twin-state.ts';
import { podRef, recordEvent } from './events.ts';

/** The scheduler moves a pod that does not fit back to the active queue at least this often. */
export const UNSCHEDULABLE_RETRY_MS = 5 * 60_000;

/** The scheduler's attempt for one pending pod; binds it, or records why it cannot. */
export function schedule(store: TwinStore, pod: PodState, atMs = store.eventMs): void {
  const nodes: SchedulingNode[] = [...store.nodes.values()].map((n) => ({
    name: n.name,
    unschedulable: n.unschedulable,
    memoryPressure: n.memoryPressure,
    labels: n.labels,
    allocatable: n.allocatable,
    requested: n.requested,
  }));
  const placed = placePod({ requests: { cpu: pod.facts.requestCpu, memory: pod.facts.requestMemory }, nodeSelector: pod.facts.nodeSelector }, nodes);
  if (placed.node === undefined) {
    const newReason = placed.message !== pod.schedulingMessage;
    if (newReason || atMs - pod.schedulingEventMs >= UNSCHEDULABLE_RETRY_MS) {
      pod.schedulingMessage = placed.message;
      pod.schedulingEventMs = atMs;
      recordEvent(store, podRef(pod), 'Warning', 'FailedScheduling', placed.message, { component: 'default-scheduler' }, atMs);
      // The PodScheduled condition carries the message.
      if (newReason) store.modified('pods', pod);
    }
    return;
  }
  const n = store.nodes.get(placed.node)!;
  pod.node = n;
  pod.scheduledMs = atMs;
  pod.containerStartedMs = atMs;
  pod.readyAtMs = atMs + store.startupDelayMs;
  pod.ip = `10.244.${n.index}.${(n.podSeq++ % 250) + 2}`;
  pod.schedulingMessage = undefined;
  n.pods.add(pod);
  n.requested.cpu += pod.facts.requestCpu;
  n.requested.memory += pod.facts.requestMemory;
  n.requested.pods += 1;
  store.pending.delete(pod);
  store.starting.add(pod);
  store.modified('pods', pod);
  const ref = podRef(pod);
  recordEvent(store, ref, 'Normal', 'Scheduled', `Successfully assigned ${pod.namespace}/${pod.name} to ${n.name}`, { component: 'default-scheduler' }, atMs);
  const kubelet = { component: 'kubelet', host: n.name };
  for (const c of pod.rs.template.spec.containers) {
    const at = { ...ref, fieldPath: `spec.containers{${c.name}}` };
    recordEvent(store, at, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, kubelet, atMs);
    recordEvent(store, at, 'Normal', 'Created', `Created container: ${c.name}`, kubelet, atMs);
    recordEvent(store, at, 'Normal', 'Started', `Started container ${c.name}`, kubelet, atMs);
  }
}
