// The twin's store: every object it holds (namespaces, nodes, Deployments, ReplicaSets, pods, events,
// config maps, HorizontalPodAutoscalers) by namespace and name, the one resourceVersion counter, the
// model's time, and the change feed watchers read (each batch of changes rendered once, in
// resourceVersion order). The writes (registry/) and the controllers (controllers/) change objects
// here and say so with touch / touchDeleted; ClusterTwin flushes the batch after each step and each
// mutation. The store itself decides nothing about how a cluster behaves and must never read a
// clock: the model's time is whatever the twin's step last set.
import type { ConfigMap, Deployment, HorizontalPodAutoscaler, KubeEvent, Namespace, Node, Pod, PodTemplateSpec, ReplicaSet } from './kube-objects.ts';
import { factsOf } from './pod-template.ts';
import { Prng, deriveSeed } from './prng.ts';
import { notFound } from './twin-errors.ts';
import { renderConfigMap, renderDeployment, renderEvent, renderHpa, renderNamespace, renderNode, renderPod, renderReplicaSet } from './twin-render.ts';
import type {
  ConfigMapState,
  DeploymentState,
  EventState,
  HpaState,
  NamespaceState,
  NodeState,
  PodState,
  ReplicaSetState,
  TemplateFacts,
} from './twin-state.ts';

/** The resources whose changes the twin reports to watchers, by their API plural. */
export type TwinKind = 'namespaces' | 'nodes' | 'pods' | 'deployments' | 'replicasets' | 'events' | 'configmaps' | 'horizontalpodautoscalers';
export type TwinObject = Namespace | Node | Pod | Deployment | ReplicaSet | KubeEvent | ConfigMap | HorizontalPodAutoscaler;

/** One change of one object, as a watch event reports it; `object` is its state after the change (before, for DELETED). */
export interface TwinChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: TwinKind;
  object: TwinObject;
}

/** How the store keys a namespaced object. */
export const key = (ns: string, name: string) => `${ns}/${name}`;

export interface StoreOptions {
  seed: number;
  startupDelayMs: number;
  gridMs: number;
  loadNoiseSd: number;
  eventTtlMs: number;
}

export class TwinStore {
  readonly seed: number;
  /** From a pod's start on its node to ready. */
  readonly startupDelayMs: number;
  /** The model's integration step. */
  readonly gridMs: number;
  /** Relative standard deviation of the load's noise. */
  readonly loadNoiseSd: number;
  readonly eventTtlMs: number;
  /** Uids of namespaces, Deployments, ReplicaSets and pods, and of everything else: two streams, so adding one kind never renames the other. */
  readonly uids: Prng;
  readonly otherUids: Prng;

  /** The model's own time: the grid point the state describes. */
  simMs: number;
  /** When the change being made happens: the grid point while the model steps, the clock's time for a mutation. */
  eventMs: number;

  readonly namespaces = new Map<string, NamespaceState>();
  readonly nodes = new Map<string, NodeState>();
  readonly deployments = new Map<string, DeploymentState>();
  readonly replicaSets = new Map<string, ReplicaSetState>();
  readonly pods = new Map<string, PodState>();
  /** Pods the kubelet evicted: Failed objects, no longer their ReplicaSet's, kept until deleted. */
  readonly failedPods = new Map<string, Pod>();
  readonly events = new Map<string, EventState>();
  /** The event correlator's index: an event's aggregation key to the event. */
  readonly eventsByKey = new Map<string, EventState>();
  readonly configMaps = new Map<string, ConfigMapState>();
  readonly hpas = new Map<string, HpaState>();
  /** Bound pods that are not ready yet, and pods no node has taken. */
  readonly starting = new Set<PodState>();
  readonly pending = new Set<PodState>();
  /** Controllers must run at the next step even if nothing else is due. */
  dirty = false;
  eventSeq = 0;
  /** Bumped on every config map change: workloads derived from config data are recomputed. */
  configVersion = 0;

  private rv = 1;
  private readonly facts = new Map<string, TemplateFacts>();
  private readonly listeners = new Set<(changes: TwinChange[]) => void>();
  private readonly changed = new Map<string, { type: 'ADDED' | 'MODIFIED'; kind: TwinKind; ns: string | undefined; name: string }>();
  private readonly deletedChanges: TwinChange[] = [];

  constructor(startMs: number, opts: StoreOptions) {
    this.seed = opts.seed;
    this.startupDelayMs = opts.startupDelayMs;
    this.gridMs = opts.gridMs;
    this.loadNoiseSd = opts.loadNoiseSd;
    this.eventTtlMs = opts.eventTtlMs;
    this.uids = new Prng(deriveSeed(this.seed, 'uids'));
    this.otherUids = new Prng(deriveSeed(this.seed, 'uids/other'));
    this.simMs = startMs;
    this.eventMs = startMs;
  }

  /** The next resourceVersion, for an object that is about to change. */
  nextRv(): number {
    return ++this.rv;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** An object changed: its new version, and a MODIFIED in the next batch. */
  modified(kind: TwinKind, o: { rv: number; name: string; namespace?: string }): void {
    o.rv = ++this.rv;
    this.touch(kind, o.namespace, o.name);
  }

  /** A deployment by namespace and name, or NotFound in the API server's words. */
  mustGetDeployment(namespace: string, name: string): DeploymentState {
    const d = this.deployments.get(key(namespace, name));
    if (!d) throw notFound('deployments', name, 'apps');
    return d;
  }

  /** The facts of a template, derived once per template hash. */
  factsOf(t: PodTemplateSpec, hash: string): TemplateFacts {
    let f = this.facts.get(hash);
    if (!f) this.facts.set(hash, (f = factsOf(t)));
    return f;
  }

  // ---- the change feed ------------------------------------------------------------------------

  /** Whether anyone watches: without watchers nothing is rendered for the feed. */
  get watched(): boolean {
    return this.listeners.size > 0;
  }

  watch(listener: (changes: TwinChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  touch(kind: TwinKind, ns: string | undefined, name: string, type: 'ADDED' | 'MODIFIED' = 'MODIFIED'): void {
    if (this.listeners.size === 0) return;
    const k = `${kind}/${ns ?? ''}/${name}`;
    const prev = this.changed.get(k);
    this.changed.set(k, { type: prev?.type === 'ADDED' ? 'ADDED' : type, kind, ns, name });
  }

  touchDeleted(kind: TwinKind, ns: string | undefined, name: string, render: () => TwinObject): void {
    if (this.listeners.size === 0) return;
    const k = `${kind}/${ns ?? ''}/${name}`;
    const prev = this.changed.get(k);
    this.changed.delete(k);
    // Created and deleted within one batch: nobody could have seen it.
    if (prev?.type === 'ADDED') return;
    this.deletedChanges.push({ type: 'DELETED', kind, object: render() });
  }

  /** Hands the batch of changes since the last flush to every watcher, rendered once, in resourceVersion order. */
  flush(): void {
    if (this.listeners.size === 0 || (this.changed.size === 0 && this.deletedChanges.length === 0)) return;
    const out: TwinChange[] = [...this.deletedChanges];
    this.deletedChanges.length = 0;
    for (const c of this.changed.values()) {
      const object = this.render(c.kind, c.ns, c.name);
      if (object) out.push({ type: c.type, kind: c.kind, object });
    }
    this.changed.clear();
    out.sort((a, b) => Number(a.object.metadata.resourceVersion) - Number(b.object.metadata.resourceVersion));
    for (const l of [...this.listeners]) l(out);
  }

  private render(kind: TwinKind, ns: string | undefined, name: string): TwinObject | undefined {
    const k = key(ns ?? '', name);
    switch (kind) {
      case 'namespaces': {
        const n = this.namespaces.get(name);
        return n && renderNamespace(n);
      }
      case 'nodes': {
        const n = this.nodes.get(name);
        return n && renderNode(n, this.simMs);
      }
      case 'pods': {
        const p = this.pods.get(k);
        return p ? renderPod(p, this.simMs) : this.failedPods.get(k);
      }
      case 'deployments': {
        const d = this.deployments.get(k);
        return d && renderDeployment(d);
      }
      case 'replicasets': {
        const rs = this.replicaSets.get(k);
        return rs && renderReplicaSet(rs);
      }
      case 'events': {
        const e = this.events.get(k);
        return e && renderEvent(e);
      }
      case 'configmaps': {
        const c = this.configMaps.get(k);
        return c && renderConfigMap(c);
      }
      case 'horizontalpodautoscalers': {
        const h = this.hpas.get(k);
        return h && renderHpa(h);
      }
    }
  }
}
