// Builds a cluster twin from a validated scenario file (scenario-file.ts): nodes, namespaces, config
// maps, deployments with their rollout history and load, then the faults — as state and causes, never
// as a metric timeline. A fault in the past is part of the initial state (a revision rolled out 47
// minutes ago, three heaps already on the edge); a fault in the future is a change the scenario makes
// to the cluster at its time (a rollout, a config push, a daemon starting to leak), armed on the same
// clock the twin runs on. What happens next is the twin's model, so Governor's actions can change the
// ending. It also runs the same cluster undisturbed (the look-ahead) to say when the incident starts.
// It must never read the wall clock, draw unseeded randomness or mutate the caller's clock.
import { SLO_P99_ANNOTATION } from '../../cluster/watch-targets.ts';
import type { Clock } from '../../core/clock.ts';
import { GovernorError } from '../../core/errors.ts';
import { parseTenants, type Tenants } from '../../governance/tenants.ts';
import { ClusterTwin, type DeploymentSetup, type NodeSetup, type RevisionSetup } from '../cluster-twin.ts';
import { MEMORY_LEAK_ANNOTATION, type PodTemplateSpec } from '../kube-objects.ts';
import { diurnal, rpsAt, spike, step, traceLoad, type LoadSource } from '../load-shapes.ts';
import { DEFAULT_WORKLOAD, parseJvmOptions, type Workload } from '../performance-model.ts';
import { Prng, deriveSeed } from '../prng.ts';
import { parseQuantity } from '../quantity.ts';
import { loadTrace } from '../traces.ts';
import { CONFIG_EFFECTS, FLAGS_FILE_KEY, flipFlag } from './config-effects.ts';
import { poolNodeNames, type DeploymentSpec, type LoadSpec, type NodePoolSpec, type ScenarioSpec, type TenantScenarioSpec } from './scenario-file.ts';
import { serviceTemplate } from './service-template.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface ScenarioTarget {
  tenant: string;
  namespace: string;
  deployment: string;
  sloP99Ms: number;
}

export interface BuildOptions {
  seed?: number;
  tracesDir?: string;
}

/** A change the scenario makes to the cluster at a given time. */
interface ScheduledFault {
  atMs: number;
  what: string;
  apply: (twin: ClusterTwin) => void;
}

/** The watched services and their objectives, in file order. */
export function targetsOf(spec: ScenarioSpec): ScenarioTarget[] {
  const out: ScenarioTarget[] = [];
  for (const t of spec.tenants)
    for (const ns of t.namespaces)
      for (const d of ns.deployments)
        if (d.watch) out.push({ tenant: t.id, namespace: ns.name, deployment: d.name, sloP99Ms: d.slo_p99_ms ?? t.governance.slo.p99_latency_ms });
  return out;
}

/** The scenario's tenants as the gateway reads them (config/tenants.json's shape, validated the same way). */
export function tenantsOf(spec: ScenarioSpec, source: string): Tenants {
  const tenants: Record<string, unknown> = {};
  for (const t of spec.tenants) {
    tenants[t.id] = { tier: t.tier, environment: t.environment, namespaces: t.namespaces.map((n) => n.name), ...t.governance };
  }
  return parseTenants({ freezes: spec.freezes, tenants }, `the tenants of scenario ${source}`);
}

/** A pod template the way the scenario's services are packaged (service-template.ts). */
export function templateOf(tenant: string, d: DeploymentSpec, image: string, jvmOptions: string | null | undefined, extraAnnotations: Record<string, string> = {}): PodTemplateSpec {
  return serviceTemplate({
    tenant,
    name: d.name,
    image,
    jvmOptions,
    resources: d.resources,
    ...(d.config ? { config: { configMap: d.config.config_map, env: d.config.env } } : {}),
    nodeSelector: d.node_selector,
    annotations: extraAnnotations,
  });
}

function loadOf(l: LoadSpec, start: number, opts: BuildOptions): LoadSource {
  if (typeof l === 'number') return l;
  if ('constant' in l) return l.constant;
  if ('diurnal' in l) {
    return diurnal({ meanRps: l.diurnal.mean_rps, amplitude: l.diurnal.amplitude, ...(l.diurnal.peak_hour_utc !== undefined ? { peakHourUtc: l.diurnal.peak_hour_utc } : {}) });
  }
  const t = l.trace;
  const trace = loadTrace(t.name, opts.tracesDir);
  const scale = t.peak_rps !== undefined ? { peakRps: t.peak_rps } : t.mean_rps !== undefined ? { meanRps: t.mean_rps } : { factor: t.factor! };
  return traceLoad(trace, { anchorMs: start, ...(t.from ? { fromMs: Date.parse(t.from) } : {}), shiftMs: (t.shift_hours ?? 0) * 3_600_000, scale });
}

function workloadOf(d: DeploymentSpec): Partial<Workload> | undefined {
  const w = d.workload;
  if (!w) return undefined;
  const out: Partial<Workload> = {};
  if (w.base_latency_ms !== undefined) out.baseLatencyMs = w.base_latency_ms;
  if (w.latency_sigma !== undefined) out.latencySigma = w.latency_sigma;
  if (w.rps_per_core !== undefined) out.rpsPerCore = w.rps_per_core;
  if (w.ref_rps_per_pod !== undefined) out.refRpsPerPod = w.ref_rps_per_pod;
  if (w.live_set_of_limit !== undefined) out.liveSetOfLimit = w.live_set_of_limit;
  if (w.non_heap_of_limit !== undefined) out.nonHeapOfLimit = w.non_heap_of_limit;
  if (w.background_cpu_cores !== undefined) out.backgroundCpuCores = w.background_cpu_cores;
  if (w.burst_cores !== undefined) out.burstCores = w.burst_cores;
  return out;
}

/** The nodes of the pools that join at `when`: from the beginning ('initial') or later (a join time). */
function nodesOf(pools: readonly NodePoolSpec[], all: readonly NodePoolSpec[]): NodeSetup[] {
  const nodes: NodeSetup[] = [];
  // Zones go round the whole cluster, in the order the file declares the nodes.
  let index = 0;
  for (const p of all) {
    for (const name of poolNodeNames(p)) {
      const zone = `eu-west-1${'abc'[index++ % 3]}`;
      if (!pools.includes(p)) continue;
      nodes.push({
        name,
        cpu: p.cpu,
        memory: p.memory,
        ...(p.allocatable ? { allocatable: p.allocatable } : {}),
        labels: { 'governor.io/node-pool': p.pool, 'topology.kubernetes.io/zone': zone, ...p.labels },
      });
    }
  }
  return nodes;
}

const splitRef = (ref: string): [string, string] => ref.split('/') as [string, string];
const round9 = (x: number): number => Math.round(x * 1e9) / 1e9;

interface Located {
  tenant: TenantScenarioSpec;
  namespace: string;
  d: DeploymentSpec;
}

function locate(spec: ScenarioSpec, ref: string): Located {
  const [ns, name] = splitRef(ref);
  for (const t of spec.tenants)
    for (const n of t.namespaces) if (n.name === ns) for (const d of n.deployments) if (d.name === name) return { tenant: t, namespace: ns, d };
  throw new GovernorError('config_invalid', `scenario ${spec.name}: no deployment '${ref}'`);
}

interface Populated {
  /** The changes still to come, in time order. */
  scheduled: ScheduledFault[];
  /** The pods whose heaps a jvm_heap_regression fault put on the edge, by target ("namespace/deployment"). */
  sickPods: Record<string, string[]>;
}

/**
 * Puts the scenario's cluster into `twin` at the clock's time and says what is still to come. The
 * order of creation is part of the scenario (uids and pod names come from the seed in that order).
 */
function populate(twin: ClusterTwin, spec: ScenarioSpec, start: number, seed: number, opts: BuildOptions): Populated {
  for (const t of spec.tenants)
    for (const ns of t.namespaces)
      twin.addNamespace(ns.name, { 'governor.io/tenant': t.id, 'governor.io/environment': t.environment, 'governor.io/tier': t.tier }, start - ns.created_days_ago * DAY);
  for (const ns of spec.system_namespaces) twin.addNamespace(ns.name, {}, start - ns.created_days_ago * DAY);

  const scheduled: ScheduledFault[] = [];
  const extraRevisions = new Map<string, RevisionSetup[]>();
  const loadWrappers = new Map<string, ((l: LoadSource) => LoadSource)[]>();
  const addTo = <T>(m: Map<string, T[]>, k: string, v: T) => m.set(k, [...(m.get(k) ?? []), v]);
  const lastImage = (d: DeploymentSpec) => d.revisions[d.revisions.length - 1]!.image;
  const lastJvm = (d: DeploymentSpec) => d.revisions[d.revisions.length - 1]!.jvm_options ?? d.jvm_options;

  for (const f of spec.faults) {
    switch (f.kind) {
      case 'jvm_heap_regression': {
        const { tenant, d } = locate(spec, f.target);
        addTo(extraRevisions, f.target, { template: templateOf(tenant.id, d, lastImage(d), f.jvm_options), changeCause: f.change_cause, createdAtMs: start - f.rolled_out_min_ago * MINUTE });
        break;
      }
      case 'traffic_surge': {
        const shape = spike({ baseRps: 1, peakRps: f.peak_factor, atMs: start + f.at_s * 1000, rampMs: f.ramp_s * 1000, holdMs: f.hold_s * 1000 });
        // More users arrive: the service's own load, multiplied; its diurnal shape or trace stays underneath.
        addTo(loadWrappers, f.target, (l: LoadSource) => (t: number) => rpsAt(l, t) * rpsAt(shape, t));
        break;
      }
      case 'noisy_neighbor': {
        const burst = step({ beforeRps: 0, afterRps: f.burst_rps, atMs: start + f.at_s * 1000 });
        addTo(loadWrappers, f.aggressor, (l: LoadSource) => (t: number) => rpsAt(l, t) + rpsAt(burst, t));
        break;
      }
      case 'memory_leak': {
        const { tenant, d } = locate(spec, f.target);
        const template = templateOf(tenant.id, d, f.image, lastJvm(d), { [MEMORY_LEAK_ANNOTATION]: String(f.mib_per_min) });
        if (f.at_s <= 0) addTo(extraRevisions, f.target, { template, changeCause: f.change_cause, createdAtMs: start + f.at_s * 1000 });
        else {
          const [ns, name] = splitRef(f.target);
          scheduled.push({ atMs: start + f.at_s * 1000, what: `rollout of ${f.target}: ${f.change_cause}`, apply: (tw) => tw.applyTemplate(ns, name, template, f.change_cause) });
        }
        break;
      }
      case 'bad_config_push': {
        scheduled.push({
          atMs: start + f.at_s * 1000,
          what: `config push to ${f.namespace}/${f.config_map}: ${f.change_cause}`,
          apply: (tw) => {
            const cm = tw.getConfigMap(f.namespace, f.config_map)!;
            const annotations = { ...cm.metadata.annotations, 'kubernetes.io/change-cause': f.change_cause };
            tw.replaceConfigMap(f.namespace, f.config_map, { metadata: { name: f.config_map, labels: cm.metadata.labels ?? {}, annotations }, data: { ...cm.data, ...f.set } });
          },
        });
        break;
      }
      case 'feature_flag_flip': {
        scheduled.push({
          atMs: start + f.at_s * 1000,
          what: `flag ${f.flag} in ${f.namespace}/${f.config_map} set to ${[f.state, f.default_variant].filter(Boolean).join('/')}: ${f.change_cause}`,
          apply: (tw) => {
            const cm = tw.getConfigMap(f.namespace, f.config_map)!;
            const annotations = { ...cm.metadata.annotations, 'kubernetes.io/change-cause': f.change_cause };
            const data = { ...cm.data, [FLAGS_FILE_KEY]: flipFlag(cm.data?.[FLAGS_FILE_KEY] ?? '{}', f.flag, f.state, f.default_variant) };
            tw.replaceConfigMap(f.namespace, f.config_map, { metadata: { name: f.config_map, labels: cm.metadata.labels ?? {}, annotations }, data });
          },
        });
        break;
      }
      case 'node_pressure': {
        const apply = (tw: ClusterTwin) => tw.setNodeSystemMemoryLeak(f.node ?? busiestNodeOf(tw, f.on_node_of!), f.mib_per_min);
        scheduled.push({ atMs: start + f.at_s * 1000, what: `system memory leak on ${f.node ?? `the node of ${f.on_node_of}`}`, apply });
        break;
      }
    }
  }

  for (const t of spec.tenants)
    for (const ns of t.namespaces)
      for (const c of ns.config_maps) {
        twin.createConfigMap({ metadata: { name: c.name, namespace: ns.name, ...(c.labels ? { labels: c.labels } : {}) }, data: c.data }, { namespace: ns.name, createdAtMs: start - 7 * DAY });
      }

  for (const t of spec.tenants) {
    for (const ns of t.namespaces) {
      for (const d of ns.deployments) {
        const ref = `${ns.name}/${d.name}`;
        let load = loadOf(d.load, start, opts);
        for (const wrap of loadWrappers.get(ref) ?? []) load = wrap(load);
        const revisions: RevisionSetup[] = [
          ...d.revisions.map((r) => ({
            template: templateOf(t.id, d, r.image, r.jvm_options ?? d.jvm_options),
            ...(r.change_cause !== undefined ? { changeCause: r.change_cause } : {}),
            createdAtMs: start - r.age_min * MINUTE,
          })),
          ...(extraRevisions.get(ref) ?? []),
        ];
        const workload = workloadOf(d);
        const setup: DeploymentSetup = {
          namespace: ns.name,
          name: d.name,
          replicas: d.replicas,
          rps: load,
          labels: { 'governor.io/tenant': t.id, ...d.labels },
          // A watched service says so as on any cluster (DESIGN §8): its p99 objective as an annotation.
          ...(d.watch ? { annotations: { [SLO_P99_ANNOTATION]: String(d.slo_p99_ms ?? t.governance.slo.p99_latency_ms) } } : {}),
          revisions,
          ...(workload ? { workload } : {}),
          ...(d.config?.effect !== undefined ? { configEffect: CONFIG_EFFECTS[d.config.effect]!(d.config.params, d.config.flag) } : {}),
        };
        twin.addDeployment(setup);
      }
    }
  }

  // The heaps the regression has already pushed to the edge: which pods is the seed's choice.
  const sickPods: Record<string, string[]> = {};
  spec.faults.forEach((f, i) => {
    if (f.kind !== 'jvm_heap_regression') return;
    const [ns, name] = splitRef(f.target);
    const { d } = locate(spec, f.target);
    const pods = twin.listPods(ns, `app=${name}`).map((p) => p.metadata.name);
    const pick = new Prng(deriveSeed(seed, i === 0 ? 'sick-pods' : `sick-pods/${f.target}`));
    const sick: string[] = [];
    while (sick.length < Math.min(f.sick_pods, pods.length)) {
      const p = pods[Math.floor(pick.next() * pods.length)]!;
      if (!sick.includes(p)) sick.push(p);
    }
    // memory = non-heap + young + old × fill (the regressed revision's layout)
    const jvm = parseJvmOptions(f.jvm_options, parseQuantity(d.resources.limits.memory));
    const young = round9(jvm.heapOfLimit * jvm.youngOfHeap);
    const old = round9(jvm.heapOfLimit - young);
    const nonHeap = d.workload?.non_heap_of_limit ?? DEFAULT_WORKLOAD.nonHeapOfLimit;
    const fill = (f.sick_memory_utilisation - nonHeap - young) / old;
    // Not quite identical sessions, so the pods tip a few seconds apart rather than in lockstep.
    sick.forEach((p, k) => twin.tunePod(ns, p, { fill, allocationSkew: f.allocation_skew + (k - 1) * 0.03 }));
    sickPods[f.target] = sick;
  });

  // Nodes that join: at the start once everything else is placed, or later (the cluster autoscaler).
  for (const p of spec.nodes ?? []) {
    if (p.added_at_s === undefined) continue;
    const join = (tw: ClusterTwin) => {
      for (const n of nodesOf([p], spec.nodes!)) tw.addNode({ ...n, createdAtMs: tw.clock.now() });
    };
    if (p.added_at_s === 0) join(twin);
    else scheduled.push({ atMs: start + p.added_at_s * 1000, what: `node pool ${p.pool} joins`, apply: join });
  }

  return { scheduled: scheduled.sort((a, b) => a.atMs - b.atMs), sickPods };
}

/** The node carrying most of the deployment's pods (ties: the first by name). */
function busiestNodeOf(twin: ClusterTwin, ref: string): string {
  const [ns, name] = splitRef(ref);
  const count = new Map<string, number>();
  for (const p of twin.listPods(ns, `app=${name}`)) if (p.spec.nodeName) count.set(p.spec.nodeName, (count.get(p.spec.nodeName) ?? 0) + 1);
  const best = [...count.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
  if (!best) throw new GovernorError('config_invalid', `node_pressure: no pod of ${ref} is on a node`);
  return best[0];
}

/** A clock that only moves when told to: the look-ahead must not touch the caller's clock. */
function manualClock(t: number): Clock & { set(ms: number): void } {
  let now = t;
  return { now: () => now, set: (ms: number) => void (now = ms), setTimer: () => () => {}, sleep: () => Promise.resolve() };
}

export interface UndisturbedSample {
  /** Milliseconds since the start. */
  tMs: number;
  /** p99 per target, in targetsOf order. */
  p99: number[];
}

/**
 * Runs the scenario's cluster undisturbed from `startMs`, second by second, calling `onSample` every
 * `everyMs` (and at 0); stops early when `onSample` returns true. Nobody acts: this is the
 * counterfactual the incident is measured against.
 */
export function runUndisturbed(
  spec: ScenarioSpec,
  startMs: number,
  untilMs: number,
  onSample: (s: UndisturbedSample) => boolean | void,
  opts: BuildOptions & { everyMs?: number } = {},
): void {
  const seed = opts.seed ?? spec.seed;
  const look = manualClock(startMs);
  const twin = new ClusterTwin(look, twinOptions(spec, seed));
  const faults = populate(twin, spec, startMs, seed, opts).scheduled;
  const targets = targetsOf(spec);
  const every = opts.everyMs ?? 1000;
  let next = 0;
  for (let t = 0; t <= untilMs; t += 1000) {
    look.set(startMs + t);
    while (next < faults.length && faults[next]!.atMs <= startMs + t) faults[next++]!.apply(twin);
    if (t % every !== 0) continue;
    if (onSample({ tMs: t, p99: targets.map((x) => twin.serviceMetrics(x.namespace, x.deployment).p99_ms) }) === true) return;
  }
}

/** When the first watched service breaches its SLO if nothing is done; null if none does within `untilMs`. */
export function firstBreachMs(spec: ScenarioSpec, startMs: number, untilMs: number, opts: BuildOptions = {}): number | null {
  const slos = targetsOf(spec).map((t) => t.sloP99Ms);
  let at: number | null = null;
  runUndisturbed(spec, startMs, untilMs, (s) => {
    if (s.p99.some((p, i) => p > slos[i]!)) {
      at = startMs + s.tMs;
      return true;
    }
    return false;
  }, opts);
  return at;
}

function twinOptions(spec: ScenarioSpec, seed: number) {
  const nodes = spec.nodes && nodesOf(spec.nodes.filter((p) => p.added_at_s === undefined), spec.nodes);
  return { seed, ...(nodes ? { nodes } : {}), ...(spec.load_noise !== undefined ? { loadNoise: spec.load_noise } : {}) };
}

export interface BuiltScenario {
  twin: ClusterTwin;
  targets: ScenarioTarget[];
  incidentStartMs: number | null;
  /** The pods whose heaps a jvm_heap_regression fault put on the edge, by target ("namespace/deployment"). */
  sickPods: Record<string, string[]>;
}

/**
 * The scenario's cluster on `clock`, its future faults armed on the same clock, and — for a scenario
 * that declares an incident — when the SLO first breaches if nothing is done (the look-ahead; at most
 * `duration_min`).
 */
export function buildFromSpec(spec: ScenarioSpec, clock: Clock, opts: BuildOptions = {}): BuiltScenario {
  const seed = opts.seed ?? spec.seed;
  const start = clock.now();
  const twin = new ClusterTwin(clock, twinOptions(spec, seed));
  const { scheduled, sickPods } = populate(twin, spec, start, seed, opts);
  for (const f of scheduled) clock.setTimer(f.atMs - start, () => f.apply(twin));
  const incidentStartMs = spec.expect.incident ? firstBreachMs(spec, start, spec.duration_min * MINUTE, opts) : null;
  return { twin, targets: targetsOf(spec), incidentStartMs, sickPods };
}

