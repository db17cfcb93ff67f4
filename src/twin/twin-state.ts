// The cluster twin's internal state: what its store (twin-store.ts) keeps for each object, and the
// few facts the controllers and the renderers both derive from it. Internal to src/twin: the store,
// registry/, controllers/, setup.ts and twin-render.ts use it; everyone else sees Kubernetes objects
// (kube-objects.ts) and the twin's public methods. Plain data and pure helpers; nothing here changes
// state.
import type { LoadSource } from './load-shapes.ts';
import type { Condition, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, ObjectReference, PodTemplateSpec, StringMap } from './kube-objects.ts';
import type { HpaHistory } from './hpa-algorithm.ts';
import type { HeapState, JvmProfile, PodConditions, PodPerformance, Workload } from './performance-model.ts';
import type { Prng } from './prng.ts';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** kubelet, container runtime, kube-proxy and CNI: what a node uses besides its pods. */
export const NODE_SYSTEM = { cpuMillicores: 120, memoryBytes: 900 * 2 ** 20 };

/** Memory in use on a node as the kubelet measures it: pods' working set, system daemons and what a leaking daemon holds. */
export const nodeMemoryUsed = (n: NodeState): number => n.memoryUsedBytes + NODE_SYSTEM.memoryBytes + n.systemLeakedBytes;

/**
 * How a deployment's configuration changes its workload: given the merged data of the config maps its
 * pod template references (envFrom, env valueFrom, volumes), the workload fields that differ from the
 * deployment's own. Applied to running pods as soon as the data changes (the app hot-reloads).
 */
export type ConfigEffect = (data: Readonly<StringMap>) => Partial<Workload>;

/** Kubernetes' 25% defaults: surge rounds up, unavailability rounds down, and both zero is not allowed. */
export function rollingLimits(replicas: number): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = Math.ceil(replicas * 0.25);
  let maxUnavailable = Math.floor(replicas * 0.25);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

export interface Resources {
  cpu: number;
  memory: number;
  pods: number;
}

export interface NamespaceState {
  name: string;
  uid: string;
  labels: StringMap;
  /** kubectl annotate namespace; absent until someone annotates it. */
  annotations?: StringMap;
  createdMs: number;
  rv: number;
}

export interface NodeState {
  name: string;
  uid: string;
  index: number;
  createdMs: number;
  rv: number;
  labels: StringMap;
  annotations: StringMap;
  unschedulable: boolean;
  unschedulableSinceMs: number;
  capacity: Resources;
  allocatable: Resources;
  requested: Resources;
  pods: Set<PodState>;
  ip: string;
  podSeq: number;
  cpuUsedMillicores: number;
  /** Working set of the pods bound to it. */
  memoryUsedBytes: number;
  /** A system daemon (not a pod) leaking memory at this rate, and what it holds so far. */
  systemLeakBytesPerMs: number;
  systemLeakedBytes: number;
  /** The kubelet's MemoryPressure condition (with the eviction-pressure transition period applied). */
  memoryPressure: boolean;
  memoryPressureSinceMs: number;
  /** Last time the eviction threshold was met (the condition stays True for a while after). */
  evictionThresholdMetMs: number;
  /** When the kubelet may evict the next pod (one per housekeeping cycle). */
  nextEvictionMs: number;
  /** Per-core speed of its pods while the kernel reclaims memory (node-memory.ts), 1 when it does not. */
  reclaimSpeed: number;
}

export interface DeploymentState {
  namespace: string;
  name: string;
  uid: string;
  createdMs: number;
  rv: number;
  generation: number;
  labels: StringMap;
  annotations: StringMap;
  replicas: number;
  selector: StringMap;
  template: PodTemplateSpec;
  templateHash: string;
  load: LoadSource;
  loadNoise: number;
  currentRps: number;
  workload: Workload;
  configEffect: ConfigEffect | undefined;
  skewRange: [number, number];
  names: Prng;
  noise: Prng;
  statusJson: string;
  conditionSince: Record<string, number>;
  /** Its ReplicaSets in creation order, and its pods in creation order. */
  replicaSets: ReplicaSetState[];
  pods: Set<PodState>;
}

export interface ReplicaSetState {
  namespace: string;
  name: string;
  uid: string;
  deployment: string;
  d: DeploymentState;
  createdMs: number;
  rv: number;
  generation: number;
  template: PodTemplateSpec;
  templateHash: string;
  revision: number;
  changeCause: string | undefined;
  /** The deployment's annotations when this became its newest revision (as the deployment controller copies them), without its bookkeeping. */
  annotations?: StringMap;
  replicas: number;
  statusJson: string;
  pods: Set<PodState>;
  /** The workload its pods run with, for config version `workloadVersion`. */
  workload: Workload | undefined;
  workloadVersion: number;
}

export interface PodState {
  namespace: string;
  name: string;
  uid: string;
  replicaSet: string;
  rs: ReplicaSetState;
  d: DeploymentState;
  createdMs: number;
  /** Bound to a node at; undefined while Pending. */
  node: NodeState | undefined;
  scheduledMs: number | undefined;
  readyAtMs: number;
  readySinceMs: number | undefined;
  rv: number;
  heap: HeapState;
  perf: PodPerformance | undefined;
  /** The conditions perf was computed under. */
  cond: PodConditions | undefined;
  ip: string | undefined;
  facts: TemplateFacts;
  schedulingMessage: string | undefined;
  schedulingEventMs: number;
  /** When the current instance of the container started (a restart starts a new one). */
  containerStartedMs: number;
  restartCount: number;
  /** The previous instance's end, after an OOM kill. */
  lastTermination: { reason: string; exitCode: number; startedMs: number; finishedMs: number } | undefined;
  /** The kubelet's restart back-off for the next quick restart (0: restart at once). */
  backoffMs: number;
  /** Labels and annotations put on this pod itself (kubectl label / annotate pod), over its template's. */
  ownLabels?: StringMap;
  ownAnnotations?: StringMap;
}

export interface EventState {
  namespace: string;
  name: string;
  uid: string;
  rv: number;
  key: string;
  involved: ObjectReference;
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source: { component: string; host?: string };
  firstMs: number;
  lastMs: number;
  count: number;
}

export interface ConfigMapState {
  namespace: string;
  name: string;
  uid: string;
  createdMs: number;
  rv: number;
  labels: StringMap;
  annotations: StringMap;
  data: StringMap;
  binaryData: StringMap | undefined;
  immutable: boolean;
}

export interface HpaConditionState {
  status: Condition['status'];
  reason: string;
  message: string;
  sinceMs: number;
}

export interface HpaState {
  namespace: string;
  name: string;
  uid: string;
  createdMs: number;
  rv: number;
  generation: number;
  labels: StringMap;
  annotations: StringMap;
  spec: HorizontalPodAutoscalerSpec;
  status: HorizontalPodAutoscaler['status'];
  conditions: Map<string, HpaConditionState>;
  history: HpaHistory;
  lastScaleMs: number | undefined;
  statusJson: string;
}

/** The pod-level facts the performance model and the scheduler need, derived once per template. */
export interface TemplateFacts {
  cpuLimitCores: number;
  memoryLimitBytes: number;
  jvm: JvmProfile | undefined;
  /** Sum over the containers: cores and bytes. */
  requestCpu: number;
  requestMemory: number;
  nodeSelector: StringMap | undefined;
  /** Config maps the template reads, in the order their data merges. */
  configMaps: string[];
  /** Native memory the code version leaks (MEMORY_LEAK_ANNOTATION), bytes per ms of container uptime. */
  leakBytesPerMs: number;
}


/** The ReplicaSet of the deployment's current template. */
export function newReplicaSetOf(d: DeploymentState): ReplicaSetState | undefined {
  return d.replicaSets.find((rs) => rs.templateHash === d.templateHash);
}

export function readyCount(rs: ReplicaSetState): number {
  let n = 0;
  for (const p of rs.pods) if (p.readySinceMs !== undefined) n++;
  return n;
}

/** What the deployment controller reports about a deployment, before it is rendered. */
export function deploymentStatusCore(d: DeploymentState) {
  const newRs = newReplicaSetOf(d);
  let ready = 0;
  for (const p of d.pods) if (p.readySinceMs !== undefined) ready++;
  const updated = newRs ? newRs.pods.size : 0;
  const { maxUnavailable } = rollingLimits(d.replicas);
  return {
    replicas: d.pods.size,
    updated,
    ready,
    available: ready >= d.replicas - maxUnavailable,
    complete: updated === d.replicas && d.pods.size === d.replicas && newRs !== undefined && readyCount(newRs) === d.replicas,
    revision: newRs?.revision ?? 0,
  };
}
