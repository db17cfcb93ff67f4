// Events, as every component of the twin reports them and as the API server keeps them: the
// recorder aggregates repeats the way client-go's event correlator does (same source, object, reason,
// type and message within the TTL: one event, its count up), and the garbage collector drops events
// an hour (--event-ttl) after they last happened. It must never decide anything about the objects an
// event is about; it only writes Event objects into the store.
import type { ObjectReference } from '../kube-objects.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderEvent } from '../twin-render.ts';
import type { DeploymentState, EventState, HpaState, NodeState, PodState, ReplicaSetState } from '../twin-state.ts';

/** How often expired events are collected. */
export const EVENT_GC_MS = 60_000;

export interface EventSource {
  component: string;
  host?: string;
}

/** Records an event; repeats within the TTL add to one event's count instead of making a new one. */
export function recordEvent(
  store: TwinStore,
  involved: ObjectReference,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  source: EventSource,
  atMs = store.eventMs,
): void {
  const k = `${involved.uid}|${involved.fieldPath ?? ''}|${type}|${reason}|${message}|${source.component}`;
  const existing = store.eventsByKey.get(k);
  if (existing && store.events.has(key(existing.namespace, existing.name))) {
    existing.count++;
    existing.lastMs = Math.max(existing.lastMs, atMs);
    store.modified('events', existing);
    return;
  }
  const namespace = involved.namespace ?? 'default';
  const nanos = BigInt(Math.round(atMs)) * 1_000_000n + BigInt(store.eventSeq++ % 1_000_000);
  const e: EventState = {
    namespace,
    name: `${involved.name}.${nanos.toString(16)}`,
    uid: store.otherUids.uuid(),
    rv: store.nextRv(),
    key: k,
    involved,
    reason,
    message,
    type,
    source,
    firstMs: atMs,
    lastMs: atMs,
    count: 1,
  };
  store.events.set(key(namespace, e.name), e);
  store.eventsByKey.set(k, e);
  store.touch('events', namespace, e.name, 'ADDED');
}

/** The API server's event TTL: events that last happened longer ago are gone. */
export function expireEvents(store: TwinStore): void {
  const cutoff = store.eventMs - store.eventTtlMs;
  for (const e of store.events.values()) {
    if (e.lastMs > cutoff) continue;
    e.rv = store.nextRv();
    if (store.watched) {
      const last = renderEvent(e);
      store.touchDeleted('events', e.namespace, e.name, () => last);
    }
    store.events.delete(key(e.namespace, e.name));
    if (store.eventsByKey.get(e.key) === e) store.eventsByKey.delete(e.key);
  }
}

export const podRef = (p: PodState): ObjectReference => ({ kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid, apiVersion: 'v1' });

export const replicaSetRef = (rs: ReplicaSetState): ObjectReference => ({ kind: 'ReplicaSet', namespace: rs.namespace, name: rs.name, uid: rs.uid, apiVersion: 'apps/v1' });

export const deploymentRef = (d: DeploymentState): ObjectReference => ({ kind: 'Deployment', namespace: d.namespace, name: d.name, uid: d.uid, apiVersion: 'apps/v1' });

export const nodeRef = (n: NodeState): ObjectReference => ({ kind: 'Node', name: n.name, uid: n.name, apiVersion: 'v1' });

export const hpaRef = (h: HpaState): ObjectReference => ({
  kind: 'HorizontalPodAutoscaler',
  namespace: h.namespace,
  name: h.name,
  uid: h.uid,
  apiVersion: 'autoscaling/v2',
});
