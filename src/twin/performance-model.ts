// How a pod of the cluster twin performs: request latency from load (queueing) and from garbage
// collection, and how a JVM heap fills under allocation pressure. Pure functions of state and
// conditions, with every constant named here, so the twin stays deterministic and the story of an
// incident can be read off the equations. It must never read a clock, draw random numbers or do I/O;
// the twin owns time and randomness.
//
// The JVM is modelled phenomenologically, not simulated:
// - The heap is split as the JVM options say (-Xmx / -XX:MaxRAMPercentage, -Xmn / -XX:NewRatio).
//   Container memory = non-heap + the young generation (always committed) + the occupied old generation.
// - `fill` is the old generation's occupancy after collection. Request-scoped objects that are still
//   in flight at a young collection get promoted prematurely; that promotion grows with the allocation
//   rate squared (more allocation, and shorter young-GC intervals) and with the time requests stay in
//   flight, and shrinks with a bigger young generation. Concurrent collection reclaims at a rate that
//   peaks at half-full and chokes as the old generation runs out of free regions. Promotion above
//   that peak is a tipping point: the fill creeps for a long time, then runs away, and the longer
//   pauses keep requests in flight longer, which promotes more (the GC death spiral).
// - Young collections are short and frequent; old-generation collections get more frequent and
//   longer as the fill grows. A request that arrives during a pause, or in the backlog behind it,
//   waits for up to the pause length.
// - Each request's own service time is log-normal, stretched by 1/(1-utilisation) (M/M/1-like); GC
//   time is time the pod cannot serve. Load above capacity is shed as errors.
// - The service's latency distribution is the traffic-weighted mixture of its ready pods', so the
//   p99 is set by the slowest pods' share of the traffic, not by an average.
// - CPU throttling (CFS), for a workload whose requests spread their work over several threads
//   (`burstCores`): the kernel gives the container its limit's worth of CPU per 100 ms period; work
//   that runs on more cores than the limit uses that quota up early and the container is frozen for
//   the rest of the period. A request whose own work, with that of the requests sharing its period,
//   exceeds the quota waits out one freeze per quota it exhausts (the first from wherever in the
//   period the quota ran out, the others whole). That part of the latency depends little on how many
//   pods share the load (a request whose own work outruns the quota is throttled even alone) and much
//   on the limit: more replicas barely help, a higher limit does. Without `burstCores` a pod never
//   outruns its quota within a period, and the model is as it was.

/** How the JVM options split a container's memory. Fractions of the container memory limit. */
export interface JvmProfile {
  /** Max heap / memory limit. */
  heapOfLimit: number;
  /** Young generation / max heap. */
  youngOfHeap: number;
}

/** What a workload is like, independent of how it is deployed. Twin-only: not part of any API object. */
export interface Workload {
  /** Median time to serve one request on an idle pod. */
  baseLatencyMs: number;
  /** Log-normal spread (sigma) of a request's own service time. */
  latencySigma: number;
  /** Requests per second one core can serve. */
  rpsPerCore: number;
  /** Per-pod load the heap constants are calibrated for (allocation pressure 1.0). */
  refRpsPerPod: number;
  /** Long-lived heap objects (caches, sessions) as a fraction of the memory limit. */
  liveSetOfLimit: number;
  /** Metaspace, thread stacks, code cache, direct buffers: fraction of the memory limit. */
  nonHeapOfLimit: number;
  /**
   * CPU the pod burns whatever its traffic (a batch job, a runaway thread), in cores. It comes out of
   * the pod's own capacity and, beyond its request, out of its neighbours' (node-contention.ts).
   */
  backgroundCpuCores?: number;
  /**
   * Cores one request's work runs on at once (its worker threads: a fan-out, a parallel stream). Above
   * the pod's CPU limit the container outruns its CFS quota within a period and is throttled; absent:
   * one core, and no throttling is modelled.
   */
  burstCores?: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  baseLatencyMs: 42,
  latencySigma: 0.45,
  rpsPerCore: 600,
  refRpsPerPod: 200,
  liveSetOfLimit: 0.3,
  nonHeapOfLimit: 0.06,
};

/** The model's constants; calibrated so that the seed incident reads as DESIGN §6 tells it. */
export const MODEL = {
  /** Young-GC time per minute at allocation pressure 1 with a young generation of 10% of the limit. */
  youngGcMsPerMin: 1100,
  youngPauseMs: 20,
  /** Old-generation GC time per minute at pressure 1 and a full old generation. */
  oldGcMsPerMin: 5100,
  oldPauseMinMs: 150,
  oldPauseMaxMs: 1650,
  /** Premature promotion, in old-generation fractions per second, at pressure 1, young = 10% of limit. */
  promotionPerS: 0.0032,
  /** Reclaim rate constant of the concurrent collector (per second). */
  reclaimPerS: 0.033,
  /** The old generation never quite reaches 100%: the JVM throws OutOfMemoryError first (not modelled). */
  maxFill: 0.975,
  /** Share of a core used per unit of GC time (parallel collector threads). */
  gcCpuCores: 1.5,
  /** CPU a pod burns while it starts (class loading, JIT). */
  startupMillicores: 350,
  /** The CFS period: the container gets limit × period of CPU in each (the kernel's default, 100 ms). */
  cfsPeriodMs: 100,
  /** Latency reported when no pod is ready: the client timeout. */
  timeoutMs: 30_000,
} as const;

/** JVM defaults when an option is absent: 25% of RAM as max heap, NewRatio=2. */
const JVM_DEFAULT: JvmProfile = { heapOfLimit: 0.25, youngOfHeap: 1 / 3 };

const SIZE = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)$/;
const SIZE_UNIT: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

function jvmSize(s: string): number | undefined {
  const m = SIZE.exec(s);
  return m ? Number(m[1]) * SIZE_UNIT[m[2]!.toLowerCase()]! : undefined;
}

/** Reads the heap layout out of JVM options the way the JVM would, for a container of `memoryLimitBytes`. */
export function parseJvmOptions(options: string, memoryLimitBytes: number): JvmProfile {
  let heapBytes: number | undefined;
  let heapOfLimit = JVM_DEFAULT.heapOfLimit;
  let youngBytes: number | undefined;
  let newRatio: number | undefined;
  for (const opt of options.split(/\s+/).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^-Xmx(.+)$/.exec(opt))) heapBytes = jvmSize(m[1]!) ?? heapBytes;
    else if ((m = /^-XX:MaxHeapSize=(.+)$/.exec(opt))) heapBytes = jvmSize(m[1]!) ?? heapBytes;
    else if ((m = /^-XX:MaxRAMPercentage=(\d+(?:\.\d+)?)$/.exec(opt))) heapOfLimit = Number(m[1]) / 100;
    else if ((m = /^-Xmn(.+)$/.exec(opt))) youngBytes = jvmSize(m[1]!) ?? youngBytes;
    else if ((m = /^-XX:NewRatio=(\d+)$/.exec(opt))) newRatio = Number(m[1]);
  }
  // -Xmx wins over MaxRAMPercentage, -Xmn over NewRatio, as in HotSpot.
  if (heapBytes !== undefined && memoryLimitBytes > 0) heapOfLimit = heapBytes / memoryLimitBytes;
  heapOfLimit = clamp(heapOfLimit, 0.05, 0.98);
  let youngOfHeap = newRatio !== undefined ? 1 / (newRatio + 1) : JVM_DEFAULT.youngOfHeap;
  if (youngBytes !== undefined && memoryLimitBytes > 0) youngOfHeap = youngBytes / (heapOfLimit * memoryLimitBytes);
  return { heapOfLimit, youngOfHeap: clamp(youngOfHeap, 0.02, 0.9) };
}

/** A pod's evolving heap. */
export interface HeapState {
  /** Old-generation occupancy after collection, in [floor, MODEL.maxFill]. */
  fill: number;
  /** How much more than average this pod's traffic allocates (sticky sessions, big carts); ~1. */
  allocationSkew: number;
}

export interface PodConditions {
  /** Requests per second routed to this pod. */
  rps: number;
  cpuLimitCores: number;
  /**
   * The cores the pod can actually get on its node when neighbours compete (node-contention.ts);
   * absent: its limit.
   */
  cpuAvailableCores?: number;
  /** Per-core speed on a busy node (shared caches, SMT siblings), in (0, 1]; absent: 1. */
  cpuSpeed?: number;
  memoryLimitBytes: number;
  /** Absent for workloads without a JVM: no GC, constant memory. */
  jvm: JvmProfile | undefined;
  workload: Workload;
  /**
   * Native memory the container has leaked since it started (a leaking code version, see
   * MEMORY_LEAK_ANNOTATION), in bytes; absent: none. It counts in the container's memory and, for a
   * JVM, leaves the old generation less room to commit (see layout).
   */
  leakedBytes?: number;
}

/** A ready pod's performance at one instant. */
export interface PodPerformance {
  rps: number;
  utilisation: number;
  errorRatio: number;
  /** Median of the request's own service time, queueing included. */
  medianMs: number;
  sigma: number;
  /** Share of requests delayed by a young / old-generation pause, and the pause lengths. */
  youngHit: number;
  youngPauseMs: number;
  oldHit: number;
  oldPauseMs: number;
  gcPauseMsPerMin: number;
  meanLatencyMs: number;
  memoryBytes: number;
  cpuMillicores: number;
  /** Share of CFS periods in which the container ran out of its quota (nr_throttled / nr_periods). */
  throttledRatio: number;
  /** How long a throttled container is frozen, and the share of requests that wait out 0, 1, 2… freezes. */
  throttle?: { pauseMs: number; waits: number[] };
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

interface HeapLayout {
  young: number;
  old: number;
  /** The fill below which nothing can be reclaimed: the live set. */
  floor: number;
}

/** The live set may fill at most this much of the old generation; beyond it the heap cannot fit in the container. */
const MAX_FLOOR = 0.9;

/**
 * `leak`: leaked native memory as a fraction of the limit. The heap and the leak share the container:
 * once the leak eats into the room the configured heap would need, the old generation can commit
 * only what is left, so the same live set fills a smaller old generation and the collector runs
 * more often and longer (the GC pressure the rest of the model already turns into pauses).
 */
function layout(jvm: JvmProfile, w: Workload, leak = 0): HeapLayout {
  const young = jvm.heapOfLimit * jvm.youngOfHeap;
  const configured = jvm.heapOfLimit - young;
  const room = 1 - w.nonHeapOfLimit - young - leak;
  const old = Math.max(0.01, Math.min(configured, room));
  return { young, old, floor: clamp(w.liveSetOfLimit / old, 0, MAX_FLOOR) };
}

const leakOf = (c: Pick<PodConditions, 'memoryLimitBytes' | 'leakedBytes'>): number =>
  c.leakedBytes && c.memoryLimitBytes > 0 ? c.leakedBytes / c.memoryLimitBytes : 0;

/**
 * How much native memory a container of this workload can leak before it no longer fits in its
 * limit and the kernel's OOM killer ends it, in bytes. Without a JVM: the limit minus what the
 * process itself holds. With one: the limit minus non-heap, the young generation and an old
 * generation just big enough for the live set (MAX_FLOOR) — past that, the heap would have to grow
 * beyond what the cgroup allows.
 */
export function leakHeadroomBytes(c: Pick<PodConditions, 'jvm' | 'workload' | 'memoryLimitBytes'>): number {
  const w = c.workload;
  if (!c.jvm) return Math.max(0, c.memoryLimitBytes * (1 - w.nonHeapOfLimit - w.liveSetOfLimit));
  const young = c.jvm.heapOfLimit * c.jvm.youngOfHeap;
  return Math.max(0, c.memoryLimitBytes * (1 - w.nonHeapOfLimit - young - w.liveSetOfLimit / MAX_FLOOR));
}

/** The fill of a fresh heap: only the live set. */
export function freshFill(jvm: JvmProfile | undefined, w: Workload): number {
  return jvm ? layout(jvm, w).floor : 0;
}

function memoryBytes(fill: number, c: Pick<PodConditions, 'jvm' | 'workload' | 'memoryLimitBytes' | 'leakedBytes'>): number {
  const leaked = c.leakedBytes ?? 0;
  if (!c.jvm) return c.memoryLimitBytes * (c.workload.nonHeapOfLimit + c.workload.liveSetOfLimit) + leaked;
  const l = layout(c.jvm, c.workload, leakOf(c));
  return c.memoryLimitBytes * (c.workload.nonHeapOfLimit + l.young + l.old * Math.max(fill, l.floor)) + leaked;
}

/** Memory of a pod that is still starting: a fresh heap. */
export function startingPodMemoryBytes(c: Pick<PodConditions, 'jvm' | 'workload' | 'memoryLimitBytes' | 'leakedBytes'>): number {
  return memoryBytes(freshFill(c.jvm, c.workload), c);
}

/** Relative fill of the reclaimable part of the old generation, in [0, 1]. */
const pressureOf = (fill: number, l: HeapLayout): number => clamp((fill - l.floor) / (1 - l.floor), 0, 1);

export function podPerformance(heap: HeapState, c: PodConditions): PodPerformance {
  const w = c.workload;
  const cores = c.cpuAvailableCores ?? c.cpuLimitCores;
  const speed = c.cpuSpeed ?? 1;
  const background = w.backgroundCpuCores ?? 0;
  const capacityRps = w.rpsPerCore * speed * Math.max(0.01 * cores, cores - background);
  // Allocation pressure: load relative to the load the heap constants are calibrated for.
  const u = c.rps / w.refRpsPerPod;
  let youngMs = 0;
  let oldMs = 0;
  let oldPauseMs: number = MODEL.oldPauseMinMs;
  if (c.jvm) {
    const l = layout(c.jvm, w, leakOf(c));
    const x = pressureOf(heap.fill, l);
    // Young collections: as often as the allocation rate fills the young generation.
    youngMs = MODEL.youngGcMsPerMin * u * (0.1 / l.young);
    // Old collections: rare while there is free old space, back to back when there is none.
    oldMs = MODEL.oldGcMsPerMin * u * x ** 3;
    oldPauseMs = MODEL.oldPauseMinMs + (MODEL.oldPauseMaxMs - MODEL.oldPauseMinMs) * x ** 2;
  }
  const gcFraction = Math.min(0.9, (youngMs + oldMs) / 60_000);
  const effectiveCapacity = capacityRps * (1 - gcFraction);
  const rho = c.rps / effectiveCapacity;
  const errorRatio = rho > 1 ? 1 - 1 / rho : 0;
  // Saturated pods time requests out rather than queue forever; the latency model stops at 95%.
  const rhoQ = Math.min(rho, 0.95);
  const medianMs = w.baseLatencyMs / speed / (1 - rhoQ);
  // A pause also delays the backlog that builds up behind it: the affected window is pause/(1-rho).
  const youngHit = Math.min(1, youngMs / 60_000 / (1 - rhoQ));
  const oldHit = Math.min(1 - youngHit, oldMs / 60_000 / (1 - rhoQ));
  const meanLatencyMs =
    medianMs * Math.exp((w.latencySigma * w.latencySigma) / 2) + (youngHit * MODEL.youngPauseMs + oldHit * oldPauseMs) / 2;
  const cpuMillicores = Math.min(
    cores * 1000,
    (1000 * c.rps * (1 - errorRatio)) / (w.rpsPerCore * speed) + 1000 * MODEL.gcCpuCores * gcFraction + 1000 * background,
  );
  const throttle = cfsThrottling(c.rps, cores, 1000 / (w.rpsPerCore * speed), w.burstCores);
  return {
    rps: c.rps,
    utilisation: rho,
    errorRatio,
    medianMs,
    sigma: w.latencySigma,
    youngHit,
    youngPauseMs: MODEL.youngPauseMs,
    oldHit,
    oldPauseMs,
    gcPauseMsPerMin: youngMs + oldMs,
    meanLatencyMs: meanLatencyMs + (throttle ? throttle.waits.reduce((sum, share, n) => sum + share * (n > 0 ? (n - 0.5) * throttle.pauseMs : 0), 0) : 0),
    memoryBytes: memoryBytes(heap.fill, c),
    cpuMillicores,
    throttledRatio: throttle?.ratio ?? 0,
    ...(throttle ? { throttle: { pauseMs: throttle.pauseMs, waits: throttle.waits } } : {}),
  };
}

/** Poisson probabilities P(N = 0..), until what is left is negligible. */
function poisson(lambda: number): number[] {
  const out: number[] = [];
  let p = Math.exp(-lambda);
  let total = 0;
  for (let k = 0; k < 200 && (k <= lambda || 1 - total > 1e-6); k++) {
    out.push(p);
    total += p;
    p = (p * lambda) / (k + 1);
  }
  return out;
}

/**
 * CFS throttling of a pod serving `rps` requests per second of `cpuMsPerRequest` each, on `burstCores`
 * at once, under a limit of `cores`. The requests arriving in one period are Poisson; a period is
 * throttled when their work exceeds the quota, and a request waits out one freeze per quota that its
 * work and that of the others in its period use up. Undefined when the work never outruns the quota.
 */
export function cfsThrottling(
  rps: number,
  cores: number,
  cpuMsPerRequest: number,
  burstCores: number | undefined,
): { ratio: number; pauseMs: number; waits: number[] } | undefined {
  if (burstCores === undefined || burstCores <= cores || rps <= 0 || cores <= 0) return undefined;
  const period = MODEL.cfsPeriodMs;
  const quotaMs = cores * period;
  const pauseMs = period * (1 - cores / burstCores);
  const arrivals = poisson((rps * period) / 1000);
  // Periods whose requests' work exceeds the quota.
  const enough = Math.floor(quotaMs / cpuMsPerRequest + 1e-9) + 1;
  const ratio = arrivals.slice(enough).reduce((a, b) => a + b, 0);
  const waits: number[] = [];
  arrivals.forEach((p, others) => {
    const n = Math.floor((cpuMsPerRequest * (1 + others)) / quotaMs + 1e-9);
    waits[n] = (waits[n] ?? 0) + p;
  });
  for (let n = 0; n < waits.length; n++) waits[n] ??= 0;
  return { ratio: Math.min(1, ratio), pauseMs, waits };
}

/** The mean latency of a healthy pod at its reference load: the yardstick for "time in flight". */
function referenceLatencyMs(c: PodConditions): number {
  const w = c.workload;
  const rho = w.refRpsPerPod / (w.rpsPerCore * c.cpuLimitCores);
  return (w.baseLatencyMs / (1 - Math.min(rho, 0.95))) * Math.exp((w.latencySigma * w.latencySigma) / 2);
}

/** The heap after `dtS` seconds of serving under `perf`. Forward Euler; the twin keeps dtS at 1 s. */
export function advanceHeap(heap: HeapState, perf: PodPerformance, c: PodConditions, dtS: number): HeapState {
  if (!c.jvm) return heap;
  const l = layout(c.jvm, c.workload, leakOf(c));
  const u = c.rps / c.workload.refRpsPerPod;
  const inFlight = perf.meanLatencyMs / referenceLatencyMs(c);
  const promotion = MODEL.promotionPerS * heap.allocationSkew * u * u * inFlight * (0.1 / l.young) ** 2 * (0.8 / l.old);
  const reclaim = MODEL.reclaimPerS * Math.max(0, heap.fill - l.floor) * (1 - heap.fill);
  const fill = clamp(heap.fill + (promotion - reclaim) * dtS, l.floor, MODEL.maxFill);
  return { ...heap, fill };
}

/** An idle (not ready, or no traffic) pod's heap does not change. */
export function idlePerformance(heap: HeapState, c: PodConditions): PodPerformance {
  return { ...podPerformance(heap, { ...c, rps: 0 }), cpuMillicores: MODEL.startupMillicores + 1000 * (c.workload.backgroundCpuCores ?? 0) };
}

// ---- the service's latency distribution -------------------------------------------------------

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 through erf; error < 1.5e-7). */
function phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** P(latency <= x) for one pod: log-normal service time, some requests also waiting out a pause or CFS freezes. */
function podCdf(p: PodPerformance, x: number): number {
  const t = p.throttle;
  if (!t || t.pauseMs <= 0) return podCdfUnthrottled(p, x);
  return t.waits.reduce((sum, share, n) => (share > 0 ? sum + share * throttledCdf(p, x, n, t.pauseMs) : sum), 0);
}

/** Points at which a freeze's partial wait is sampled (midpoints): enough for a smooth quantile. */
const FREEZE_STEPS = 8;

/**
 * P(latency <= x) for a request that waits out `n` freezes: the first from wherever in its period the
 * quota ran out (uniform up to the pause), the others whole.
 */
function throttledCdf(p: PodPerformance, x: number, n: number, pauseMs: number): number {
  if (n === 0) return podCdfUnthrottled(p, x);
  let sum = 0;
  for (let i = 0; i < FREEZE_STEPS; i++) sum += podCdfUnthrottled(p, x - (n - 1) * pauseMs - ((i + 0.5) / FREEZE_STEPS) * pauseMs);
  return sum / FREEZE_STEPS;
}

function podCdfUnthrottled(p: PodPerformance, x: number): number {
  if (x <= 0) return 0;
  const service = phi((Math.log(x) - Math.log(p.medianMs)) / p.sigma);
  const waited = (pause: number) => clamp((x - p.medianMs) / pause, 0, 1);
  const clean = 1 - p.youngHit - p.oldHit;
  return clean * service + p.youngHit * waited(p.youngPauseMs) + p.oldHit * waited(p.oldPauseMs);
}

/** The q-quantile of the traffic-weighted mixture of the pods' latency distributions. */
export function mixtureQuantile(pods: readonly { weight: number; perf: PodPerformance }[], q: number): number {
  const total = pods.reduce((s, p) => s + p.weight, 0);
  if (pods.length === 0 || total <= 0) return MODEL.timeoutMs;
  const cdf = (x: number) => pods.reduce((s, p) => s + p.weight * podCdf(p.perf, x), 0) / total;
  let lo = 0;
  let hi: number = MODEL.timeoutMs;
  if (cdf(hi) < q) return MODEL.timeoutMs;
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return hi;
}
