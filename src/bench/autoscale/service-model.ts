// One service of the cluster twin, reduced to what autoscaling sees, so a month-long trace runs in
// seconds instead of hours: the twin's own performance equations (src/twin/performance-model.ts:
// queueing, young and old GC, load shed above capacity, the p99 of the pods' latency mixture), its
// pod start-up delay (30 s from creation to Ready), its idle CPU while a pod starts, its AR(1) load
// noise, and the ReplicaSet's choice of which pods go on a scale-down (not-ready first, then the
// newest). What it leaves out, on purpose: scheduling (nodes are never short: the cluster
// autoscaler is not what is compared), per-pod differences (the load is spread evenly and the heap
// is one representative heap, fresh pods blended in), restarts and faults.
// Pure state machine: time comes in as arguments; noise from a seeded generator; no clock, no I/O.
import { Prng } from '../../twin/prng.ts';
import {
  DEFAULT_WORKLOAD,
  MODEL,
  advanceHeap,
  freshFill,
  mixtureQuantile,
  parseJvmOptions,
  podPerformance,
  type HeapState,
  type JvmProfile,
  type PodConditions,
  type Workload,
} from '../../twin/performance-model.ts';

/** The pod of the twin's WorldCup services (service-template.ts, worldcup-day.ts). */
export const BENCH_SERVICE = {
  cpuRequestMillicores: 500,
  cpuLimitMillicores: 1000,
  memoryLimitBytes: 2 * 2 ** 30,
  jvmOptions: '-XX:+UseG1GC -XX:MaxRAMPercentage=70 -XX:NewRatio=2 -XX:+ExitOnOutOfMemoryError',
  /** The twin's default: creation to Ready. */
  startupDelayMs: 30_000,
  /** acme's SLO (config/tenants.json, the seed tenant). */
  sloP99Ms: 500,
  /** The twin's default relative noise of the load. */
  loadNoiseSd: 0.02,
} as const;

/** `jvm`: the twin's WorldCup services (a JVM, whose heap can bind before its CPU); `cpu`: the same pod without a JVM. */
export type ServiceKind = 'jvm' | 'cpu';

const TWIN_SKEW_MAX = 0.95;

export interface ServiceModelOptions {
  replicas: number;
  kind?: ServiceKind;
  nowMs: number;
  seed?: number;
  workload?: Workload;
  startupDelayMs?: number;
  loadNoiseSd?: number;
}

interface Pod {
  createdMs: number;
  readyMs: number;
}

/** What one look at the service shows, as the metrics a controller reads. */
export interface ServiceSample {
  atMs: number;
  offered_rps: number;
  served_rps: number;
  error_ratio: number;
  p99_ms: number;
  /** Pods that exist (spec replicas): what is paid for. */
  replicas: number;
  ready: number;
  /** CPU of one ready pod, millicores (all ready pods carry the same share). */
  ready_cpu_millicores: number;
}

export class ServiceModel {
  private pods: Pod[] = [];
  private heap: HeapState;
  private readonly jvm: JvmProfile | undefined;
  private readonly workload: Workload;
  private readonly startupMs: number;
  private readonly noiseSd: number;
  private readonly prng: Prng;
  private noise = 0;
  private last: ServiceSample | undefined;

  constructor(opts: ServiceModelOptions) {
    this.workload = opts.workload ?? DEFAULT_WORKLOAD;
    this.jvm = (opts.kind ?? 'jvm') === 'jvm' ? parseJvmOptions(BENCH_SERVICE.jvmOptions, BENCH_SERVICE.memoryLimitBytes) : undefined;
    // The twin draws each pod's allocation skew from [0.8, 0.95] (setup.ts); the p99 is set by the
    // pods whose heaps tip first, so the representative heap is the top of that range.
    this.heap = { fill: freshFill(this.jvm, this.workload), allocationSkew: TWIN_SKEW_MAX };
    this.startupMs = opts.startupDelayMs ?? BENCH_SERVICE.startupDelayMs;
    this.noiseSd = opts.loadNoiseSd ?? BENCH_SERVICE.loadNoiseSd;
    this.prng = new Prng(opts.seed ?? 19980630);
    // The starting pods have long been ready.
    for (let i = 0; i < opts.replicas; i++) this.pods.push({ createdMs: opts.nowMs - 86_400_000, readyMs: opts.nowMs - 86_400_000 });
  }

  get replicas(): number {
    return this.pods.length;
  }

  /** Sets spec.replicas: new pods start now; a scale-down removes not-ready pods first, then the newest. */
  scale(to: number, nowMs: number): void {
    const n = Math.max(0, Math.round(to));
    if (n > this.pods.length) {
      // Fresh heaps join the fleet's representative heap.
      const ready = this.readyCount(nowMs);
      const added = n - this.pods.length;
      const fresh = freshFill(this.jvm, this.workload);
      this.heap = { ...this.heap, fill: (this.heap.fill * ready + fresh * added) / Math.max(1, ready + added) };
      for (let i = 0; i < added; i++) this.pods.push({ createdMs: nowMs, readyMs: nowMs + this.startupMs });
    } else if (n < this.pods.length) {
      this.pods.sort((a, b) => Number(a.readyMs <= nowMs) - Number(b.readyMs <= nowMs) || b.createdMs - a.createdMs);
      // Those to go first in the order: not ready, then the newest.
      this.pods = this.pods.slice(this.pods.length - n);
    }
  }

  private readyCount(nowMs: number): number {
    let r = 0;
    for (const p of this.pods) if (p.readyMs <= nowMs) r++;
    return r;
  }

  /** The pods as the HPA's replica calculator sees them. */
  podViews(nowMs: number): { ready: boolean; startTimeMs: number; readyTransitionMs: number; cpuMillicores: number }[] {
    const readyCpu = this.last?.ready_cpu_millicores ?? 0;
    return this.pods.map((p) => {
      const ready = p.readyMs <= nowMs;
      return { ready, startTimeMs: p.createdMs, readyTransitionMs: ready ? p.readyMs : p.createdMs, cpuMillicores: ready ? readyCpu : MODEL.startupMillicores };
    });
  }

  /**
   * Serves `baseRps` (before noise) for `dtMs` ending at `nowMs`, the heap advancing second by
   * second as the twin's does; returns what the metrics show at `nowMs`.
   */
  advance(baseRps: number, nowMs: number, dtMs: number): ServiceSample {
    // AR(1) noise at the twin's 1 s grid, as many draws as seconds passed.
    const seconds = Math.max(1, Math.round(dtMs / 1000));
    for (let i = 0; i < seconds; i++) this.noise = 0.9 * this.noise + Math.sqrt(1 - 0.81) * this.noiseSd * this.prng.normal();
    const offered = Math.max(0, baseRps * (1 + this.noise));
    const ready = this.readyCount(nowMs);
    const cond: PodConditions = {
      rps: ready > 0 ? offered / ready : 0,
      cpuLimitCores: BENCH_SERVICE.cpuLimitMillicores / 1000,
      memoryLimitBytes: BENCH_SERVICE.memoryLimitBytes,
      jvm: this.jvm,
      workload: this.workload,
    };
    let perf = podPerformance(this.heap, cond);
    if (ready > 0) {
      for (let i = 0; i < seconds; i++) {
        this.heap = advanceHeap(this.heap, perf, cond, 1);
        if ((i & 3) === 3) perf = podPerformance(this.heap, cond);
      }
      perf = podPerformance(this.heap, cond);
    }
    const p99 = ready > 0 ? mixtureQuantile([{ weight: 1, perf }], 0.99) : MODEL.timeoutMs;
    const errorRatio = ready > 0 ? perf.errorRatio : 1;
    this.last = {
      atMs: nowMs,
      offered_rps: offered,
      served_rps: offered * (1 - errorRatio),
      error_ratio: errorRatio,
      p99_ms: p99,
      replicas: this.pods.length,
      ready,
      ready_cpu_millicores: ready > 0 ? perf.cpuMillicores : 0,
    };
    return this.last;
  }
}
