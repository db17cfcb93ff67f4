// The cluster twin: a small, deterministic simulation of the part of a Kubernetes cluster Governor
// acts on — namespaces, nodes, Deployments with their ReplicaSet revision history, pods that are
// scheduled, start, become ready and are replaced by rolling updates, config maps, events, the
// HorizontalPodAutoscaler, the load on each deployment and how the pods perform under it
// (performance-model.ts, node-contention.ts). It runs on an injected Clock (virtual time in the
// demo, tests and benchmarks, real time in the sandbox) and a seeded PRNG: the same seed and the same
// calls at the same times give the same cluster. It must never do I/O, read the wall clock or
// Math.random; the API server in kube-api-server.ts is its only window to the outside.
//
// Time: the model advances on a fixed grid (1 s by default) anchored at the clock's time when the twin
// was built, so results do not depend on how often anyone calls step() or reads. Every read and every
// mutation first catches up to clock.now(). Each grid step integrates the pods (heaps, load noise,
// performance); the controllers (kubelet readiness, deployment and ReplicaSet controllers, scheduler)
// run only when something is due — a mutation, a pod reaching the end of its start-up delay, an
// unsettled rollout, a pending pod's retry — and the HPA controller every 15 s. That is what lets
// a simulated day run in seconds on the same 1 s grid (bench.ts).
//
// What Kubernetes does that the twin imitates: the deployment controller's rolling update (maxSurge
// and maxUnavailable 25%, old ReplicaSets scaled down as new pods become ready, oldest first); a
// template equal to an older revision's re-uses that ReplicaSet and bumps its revision number (that
// is what a rollback is); ReplicaSets delete unscheduled, then not-ready pods first, then the newest;
// the scheduler binds pods to nodes by requests (scheduler.ts), leaves them Pending with a
// FailedScheduling event when none fits and retries when capacity frees; cordoned nodes take no new
// pods; the HPA follows the upstream algorithm (hpa-algorithm.ts); events are aggregated like the
// event correlator does and expire after an hour; resourceVersion bumps on every change of an object
// (never on metrics); generation bumps on spec changes.
// Its state types live in twin-state.ts and their rendering as Kubernetes JSON in twin-render.ts.
// Memory faults: a pod template annotated MEMORY_LEAK_ANNOTATION leaks native memory from each
// container's start; at the point where the container no longer fits its limit the kernel OOM-kills
// it and the kubelet restarts it (restartCount, lastState.terminated OOMKilled, CrashLoopBackOff
// delays for quick repeats, not ready until the start-up delay has passed, memory back to its
// baseline, its traffic on the other pods meanwhile). A node's system daemon can leak too
// (setNodeSystemMemoryLeak): the kubelet's reclaim slowdown, MemoryPressure, the memory-pressure
// taint and evictions follow (node-memory.ts); an evicted pod stays as a Failed/Evicted object and
// its ReplicaSet replaces it.
// What it leaves out: graceful termination (deleted pods are gone at once), crashes other than OOM
// kills, taints and tolerations beyond cordon and memory pressure, proportional scaling of several
// ReplicaSets in the middle of a rollout, config maps that are missing (they read as empty).
import type { Clock } from '../core/clock.ts';
import { canonicalJson, sha256Hex } from '../core/canonical-json.ts';
import { HPA_DEFAULTS, decide, emptyHistory, metricsOf, validateHpaSpec, type HpaPod } from './hpa-algorithm.ts';
import {
  CHANGE_CAUSE_ANNOTATION,
  JVM_OPTIONS_ANNOTATION,
  MEMORY_LEAK_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  type Condition,
  type ConfigMap,
  type Deployment,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerSpec,
  type KubeEvent,
  type Namespace,
  type Node,
  type ObjectReference,
  type Pod,
  type PodTemplateSpec,
  type ReplicaSet,
  type StringMap,
} from './kube-objects.ts';
import { parseLabelSelector, type LabelSelector } from './label-selector.ts';
import { rpsAt, type LoadSource } from './load-shapes.ts';
import { nodeContention } from './node-contention.ts';
import { KUBELET_MEMORY, evictionThresholdBytes, evictionThresholdMet, evictionVictim, formatMemory, memoryAvailable, reclaimSpeed } from './node-memory.ts';
import {
  DEFAULT_WORKLOAD,
  advanceHeap,
  freshFill,
  idlePerformance,
  leakHeadroomBytes,
  mixtureQuantile,
  parseJvmOptions,
  podPerformance,
  startingPodMemoryBytes,
  type HeapState,
  type PodConditions,
  type Workload,
} from './performance-model.ts';
import { Prng, deriveSeed } from './prng.ts';
import { parseQuantity } from './quantity.ts';
import { placePod, type SchedulingNode } from './scheduler.ts';
import {
  renderConfigMap,
  renderDeployment,
  renderEvent,
  renderHpa,
  renderNamespace,
  renderNode,
  renderPod,
  renderReplicaSet,
  replicaSetStatus,
} from './twin-render.ts';
import {
  NODE_SYSTEM,
  clone,
  deploymentStatusCore,
  iso,
  newReplicaSetOf,
  nodeMemoryUsed,
  readyCount,
  rollingLimits,
  type ConfigEffect,
  type ConfigMapState,
  type DeploymentState,
  type EventState,
  type HpaState,
  type NamespaceState,
  type NodeState,
  type PodState,
  type ReplicaSetState,
  type TemplateFacts,
} from './twin-state.ts';

export type { LoadSource } from './load-shapes.ts';
export { rollingLimits, type ConfigEffect } from './twin-state.ts';

export interface NodeSetup {
  name: string;
  /** Capacity: cores ("16", "15800m" or a number) and bytes ("64Gi" or a number). */
  cpu: string | number;
  memory: string | number;
  pods?: number;
  /** What pods may request; absent: the capacity. */
  allocatable?: { cpu?: string | number; memory?: string | number };
  labels?: StringMap;
  unschedulable?: boolean;
  createdAtMs?: number;
  /** A system daemon on the node (not a pod) leaking memory at this rate from the start; see setNodeSystemMemoryLeak. */
  systemMemoryLeakMiBPerMin?: number;
}

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

export interface RevisionSetup {
  template: PodTemplateSpec;
  changeCause?: string;
  createdAtMs: number;
}


/** A deployment as it stands when the twin starts, with the history that led there. */
export interface DeploymentSetup {
  namespace: string;
  name: string;
  replicas: number;
  /** Oldest first; the last one is running. Its pods were started at its createdAtMs. */
  revisions: RevisionSetup[];
  labels?: StringMap;
  /** Requests per second offered to the whole deployment. */
  rps: LoadSource;
  workload?: Partial<Workload>;
  /** Range new pods draw their allocation skew from (see HeapState). */
  allocationSkew?: [number, number];
  configEffect?: ConfigEffect;
}

export interface ServiceMetrics {
  p50_ms: number;
  p99_ms: number;
  rps: number;
  error_ratio: number;
  ready_pods: number;
}

export interface PodMetricsSample {
  pod: string;
  revision: number | null;
  ready: boolean;
  memory_bytes: number;
  memory_limit_bytes: number;
  memory_utilisation: number;
  cpu_millicores: number;
  gc_pause_ms_per_min: number;
  /** Requests per second routed to the pod (0 unless ready). */
  rps: number;
}

export interface NodeMetricsSample {
  node: string;
  cpu_millicores: number;
  memory_bytes: number;
  allocatable_cpu_millicores: number;
  allocatable_memory_bytes: number;
  /** Sum of the requests of the pods bound to it. */
  requested_cpu_millicores: number;
  requested_memory_bytes: number;
  pods: number;
  unschedulable: boolean;
  /** The kubelet's MemoryPressure condition. */
  memory_pressure: boolean;
  /** Of that memory, what a leaking system daemon holds. */
  system_leak_bytes: number;
}

export interface DeploymentUpdate {
  replicas?: number;
  template?: PodTemplateSpec;
  labels?: StringMap;
  annotations?: StringMap;
}

export interface NodeUpdate {
  unschedulable?: boolean;
  labels?: StringMap;
  annotations?: StringMap;
}

export interface MutationOptions {
  /** Precondition: refuse with Conflict unless the object is at this resourceVersion. */
  resourceVersion?: string;
}

export type TwinErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid';

export interface FieldCause {
  field: string;
  message: string;
  reason: string;
}

/** A refusal in Kubernetes' own terms, so the API server can answer with the matching Status. */
export class TwinError extends Error {
  constructor(
    readonly reason: TwinErrorReason,
    message: string,
    readonly details: { kind: string; group?: string; name: string; causes?: FieldCause[] },
  ) {
    super(message);
    this.name = 'TwinError';
  }
}

/** The resources whose changes the twin reports to watchers, by their API plural. */
export type TwinKind = 'namespaces' | 'nodes' | 'pods' | 'deployments' | 'replicasets' | 'events' | 'configmaps' | 'horizontalpodautoscalers';
export type TwinObject = Namespace | Node | Pod | Deployment | ReplicaSet | KubeEvent | ConfigMap | HorizontalPodAutoscaler;

/** One change of one object, as a watch event reports it; `object` is its state after the change (before, for DELETED). */
export interface TwinChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: TwinKind;
  object: TwinObject;
}

const key = (ns: string, name: string) => `${ns}/${name}`;
const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** The kubelet resets a container's restart back-off after it has run this long. */
const BACKOFF_RESET_MS = 10 * 60_000;
const BACKOFF_MAX_MS = 5 * 60_000;
const BACKOFF_FIRST_MS = 10_000;
const EVENT_GC_MS = 60_000;
/** The scheduler moves a pod that does not fit back to the active queue at least this often. */
const UNSCHEDULABLE_RETRY_MS = 5 * 60_000;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const DEFAULT_NODES: NodeSetup[] = [1, 2, 3, 4].map((i) => ({
  name: `twin-node-${i}`,
  cpu: 16,
  memory: '64Gi',
  allocatable: { cpu: '15890m', memory: '62Gi' },
  labels: { 'node.kubernetes.io/instance-type': 'm6i.4xlarge', 'topology.kubernetes.io/zone': `eu-west-1${'abc'[(i - 1) % 3]}` },
}));


/**
 * Drops nulls and empty objects, as decoding into the API's typed structs does: a template that went
 * through Go (kubectl rollout undo sends `creationTimestamp: null`, `resources: {}`) is the same
 * template as the one it came from.
 */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = prune(x);
    if (p === null || p === undefined) continue;
    if (typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/** The template with the controller's own label removed: what "the same template" means. */
function withoutHash(t: PodTemplateSpec): PodTemplateSpec {
  const c = prune(clone(t)) as PodTemplateSpec;
  c.spec ??= { containers: [] };
  if (c.metadata?.labels) {
    delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(c.metadata.labels).length === 0) delete c.metadata.labels;
  }
  return c;
}

function templateHash(t: PodTemplateSpec): string {
  const hex = sha256Hex(canonicalJson(withoutHash(t)));
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % alphabet.length];
  return out;
}

type ContainerRefs = { envFrom?: { configMapRef?: { name?: string } }[]; env?: { valueFrom?: { configMapKeyRef?: { name?: string } } }[] };
type VolumeRefs = { configMap?: { name?: string }; projected?: { sources?: { configMap?: { name?: string } }[] } }[];

/** The config maps a template reads: volumes first, then each container's envFrom and env. */
export function configMapsOf(t: PodTemplateSpec): string[] {
  const names: string[] = [];
  const add = (n: string | undefined) => {
    if (n && !names.includes(n)) names.push(n);
  };
  for (const v of (t.spec['volumes'] as VolumeRefs | undefined) ?? []) {
    add(v.configMap?.name);
    for (const s of v.projected?.sources ?? []) add(s.configMap?.name);
  }
  for (const c of t.spec.containers as (PodTemplateSpec['spec']['containers'][number] & ContainerRefs)[]) {
    for (const e of c.envFrom ?? []) add(e.configMapRef?.name);
    for (const e of c.env ?? []) add(e.valueFrom?.configMapKeyRef?.name);
  }
  return names;
}

function factsOf(t: PodTemplateSpec): TemplateFacts {
  const main = t.spec.containers[0];
  const limits = main?.resources?.limits ?? {};
  const requests = main?.resources?.requests ?? {};
  const memory = limits['memory'] ?? requests['memory'];
  const cpu = limits['cpu'] ?? requests['cpu'];
  const memoryLimitBytes = memory !== undefined ? parseQuantity(memory) : 2 * GiB;
  const cpuLimitCores = cpu !== undefined ? parseQuantity(cpu) : 1;
  const options = t.metadata?.annotations?.[JVM_OPTIONS_ANNOTATION];
  // A container that sets a limit and no request requests its limit (API defaulting).
  let requestCpu = 0;
  let requestMemory = 0;
  for (const c of t.spec.containers) {
    const r = { ...c.resources?.limits, ...c.resources?.requests };
    if (r['cpu'] !== undefined) requestCpu += parseQuantity(r['cpu']);
    if (r['memory'] !== undefined) requestMemory += parseQuantity(r['memory']);
  }
  const selector = t.spec['nodeSelector'] as StringMap | undefined;
  const leak = Number(t.metadata?.annotations?.[MEMORY_LEAK_ANNOTATION] ?? 0);
  return {
    leakBytesPerMs: Number.isFinite(leak) && leak > 0 ? (leak * MiB) / 60_000 : 0,
    cpuLimitCores,
    memoryLimitBytes,
    jvm: options !== undefined ? parseJvmOptions(options, memoryLimitBytes) : undefined,
    requestCpu,
    requestMemory,
    nodeSelector: selector && Object.keys(selector).length > 0 ? selector : undefined,
    configMaps: configMapsOf(t),
  };
}

/** Refuses a template the API server would refuse; names every problem. */
export function validateTemplate(t: unknown, selector: StringMap | undefined, name: string): PodTemplateSpec {
  const causes: FieldCause[] = [];
  const tpl = t as PodTemplateSpec | undefined;
  const containers = tpl?.spec?.containers;
  if (!tpl || typeof tpl !== 'object' || !Array.isArray(containers) || containers.length === 0) {
    causes.push({ field: 'spec.template.spec.containers', message: 'Required value', reason: 'FieldValueRequired' });
  } else {
    containers.forEach((c, i) => {
      if (!c || typeof c.name !== 'string' || c.name === '')
        causes.push({ field: `spec.template.spec.containers[${i}].name`, message: 'Required value', reason: 'FieldValueRequired' });
      if (!c || typeof c.image !== 'string' || c.image === '')
        causes.push({ field: `spec.template.spec.containers[${i}].image`, message: 'Required value', reason: 'FieldValueRequired' });
      for (const kind of ['requests', 'limits'] as const) {
        for (const [res, q] of Object.entries(c?.resources?.[kind] ?? {})) {
          try {
            parseQuantity(q);
          } catch {
            causes.push({ field: `spec.template.spec.containers[${i}].resources.${kind}[${res}]`, message: `Invalid value: "${q}"`, reason: 'FieldValueInvalid' });
          }
        }
      }
    });
    const labels = tpl.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(selector ?? {})) {
      if (labels[k] !== v) {
        causes.push({
          field: 'spec.template.metadata.labels',
          message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``,
          reason: 'FieldValueInvalid',
        });
        break;
      }
    }
  }
  if (causes.length > 0) {
    throw new TwinError('Invalid', `Deployment.apps "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
      kind: 'Deployment',
      group: 'apps',
      name,
      causes,
    });
  }
  return withoutHash(tpl!);
}

const invalid = (kind: string, group: string | undefined, name: string, causes: FieldCause[]) =>
  new TwinError('Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, {
    kind,
    ...(group ? { group } : {}),
    name,
    causes,
  });

const conflict = (resource: string, name: string, group?: string) =>
  new TwinError(
    'Conflict',
    `Operation cannot be fulfilled on ${resource}${group ? `.${group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { kind: resource, ...(group ? { group } : {}), name },
  );

const notFound = (resource: string, name: string, group?: string) =>
  new TwinError('NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`, { kind: resource, ...(group ? { group } : {}), name });

interface ObjectInput {
  metadata?: { name?: unknown; namespace?: unknown; labels?: unknown; annotations?: unknown; resourceVersion?: unknown; generateName?: unknown };
}

function stringMap(v: unknown, field: string, causes: FieldCause[]): StringMap {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    causes.push({ field, message: 'Invalid value: must be a map of strings', reason: 'FieldValueInvalid' });
    return {};
  }
  return { ...(v as StringMap) };
}

/** Name, labels and annotations of an object a client sends; the causes collect what is wrong with them. */
function metaOf(obj: unknown, causes: FieldCause[]): { name: string; labels: StringMap; annotations: StringMap; resourceVersion: string | undefined } {
  const m = (obj as ObjectInput | null)?.metadata;
  const name = typeof m?.name === 'string' ? m.name : '';
  if (name === '') causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
  else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    causes.push({
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
      reason: 'FieldValueInvalid',
    });
  }
  return {
    name,
    labels: stringMap(m?.labels, 'metadata.labels', causes),
    annotations: stringMap(m?.annotations, 'metadata.annotations', causes),
    resourceVersion: m?.resourceVersion !== undefined && m.resourceVersion !== '' ? String(m.resourceVersion) : undefined,
  };
}


export class ClusterTwin {
  readonly clock: Clock;
  private readonly seed: number;
  private readonly startupDelayMs: number;
  private readonly gridMs: number;
  private readonly loadNoiseSd: number;
  private readonly eventTtlMs: number;
  private readonly uids: Prng;
  private readonly otherUids: Prng;
  private rv = 1;
  private simMs: number;
  /** When the change being made happens: the grid point while the model steps, the clock's time for a mutation. */
  private eventMs: number;
  private cancelTimer: (() => void) | undefined;
  private readonly nss = new Map<string, NamespaceState>();
  private readonly nodes = new Map<string, NodeState>();
  private readonly deployments = new Map<string, DeploymentState>();
  private readonly replicaSets = new Map<string, ReplicaSetState>();
  private readonly pods = new Map<string, PodState>();
  /** Pods the kubelet evicted: Failed objects, no longer their ReplicaSet's, kept until deleted. */
  private readonly failedPods = new Map<string, Pod>();
  private readonly events = new Map<string, EventState>();
  private readonly eventsByKey = new Map<string, EventState>();
  private readonly configMaps = new Map<string, ConfigMapState>();
  private readonly hpas = new Map<string, HpaState>();
  private readonly facts = new Map<string, TemplateFacts>();
  /** Bound pods that are not ready yet, and pods no node has taken. */
  private readonly starting = new Set<PodState>();
  private readonly pending = new Set<PodState>();
  /** Controllers must run at the next step even if nothing else is due. */
  private dirty = false;
  private nextHpaSyncMs: number;
  private nextEventGcMs: number;
  private eventSeq = 0;
  /** Bumped on every config map change: workloads derived from config data are recomputed. */
  private configVersion = 0;
  private readonly listeners = new Set<(changes: TwinChange[]) => void>();
  private readonly changed = new Map<string, { type: 'ADDED' | 'MODIFIED'; kind: TwinKind; ns: string | undefined; name: string }>();
  private readonly deletedChanges: TwinChange[] = [];

  constructor(clock: Clock, opts: ClusterTwinOptions = {}) {
    this.clock = clock;
    this.seed = opts.seed ?? 1;
    this.startupDelayMs = opts.startupDelayMs ?? 30_000;
    this.gridMs = opts.gridMs ?? 1_000;
    this.loadNoiseSd = opts.loadNoise ?? 0.02;
    this.eventTtlMs = opts.eventTtlMs ?? 3_600_000;
    this.uids = new Prng(deriveSeed(this.seed, 'uids'));
    this.otherUids = new Prng(deriveSeed(this.seed, 'uids/other'));
    this.simMs = clock.now();
    this.eventMs = this.simMs;
    this.nextHpaSyncMs = this.simMs + HPA_DEFAULTS.syncPeriodMs;
    this.nextEventGcMs = this.simMs + EVENT_GC_MS;
    for (const n of opts.nodes ?? DEFAULT_NODES) this.createNode(n);
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
    const now = this.clock.now();
    while (this.simMs + this.gridMs <= now) this.advanceGrid();
    this.eventMs = Math.max(this.simMs, now);
    this.flushChanges();
  }

  /** The model's own time: the grid point the state describes. */
  get modelTimeMs(): number {
    return this.simMs;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** The integration step, for callers that sample on the grid. */
  get stepMs(): number {
    return this.gridMs;
  }

  private advanceGrid(): void {
    const dtS = this.gridMs / 1000;
    for (const pod of this.pods.values()) {
      if (!pod.perf || !pod.cond || pod.readySinceMs === undefined) continue;
      pod.heap = advanceHeap(pod.heap, pod.perf, pod.cond, dtS);
    }
    this.simMs += this.gridMs;
    this.eventMs = this.simMs;
    for (const n of this.nodes.values()) n.systemLeakedBytes += n.systemLeakBytesPerMs * this.gridMs;
    this.kubeletMemory();
    for (const d of this.deployments.values()) {
      // AR(1) noise: load wanders a little, smoothly, instead of jumping every second.
      d.loadNoise = 0.9 * d.loadNoise + Math.sqrt(1 - 0.81) * this.loadNoiseSd * d.noise.normal();
    }
    if (this.controllersDue()) this.reconcileAll();
    else this.refreshPerformance();
    if (this.simMs >= this.nextHpaSyncMs) {
      while (this.nextHpaSyncMs <= this.simMs) this.nextHpaSyncMs += HPA_DEFAULTS.syncPeriodMs;
      if (this.hpas.size > 0) this.syncHpas();
    }
    if (this.simMs >= this.nextEventGcMs) {
      while (this.nextEventGcMs <= this.simMs) this.nextEventGcMs += EVENT_GC_MS;
      this.expireEvents();
    }
  }

  private controllersDue(): boolean {
    if (this.dirty) return true;
    for (const p of this.starting) if (p.readyAtMs <= this.eventMs) return true;
    for (const p of this.pending) if (this.eventMs - p.schedulingEventMs >= UNSCHEDULABLE_RETRY_MS) return true;
    return false;
  }

  // ---- watching -------------------------------------------------------------------------------

  /**
   * Calls `listener` with every batch of changes: after each step and each mutation, the objects that
   * changed, rendered once, in resourceVersion order. Returns the function that stops it.
   */
  watch(listener: (changes: TwinChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private touch(kind: TwinKind, ns: string | undefined, name: string, type: 'ADDED' | 'MODIFIED' = 'MODIFIED'): void {
    if (this.listeners.size === 0) return;
    const k = `${kind}/${ns ?? ''}/${name}`;
    const prev = this.changed.get(k);
    this.changed.set(k, { type: prev?.type === 'ADDED' ? 'ADDED' : type, kind, ns, name });
  }

  private touchDeleted(kind: TwinKind, ns: string | undefined, name: string, render: () => TwinObject): void {
    if (this.listeners.size === 0) return;
    const k = `${kind}/${ns ?? ''}/${name}`;
    const prev = this.changed.get(k);
    this.changed.delete(k);
    // Created and deleted within one batch: nobody could have seen it.
    if (prev?.type === 'ADDED') return;
    this.deletedChanges.push({ type: 'DELETED', kind, object: render() });
  }

  private flushChanges(): void {
    if (this.listeners.size === 0 || (this.changed.size === 0 && this.deletedChanges.length === 0)) return;
    const out: TwinChange[] = [...this.deletedChanges];
    this.deletedChanges.length = 0;
    for (const c of this.changed.values()) {
      const object = this.renderByKind(c.kind, c.ns, c.name);
      if (object) out.push({ type: c.type, kind: c.kind, object });
    }
    this.changed.clear();
    out.sort((a, b) => Number(a.object.metadata.resourceVersion) - Number(b.object.metadata.resourceVersion));
    for (const l of [...this.listeners]) l(out);
  }

  private renderByKind(kind: TwinKind, ns: string | undefined, name: string): TwinObject | undefined {
    const k = key(ns ?? '', name);
    switch (kind) {
      case 'namespaces': {
        const n = this.nss.get(name);
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

  /** Catches up, runs `fn`, and reports what it changed. Every public mutation goes through here. */
  private mutate<T>(fn: () => T): T {
    this.step();
    try {
      return fn();
    } finally {
      this.flushChanges();
    }
  }

  // ---- setup --------------------------------------------------------------------------------

  addNamespace(name: string, labels: StringMap = {}, createdAtMs = this.clock.now()): void {
    this.mutate(() => {
      if (this.nss.has(name)) throw new TwinError('AlreadyExists', `namespaces "${name}" already exists`, { kind: 'namespaces', name });
      this.nss.set(name, { name, uid: this.uids.uuid(), labels: { 'kubernetes.io/metadata.name': name, ...labels }, createdMs: createdAtMs, rv: ++this.rv });
      this.touch('namespaces', undefined, name, 'ADDED');
    });
  }

  /** Adds a node (cluster autoscaler, a scenario's capacity change); pending pods may now fit. */
  addNode(setup: NodeSetup): Node {
    return this.mutate(() => {
      if (this.nodes.has(setup.name)) throw new TwinError('AlreadyExists', `nodes "${setup.name}" already exists`, { kind: 'nodes', name: setup.name });
      const n = this.createNode(setup);
      this.reconcileAll();
      return renderNode(n, this.simMs);
    });
  }

  private createNode(setup: NodeSetup): NodeState {
    const index = this.nodes.size;
    const cpu = parseQuantity(setup.cpu);
    const memory = parseQuantity(setup.memory);
    const pods = setup.pods ?? 110;
    const n: NodeState = {
      name: setup.name,
      uid: this.otherUids.uuid(),
      index,
      createdMs: setup.createdAtMs ?? this.simMs - 30 * 86_400_000,
      rv: ++this.rv,
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': setup.name,
        'kubernetes.io/os': 'linux',
        ...setup.labels,
      },
      annotations: {},
      unschedulable: setup.unschedulable ?? false,
      unschedulableSinceMs: this.simMs,
      capacity: { cpu, memory, pods },
      allocatable: {
        cpu: setup.allocatable?.cpu !== undefined ? parseQuantity(setup.allocatable.cpu) : cpu,
        memory: setup.allocatable?.memory !== undefined ? parseQuantity(setup.allocatable.memory) : memory,
        pods,
      },
      requested: { cpu: 0, memory: 0, pods: 0 },
      pods: new Set(),
      ip: `10.0.0.${index + 11}`,
      podSeq: 0,
      cpuUsedMillicores: 0,
      memoryUsedBytes: 0,
      systemLeakBytesPerMs: ((setup.systemMemoryLeakMiBPerMin ?? 0) * MiB) / 60_000,
      systemLeakedBytes: 0,
      memoryPressure: false,
      memoryPressureSinceMs: setup.createdAtMs ?? this.simMs - 30 * 86_400_000,
      evictionThresholdMetMs: Number.NEGATIVE_INFINITY,
      nextEvictionMs: Number.NEGATIVE_INFINITY,
      reclaimSpeed: 1,
    };
    this.nodes.set(n.name, n);
    this.touch('nodes', undefined, n.name, 'ADDED');
    return n;
  }

  /**
   * Adds a deployment that has been running: its ReplicaSets for every revision, and the running
   * revision's pods, ready, with heaps that have settled under the initial load for as long as they
   * have been up (at most an hour).
   */
  addDeployment(setup: DeploymentSetup): void {
    this.mutate(() => this.createDeployment(setup));
  }

  private createDeployment(setup: DeploymentSetup): void {
    const { namespace, name } = setup;
    if (!this.nss.has(namespace)) throw notFound('namespaces', namespace);
    if (this.deployments.has(key(namespace, name)))
      throw new TwinError('AlreadyExists', `deployments.apps "${name}" already exists`, { kind: 'deployments', group: 'apps', name });
    if (setup.revisions.length === 0) throw new TwinError('Invalid', `deployment ${name} needs at least one revision`, { kind: 'deployments', group: 'apps', name });
    const selector = { app: name };
    const templates = setup.revisions.map((r) => {
      const t = clone(r.template);
      t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, ...selector } };
      return validateTemplate(t, selector, name);
    });
    const current = templates[templates.length - 1]!;
    const first = setup.revisions[0]!;
    const last = setup.revisions[setup.revisions.length - 1]!;
    const d: DeploymentState = {
      namespace,
      name,
      uid: this.uids.uuid(),
      createdMs: first.createdAtMs,
      rv: ++this.rv,
      generation: setup.revisions.length,
      labels: { app: name, ...setup.labels },
      annotations: last.changeCause ? { [CHANGE_CAUSE_ANNOTATION]: last.changeCause } : {},
      replicas: setup.replicas,
      selector,
      template: current,
      templateHash: templateHash(current),
      load: setup.rps,
      loadNoise: 0,
      currentRps: 0,
      workload: { ...DEFAULT_WORKLOAD, ...setup.workload },
      configEffect: setup.configEffect,
      skewRange: setup.allocationSkew ?? [0.8, 0.95],
      names: new Prng(deriveSeed(this.seed, `names/${namespace}/${name}`)),
      noise: new Prng(deriveSeed(this.seed, `load/${namespace}/${name}`)),
      statusJson: '',
      conditionSince: {},
      replicaSets: [],
      pods: new Set(),
    };
    this.deployments.set(key(namespace, name), d);
    this.touch('deployments', namespace, name, 'ADDED');
    setup.revisions.forEach((r, i) => {
      const rs = this.createReplicaSet(d, templates[i]!, i + 1, r.changeCause, r.createdAtMs);
      if (i === setup.revisions.length - 1) rs.replicas = setup.replicas;
    });
    const rs = newReplicaSetOf(d)!;
    d.currentRps = this.offeredLoad(d);
    const share = setup.replicas > 0 ? d.currentRps / setup.replicas : 0;
    const settleS = Math.min(3600, Math.max(0, (this.simMs - last.createdAtMs) / 1000));
    for (let i = 0; i < setup.replicas; i++) {
      // The original rollout brought pods up a few seconds apart.
      const pod = this.createPod(rs, last.createdAtMs + i * 3_000);
      if (!pod.node) continue;
      pod.readySinceMs = pod.readyAtMs;
      this.starting.delete(pod);
      this.settleLeak(pod);
      const c = this.conditionsOf(pod, share);
      for (let s = 0; s < settleS; s++) pod.heap = advanceHeap(pod.heap, podPerformance(pod.heap, c), c, 1);
    }
    this.reconcileAll();
    this.expireEvents();
  }

  /** Changes the load offered to a deployment from now on. */
  setLoad(namespace: string, name: string, rps: LoadSource): void {
    this.mutate(() => {
      this.mustGetDeployment(namespace, name).load = rps;
      this.refreshPerformance();
    });
  }

  /**
   * Scenario setup: puts a pod's heap in a given state (a scenario starts in the middle of a story).
   * Not a Kubernetes operation; nothing outside scenarios and tests should call it.
   */
  tunePod(namespace: string, pod: string, heap: Partial<HeapState>): void {
    this.mutate(() => {
      const p = this.pods.get(key(namespace, pod));
      if (!p) throw notFound('pods', pod);
      p.heap = { ...p.heap, ...heap };
      this.refreshPerformance();
    });
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
    const d = this.mustGetDeployment(namespace, name);
    const annotations = changeCause !== undefined ? { ...d.annotations, [CHANGE_CAUSE_ANNOTATION]: changeCause } : undefined;
    return this.updateDeployment(namespace, name, { template, ...(annotations ? { annotations } : {}) }, opts);
  }

  /** The one write path for deployments: what PUT and PATCH of the API server end in. */
  updateDeployment(namespace: string, name: string, update: DeploymentUpdate, opts: MutationOptions = {}): Deployment {
    return this.mutate(() => this.writeDeployment(namespace, name, update, opts));
  }

  private writeDeployment(namespace: string, name: string, update: DeploymentUpdate, opts: MutationOptions = {}): Deployment {
    const d = this.mustGetDeployment(namespace, name);
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== String(d.rv)) throw conflict('deployments', name, 'apps');
    if (update.replicas !== undefined && (!Number.isInteger(update.replicas) || update.replicas < 0)) {
      throw new TwinError('Invalid', `Deployment.apps "${name}" is invalid: spec.replicas: Invalid value: ${update.replicas}: must be greater than or equal to 0`, {
        kind: 'Deployment',
        group: 'apps',
        name,
        causes: [{ field: 'spec.replicas', message: `Invalid value: ${update.replicas}: must be greater than or equal to 0`, reason: 'FieldValueInvalid' }],
      });
    }
    const template = update.template !== undefined ? validateTemplate(update.template, d.selector, name) : undefined;
    let changed = false;
    let specChanged = false;
    if (update.replicas !== undefined && update.replicas !== d.replicas) {
      d.replicas = update.replicas;
      specChanged = true;
    }
    if (update.labels !== undefined && canonicalJson(update.labels) !== canonicalJson(d.labels)) {
      d.labels = { ...update.labels };
      changed = true;
    }
    if (update.annotations !== undefined) {
      // The revision annotation belongs to the controller; a client's copy of it is ignored.
      const next = { ...update.annotations };
      delete next[REVISION_ANNOTATION];
      if (canonicalJson(next) !== canonicalJson(d.annotations)) {
        d.annotations = next;
        changed = true;
      }
    }
    if (template !== undefined) {
      const hash = templateHash(template);
      if (hash !== d.templateHash) {
        d.template = template;
        d.templateHash = hash;
        specChanged = true;
        this.prepareNewReplicaSet(d);
      }
    }
    if (specChanged) d.generation++;
    if (changed || specChanged) {
      d.rv = ++this.rv;
      this.touch('deployments', d.namespace, d.name);
    }
    this.reconcileAll();
    return renderDeployment(d);
  }

  /** kubectl delete pod: the pod goes at once; its ReplicaSet replaces it. */
  deletePod(namespace: string, name: string, opts: MutationOptions = {}): Pod {
    return this.mutate(() => {
      const failed = this.failedPods.get(key(namespace, name));
      if (failed) {
        // A terminated pod: nothing runs any more, the object just goes.
        if (opts.resourceVersion !== undefined && opts.resourceVersion !== failed.metadata.resourceVersion) throw conflict('pods', name);
        this.failedPods.delete(key(namespace, name));
        const last = { ...failed, metadata: { ...failed.metadata, resourceVersion: String(++this.rv) } };
        this.touchDeleted('pods', namespace, name, () => last);
        return last;
      }
      const p = this.pods.get(key(namespace, name));
      if (!p) throw notFound('pods', name);
      if (opts.resourceVersion !== undefined && opts.resourceVersion !== String(p.rv)) throw conflict('pods', name);
      const last = renderPod(p, this.simMs);
      this.removePod(p);
      this.reconcileAll();
      return last;
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

  // ---- mutations: nodes -----------------------------------------------------------------------

  /** Labels, annotations and spec.unschedulable (kubectl cordon / uncordon); everything else about a node is the kubelet's. */
  updateNode(name: string, update: NodeUpdate, opts: MutationOptions = {}): Node {
    return this.mutate(() => {
      const n = this.nodes.get(name);
      if (!n) throw notFound('nodes', name);
      if (opts.resourceVersion !== undefined && opts.resourceVersion !== String(n.rv)) throw conflict('nodes', name);
      let changed = false;
      if (update.labels !== undefined && canonicalJson(update.labels) !== canonicalJson(n.labels)) {
        n.labels = { ...update.labels };
        changed = true;
      }
      if (update.annotations !== undefined && canonicalJson(update.annotations) !== canonicalJson(n.annotations)) {
        n.annotations = { ...update.annotations };
        changed = true;
      }
      if (update.unschedulable !== undefined && update.unschedulable !== n.unschedulable) {
        n.unschedulable = update.unschedulable;
        n.unschedulableSinceMs = this.eventMs;
        changed = true;
        const status = n.unschedulable ? 'NodeNotSchedulable' : 'NodeSchedulable';
        this.recordEvent(this.nodeRef(n), 'Normal', status, `Node ${n.name} status is now: ${status}`, { component: 'kubelet', host: n.name });
      }
      if (changed) {
        n.rv = ++this.rv;
        this.touch('nodes', undefined, n.name);
        this.dirty = true;
        this.reconcileAll();
      }
      return renderNode(n, this.simMs);
    });
  }

  cordonNode(name: string): Node {
    return this.updateNode(name, { unschedulable: true });
  }

  uncordonNode(name: string): Node {
    return this.updateNode(name, { unschedulable: false });
  }

  // ---- mutations: config maps -----------------------------------------------------------------

  /** Refuses a config map the API server would refuse (422), naming every problem; changes nothing (dry runs). */
  validateConfigMap(obj: unknown, expectName?: string) {
    const causes: FieldCause[] = [];
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new TwinError('Invalid', 'the body must be a ConfigMap object', { kind: 'ConfigMap', name: expectName ?? '' });
    const meta = metaOf(obj, causes);
    const o = obj as { data?: unknown; binaryData?: unknown; immutable?: unknown };
    const data = stringMap(o.data, 'data', causes);
    const binaryData = o.binaryData === undefined || o.binaryData === null ? undefined : stringMap(o.binaryData, 'binaryData', causes);
    let size = 0;
    for (const [field, map] of [['data', data], ['binaryData', binaryData ?? {}]] as const) {
      for (const [k, v] of Object.entries(map)) {
        size += k.length + v.length;
        if (!CONFIG_KEY.test(k) || k.length > 253 || k === '.' || k === '..') {
          causes.push({ field: `${field}[${k}]`, message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.'`, reason: 'FieldValueInvalid' });
        }
        if (field === 'binaryData' && data[k] !== undefined) causes.push({ field: `${field}[${k}]`, message: `Invalid value: "${k}": duplicate of key present in data`, reason: 'FieldValueInvalid' });
      }
    }
    if (size > 1024 * 1024) causes.push({ field: '[]', message: 'Too long: must have at most 1048576 bytes', reason: 'FieldValueTooLong' });
    if (o.immutable !== undefined && o.immutable !== null && typeof o.immutable !== 'boolean') causes.push({ field: 'immutable', message: 'Invalid value: must be a boolean', reason: 'FieldValueInvalid' });
    if (causes.length > 0) throw invalid('ConfigMap', undefined, meta.name || expectName || '', causes);
    return { ...meta, data, binaryData, immutable: o.immutable === true };
  }

  /** POST: a new config map in an existing namespace. */
  createConfigMap(obj: unknown, opts: { namespace?: string; createdAtMs?: number } = {}): ConfigMap {
    return this.mutate(() => {
      const namespace = opts.namespace ?? String((obj as ObjectInput | null)?.metadata?.namespace ?? '');
      const c = this.validateConfigMap(obj);
      if (!this.nss.has(namespace)) throw notFound('namespaces', namespace);
      if (this.configMaps.has(key(namespace, c.name))) throw new TwinError('AlreadyExists', `configmaps "${c.name}" already exists`, { kind: 'configmaps', name: c.name });
      const s: ConfigMapState = {
        namespace,
        name: c.name,
        uid: this.otherUids.uuid(),
        createdMs: opts.createdAtMs ?? this.eventMs,
        rv: ++this.rv,
        labels: c.labels,
        annotations: c.annotations,
        data: c.data,
        binaryData: c.binaryData,
        immutable: c.immutable,
      };
      this.configMaps.set(key(namespace, c.name), s);
      this.touch('configmaps', namespace, c.name, 'ADDED');
      this.configChanged();
      return renderConfigMap(s);
    });
  }

  /** PUT: the whole config map; its data may not change once it is immutable. */
  replaceConfigMap(namespace: string, name: string, obj: unknown, opts: MutationOptions = {}): ConfigMap {
    return this.mutate(() => {
      const s = this.configMaps.get(key(namespace, name));
      if (!s) throw notFound('configmaps', name);
      const c = this.validateConfigMap(obj, name);
      if (c.name !== name) throw new TwinError('Invalid', `the name of the object (${c.name}) does not match the name on the URL (${name})`, { kind: 'ConfigMap', name });
      const rv = opts.resourceVersion ?? c.resourceVersion;
      if (rv !== undefined && rv !== String(s.rv)) throw conflict('configmaps', name);
      if (s.immutable && (canonicalJson(c.data) !== canonicalJson(s.data) || canonicalJson(c.binaryData ?? {}) !== canonicalJson(s.binaryData ?? {}) || !c.immutable)) {
        throw invalid('ConfigMap', undefined, name, [{ field: 'data', message: 'Forbidden: field is immutable when `immutable` is set', reason: 'FieldValueForbidden' }]);
      }
      const next = { labels: c.labels, annotations: c.annotations, data: c.data, binaryData: c.binaryData, immutable: c.immutable };
      const before = { labels: s.labels, annotations: s.annotations, data: s.data, binaryData: s.binaryData, immutable: s.immutable };
      if (canonicalJson(prune(next) ?? {}) !== canonicalJson(prune(before) ?? {})) {
        Object.assign(s, next);
        s.rv = ++this.rv;
        this.touch('configmaps', namespace, name);
        this.configChanged();
      }
      return renderConfigMap(s);
    });
  }

  deleteConfigMap(namespace: string, name: string, opts: MutationOptions = {}): ConfigMap {
    return this.mutate(() => {
      const s = this.configMaps.get(key(namespace, name));
      if (!s) throw notFound('configmaps', name);
      if (opts.resourceVersion !== undefined && opts.resourceVersion !== String(s.rv)) throw conflict('configmaps', name);
      s.rv = ++this.rv;
      const last = renderConfigMap(s);
      this.configMaps.delete(key(namespace, name));
      this.touchDeleted('configmaps', namespace, name, () => last);
      this.configChanged();
      return last;
    });
  }

  private configChanged(): void {
    this.configVersion++;
    this.refreshPerformance();
  }

  // ---- mutations: horizontal pod autoscalers ----------------------------------------------------

  /** Refuses an HPA the API server would refuse (422) and applies its defaulting; changes nothing (dry runs). */
  validateHpa(obj: unknown, expectName?: string) {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new TwinError('Invalid', 'the body must be a HorizontalPodAutoscaler object', { kind: 'HorizontalPodAutoscaler', group: 'autoscaling', name: expectName ?? '' });
    }
    const causes: FieldCause[] = [];
    const meta = metaOf(obj, causes);
    const spec = (obj as { spec?: unknown }).spec;
    causes.push(...validateHpaSpec(spec));
    if (causes.length > 0) throw invalid('HorizontalPodAutoscaler', 'autoscaling', meta.name || expectName || '', causes);
    // The API server's defaulting: minReplicas 1, CPU at 80% when no metric is named.
    const s = clone(spec) as HorizontalPodAutoscalerSpec;
    s.minReplicas ??= HPA_DEFAULTS.minReplicas;
    s.metrics = metricsOf(s);
    return { ...meta, spec: s };
  }

  createHpa(obj: unknown, opts: { namespace?: string } = {}): HorizontalPodAutoscaler {
    return this.mutate(() => {
      const namespace = opts.namespace ?? String((obj as ObjectInput | null)?.metadata?.namespace ?? '');
      const h = this.validateHpa(obj);
      if (!this.nss.has(namespace)) throw notFound('namespaces', namespace);
      if (this.hpas.has(key(namespace, h.name))) {
        throw new TwinError('AlreadyExists', `horizontalpodautoscalers.autoscaling "${h.name}" already exists`, { kind: 'horizontalpodautoscalers', group: 'autoscaling', name: h.name });
      }
      const s: HpaState = {
        namespace,
        name: h.name,
        uid: this.otherUids.uuid(),
        createdMs: this.eventMs,
        rv: ++this.rv,
        generation: 1,
        labels: h.labels,
        annotations: h.annotations,
        spec: h.spec,
        status: { currentReplicas: 0, desiredReplicas: 0 },
        conditions: new Map(),
        history: emptyHistory(),
        lastScaleMs: undefined,
        statusJson: '',
      };
      this.hpas.set(key(namespace, h.name), s);
      this.touch('horizontalpodautoscalers', namespace, h.name, 'ADDED');
      return renderHpa(s);
    });
  }

  /** PUT: spec, labels and annotations; the status belongs to the controller. */
  replaceHpa(namespace: string, name: string, obj: unknown, opts: MutationOptions = {}): HorizontalPodAutoscaler {
    return this.mutate(() => {
      const s = this.hpas.get(key(namespace, name));
      if (!s) throw notFound('horizontalpodautoscalers', name, 'autoscaling');
      const h = this.validateHpa(obj, name);
      if (h.name !== name) {
        throw new TwinError('Invalid', `the name of the object (${h.name}) does not match the name on the URL (${name})`, { kind: 'HorizontalPodAutoscaler', group: 'autoscaling', name });
      }
      const rv = opts.resourceVersion ?? h.resourceVersion;
      if (rv !== undefined && rv !== String(s.rv)) throw conflict('horizontalpodautoscalers', name, 'autoscaling');
      let changed = false;
      if (canonicalJson(h.spec) !== canonicalJson(s.spec)) {
        s.spec = h.spec;
        s.generation++;
        changed = true;
      }
      if (canonicalJson({ l: h.labels, a: h.annotations }) !== canonicalJson({ l: s.labels, a: s.annotations })) {
        s.labels = h.labels;
        s.annotations = h.annotations;
        changed = true;
      }
      if (changed) {
        s.rv = ++this.rv;
        this.touch('horizontalpodautoscalers', namespace, name);
      }
      return renderHpa(s);
    });
  }

  deleteHpa(namespace: string, name: string, opts: MutationOptions = {}): HorizontalPodAutoscaler {
    return this.mutate(() => {
      const s = this.hpas.get(key(namespace, name));
      if (!s) throw notFound('horizontalpodautoscalers', name, 'autoscaling');
      if (opts.resourceVersion !== undefined && opts.resourceVersion !== String(s.rv)) throw conflict('horizontalpodautoscalers', name, 'autoscaling');
      s.rv = ++this.rv;
      const last = renderHpa(s);
      this.hpas.delete(key(namespace, name));
      this.touchDeleted('horizontalpodautoscalers', namespace, name, () => last);
      return last;
    });
  }

  // ---- reads ----------------------------------------------------------------------------------

  namespaces(): Namespace[] {
    this.step();
    return [...this.nss.values()].map((n) => renderNamespace(n));
  }

  getNamespace(name: string): Namespace | undefined {
    this.step();
    const n = this.nss.get(name);
    return n ? renderNamespace(n) : undefined;
  }

  listNodes(selector?: string | LabelSelector): Node[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.nodes.values()].filter((n) => sel.matches(n.labels)).map((n) => renderNode(n, this.simMs));
  }

  getNode(name: string): Node | undefined {
    this.step();
    const n = this.nodes.get(name);
    return n ? renderNode(n, this.simMs) : undefined;
  }

  getDeployment(namespace: string, name: string): Deployment | undefined {
    this.step();
    const d = this.deployments.get(key(namespace, name));
    return d ? renderDeployment(d) : undefined;
  }

  /** All deployments, or those of one namespace, in creation order. */
  listDeployments(namespace?: string, selector?: string | LabelSelector): Deployment[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.deployments.values()]
      .filter((d) => (namespace === undefined || d.namespace === namespace) && sel.matches(d.labels))
      .map((d) => renderDeployment(d));
  }

  listReplicaSets(namespace?: string, selector?: string | LabelSelector): ReplicaSet[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.replicaSets.values()]
      .filter((rs) => namespace === undefined || rs.namespace === namespace)
      .map((rs) => renderReplicaSet(rs))
      .filter((rs) => sel.matches(rs.metadata.labels));
  }

  getReplicaSet(namespace: string, name: string): ReplicaSet | undefined {
    this.step();
    const rs = this.replicaSets.get(key(namespace, name));
    return rs ? renderReplicaSet(rs) : undefined;
  }

  listPods(namespace?: string, selector?: string | LabelSelector): Pod[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.pods.values()]
      .filter((p) => namespace === undefined || p.namespace === namespace)
      .map((p) => renderPod(p, this.simMs))
      .concat([...this.failedPods.values()].filter((p) => namespace === undefined || p.metadata.namespace === namespace))
      .filter((p) => sel.matches(p.metadata.labels));
  }

  getPod(namespace: string, name: string): Pod | undefined {
    this.step();
    const p = this.pods.get(key(namespace, name));
    return p ? renderPod(p, this.simMs) : this.failedPods.get(key(namespace, name));
  }

  /** Events of one namespace (or all), oldest first; expired ones are gone. */
  listEvents(namespace?: string): KubeEvent[] {
    this.step();
    return [...this.events.values()].filter((e) => namespace === undefined || e.namespace === namespace).map((e) => renderEvent(e));
  }

  getEvent(namespace: string, name: string): KubeEvent | undefined {
    this.step();
    const e = this.events.get(key(namespace, name));
    return e ? renderEvent(e) : undefined;
  }

  listConfigMaps(namespace?: string, selector?: string | LabelSelector): ConfigMap[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.configMaps.values()]
      .filter((c) => (namespace === undefined || c.namespace === namespace) && sel.matches(c.labels))
      .map((c) => renderConfigMap(c));
  }

  getConfigMap(namespace: string, name: string): ConfigMap | undefined {
    this.step();
    const c = this.configMaps.get(key(namespace, name));
    return c ? renderConfigMap(c) : undefined;
  }

  listHpas(namespace?: string, selector?: string | LabelSelector): HorizontalPodAutoscaler[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.hpas.values()].filter((h) => (namespace === undefined || h.namespace === namespace) && sel.matches(h.labels)).map((h) => renderHpa(h));
  }

  getHpa(namespace: string, name: string): HorizontalPodAutoscaler | undefined {
    this.step();
    const h = this.hpas.get(key(namespace, name));
    return h ? renderHpa(h) : undefined;
  }

  /** The pod template of a revision (without the controller's hash label), for rollbacks. */
  templateOfRevision(namespace: string, name: string, revision: number): PodTemplateSpec | undefined {
    this.step();
    const rs = [...this.replicaSets.values()].find((r) => r.namespace === namespace && r.deployment === name && r.revision === revision);
    return rs ? clone(rs.template) : undefined;
  }

  /** What a load balancer in front of the deployment would measure right now. */
  serviceMetrics(namespace: string, name: string): ServiceMetrics {
    this.step();
    return this.serviceMetricsOf(this.mustGetDeployment(namespace, name));
  }

  private serviceMetricsOf(d: DeploymentState): ServiceMetrics {
    const ready = [...d.pods].filter((p) => p.readySinceMs !== undefined && p.perf);
    if (ready.length === 0) return { p50_ms: 30_000, p99_ms: 30_000, rps: d.currentRps, error_ratio: d.currentRps > 0 ? 1 : 0, ready_pods: 0 };
    // Traffic is spread evenly; a pod's share of the latency distribution is its share of the traffic.
    const mix = ready.map((p) => ({ weight: 1, perf: p.perf! }));
    const errors = ready.reduce((s, p) => s + p.perf!.errorRatio, 0) / ready.length;
    return {
      p50_ms: round1(mixtureQuantile(mix, 0.5)),
      p99_ms: round1(mixtureQuantile(mix, 0.99)),
      rps: round1(d.currentRps),
      error_ratio: Math.round(errors * 10_000) / 10_000,
      ready_pods: ready.length,
    };
  }

  /** What the kubelet and the JVM exporter of each pod of the deployment report right now. */
  podMetrics(namespace: string, name: string): PodMetricsSample[] {
    this.step();
    const d = this.mustGetDeployment(namespace, name);
    return [...d.pods].map((p) => this.podSample(p));
  }

  /** podMetrics for one pod, by name. */
  podMetricsOf(namespace: string, pod: string): PodMetricsSample | undefined {
    this.step();
    const p = this.pods.get(key(namespace, pod));
    return p ? this.podSample(p) : undefined;
  }

  /** What metrics-server reports for each node: its pods' use plus the node's own daemons. */
  nodeMetrics(): NodeMetricsSample[] {
    this.step();
    return [...this.nodes.values()].map((n) => ({
      node: n.name,
      cpu_millicores: Math.round(n.cpuUsedMillicores + NODE_SYSTEM.cpuMillicores),
      memory_bytes: Math.round(nodeMemoryUsed(n)),
      allocatable_cpu_millicores: Math.round(n.allocatable.cpu * 1000),
      allocatable_memory_bytes: n.allocatable.memory,
      requested_cpu_millicores: Math.round(n.requested.cpu * 1000),
      requested_memory_bytes: n.requested.memory,
      pods: n.pods.size,
      unschedulable: n.unschedulable,
      memory_pressure: n.memoryPressure,
      system_leak_bytes: Math.round(n.systemLeakedBytes),
    }));
  }

  /**
   * A system daemon on the node (a log shipper, the container runtime: not a pod) starts leaking
   * memory at `mibPerMin` from now on (0 stops it; what it holds already stays held). Not a
   * Kubernetes operation: scenarios and tests inject the fault with it.
   */
  setNodeSystemMemoryLeak(node: string, mibPerMin: number): void {
    this.mutate(() => {
      const n = this.nodes.get(node);
      if (!n) throw notFound('nodes', node);
      if (!Number.isFinite(mibPerMin) || mibPerMin < 0) throw new TwinError('Invalid', `leak rate must be a non-negative number, not ${mibPerMin}`, { kind: 'nodes', name: node });
      n.systemLeakBytesPerMs = (mibPerMin * MiB) / 60_000;
    });
  }

  // ---- the controllers ------------------------------------------------------------------------

  private reconcileAll(): void {
    this.dirty = false;
    // The kubelet: pods whose start-up delay is over become ready.
    for (const p of this.starting) {
      if (p.readyAtMs <= this.eventMs) {
        p.readySinceMs = p.readyAtMs;
        this.starting.delete(p);
        this.bumpPod(p);
      }
    }
    for (const d of this.deployments.values()) {
      // A rollout step can enable the next one (old pods gone → room to surge): settle them now,
      // as the real controller would within milliseconds; what does not settle goes on next step.
      let settled = false;
      for (let i = 0; i < 4; i++) {
        if (!this.rollout(d)) {
          settled = true;
          break;
        }
      }
      if (!settled) this.dirty = true;
    }
    // The scheduler: pods that did not fit may fit now.
    for (const p of [...this.pending]) this.schedule(p);
    for (const d of this.deployments.values()) this.updateDeploymentStatus(d);
    this.refreshPerformance();
  }

  /** One pass of the deployment controller; true when it changed anything. */
  private rollout(d: DeploymentState): boolean {
    const newRs = newReplicaSetOf(d);
    if (!newRs) return false;
    const all = d.replicaSets;
    const old = all.filter((rs) => rs !== newRs && rs.replicas > 0).sort((a, b) => a.createdMs - b.createdMs);
    let changed = false;
    const setReplicas = (rs: ReplicaSetState, n: number) => {
      if (rs.replicas === n) return;
      const from = rs.replicas;
      rs.replicas = n;
      rs.generation++;
      rs.rv = ++this.rv;
      this.touch('replicasets', rs.namespace, rs.name);
      this.recordEvent(
        this.deploymentRef(d),
        'Normal',
        'ScalingReplicaSet',
        `Scaled ${n > from ? 'up' : 'down'} replica set ${rs.name} from ${from} to ${n}`,
        { component: 'deployment-controller' },
      );
      changed = true;
    };
    if (old.length === 0) {
      setReplicas(newRs, d.replicas);
    } else {
      const { maxSurge, maxUnavailable } = rollingLimits(d.replicas);
      const total = () => all.reduce((s, rs) => s + rs.replicas, 0);
      if (newRs.replicas > d.replicas) setReplicas(newRs, d.replicas);
      else if (newRs.replicas < d.replicas) {
        const room = d.replicas + maxSurge - total();
        if (room > 0) setReplicas(newRs, Math.min(d.replicas, newRs.replicas + room));
      }
      const minAvailable = d.replicas - maxUnavailable;
      const newUnavailable = newRs.replicas - readyCount(newRs);
      let maxScaledDown = total() - minAvailable - newUnavailable;
      // First old pods that are not ready anyway, then ready ones while availability allows.
      for (const rs of old) {
        if (maxScaledDown <= 0) break;
        const unhealthy = Math.min(rs.replicas, rs.pods.size) - readyCount(rs);
        const down = Math.min(maxScaledDown, Math.max(0, unhealthy));
        if (down > 0) {
          setReplicas(rs, rs.replicas - down);
          maxScaledDown -= down;
        }
      }
      this.syncPods(d);
      const available = all.reduce((s, rs) => s + readyCount(rs), 0);
      let budget = available - minAvailable;
      for (const rs of old) {
        if (budget <= 0) break;
        const down = Math.min(rs.replicas, budget);
        if (down > 0) {
          setReplicas(rs, rs.replicas - down);
          budget -= down;
        }
      }
    }
    if (this.syncPods(d)) changed = true;
    return changed;
  }

  /** The ReplicaSet controller: pods to match each of the deployment's ReplicaSets. */
  private syncPods(d: DeploymentState): boolean {
    let changed = false;
    for (const rs of d.replicaSets) {
      const count = rs.pods.size;
      if (count < rs.replicas) {
        for (let i = count; i < rs.replicas; i++) this.createPod(rs, this.eventMs);
        changed = true;
      } else if (count > rs.replicas) {
        // Unscheduled before scheduled, not ready before ready, then the newest first.
        const victims = [...rs.pods]
          .sort(
            (a, b) =>
              Number(a.node !== undefined) - Number(b.node !== undefined) ||
              Number(a.readySinceMs !== undefined) - Number(b.readySinceMs !== undefined) ||
              b.createdMs - a.createdMs,
          )
          .slice(0, count - rs.replicas);
        for (const v of victims) this.removePod(v);
        changed = true;
      }
    }
    return changed;
  }

  private prepareNewReplicaSet(d: DeploymentState): void {
    const maxRevision = Math.max(0, ...d.replicaSets.map((rs) => rs.revision));
    const existing = newReplicaSetOf(d);
    const changeCause = d.annotations[CHANGE_CAUSE_ANNOTATION];
    if (existing) {
      // Kubernetes' rollback: the old ReplicaSet becomes the newest revision.
      if (existing.revision !== maxRevision) existing.revision = maxRevision + 1;
      if (changeCause !== undefined) existing.changeCause = changeCause;
      existing.rv = ++this.rv;
      this.touch('replicasets', existing.namespace, existing.name);
    } else {
      this.createReplicaSet(d, d.template, maxRevision + 1, changeCause, this.eventMs);
    }
    // revisionHistoryLimit: 10 old ReplicaSets with no pods are kept, older ones go.
    const idle = d.replicaSets.filter((rs) => rs.templateHash !== d.templateHash && rs.replicas === 0 && rs.pods.size === 0).sort((a, b) => a.revision - b.revision);
    for (const rs of idle.slice(0, Math.max(0, idle.length - 10))) {
      rs.rv = ++this.rv;
      const last = renderReplicaSet(rs);
      this.replicaSets.delete(key(rs.namespace, rs.name));
      d.replicaSets.splice(d.replicaSets.indexOf(rs), 1);
      this.touchDeleted('replicasets', rs.namespace, rs.name, () => last);
    }
  }

  private createReplicaSet(d: DeploymentState, template: PodTemplateSpec, revision: number, changeCause: string | undefined, createdMs: number): ReplicaSetState {
    const hash = templateHash(template);
    const rs: ReplicaSetState = {
      namespace: d.namespace,
      name: `${d.name}-${hash}`,
      uid: this.uids.uuid(),
      deployment: d.name,
      d,
      createdMs,
      rv: ++this.rv,
      generation: 1,
      template: clone(template),
      templateHash: hash,
      revision,
      changeCause,
      replicas: 0,
      statusJson: '',
      pods: new Set(),
      workload: undefined,
      workloadVersion: -1,
    };
    this.replicaSets.set(key(rs.namespace, rs.name), rs);
    d.replicaSets.push(rs);
    this.touch('replicasets', rs.namespace, rs.name, 'ADDED');
    return rs;
  }

  private createPod(rs: ReplicaSetState, createdMs: number): PodState {
    const d = rs.d;
    let name: string;
    do name = `${rs.name}-${d.names.suffix(5)}`;
    while (this.pods.has(key(rs.namespace, name)) || this.failedPods.has(key(rs.namespace, name)));
    const facts = this.factsOf(rs.template, rs.templateHash);
    const pod: PodState = {
      namespace: rs.namespace,
      name,
      uid: this.uids.uuid(),
      replicaSet: rs.name,
      rs,
      d,
      createdMs,
      node: undefined,
      scheduledMs: undefined,
      readyAtMs: Number.POSITIVE_INFINITY,
      readySinceMs: undefined,
      rv: ++this.rv,
      heap: { fill: freshFill(facts.jvm, this.workloadOf(rs)), allocationSkew: d.names.uniform(d.skewRange[0], d.skewRange[1]) },
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
    this.pods.set(key(pod.namespace, pod.name), pod);
    rs.pods.add(pod);
    d.pods.add(pod);
    this.touch('pods', pod.namespace, pod.name, 'ADDED');
    this.recordEvent(this.replicaSetRef(rs), 'Normal', 'SuccessfulCreate', `Created pod: ${pod.name}`, { component: 'replicaset-controller' }, createdMs);
    this.pending.add(pod);
    this.schedule(pod, createdMs);
    return pod;
  }

  /** The scheduler's attempt for one pending pod; binds it, or records why it cannot. */
  private schedule(pod: PodState, atMs = this.eventMs): void {
    const nodes: SchedulingNode[] = [...this.nodes.values()].map((n) => ({
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
        this.recordEvent(this.podRef(pod), 'Warning', 'FailedScheduling', placed.message, { component: 'default-scheduler' }, atMs);
        // The PodScheduled condition carries the message.
        if (newReason) this.bumpPod(pod);
      }
      return;
    }
    const n = this.nodes.get(placed.node)!;
    pod.node = n;
    pod.scheduledMs = atMs;
    pod.containerStartedMs = atMs;
    pod.readyAtMs = atMs + this.startupDelayMs;
    pod.ip = `10.244.${n.index}.${(n.podSeq++ % 250) + 2}`;
    pod.schedulingMessage = undefined;
    n.pods.add(pod);
    n.requested.cpu += pod.facts.requestCpu;
    n.requested.memory += pod.facts.requestMemory;
    n.requested.pods += 1;
    this.pending.delete(pod);
    this.starting.add(pod);
    this.bumpPod(pod);
    const ref = this.podRef(pod);
    this.recordEvent(ref, 'Normal', 'Scheduled', `Successfully assigned ${pod.namespace}/${pod.name} to ${n.name}`, { component: 'default-scheduler' }, atMs);
    const kubelet = { component: 'kubelet', host: n.name };
    for (const c of pod.rs.template.spec.containers) {
      const at = { ...ref, fieldPath: `spec.containers{${c.name}}` };
      this.recordEvent(at, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, kubelet, atMs);
      this.recordEvent(at, 'Normal', 'Created', `Created container: ${c.name}`, kubelet, atMs);
      this.recordEvent(at, 'Normal', 'Started', `Started container ${c.name}`, kubelet, atMs);
    }
  }

  /** `evicted`: the kubelet's doing, the object stays (Failed); otherwise the pod is deleted. */
  private removePod(p: PodState, evicted = false): void {
    p.rv = ++this.rv;
    const ref = this.podRef(p);
    if (this.listeners.size > 0 && !evicted) {
      const last = renderPod(p, this.simMs);
      this.touchDeleted('pods', p.namespace, p.name, () => last);
    }
    this.pods.delete(key(p.namespace, p.name));
    p.rs.pods.delete(p);
    p.d.pods.delete(p);
    this.starting.delete(p);
    this.pending.delete(p);
    if (p.node) {
      const n = p.node;
      n.pods.delete(p);
      n.requested.cpu -= p.facts.requestCpu;
      n.requested.memory -= p.facts.requestMemory;
      n.requested.pods -= 1;
      for (const c of p.rs.template.spec.containers) {
        this.recordEvent({ ...ref, fieldPath: `spec.containers{${c.name}}` }, 'Normal', 'Killing', `Stopping container ${c.name}`, { component: 'kubelet', host: n.name });
      }
    }
    if (!evicted) this.recordEvent(this.replicaSetRef(p.rs), 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.name}`, { component: 'replicaset-controller' });
    // Room on a node: the scheduler looks at pending pods again.
    if (p.node && this.pending.size > 0) this.dirty = true;
  }

  private bumpPod(p: PodState): void {
    p.rv = ++this.rv;
    this.touch('pods', p.namespace, p.name);
  }

  private updateDeploymentStatus(d: DeploymentState): void {
    for (const rs of d.replicaSets) {
      const s = JSON.stringify(replicaSetStatus(rs));
      if (s !== rs.statusJson) {
        if (rs.statusJson !== '') {
          rs.rv = ++this.rv;
          this.touch('replicasets', rs.namespace, rs.name);
        }
        rs.statusJson = s;
      }
    }
    const status = deploymentStatusCore(d);
    const s = JSON.stringify(status);
    if (s !== d.statusJson) {
      const prev = d.statusJson ? (JSON.parse(d.statusJson) as { available: boolean; complete: boolean }) : undefined;
      if (!prev || prev.available !== status.available) d.conditionSince['Available'] = this.simMs;
      if (!prev || prev.complete !== status.complete) d.conditionSince['Progressing'] = this.simMs;
      if (d.statusJson !== '') {
        d.rv = ++this.rv;
        this.touch('deployments', d.namespace, d.name);
      }
      d.statusJson = s;
    }
  }


  // ---- the HPA controller ---------------------------------------------------------------------

  /** Every HPA, in creation order; a rescale reconciles its target at once (writeDeployment). */
  private syncHpas(): void {
    for (const h of this.hpas.values()) this.syncHpa(h);
  }

  private setHpaCondition(h: HpaState, type: string, status: Condition['status'], reason: string, message: string): void {
    const prev = h.conditions.get(type);
    h.conditions.set(type, { status, reason, message, sinceMs: prev && prev.status === status ? prev.sinceMs : this.simMs });
  }

  /** One sync of one HPA; true when it changed its target's replicas. */
  private syncHpa(h: HpaState): boolean {
    const ref = h.spec.scaleTargetRef;
    const d = ref.kind === 'Deployment' ? this.deployments.get(key(h.namespace, ref.name)) : undefined;
    const hpaRef = this.hpaRef(h);
    let rescaled = false;
    if (!d) {
      const message = `the HPA controller was unable to get the target's current scale: ${ref.kind === 'Deployment' ? `deployments.apps "${ref.name}" not found` : `no matches for kind "${ref.kind}" in the cluster twin`}`;
      this.setHpaCondition(h, 'AbleToScale', 'False', 'FailedGetScale', message);
      this.recordEvent(hpaRef, 'Warning', 'FailedGetScale', message, { component: 'horizontal-pod-autoscaler' });
    } else {
      const decision = decide({
        spec: h.spec,
        specReplicas: d.replicas,
        statusReplicas: d.pods.size,
        pods: [...d.pods].map((p) => this.hpaPod(p)),
        objectMetric: (o, metric) => this.objectMetric(h.namespace, o, metric),
        nowMs: this.simMs,
        history: h.history,
      });
      h.history = decision.history;
      for (const c of decision.conditions) this.setHpaCondition(h, c.type, c.status, c.reason, c.message);
      for (const w of decision.warnings) this.recordEvent(hpaRef, 'Warning', w.reason, w.message, { component: 'horizontal-pod-autoscaler' });
      h.status = {
        observedGeneration: h.generation,
        ...(h.lastScaleMs !== undefined ? { lastScaleTime: iso(h.lastScaleMs) } : {}),
        currentReplicas: d.replicas,
        desiredReplicas: decision.desiredReplicas,
        ...(decision.currentMetrics.length > 0 ? { currentMetrics: decision.currentMetrics } : {}),
      };
      if (decision.rescale) {
        this.writeDeployment(d.namespace, d.name, { replicas: decision.desiredReplicas });
        h.lastScaleMs = this.simMs;
        h.status.lastScaleTime = iso(this.simMs);
        this.recordEvent(hpaRef, 'Normal', 'SuccessfulRescale', `New size: ${decision.desiredReplicas}; reason: ${decision.rescaleReason}`, {
          component: 'horizontal-pod-autoscaler',
        });
        rescaled = true;
      }
    }
    const s = JSON.stringify([h.status, [...h.conditions]]);
    if (s !== h.statusJson) {
      h.statusJson = s;
      h.rv = ++this.rv;
      this.touch('horizontalpodautoscalers', h.namespace, h.name);
    }
    return rescaled;
  }

  /** A pod as the replica calculator sees it, with the values metrics-server and the adapters would serve. */
  private hpaPod(p: PodState): HpaPod {
    const running = p.node !== undefined;
    const sample = this.podSample(p);
    return {
      name: p.name,
      phase: running ? 'Running' : 'Pending',
      ready: p.readySinceMs !== undefined,
      startTimeMs: p.scheduledMs,
      readyTransitionMs: p.readySinceMs ?? p.scheduledMs,
      metrics: running
        ? {
            cpu: sample.cpu_millicores,
            memory: sample.memory_bytes,
            jvm_gc_pause_ms_per_min: sample.gc_pause_ms_per_min,
            memory_utilisation_ratio: sample.memory_utilisation,
            http_requests_per_second: sample.rps,
          }
        : {},
      requests: {
        ...(p.facts.requestCpu > 0 ? { cpu: Math.round(p.facts.requestCpu * 1000) } : {}),
        ...(p.facts.requestMemory > 0 ? { memory: p.facts.requestMemory } : {}),
      },
    };
  }

  /** Object metrics: the service-level metrics of a Deployment (the custom metrics API serves the same). */
  private objectMetric(namespace: string, o: { kind: string; name: string }, metric: string): number | undefined {
    if (o.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(key(namespace, o.name));
    if (!d) return undefined;
    const s = this.serviceMetricsOf(d);
    switch (metric) {
      case 'http_request_duration_p99_ms':
        return s.p99_ms;
      case 'http_request_duration_p50_ms':
        return s.p50_ms;
      case 'http_requests_per_second':
        return s.rps;
      case 'http_error_ratio':
        return s.error_ratio;
      default:
        return undefined;
    }
  }

  // ---- events ---------------------------------------------------------------------------------

  /**
   * Records an event the way client-go's event correlator does: the same source, object, reason,
   * type and message within the TTL add to one event's count instead of making a new one.
   */
  private recordEvent(
    involved: ObjectReference,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: { component: string; host?: string },
    atMs = this.eventMs,
  ): void {
    const k = `${involved.uid}|${involved.fieldPath ?? ''}|${type}|${reason}|${message}|${source.component}`;
    const existing = this.eventsByKey.get(k);
    if (existing && this.events.has(key(existing.namespace, existing.name))) {
      existing.count++;
      existing.lastMs = Math.max(existing.lastMs, atMs);
      existing.rv = ++this.rv;
      this.touch('events', existing.namespace, existing.name);
      return;
    }
    const namespace = involved.namespace ?? 'default';
    const nanos = BigInt(Math.round(atMs)) * 1_000_000n + BigInt(this.eventSeq++ % 1_000_000);
    const e: EventState = {
      namespace,
      name: `${involved.name}.${nanos.toString(16)}`,
      uid: this.otherUids.uuid(),
      rv: ++this.rv,
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
    this.events.set(key(namespace, e.name), e);
    this.eventsByKey.set(k, e);
    this.touch('events', namespace, e.name, 'ADDED');
  }

  private expireEvents(): void {
    const cutoff = this.eventMs - this.eventTtlMs;
    for (const e of this.events.values()) {
      if (e.lastMs > cutoff) continue;
      e.rv = ++this.rv;
      if (this.listeners.size > 0) {
        const last = renderEvent(e);
        this.touchDeleted('events', e.namespace, e.name, () => last);
      }
      this.events.delete(key(e.namespace, e.name));
      if (this.eventsByKey.get(e.key) === e) this.eventsByKey.delete(e.key);
    }
  }

  private podRef(p: PodState): ObjectReference {
    return { kind: 'Pod', namespace: p.namespace, name: p.name, uid: p.uid, apiVersion: 'v1' };
  }

  private replicaSetRef(rs: ReplicaSetState): ObjectReference {
    return { kind: 'ReplicaSet', namespace: rs.namespace, name: rs.name, uid: rs.uid, apiVersion: 'apps/v1' };
  }

  private deploymentRef(d: DeploymentState): ObjectReference {
    return { kind: 'Deployment', namespace: d.namespace, name: d.name, uid: d.uid, apiVersion: 'apps/v1' };
  }

  private nodeRef(n: NodeState): ObjectReference {
    return { kind: 'Node', name: n.name, uid: n.name, apiVersion: 'v1' };
  }

  private hpaRef(h: HpaState): ObjectReference {
    return { kind: 'HorizontalPodAutoscaler', namespace: h.namespace, name: h.name, uid: h.uid, apiVersion: 'autoscaling/v2' };
  }

  // ---- the model ------------------------------------------------------------------------------

  private offeredLoad(d: DeploymentState): number {
    const base = rpsAt(d.load, this.simMs);
    return Math.max(0, base * (1 + d.loadNoise));
  }

  /**
   * Spreads each deployment's load over its ready pods and computes how each pod performs, then lets
   * pods on busy nodes take CPU from each other (node-contention.ts).
   */
  private refreshPerformance(): void {
    for (const d of this.deployments.values()) {
      d.currentRps = this.offeredLoad(d);
      let ready = 0;
      for (const p of d.pods) if (p.readySinceMs !== undefined) ready++;
      const share = ready > 0 ? d.currentRps / ready : 0;
      for (const p of d.pods) {
        if (!p.node) {
          p.perf = undefined;
          p.cond = undefined;
          continue;
        }
        const c = this.conditionsOf(p, share);
        p.cond = c;
        p.perf = p.readySinceMs !== undefined ? podPerformance(p.heap, c) : idlePerformance(p.heap, c);
      }
    }
    for (const n of this.nodes.values()) this.contend(n);
  }

  private contend(n: NodeState): void {
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
      memory += this.podMemory(p);
    }
    n.cpuUsedMillicores = cpu;
    n.memoryUsedBytes = memory;
  }

  /**
   * The kubelet's memory management, once per grid step, on the memory measured at the previous
   * one: containers whose leak no longer fits their limit are OOM-killed and restarted; nodes short
   * of memory slow their pods down (reclaim), report MemoryPressure and evict (node-memory.ts).
   */
  private kubeletMemory(): void {
    for (const p of this.pods.values()) {
      if (!p.node || p.facts.leakBytesPerMs <= 0 || this.simMs < p.containerStartedMs) continue;
      const c = this.conditionsOf(p, 0);
      if ((c.leakedBytes ?? 0) >= leakHeadroomBytes(c)) this.oomKill(p);
    }
    for (const n of this.nodes.values()) {
      const used = nodeMemoryUsed(n);
      const capacity = n.capacity.memory;
      n.reclaimSpeed = reclaimSpeed(capacity, used);
      const met = evictionThresholdMet(capacity, used);
      if (met) n.evictionThresholdMetMs = this.simMs;
      const pressure = met || (n.memoryPressure && this.simMs - n.evictionThresholdMetMs < KUBELET_MEMORY.pressureTransitionPeriodMs);
      if (pressure !== n.memoryPressure) {
        n.memoryPressure = pressure;
        n.memoryPressureSinceMs = this.simMs;
        n.rv = ++this.rv;
        this.touch('nodes', undefined, n.name);
        const reason = pressure ? 'NodeHasInsufficientMemory' : 'NodeHasSufficientMemory';
        this.recordEvent(this.nodeRef(n), 'Normal', reason, `Node ${n.name} status is now: ${reason}`, { component: 'kubelet', host: n.name });
        // The taint comes or goes: pending pods may fit elsewhere, or here again.
        this.dirty = true;
      }
      if (met && this.simMs >= n.nextEvictionMs) {
        n.nextEvictionMs = this.simMs + KUBELET_MEMORY.housekeepingMs;
        this.evictForMemory(n, memoryAvailable(capacity, used));
      }
    }
  }

  /** The kernel ends the container at its cgroup limit; the kubelet restarts it (restartPolicy Always). */
  private oomKill(p: PodState): void {
    const n = p.node!;
    // CrashLoopBackOff: the first restart is immediate, quick repeats wait 10 s, 20 s, ... 5 min;
    // ten minutes of running resets it.
    if (this.simMs - p.containerStartedMs >= BACKOFF_RESET_MS) p.backoffMs = 0;
    const delay = p.backoffMs;
    p.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_FIRST_MS, p.backoffMs * 2));
    p.lastTermination = { reason: 'OOMKilled', exitCode: 137, startedMs: p.containerStartedMs, finishedMs: this.simMs };
    p.restartCount++;
    p.containerStartedMs = this.simMs + delay;
    p.readySinceMs = undefined;
    p.readyAtMs = p.containerStartedMs + this.startupDelayMs;
    p.heap = { ...p.heap, fill: freshFill(p.facts.jvm, this.workloadOf(p.rs)) };
    this.starting.add(p);
    this.bumpPod(p);
    this.dirty = true;
    const main = p.rs.template.spec.containers[0]!;
    this.recordEvent(
      this.nodeRef(n),
      'Warning',
      'OOMKilling',
      `Memory cgroup out of memory: Killed process (${main.name}) of container ${main.name} in pod ${p.namespace}/${p.name}, memory limit ${formatMemory(p.facts.memoryLimitBytes)}`,
      { component: 'kernel-monitor', host: n.name },
    );
    const at = { ...this.podRef(p), fieldPath: `spec.containers{${main.name}}` };
    const kubelet = { component: 'kubelet', host: n.name };
    if (delay > 0) this.recordEvent(at, 'Warning', 'BackOff', `Back-off restarting failed container ${main.name} in pod ${p.name}_${p.namespace}(${p.uid})`, kubelet);
    this.recordEvent(at, 'Normal', 'Pulled', `Container image "${main.image}" already present on machine`, kubelet, p.containerStartedMs);
    this.recordEvent(at, 'Normal', 'Created', `Created container: ${main.name}`, kubelet, p.containerStartedMs);
    this.recordEvent(at, 'Normal', 'Started', `Started container ${main.name}`, kubelet, p.containerStartedMs);
  }

  /** One eviction of the kubelet's housekeeping cycle: the pod furthest above its memory request goes. */
  private evictForMemory(n: NodeState, availableBytes: number): void {
    const kubelet = { component: 'kubelet', host: n.name };
    this.recordEvent(this.nodeRef(n), 'Warning', 'EvictionThresholdMet', 'Attempting to reclaim memory', kubelet);
    const pods = [...n.pods];
    const usage = pods.map((p) => this.podMemory(p));
    const i = evictionVictim(pods.map((p, j) => ({ usageBytes: usage[j]!, requestBytes: p.facts.requestMemory })));
    if (i < 0) return;
    const p = pods[i]!;
    const main = p.rs.template.spec.containers[0]!;
    const message =
      `The node was low on resource: memory. Threshold quantity: ${formatMemory(evictionThresholdBytes(n.capacity.memory))}, ` +
      `available: ${formatMemory(Math.max(0, availableBytes))}. Container ${main.name} was using ${formatMemory(usage[i]!)}, ` +
      `request is ${p.facts.requestMemory > 0 ? formatMemory(p.facts.requestMemory) : '0'}, has larger consumption of memory. `;
    this.recordEvent(this.podRef(p), 'Warning', 'Evicted', message, kubelet);
    this.removePod(p, true);
    const last = renderPod(p, this.simMs);
    const failed: Pod = {
      ...last,
      status: {
        phase: 'Failed',
        reason: 'Evicted',
        message,
        conditions: last.status.conditions.map((c) =>
          c.type === 'Ready' || c.type === 'ContainersReady' ? { type: c.type, status: 'False', lastTransitionTime: iso(this.simMs), reason: 'PodFailed' } : c,
        ),
        ...(last.status.hostIP ? { hostIP: last.status.hostIP } : {}),
        ...(last.status.startTime ? { startTime: last.status.startTime } : {}),
        containerStatuses: (last.status.containerStatuses ?? []).map((cs) => ({
          ...cs,
          ready: false,
          started: false,
          state: { terminated: { exitCode: 137, reason: 'Error', message: 'The container was terminated due to eviction', startedAt: iso(p.containerStartedMs), finishedAt: iso(this.simMs) } },
        })),
        qosClass: last.status.qosClass,
      },
    };
    this.failedPods.set(key(p.namespace, p.name), failed);
    this.touch('pods', p.namespace, p.name);
    this.dirty = true;
  }

  /**
   * A leaking pod set up as running for longer than its leak allows has been OOM-killed before: its
   * current container started at the last kill (start-up time aside).
   */
  private settleLeak(p: PodState): void {
    if (p.facts.leakBytesPerMs <= 0) return;
    const lifetimeMs = leakHeadroomBytes(this.conditionsOf(p, 0)) / p.facts.leakBytesPerMs;
    const upMs = this.simMs - p.containerStartedMs;
    if (lifetimeMs <= 0 || upMs < lifetimeMs) return;
    const kills = Math.floor(upMs / lifetimeMs);
    const lastKill = p.containerStartedMs + kills * lifetimeMs;
    p.restartCount = kills;
    p.lastTermination = { reason: 'OOMKilled', exitCode: 137, startedMs: lastKill - lifetimeMs, finishedMs: lastKill };
    p.containerStartedMs = lastKill;
    p.readyAtMs = lastKill + this.startupDelayMs;
    if (p.readyAtMs > this.simMs) {
      p.readySinceMs = undefined;
      this.starting.add(p);
    } else p.readySinceMs = p.readyAtMs;
  }

  /** The workload a ReplicaSet's pods run: the deployment's, changed by the config maps they read. */
  private workloadOf(rs: ReplicaSetState): Workload {
    if (rs.workload && rs.workloadVersion === this.configVersion) return rs.workload;
    const d = rs.d;
    let w = d.workload;
    if (d.configEffect) {
      const facts = this.factsOf(rs.template, rs.templateHash);
      const data: StringMap = {};
      for (const name of facts.configMaps) Object.assign(data, this.configMaps.get(key(rs.namespace, name))?.data);
      w = { ...d.workload, ...d.configEffect(data) };
    }
    rs.workload = w;
    rs.workloadVersion = this.configVersion;
    return w;
  }

  private conditionsOf(p: PodState, rps: number): PodConditions {
    const f = p.facts;
    const leaked = f.leakBytesPerMs > 0 ? f.leakBytesPerMs * Math.max(0, this.simMs - p.containerStartedMs) : 0;
    const speed = p.node?.reclaimSpeed ?? 1;
    return {
      rps,
      cpuLimitCores: f.cpuLimitCores,
      memoryLimitBytes: f.memoryLimitBytes,
      jvm: f.jvm,
      workload: this.workloadOf(p.rs),
      ...(leaked > 0 ? { leakedBytes: leaked } : {}),
      ...(speed < 1 ? { cpuSpeed: speed } : {}),
    };
  }

  private factsOf(t: PodTemplateSpec, hash: string): TemplateFacts {
    let f = this.facts.get(hash);
    if (!f) this.facts.set(hash, (f = factsOf(t)));
    return f;
  }

  private podMemory(p: PodState): number {
    if (!p.node) return 0;
    const c = p.cond ?? this.conditionsOf(p, 0);
    return p.readySinceMs !== undefined && p.perf ? p.perf.memoryBytes : startingPodMemoryBytes(c);
  }

  private podSample(p: PodState): PodMetricsSample {
    const ready = p.readySinceMs !== undefined;
    const limit = p.facts.memoryLimitBytes;
    const memory = this.podMemory(p);
    return {
      pod: p.name,
      revision: p.rs.revision,
      ready,
      memory_bytes: Math.round(memory),
      memory_limit_bytes: limit,
      memory_utilisation: Math.round((memory / limit) * 1000) / 1000,
      cpu_millicores: Math.round(p.perf?.cpuMillicores ?? 0),
      gc_pause_ms_per_min: ready && p.perf ? Math.round(p.perf.gcPauseMsPerMin) : 0,
      rps: ready && p.perf ? Math.round(p.perf.rps * 10) / 10 : 0,
    };
  }

  // ---- lookups --------------------------------------------------------------------------------

  private mustGetDeployment(namespace: string, name: string): DeploymentState {
    const d = this.deployments.get(key(namespace, name));
    if (!d) throw notFound('deployments', name, 'apps');
    return d;
  }



}

const round1 = (x: number) => Math.round(x * 10) / 10;

function toSelector(s: string | LabelSelector | undefined): LabelSelector {
  return typeof s === 'object' ? s : parseLabelSelector(s);
}
