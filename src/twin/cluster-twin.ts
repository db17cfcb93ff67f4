// The cluster twin: a small, deterministic simulation of the part of a Kubernetes cluster Governor
// acts on — namespaces, Deployments with their ReplicaSet revision history, pods that start, become
// ready and are replaced by rolling updates, the load on each deployment, and how the pods perform
// under it (performance-model.ts). It runs on an injected Clock (virtual time in the demo and tests,
// real time in the sandbox) and a seeded PRNG: the same seed and the same calls at the same times
// give the same cluster. It must never do I/O, read the wall clock or Math.random; the API server in
// kube-api-server.ts is its only window to the outside.
//
// Time: the model advances on a fixed grid (1 s by default) anchored at the clock's time when the twin
// was built, so results do not depend on how often anyone calls step() or reads. Every read and every
// mutation first catches up to clock.now().
//
// What Kubernetes does that the twin imitates: the deployment controller's rolling update (maxSurge
// and maxUnavailable 25%, old ReplicaSets scaled down as new pods become ready, oldest first); a
// template equal to an older revision's re-uses that ReplicaSet and bumps its revision number (that
// is what a rollback is); ReplicaSets delete not-ready pods first, then the newest; resourceVersion
// bumps on every change of an object (never on metrics); generation bumps on spec changes.
// What it leaves out: nodes and scheduling, graceful termination (deleted pods are gone at once),
// restarts and OOM kills, proportional scaling of several ReplicaSets in the middle of a rollout.
import type { Clock } from '../core/clock.ts';
import { canonicalJson, sha256Hex } from '../core/canonical-json.ts';
import {
  CHANGE_CAUSE_ANNOTATION,
  JVM_OPTIONS_ANNOTATION,
  POD_TEMPLATE_HASH_LABEL,
  REVISION_ANNOTATION,
  type Condition,
  type Deployment,
  type Namespace,
  type Pod,
  type PodTemplateSpec,
  type ReplicaSet,
  type StringMap,
} from './kube-objects.ts';
import { parseLabelSelector, type LabelSelector } from './label-selector.ts';
import {
  DEFAULT_WORKLOAD,
  advanceHeap,
  freshFill,
  idlePerformance,
  mixtureQuantile,
  parseJvmOptions,
  podPerformance,
  startingPodMemoryBytes,
  type HeapState,
  type JvmProfile,
  type PodConditions,
  type PodPerformance,
  type Workload,
} from './performance-model.ts';
import { Prng, deriveSeed } from './prng.ts';
import { parseQuantity } from './quantity.ts';

export interface ClusterTwinOptions {
  seed?: number;
  /** From pod creation to ready. */
  startupDelayMs?: number;
  /** The model's integration step. */
  gridMs?: number;
  /** Relative standard deviation of the load's noise. */
  loadNoise?: number;
}

export type LoadSource = number | ((nowMs: number) => number);

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
}

export interface DeploymentUpdate {
  replicas?: number;
  template?: PodTemplateSpec;
  labels?: StringMap;
  annotations?: StringMap;
}

export interface MutationOptions {
  /** Precondition: refuse with Conflict unless the deployment is at this resourceVersion. */
  resourceVersion?: string;
}

export type TwinErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Invalid';

/** A refusal in Kubernetes' own terms, so the API server can answer with the matching Status. */
export class TwinError extends Error {
  constructor(
    readonly reason: TwinErrorReason,
    message: string,
    readonly details: { kind: string; group?: string; name: string; causes?: { field: string; message: string; reason: string }[] },
  ) {
    super(message);
    this.name = 'TwinError';
  }
}

interface NamespaceState {
  name: string;
  uid: string;
  labels: StringMap;
  createdMs: number;
  rv: number;
}

interface DeploymentState {
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
  skewRange: [number, number];
  names: Prng;
  noise: Prng;
  statusJson: string;
  conditionSince: Record<string, number>;
}

interface ReplicaSetState {
  namespace: string;
  name: string;
  uid: string;
  deployment: string;
  createdMs: number;
  rv: number;
  generation: number;
  template: PodTemplateSpec;
  templateHash: string;
  revision: number;
  changeCause: string | undefined;
  replicas: number;
  statusJson: string;
}

interface PodState {
  namespace: string;
  name: string;
  uid: string;
  replicaSet: string;
  createdMs: number;
  readyAtMs: number;
  readySinceMs: number | undefined;
  rv: number;
  heap: HeapState;
  perf: PodPerformance | undefined;
  ip: string;
  node: string;
}

/** The pod-level facts the performance model needs, derived once per template. */
interface TemplateFacts {
  cpuLimitCores: number;
  memoryLimitBytes: number;
  jvm: JvmProfile | undefined;
}

const key = (ns: string, name: string) => `${ns}/${name}`;
const iso = (ms: number) => new Date(ms).toISOString();
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));
const NODES = 4;

/** Kubernetes' 25% defaults: surge rounds up, unavailability rounds down, and both zero is not allowed. */
export function rollingLimits(replicas: number): { maxSurge: number; maxUnavailable: number } {
  const maxSurge = Math.ceil(replicas * 0.25);
  let maxUnavailable = Math.floor(replicas * 0.25);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

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

function factsOf(t: PodTemplateSpec): TemplateFacts {
  const main = t.spec.containers[0];
  const limits = main?.resources?.limits ?? {};
  const requests = main?.resources?.requests ?? {};
  const memory = limits['memory'] ?? requests['memory'];
  const cpu = limits['cpu'] ?? requests['cpu'];
  const memoryLimitBytes = memory !== undefined ? parseQuantity(memory) : 2 * 2 ** 30;
  const cpuLimitCores = cpu !== undefined ? parseQuantity(cpu) : 1;
  const options = t.metadata?.annotations?.[JVM_OPTIONS_ANNOTATION];
  return { cpuLimitCores, memoryLimitBytes, jvm: options !== undefined ? parseJvmOptions(options, memoryLimitBytes) : undefined };
}

/** Refuses a template the API server would refuse; names every problem. */
export function validateTemplate(t: unknown, selector: StringMap | undefined, name: string): PodTemplateSpec {
  const causes: { field: string; message: string; reason: string }[] = [];
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

export class ClusterTwin {
  readonly clock: Clock;
  private readonly seed: number;
  private readonly startupDelayMs: number;
  private readonly gridMs: number;
  private readonly loadNoiseSd: number;
  private readonly uids: Prng;
  private rv = 1;
  private simMs: number;
  /** When the change being made happens: the grid point while the model steps, the clock's time for a mutation. */
  private eventMs: number;
  private ipSeq = 0;
  private cancelTimer: (() => void) | undefined;
  private readonly nss = new Map<string, NamespaceState>();
  private readonly deployments = new Map<string, DeploymentState>();
  private readonly replicaSets = new Map<string, ReplicaSetState>();
  private readonly pods = new Map<string, PodState>();
  private readonly facts = new Map<string, TemplateFacts>();

  constructor(clock: Clock, opts: ClusterTwinOptions = {}) {
    this.clock = clock;
    this.seed = opts.seed ?? 1;
    this.startupDelayMs = opts.startupDelayMs ?? 30_000;
    this.gridMs = opts.gridMs ?? 1_000;
    this.loadNoiseSd = opts.loadNoise ?? 0.02;
    this.uids = new Prng(deriveSeed(this.seed, 'uids'));
    this.simMs = clock.now();
    this.eventMs = this.simMs;
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
  }

  /** The model's own time: the grid point the state describes. */
  get modelTimeMs(): number {
    return this.simMs;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  private advanceGrid(): void {
    const dtS = this.gridMs / 1000;
    for (const pod of this.pods.values()) {
      if (!pod.perf || pod.readySinceMs === undefined) continue;
      pod.heap = advanceHeap(pod.heap, pod.perf, this.conditionsOf(pod, pod.perf.rps), dtS);
    }
    this.simMs += this.gridMs;
    this.eventMs = this.simMs;
    for (const d of this.deployments.values()) {
      // AR(1) noise: load wanders a little, smoothly, instead of jumping every second.
      d.loadNoise = 0.9 * d.loadNoise + Math.sqrt(1 - 0.81) * this.loadNoiseSd * d.noise.normal();
    }
    this.reconcileAll();
  }

  // ---- setup --------------------------------------------------------------------------------

  addNamespace(name: string, labels: StringMap = {}, createdAtMs = this.clock.now()): void {
    if (this.nss.has(name)) throw new TwinError('AlreadyExists', `namespaces "${name}" already exists`, { kind: 'namespaces', name });
    this.nss.set(name, { name, uid: this.uids.uuid(), labels: { 'kubernetes.io/metadata.name': name, ...labels }, createdMs: createdAtMs, rv: ++this.rv });
  }

  /**
   * Adds a deployment that has been running: its ReplicaSets for every revision, and the running
   * revision's pods, ready, with heaps that have settled under the initial load for as long as they
   * have been up (at most an hour).
   */
  addDeployment(setup: DeploymentSetup): void {
    const { namespace, name } = setup;
    if (!this.nss.has(namespace)) throw new TwinError('NotFound', `namespaces "${namespace}" not found`, { kind: 'namespaces', name: namespace });
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
      skewRange: setup.allocationSkew ?? [0.8, 0.95],
      names: new Prng(deriveSeed(this.seed, `names/${namespace}/${name}`)),
      noise: new Prng(deriveSeed(this.seed, `load/${namespace}/${name}`)),
      statusJson: '',
      conditionSince: {},
    };
    this.deployments.set(key(namespace, name), d);
    setup.revisions.forEach((r, i) => {
      const rs = this.createReplicaSet(d, templates[i]!, i + 1, r.changeCause, r.createdAtMs);
      if (i === setup.revisions.length - 1) rs.replicas = setup.replicas;
    });
    const rs = this.newReplicaSetOf(d)!;
    d.currentRps = this.offeredLoad(d);
    const share = setup.replicas > 0 ? d.currentRps / setup.replicas : 0;
    const settleS = Math.min(3600, Math.max(0, (this.simMs - last.createdAtMs) / 1000));
    for (let i = 0; i < setup.replicas; i++) {
      // The original rollout brought pods up a few seconds apart.
      const pod = this.createPod(rs, last.createdAtMs + i * 3_000);
      pod.readySinceMs = pod.readyAtMs;
      const c = this.conditionsOf(pod, share);
      for (let s = 0; s < settleS; s++) pod.heap = advanceHeap(pod.heap, podPerformance(pod.heap, c), c, 1);
    }
    this.reconcileAll();
  }

  /** Changes the load offered to a deployment from now on. */
  setLoad(namespace: string, name: string, rps: LoadSource): void {
    this.step();
    this.mustGetDeployment(namespace, name).load = rps;
    this.refreshPerformance();
  }

  /**
   * Scenario setup: puts a pod's heap in a given state (a scenario starts in the middle of a story).
   * Not a Kubernetes operation; nothing outside scenarios and tests should call it.
   */
  tunePod(namespace: string, pod: string, heap: Partial<HeapState>): void {
    this.step();
    const p = this.pods.get(key(namespace, pod));
    if (!p) throw new TwinError('NotFound', `pods "${pod}" not found`, { kind: 'pods', name: pod });
    p.heap = { ...p.heap, ...heap };
    this.refreshPerformance();
  }

  // ---- mutations ------------------------------------------------------------------------------

  /** kubectl scale: new pods of the current template; a scale-down removes not-ready, then newest pods. */
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
    this.step();
    const d = this.mustGetDeployment(namespace, name);
    if (opts.resourceVersion !== undefined && opts.resourceVersion !== String(d.rv)) {
      throw new TwinError(
        'Conflict',
        `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { kind: 'deployments', group: 'apps', name },
      );
    }
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
    if (changed || specChanged) d.rv = ++this.rv;
    this.reconcileAll();
    return this.renderDeployment(d);
  }

  // ---- reads ----------------------------------------------------------------------------------

  namespaces(): Namespace[] {
    this.step();
    return [...this.nss.values()].map((n) => this.renderNamespace(n));
  }

  getNamespace(name: string): Namespace | undefined {
    this.step();
    const n = this.nss.get(name);
    return n ? this.renderNamespace(n) : undefined;
  }

  getDeployment(namespace: string, name: string): Deployment | undefined {
    this.step();
    const d = this.deployments.get(key(namespace, name));
    return d ? this.renderDeployment(d) : undefined;
  }

  /** All deployments, or those of one namespace, in creation order. */
  listDeployments(namespace?: string, selector?: string | LabelSelector): Deployment[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.deployments.values()]
      .filter((d) => (namespace === undefined || d.namespace === namespace) && sel.matches(d.labels))
      .map((d) => this.renderDeployment(d));
  }

  listReplicaSets(namespace?: string, selector?: string | LabelSelector): ReplicaSet[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.replicaSets.values()]
      .filter((rs) => namespace === undefined || rs.namespace === namespace)
      .map((rs) => this.renderReplicaSet(rs))
      .filter((rs) => sel.matches(rs.metadata.labels));
  }

  getReplicaSet(namespace: string, name: string): ReplicaSet | undefined {
    this.step();
    const rs = this.replicaSets.get(key(namespace, name));
    return rs ? this.renderReplicaSet(rs) : undefined;
  }

  listPods(namespace?: string, selector?: string | LabelSelector): Pod[] {
    this.step();
    const sel = toSelector(selector);
    return [...this.pods.values()]
      .filter((p) => namespace === undefined || p.namespace === namespace)
      .map((p) => this.renderPod(p))
      .filter((p) => sel.matches(p.metadata.labels));
  }

  getPod(namespace: string, name: string): Pod | undefined {
    this.step();
    const p = this.pods.get(key(namespace, name));
    return p ? this.renderPod(p) : undefined;
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
    const d = this.mustGetDeployment(namespace, name);
    const ready = this.podsOf(d).filter((p) => p.readySinceMs !== undefined && p.perf);
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
    return this.podsOf(d).map((p) => this.podSample(p));
  }

  /** podMetrics for one pod, by name. */
  podMetricsOf(namespace: string, pod: string): PodMetricsSample | undefined {
    this.step();
    const p = this.pods.get(key(namespace, pod));
    return p ? this.podSample(p) : undefined;
  }

  // ---- the controllers ------------------------------------------------------------------------

  private reconcileAll(): void {
    for (const p of this.pods.values()) {
      if (p.readySinceMs === undefined && p.readyAtMs <= this.eventMs) {
        p.readySinceMs = p.readyAtMs;
        p.rv = ++this.rv;
      }
    }
    for (const d of this.deployments.values()) {
      // A rollout step can enable the next one (old pods gone → room to surge): settle them now,
      // as the real controller would within milliseconds.
      for (let i = 0; i < 4 && this.rollout(d); i++) {}
      this.updateDeploymentStatus(d);
    }
    this.refreshPerformance();
  }

  /** One pass of the deployment controller; true when it changed anything. */
  private rollout(d: DeploymentState): boolean {
    const newRs = this.newReplicaSetOf(d);
    if (!newRs) return false;
    const all = this.replicaSetsOf(d);
    const old = all.filter((rs) => rs !== newRs && rs.replicas > 0).sort((a, b) => a.createdMs - b.createdMs);
    let changed = false;
    const setReplicas = (rs: ReplicaSetState, n: number) => {
      if (rs.replicas === n) return;
      rs.replicas = n;
      rs.generation++;
      rs.rv = ++this.rv;
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
      const newUnavailable = newRs.replicas - this.readyCount(newRs);
      let maxScaledDown = total() - minAvailable - newUnavailable;
      // First old pods that are not ready anyway, then ready ones while availability allows.
      for (const rs of old) {
        if (maxScaledDown <= 0) break;
        const unhealthy = Math.min(rs.replicas, this.podsOfRs(rs).length) - this.readyCount(rs);
        const down = Math.min(maxScaledDown, Math.max(0, unhealthy));
        if (down > 0) {
          setReplicas(rs, rs.replicas - down);
          maxScaledDown -= down;
        }
      }
      this.syncPods();
      const available = all.reduce((s, rs) => s + this.readyCount(rs), 0);
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
    if (this.syncPods()) changed = true;
    return changed;
  }

  /** The ReplicaSet controller: pods to match each ReplicaSet's replicas. */
  private syncPods(): boolean {
    let changed = false;
    for (const rs of this.replicaSets.values()) {
      const pods = this.podsOfRs(rs);
      if (pods.length < rs.replicas) {
        for (let i = pods.length; i < rs.replicas; i++) this.createPod(rs, this.eventMs);
        changed = true;
      } else if (pods.length > rs.replicas) {
        // Not ready before ready, then the newest first.
        const victims = [...pods]
          .sort((a, b) => Number(a.readySinceMs !== undefined) - Number(b.readySinceMs !== undefined) || b.createdMs - a.createdMs)
          .slice(0, pods.length - rs.replicas);
        for (const v of victims) this.pods.delete(key(v.namespace, v.name));
        this.rv++;
        changed = true;
      }
    }
    return changed;
  }

  private prepareNewReplicaSet(d: DeploymentState): void {
    const maxRevision = Math.max(0, ...this.replicaSetsOf(d).map((rs) => rs.revision));
    const existing = this.newReplicaSetOf(d);
    const changeCause = d.annotations[CHANGE_CAUSE_ANNOTATION];
    if (existing) {
      // Kubernetes' rollback: the old ReplicaSet becomes the newest revision.
      if (existing.revision !== maxRevision) existing.revision = maxRevision + 1;
      if (changeCause !== undefined) existing.changeCause = changeCause;
      existing.rv = ++this.rv;
    } else {
      this.createReplicaSet(d, d.template, maxRevision + 1, changeCause, this.eventMs);
    }
    // revisionHistoryLimit: 10 old ReplicaSets with no pods are kept, older ones go.
    const idle = this.replicaSetsOf(d)
      .filter((rs) => rs.templateHash !== d.templateHash && rs.replicas === 0 && this.podsOfRs(rs).length === 0)
      .sort((a, b) => a.revision - b.revision);
    for (const rs of idle.slice(0, Math.max(0, idle.length - 10))) this.replicaSets.delete(key(rs.namespace, rs.name));
  }

  private createReplicaSet(d: DeploymentState, template: PodTemplateSpec, revision: number, changeCause: string | undefined, createdMs: number): ReplicaSetState {
    const hash = templateHash(template);
    const rs: ReplicaSetState = {
      namespace: d.namespace,
      name: `${d.name}-${hash}`,
      uid: this.uids.uuid(),
      deployment: d.name,
      createdMs,
      rv: ++this.rv,
      generation: 1,
      template: clone(template),
      templateHash: hash,
      revision,
      changeCause,
      replicas: 0,
      statusJson: '',
    };
    this.replicaSets.set(key(rs.namespace, rs.name), rs);
    return rs;
  }

  private createPod(rs: ReplicaSetState, createdMs: number): PodState {
    const d = this.deployments.get(key(rs.namespace, rs.deployment))!;
    let name: string;
    do name = `${rs.name}-${d.names.suffix(5)}`;
    while (this.pods.has(key(rs.namespace, name)));
    const facts = this.factsOf(rs.template, rs.templateHash);
    const n = this.ipSeq++;
    const pod: PodState = {
      namespace: rs.namespace,
      name,
      uid: this.uids.uuid(),
      replicaSet: rs.name,
      createdMs,
      readyAtMs: createdMs + this.startupDelayMs,
      readySinceMs: undefined,
      rv: ++this.rv,
      heap: { fill: freshFill(facts.jvm, d.workload), allocationSkew: d.names.uniform(d.skewRange[0], d.skewRange[1]) },
      perf: undefined,
      ip: `10.244.${(n >> 8) & 255}.${(n & 255) + 2}`,
      node: `twin-node-${(n % NODES) + 1}`,
    };
    this.pods.set(key(pod.namespace, pod.name), pod);
    return pod;
  }

  private updateDeploymentStatus(d: DeploymentState): void {
    for (const rs of this.replicaSetsOf(d)) {
      const s = JSON.stringify(this.replicaSetStatus(rs));
      if (s !== rs.statusJson) {
        if (rs.statusJson !== '') rs.rv = ++this.rv;
        rs.statusJson = s;
      }
    }
    const status = this.deploymentStatusCore(d);
    const s = JSON.stringify(status);
    if (s !== d.statusJson) {
      const prev = d.statusJson ? (JSON.parse(d.statusJson) as { available: boolean; complete: boolean }) : undefined;
      if (!prev || prev.available !== status.available) d.conditionSince['Available'] = this.simMs;
      if (!prev || prev.complete !== status.complete) d.conditionSince['Progressing'] = this.simMs;
      if (d.statusJson !== '') d.rv = ++this.rv;
      d.statusJson = s;
    }
  }

  private deploymentStatusCore(d: DeploymentState) {
    const newRs = this.newReplicaSetOf(d);
    const pods = this.podsOf(d);
    const ready = pods.filter((p) => p.readySinceMs !== undefined).length;
    const updated = newRs ? this.podsOfRs(newRs).length : 0;
    const { maxUnavailable } = rollingLimits(d.replicas);
    return {
      replicas: pods.length,
      updated,
      ready,
      available: ready >= d.replicas - maxUnavailable,
      complete: updated === d.replicas && pods.length === d.replicas && newRs !== undefined && this.readyCount(newRs) === d.replicas,
      revision: newRs?.revision ?? 0,
    };
  }

  // ---- the model ------------------------------------------------------------------------------

  private offeredLoad(d: DeploymentState): number {
    const base = typeof d.load === 'function' ? d.load(this.simMs) : d.load;
    return Math.max(0, base * (1 + d.loadNoise));
  }

  /** Spreads each deployment's load over its ready pods and computes how each pod performs. */
  private refreshPerformance(): void {
    for (const d of this.deployments.values()) {
      d.currentRps = this.offeredLoad(d);
      const pods = this.podsOf(d);
      const ready = pods.filter((p) => p.readySinceMs !== undefined);
      const share = ready.length > 0 ? d.currentRps / ready.length : 0;
      for (const p of pods) {
        const c = this.conditionsOf(p, share);
        p.perf = p.readySinceMs !== undefined ? podPerformance(p.heap, c) : idlePerformance(p.heap, c);
      }
    }
  }

  private conditionsOf(p: PodState, rps: number): PodConditions {
    const rs = this.replicaSets.get(key(p.namespace, p.replicaSet))!;
    const d = this.deployments.get(key(p.namespace, rs.deployment))!;
    const f = this.factsOf(rs.template, rs.templateHash);
    return { rps, cpuLimitCores: f.cpuLimitCores, memoryLimitBytes: f.memoryLimitBytes, jvm: f.jvm, workload: d.workload };
  }

  private factsOf(t: PodTemplateSpec, hash: string): TemplateFacts {
    let f = this.facts.get(hash);
    if (!f) this.facts.set(hash, (f = factsOf(t)));
    return f;
  }

  private podSample(p: PodState): PodMetricsSample {
    const rs = this.replicaSets.get(key(p.namespace, p.replicaSet));
    const ready = p.readySinceMs !== undefined;
    const c = this.conditionsOf(p, 0);
    const memory = ready && p.perf ? p.perf.memoryBytes : startingPodMemoryBytes(c);
    return {
      pod: p.name,
      revision: rs?.revision ?? null,
      ready,
      memory_bytes: Math.round(memory),
      memory_limit_bytes: c.memoryLimitBytes,
      memory_utilisation: Math.round((memory / c.memoryLimitBytes) * 1000) / 1000,
      cpu_millicores: Math.round(p.perf?.cpuMillicores ?? 0),
      gc_pause_ms_per_min: ready && p.perf ? Math.round(p.perf.gcPauseMsPerMin) : 0,
    };
  }

  // ---- lookups --------------------------------------------------------------------------------

  private mustGetDeployment(namespace: string, name: string): DeploymentState {
    const d = this.deployments.get(key(namespace, name));
    if (!d) throw new TwinError('NotFound', `deployments.apps "${name}" not found`, { kind: 'deployments', group: 'apps', name });
    return d;
  }

  private replicaSetsOf(d: DeploymentState): ReplicaSetState[] {
    return [...this.replicaSets.values()].filter((rs) => rs.namespace === d.namespace && rs.deployment === d.name);
  }

  private newReplicaSetOf(d: DeploymentState): ReplicaSetState | undefined {
    return this.replicaSetsOf(d).find((rs) => rs.templateHash === d.templateHash);
  }

  private podsOfRs(rs: ReplicaSetState): PodState[] {
    return [...this.pods.values()].filter((p) => p.namespace === rs.namespace && p.replicaSet === rs.name);
  }

  private podsOf(d: DeploymentState): PodState[] {
    const names = new Set(this.replicaSetsOf(d).map((rs) => rs.name));
    return [...this.pods.values()].filter((p) => p.namespace === d.namespace && names.has(p.replicaSet));
  }

  private readyCount(rs: ReplicaSetState): number {
    return this.podsOfRs(rs).filter((p) => p.readySinceMs !== undefined).length;
  }

  // ---- rendering as Kubernetes objects --------------------------------------------------------

  private renderNamespace(n: NamespaceState): Namespace {
    return {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: n.name, uid: n.uid, resourceVersion: String(n.rv), creationTimestamp: iso(n.createdMs), labels: { ...n.labels } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
  }

  private renderDeployment(d: DeploymentState): Deployment {
    const core = this.deploymentStatusCore(d);
    const newRs = this.newReplicaSetOf(d);
    const since = (t: string) => iso(d.conditionSince[t] ?? d.createdMs);
    const conditions: Condition[] = [
      {
        type: 'Available',
        status: core.available ? 'True' : 'False',
        lastUpdateTime: since('Available'),
        lastTransitionTime: since('Available'),
        reason: core.available ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message: core.available ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
      },
      {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: since('Progressing'),
        lastTransitionTime: since('Progressing'),
        reason: core.complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
        message: core.complete ? `ReplicaSet "${newRs?.name}" has successfully progressed.` : `ReplicaSet "${newRs?.name}" is progressing.`,
      },
    ];
    const unavailable = Math.max(0, d.replicas - core.ready);
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: d.name,
        namespace: d.namespace,
        uid: d.uid,
        resourceVersion: String(d.rv),
        generation: d.generation,
        creationTimestamp: iso(d.createdMs),
        labels: { ...d.labels },
        annotations: { ...d.annotations, [REVISION_ANNOTATION]: String(core.revision) },
      },
      spec: {
        replicas: d.replicas,
        selector: { matchLabels: { ...d.selector } },
        template: clone(d.template),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {
        observedGeneration: d.generation,
        replicas: core.replicas,
        updatedReplicas: core.updated,
        readyReplicas: core.ready,
        availableReplicas: core.ready,
        ...(unavailable > 0 ? { unavailableReplicas: unavailable } : {}),
        conditions,
      },
    };
  }

  private replicaSetStatus(rs: ReplicaSetState): ReplicaSet['status'] {
    const pods = this.podsOfRs(rs).length;
    const ready = this.readyCount(rs);
    return { replicas: pods, fullyLabeledReplicas: pods, readyReplicas: ready, availableReplicas: ready, observedGeneration: rs.generation };
  }

  private templateWithHash(rs: ReplicaSetState): PodTemplateSpec {
    const t = clone(rs.template);
    t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, [POD_TEMPLATE_HASH_LABEL]: rs.templateHash } };
    return t;
  }

  private renderReplicaSet(rs: ReplicaSetState): ReplicaSet {
    const d = this.deployments.get(key(rs.namespace, rs.deployment))!;
    const template = this.templateWithHash(rs);
    const { maxSurge } = rollingLimits(d.replicas);
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rs.name,
        namespace: rs.namespace,
        uid: rs.uid,
        resourceVersion: String(rs.rv),
        generation: rs.generation,
        creationTimestamp: iso(rs.createdMs),
        labels: { ...template.metadata!.labels },
        annotations: {
          [REVISION_ANNOTATION]: String(rs.revision),
          'deployment.kubernetes.io/desired-replicas': String(d.replicas),
          'deployment.kubernetes.io/max-replicas': String(d.replicas + maxSurge),
          ...(rs.changeCause !== undefined ? { [CHANGE_CAUSE_ANNOTATION]: rs.changeCause } : {}),
        },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.name, uid: d.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: rs.replicas, selector: { matchLabels: { ...d.selector, [POD_TEMPLATE_HASH_LABEL]: rs.templateHash } }, template },
      status: this.replicaSetStatus(rs),
    };
  }

  private renderPod(p: PodState): Pod {
    const rs = this.replicaSets.get(key(p.namespace, p.replicaSet))!;
    const template = this.templateWithHash(rs);
    const ready = p.readySinceMs !== undefined;
    const readyCondition = (type: string): Condition => ({
      type,
      status: ready ? 'True' : 'False',
      lastTransitionTime: iso(p.readySinceMs ?? p.createdMs),
      ...(ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${template.spec.containers.map((c) => c.name).join(' ')}]` }),
    });
    const guaranteed = template.spec.containers.every(
      (c) => c.resources?.limits && c.resources.requests && canonicalJson(c.resources.limits) === canonicalJson(c.resources.requests),
    );
    const hostIP = `10.0.0.${Number(p.node.split('-').pop()) + 10}`;
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: p.name,
        namespace: p.namespace,
        uid: p.uid,
        resourceVersion: String(p.rv),
        creationTimestamp: iso(p.createdMs),
        labels: { ...template.metadata!.labels },
        ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.name, uid: rs.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { ...template.spec, nodeName: p.node, restartPolicy: (template.spec['restartPolicy'] as string | undefined) ?? 'Always' },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: iso(p.createdMs) },
          { type: 'Initialized', status: 'True', lastTransitionTime: iso(p.createdMs) },
          readyCondition('ContainersReady'),
          readyCondition('Ready'),
        ],
        hostIP,
        podIP: p.ip,
        podIPs: [{ ip: p.ip }],
        startTime: iso(p.createdMs),
        containerStatuses: template.spec.containers.map((c) => ({
          name: c.name,
          ready,
          started: true,
          restartCount: 0,
          image: c.image,
          imageID: `${c.image.split(':')[0]}@sha256:${sha256Hex(c.image)}`,
          containerID: `containerd://${sha256Hex(`${p.uid}/${c.name}`)}`,
          state: { running: { startedAt: iso(p.createdMs) } },
        })),
        qosClass: guaranteed ? 'Guaranteed' : template.spec.containers.some((c) => c.resources?.limits || c.resources?.requests) ? 'Burstable' : 'BestEffort',
      },
    };
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function toSelector(s: string | LabelSelector | undefined): LabelSelector {
  return typeof s === 'object' ? s : parseLabelSelector(s);
}
