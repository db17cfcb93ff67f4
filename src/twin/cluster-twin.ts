// The cluster twin: a small, deterministic simulation of the part of a Kubernetes cluster Governor
// acts on — namespaces, nodes, Deployments with their ReplicaSet revision history, pods that are
// scheduled, start, become ready and are replaced by rolling updates, config maps, events, the
// HorizontalPodAutoscaler, the load on each deployment and how the pods perform under it. It runs on
// an injected Clock (virtual time in the demo, tests and benchmarks, real time in the sandbox) and a
// seeded PRNG: the same seed and the same calls at the same times give the same cluster. It must never
// do I/O, read the wall clock or Math.random; the API server in kube-api-server.ts is its only window
// to the outside.
//
// This class is the twin's front door and nothing more: every read and every mutation first catches
// up to clock.now(), then hands the work to the room that owns it, and reports what changed to
// watchers. The rooms, in the controller-runtime manner:
//   twin-store.ts            the objects, the resourceVersion counter and the change feed
//   validation.ts            what the API server refuses (422) and its defaulting
//   registry/                the writes clients make, one file per resource
//   controllers/             deployment and ReplicaSet, scheduler, kubelet (readiness, memory, OOM
//                            kills, eviction), HPA, events, performance and metrics; manager.ts
//                            runs them on the model's grid
//   setup.ts                 the cluster as a story begins, and the levers scenarios pull
// What Kubernetes does that the twin imitates, and what it leaves out, is said in each of them. In
// short it leaves out: graceful termination (deleted pods are gone at once), crashes other than OOM
// kills, taints and tolerations beyond cordon and memory pressure, proportional scaling of several
// ReplicaSets in the middle of a rollout, config maps that are missing (they read as empty).
import type { Clock } from '../core/clock.ts';
import { CHANGE_CAUSE_ANNOTATION, type ConfigMap, type Deployment, type HorizontalPodAutoscaler, type KubeEvent, type Namespace, type Node, type Pod, type PodTemplateSpec, type ReplicaSet, type StringMap } from './kube-objects.ts';
import { parseLabelSelector, type LabelSelector } from './label-selector.ts';
import type { LoadSource } from './load-shapes.ts';
import type { HeapState } from './performance-model.ts';
import { createConfigMap, deleteConfigMap, replaceConfigMap } from './registry/config-maps.ts';
import { writeDeployment, type DeploymentUpdate } from './registry/deployments.ts';
import { createHpa, deleteHpa, replaceHpa } from './registry/hpas.ts';
import { writeNode, type NodeUpdate } from './registry/nodes.ts';
import { deletePod, writePodMetadata } from './registry/pods.ts';
import { writeNamespace, type NamespaceUpdate } from './registry/namespaces.ts';
import { DEFAULT_NODES, createDeployment, createNamespace, createNode, setLoad, setNodeSystemMemoryLeak, tunePod, type DeploymentSetup, type NodeSetup } from './setup.ts';
import { alreadyExists, conflict, notFound, type MutationOptions } from './twin-errors.ts';
import { TwinStore, key, type TwinChange } from './twin-store.ts';
import { renderConfigMap, renderDeployment, renderEvent, renderHpa, renderNamespace, renderNode, renderPod, renderReplicaSet } from './twin-render.ts';
import { clone } from './twin-state.ts';
import { validateConfigMap, validateHpa, type ValidConfigMap, type ValidHpa } from './validation.ts';
import { expireEvents } from './controllers/events.ts';
import { ControllerManager } from './controllers/manager.ts';
import { nodeSample, podSample, serviceMetricsOf, type NodeMetricsSample, type PodMetricsSample, type ServiceMetrics } from './controllers/metrics.ts';
import { refreshPerformance } from './controllers/performance.ts';

export type { LoadSource } from './load-shapes.ts';
export { rollingLimits, type ConfigEffect } from './twin-state.ts';
export { TwinError, type FieldCause, type MutationOptions, type TwinErrorReason } from './twin-errors.ts';
export type { TwinChange, TwinKind, TwinObject } from './twin-store.ts';
export type { DeploymentSetup, NodeSetup, RevisionSetup } from './setup.ts';
export type { DeploymentUpdate } from './registry/deployments.ts';
export type { NodeUpdate } from './registry/nodes.ts';
export type { NodeMetricsSample, PodMetricsSample, ServiceMetrics } from './controllers/metrics.ts';
export { validateTemplate } from './validation.ts';
export { configMapsOf } from './pod-template.ts';

export interface ClusterTwinOptions {
  seed?: number;
  /** From a pod's start on its node to ready. */
  startupDelayMs?: number;
  /** The model's integration step. */
  gridMs?: number;
  /** Relative standard deviation of the load's noise. */
  loadNoise?: number;
  /** The nodes; absent: four roomy nodes (16 cores, 64 GiB) that no built-in scenario fills. */
  nodes?: NodeSetup[];
  /** How long events live (the API server's --event-ttl). */
  eventTtlMs?: number;
}

export class ClusterTwin {
  readonly clock: Clock;
  private readonly store: TwinStore;
  private readonly manager: ControllerManager;
  private cancelTimer: (() => void) | undefined;

  constructor(clock: Clock, opts: ClusterTwinOptions = {}) {
    this.clock = clock;
    this.store = new TwinStore(clock.now(), {
      seed: opts.seed ?? 1,
      startupDelayMs: opts.startupDelayMs ?? 30_000,
      gridMs: opts.gridMs ?? 1_000,
      loadNoiseSd: opts.loadNoise ?? 0.02,
      eventTtlMs: opts.eventTtlMs ?? 3_600_000,
    });
    this.manager = new ControllerManager(this.store);
    for (const n of opts.nodes ?? DEFAULT_NODES) createNode(this.store, n);
  }

  // ---- time ---------------------------------------------------------------------------------

  /** Steps the model on the clock every `tickMs`, re-arming after each step, until stop(). */
  start(tickMs = 5_000): void {
    this.stop();
    const arm = () => {
      this.cancelTimer = this.clock.setTimer(tickMs, () => {
        this.step();
        arm();
      });
    };
    arm();
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Advances the model to clock.now() (to the last grid point not after it). */
  step(): void {
    this.manager.catchUp(this.clock.now());
    this.store.flush();
  }

  /** The model's own time: the grid point the state describes. */
  get modelTimeMs(): number {
    return this.store.simMs;
  }

  get resourceVersion(): string {
    return this.store.resourceVersion;
  }

  /** The integration step, for callers that sample on the grid. */
  get stepMs(): number {
    return this.store.gridMs;
  }

  /**
   * Calls `listener` with every batch of changes: after each step and each mutation, the objects that
   * changed, rendered once, in resourceVersion order. Returns the function that stops it.
   */
  watch(listener: (changes: TwinChange[]) => void): () => void {
    return this.store.watch(listener);
  }

  /** Catches up, runs `fn`, and reports what it changed. Every public mutation goes through here. */
  private mutate<T>(fn: (store: TwinStore) => T): T {
    this.step();
    try {
      return fn(this.store);
    } finally {
      this.store.flush();
    }
  }

  /** Catches up, then reads. */
  private read<T>(fn: (store: TwinStore) => T): T {
    this.step();
    return fn(this.store);
  }

  // ---- setup and levers (not Kubernetes operations; see setup.ts) -------------------------------

  addNamespace(name: string, labels: StringMap = {}, createdAtMs = this.clock.now()): void {
    this.mutate((s) => createNamespace(s, name, labels, createdAtMs));
  }

  /** Adds a node (cluster autoscaler, a scenario's capacity change); pending pods may now fit. */
  addNode(setup: NodeSetup): Node {
    return this.mutate((s) => {
      if (s.nodes.has(setup.name)) throw alreadyExists('nodes', setup.name);
      const n = createNode(s, setup);
      this.manager.reconcile();
      return renderNode(n, s.simMs);
    });
  }

  /**
   * Removes a node as a cloud provider's scale-in does (the instance terminated, its Node object
   * deleted). Only an empty node: a node that still runs pods is refused (drain it first), so no
   * pod is lost without an eviction.
   */
  removeNode(name: string): void {
    this.mutate((s) => {
      const n = s.nodes.get(name);
      if (!n) throw notFound('nodes', name);
      if (n.pods.size > 0) throw conflict('nodes', name);
      s.touchDeleted('nodes', undefined, name, () => renderNode(n, s.simMs));
      s.nodes.delete(name);
      this.manager.reconcile();
    });
  }

  /** Adds a deployment that has been running (setup.ts createDeployment). */
  addDeployment(setup: DeploymentSetup): void {
    this.mutate((s) => {
      createDeployment(s, setup);
      this.manager.reconcile();
      expireEvents(s);
    });
  }

  /** Changes the load offered to a deployment from now on. */
  setLoad(namespace: string, name: string, rps: LoadSource): void {
    this.mutate((s) => setLoad(s, namespace, name, rps));
  }

  /**
   * Scenario setup: puts a pod's heap in a given state (a scenario starts in the middle of a story).
   * Not a Kubernetes operation; nothing outside scenarios and tests should call it.
   */
  tunePod(namespace: string, pod: string, heap: Partial<HeapState>): void {
    this.mutate((s) => tunePod(s, namespace, pod, heap));
  }

  /**
   * A system daemon on the node (a log shipper, the container runtime: not a pod) starts leaking
   * memory at `mibPerMin` from now on (0 stops it; what it holds already stays held). Not a
   * Kubernetes operation: scenarios and tests inject the fault with it.
   */
  setNodeSystemMemoryLeak(node: string, mibPerMin: number): void {
    this.mutate((s) => setNodeSystemMemoryLeak(s, node, mibPerMin));
  }

  // ---- mutations: deployments and pods ----------------------------------------------------------

  /** kubectl scale: new pods of the current template; a scale-down removes unscheduled, not-ready, then newest pods. */
  scale(namespace: string, name: string, replicas: number, opts: MutationOptions = {}): Deployment {
    return this.updateDeployment(namespace, name, { replicas }, opts);
  }

  /**
   * Sets the pod template. A template equal to an older revision's re-uses that ReplicaSet under the
   * next revision number (a rollback); otherwise a new revision starts. Either way pods are replaced
   * by a rolling update.
   */
  applyTemplate(namespace: string, name: string, template: PodTemplateSpec, changeCause?: string, opts: MutationOptions = {}): Deployment {
    const d = this.store.mustGetDeployment(namespace, name);
    const annotations = changeCause !== undefined ? { ...d.annotations, [CHANGE_CAUSE_ANNOTATION]: changeCause } : undefined;
    return this.updateDeployment(namespace, name, { template, ...(annotations ? { annotations } : {}) }, opts);
  }

  /** The one write path for deployments: what PUT and PATCH of the API server end in. */
  updateDeployment(namespace: string, name: string, update: DeploymentUpdate, opts: MutationOptions = {}): Deployment {
    return this.mutate((s) => {
      const d = writeDeployment(s, namespace, name, update, opts);
      this.manager.reconcile();
      return renderDeployment(d);
    });
  }

  /** kubectl delete pod: the pod goes at once; its ReplicaSet replaces it. */
  deletePod(namespace: string, name: string, opts: MutationOptions = {}): Pod {
    return this.mutate((s) => {
      const { object, replace } = deletePod(s, namespace, name, opts);
      if (replace) this.manager.reconcile();
      return object;
    });
  }

  /**
   * The pods/eviction subresource (policy/v1 Eviction), as kubectl drain uses it: the pod is deleted
   * and its ReplicaSet replaces it wherever the scheduler finds room. The twin has no
   * PodDisruptionBudgets, so an eviction is never refused with 429; callers enforce their own limits.
   */
  evictPod(namespace: string, name: string): Pod {
    return this.deletePod(namespace, name);
  }

  /** Labels and annotations of one pod (kubectl label / annotate pod); its template's labels stay. */
  updatePodMetadata(namespace: string, name: string, update: { labels: StringMap; annotations: StringMap }, opts: MutationOptions = {}): Pod {
    return this.mutate((s) => writePodMetadata(s, namespace, name, update, opts));
  }

  // ---- mutations: namespaces ------------------------------------------------------------------

  /** Labels and annotations (kubectl label / annotate namespace): a namespace's tenant and environment live there. */
  updateNamespace(name: string, update: NamespaceUpdate, opts: MutationOptions = {}): Namespace {
    return this.mutate((s) => renderNamespace(writeNamespace(s, name, update, opts)));
  }

  // ---- mutations: nodes -----------------------------------------------------------------------

  /** Labels, annotations and spec.unschedulable (kubectl cordon / uncordon); everything else about a node is the kubelet's. */
  updateNode(name: string, update: NodeUpdate, opts: MutationOptions = {}): Node {
    return this.mutate((s) => {
      const { node, changed } = writeNode(s, name, update, opts);
      if (changed) this.manager.reconcile();
      return renderNode(node, s.simMs);
    });
  }

  cordonNode(name: string): Node {
    return this.updateNode(name, { unschedulable: true });
  }

  uncordonNode(name: string): Node {
    return this.updateNode(name, { unschedulable: false });
  }

  // ---- mutations: config maps (the services that read them follow at once: they hot-reload) -----

  /** Refuses a config map the API server would refuse (422), naming every problem; changes nothing (dry runs). */
  validateConfigMap(obj: unknown, expectName?: string): ValidConfigMap {
    return validateConfigMap(obj, expectName);
  }

  /** POST: a new config map in an existing namespace. */
  createConfigMap(obj: unknown, opts: { namespace?: string; createdAtMs?: number } = {}): ConfigMap {
    return this.mutate((s) => {
      const c = createConfigMap(s, obj, opts);
      this.configChanged();
      return renderConfigMap(c);
    });
  }

  /** PUT: the whole config map; its data may not change once it is immutable. */
  replaceConfigMap(namespace: string, name: string, obj: unknown, opts: MutationOptions = {}): ConfigMap {
    return this.mutate((s) => {
      const { state, changed } = replaceConfigMap(s, namespace, name, obj, opts);
      if (changed) this.configChanged();
      return renderConfigMap(state);
    });
  }

  deleteConfigMap(namespace: string, name: string, opts: MutationOptions = {}): ConfigMap {
    return this.mutate((s) => {
      const last = deleteConfigMap(s, namespace, name, opts);
      this.configChanged();
      return last;
    });
  }

  private configChanged(): void {
    this.store.configVersion++;
    refreshPerformance(this.store);
  }

  // ---- mutations: horizontal pod autoscalers ----------------------------------------------------

  /** Refuses an HPA the API server would refuse (422) and applies its defaulting; changes nothing (dry runs). */
  validateHpa(obj: unknown, expectName?: string): ValidHpa {
    return validateHpa(obj, expectName);
  }

  createHpa(obj: unknown, opts: { namespace?: string } = {}): HorizontalPodAutoscaler {
    return this.mutate((s) => renderHpa(createHpa(s, obj, opts)));
  }

  /** PUT: spec, labels and annotations; the status belongs to the controller. */
  replaceHpa(namespace: string, name: string, obj: unknown, opts: MutationOptions = {}): HorizontalPodAutoscaler {
    return this.mutate((s) => renderHpa(replaceHpa(s, namespace, name, obj, opts)));
  }

  deleteHpa(namespace: string, name: string, opts: MutationOptions = {}): HorizontalPodAutoscaler {
    return this.mutate((s) => deleteHpa(s, namespace, name, opts));
  }

  // ---- reads ----------------------------------------------------------------------------------

  namespaces(): Namespace[] {
    return this.read((s) => [...s.namespaces.values()].map((n) => renderNamespace(n)));
  }

  getNamespace(name: string): Namespace | undefined {
    return this.read((s) => {
      const n = s.namespaces.get(name);
      return n ? renderNamespace(n) : undefined;
    });
  }

  listNodes(selector?: string | LabelSelector): Node[] {
    return this.read((s) => {
      const sel = toSelector(selector);
      return [...s.nodes.values()].filter((n) => sel.matches(n.labels)).map((n) => renderNode(n, s.simMs));
    });
  }

  getNode(name: string): Node | undefined {
    return this.read((s) => {
      const n = s.nodes.get(name);
      return n ? renderNode(n, s.simMs) : undefined;
    });
  }

  getDeployment(namespace: string, name: string): Deployment | undefined {
    return this.read((s) => {
      const d = s.deployments.get(key(namespace, name));
      return d ? renderDeployment(d) : undefined;
    });
  }

  /** All deployments, or those of one namespace, in creation order. */
  listDeployments(namespace?: string, selector?: string | LabelSelector): Deployment[] {
    return this.read((s) => {
      const sel = toSelector(selector);
      return [...s.deployments.values()].filter((d) => (namespace === undefined || d.namespace === namespace) && sel.matches(d.labels)).map((d) => renderDeployment(d));
    });
  }

  listReplicaSets(namespace?: string, selector?: string | LabelSelector): ReplicaSet[] {
    return this.read((s) => {
      const sel = toSelector(selector);
      return [...s.replicaSets.values()]
        .filter((rs) => namespace === undefined || rs.namespace === namespace)
        .map((rs) => renderReplicaSet(rs))
        .filter((rs) => sel.matches(rs.metadata.labels));
    });
  }

  getReplicaSet(namespace: string, name: string): ReplicaSet | undefined {
    return this.read((s) => {
      const rs = s.replicaSets.get(key(namespace, name));
      return rs ? renderReplicaSet(rs) : undefined;
    });
  }

  listPods(namespace?: string, selector?: string | LabelSelector): Pod[] {
    return this.read((s) => {
      const sel = toSelector(selector);
      return [...s.pods.values()]
        .filter((p) => namespace === undefined || p.namespace === namespace)
        .map((p) => renderPod(p, s.simMs))
        .concat([...s.failedPods.values()].filter((p) => namespace === undefined || p.metadata.namespace === namespace))
        .filter((p) => sel.matches(p.metadata.labels));
    });
  }

  getPod(namespace: string, name: string): Pod | undefined {
    return this.read((s) => {
      const p = s.pods.get(key(namespace, name));
      return p ? renderPod(p, s.simMs) : s.failedPods.get(key(namespace, name));
    });
  }

  /** Events of one namespace (or all), oldest first; expired ones are gone. */
  listEvents(namespace?: string): KubeEvent[] {
    return this.read((s) => [...s.events.values()].filter((e) => namespace === undefined || e.namespace === namespace).map((e) => renderEvent(e)));
  }

  getEvent(namespace: string, name: string): KubeEvent | undefined {
    return this.read((s) => {
      const e = s.events.get(key(namespace, name));
      return e ? renderEvent(e) : undefined;
    });
  }

  listConfigMaps(namespace?: string, selector?: string | LabelSelector): ConfigMap[] {
    return this.read((s) => {
      const sel = toSelector(selector);
      return [...s.configMaps.values()].filter((c) => (namespace === undefined || c.namespace === namespace) && sel.matches(c.labels)).map((c) => renderConfigMap(c));
    });
  }

  getConfigMap(namespace: string, name: string): ConfigMap | undefined {
    return this.read((s) => {
      const c = s.configMaps.get(key(namespace, name));
      return c ? renderConfigMap(c) : undefined;
    });
  }

  listHpas(namespace?: string, selector?: string | LabelSelector): HorizontalPodAutoscaler[] {
    return this.read((s) => {
      const sel = toSelector(selector);
      return [...s.hpas.values()].filter((h) => (namespace === undefined || h.namespace === namespace) && sel.matches(h.labels)).map((h) => renderHpa(h));
    });
  }

  getHpa(namespace: string, name: string): HorizontalPodAutoscaler | undefined {
    return this.read((s) => {
      const h = s.hpas.get(key(namespace, name));
      return h ? renderHpa(h) : undefined;
    });
  }

  /** The pod template of a revision (without the controller's hash label), for rollbacks. */
  templateOfRevision(namespace: string, name: string, revision: number): PodTemplateSpec | undefined {
    return this.read((s) => {
      const rs = [...s.replicaSets.values()].find((r) => r.namespace === namespace && r.deployment === name && r.revision === revision);
      return rs ? clone(rs.template) : undefined;
    });
  }

  // ---- metrics (controllers/metrics.ts) --------------------------------------------------------

  /** What a load balancer in front of the deployment would measure right now. */
  serviceMetrics(namespace: string, name: string): ServiceMetrics {
    return this.read((s) => serviceMetricsOf(s.mustGetDeployment(namespace, name)));
  }

  /** What the kubelet and the JVM exporter of each pod of the deployment report right now. */
  podMetrics(namespace: string, name: string): PodMetricsSample[] {
    return this.read((s) => [...s.mustGetDeployment(namespace, name).pods].map((p) => podSample(s, p)));
  }

  /** podMetrics for one pod, by name. */
  podMetricsOf(namespace: string, pod: string): PodMetricsSample | undefined {
    return this.read((s) => {
      const p = s.pods.get(key(namespace, pod));
      return p ? podSample(s, p) : undefined;
    });
  }

  /** What metrics-server reports for each node: its pods' use plus the node's own daemons. */
  nodeMetrics(): NodeMetricsSample[] {
    return this.read((s) => [...s.nodes.values()].map(nodeSample));
  }
}

function toSelector(s: string | LabelSelector | undefined): LabelSelector {
  return typeof s === 'object' ? s : parseLabelSelector(s);
}
