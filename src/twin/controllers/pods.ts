// Pods coming and going: created for a ReplicaSet (named from the deployment's seeded names, with a
// fresh heap, handed to the scheduler at once) and removed — deleted by a client or a scale-down, or
// evicted by the kubelet, when the object stays behind as Failed (kubelet.ts keeps it). Shared by
// the controllers that make and unmake pods; it must never decide how many pods there should be.
import { freshFill } from '../performance-model.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderPod } from '../twin-render.ts';
import type { PodState, ReplicaSetState } from '../twin-state.ts';
import { podRef, recordEvent, replicaSetRef } from './events.ts';
import { workloadOf } from './performance.ts';
import { schedule } from './scheduler.ts';

export function createPod(store: TwinStore, rs: ReplicaSetState, createdMs: number): PodState {
  const d = rs.d;
  let name: string;
  do name = `${rs.name}-${d.names.suffix(5)}`;
  while (store.pods.has(key(rs.namespace, name)) || store.failedPods.has(key(rs.namespace, name)));
  const facts = store.factsOf(rs.template, rs.templateHash);
  const pod: PodState = {
    namespace: rs.namespace,
    name,
    uid: store.uids.uuid(),
    replicaSet: rs.name,
    rs,
    d,
    createdMs,
    node: undefined,
    scheduledMs: undefined,
    readyAtMs: Number.POSITIVE_INFINITY,
    readySinceMs: undefined,
    rv: store.nextRv(),
    heap: { fill: freshFill(facts.jvm, workloadOf(store, rs)), allocationSkew: d.names.uniform(d.skewRange[0], d.skewRange[1]) },
    perf: undefined,
    cond: undefined,
    ip: undefined,
    facts,
    schedulingMessage: undefined,
    schedulingEventMs: Number.NEGATIVE_INFINITY,
    containerStartedMs: createdMs,
    restartCount: 0,
    lastTermination: undefined,
    backoffMs: 0,
  };
  store.pods.set(key(pod.namespace, pod.name), pod);
  rs.pods.add(pod);
  d.pods.add(pod);
  store.touch('pods', pod.namespace, pod.name, 'ADDED');
  recordEvent(store, replicaSetRef(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${pod.name}`, { component: 'replicaset-controller' }, createdMs);
  store.pending.add(pod);
  schedule(store, pod, createdMs);
  return pod;
}

/** `evicted`: the kubelet's doing, the object stays (Failed); otherwise the pod is deleted. */
export function removePod(store: TwinStore, p: PodState, evicted = false): void {
  p.rv = store.nextRv();
  const ref = podRef(p);
  if (store.watched && !evicted) {
    const last = renderPod(p, store.simMs);
    store.touchDeleted('pods', p.namespace, p.name, () => last);
  }
  store.pods.delete(key(p.namespace, p.name));
  p.rs.pods.delete(p);
  p.d.pods.delete(p);
  store.starting.delete(p);
  store.pending.delete(p);
  if (p.node) {
    const n = p.node;
    n.pods.delete(p);
    n.requested.cpu -= p.facts.requestCpu;
    n.requested.memory -= p.facts.requestMemory;
    n.requested.pods -= 1;
    for (const c of p.rs.template.spec.containers) {
      recordEvent(store, { ...ref, fieldPath: `spec.containers{${c.name}}` }, 'Normal', 'Killing', `Stopping container ${c.name}`, { component: 'kubelet', host: n.name });
    }
  }
  if (!evicted) recordEvent(store, replicaSetRef(p.rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.name}`, { component: 'replicaset-controller' });
  // Room on a node: the scheduler looks at pending pods again.
  if (p.node && store.pending.size > 0) store.dirty = true;
}
