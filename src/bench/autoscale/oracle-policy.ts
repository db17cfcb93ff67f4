// The clairvoyant sizing `governor bench autoscale` prints beside the real policies: a bound, not a
// controller. It knows the whole trace ahead (the load of every minute to come) and the service
// model's start-up delay, and every 15 s sets the fewest replicas, never fewer than the minimum, that
// keep p99 within the SLO for the load of the coming start-up and sync — scaling up early enough for
// new pods to be Ready in time, scaling down the moment the load allows. No cooldown, no step limit,
// no blast radius: it answers "how few replica-hours could any policy have paid on this trace and
// still kept the SLO", so a target below it is out of reach for every policy.
//
// The capacity of a pod comes from the model's own equations (performance-model.ts): the highest
// steady load per pod whose p99, after a day at that load (the heap given time to tip), stays
// within the SLO; divided by a headroom for the model's load noise, which the oracle knows by its
// size (AR(1), 2% standard deviation) but not draw by draw.
// It must never be used to size anything real: it reads the future.
import { DEFAULT_WORKLOAD, advanceHeap, freshFill, mixtureQuantile, parseJvmOptions, podPerformance, type PodConditions, type Workload } from '../../twin/performance-model.ts';
import type { AutoscalePolicy } from './policies.ts';
import { BENCH_SERVICE, type ServiceKind } from './service-model.ts';

/** The representative heap's allocation skew (service-model.ts: the top of the twin's range). */
const SKEW = 0.95;
/** Long enough at one load for a heap past its tipping point to show it. */
const SETTLE_S = 86_400;
/** Four standard deviations of the model's relative load noise. */
const NOISE_HEADROOM = 1 + 4 * BENCH_SERVICE.loadNoiseSd;

/** p99 of one pod after `SETTLE_S` seconds at `rps`, from a fresh heap (the model steps it as the service model does). */
function settledP99(rps: number, kind: ServiceKind, workload: Workload): number {
  const jvm = kind === 'jvm' ? parseJvmOptions(BENCH_SERVICE.jvmOptions, BENCH_SERVICE.memoryLimitBytes) : undefined;
  const cond: PodConditions = { rps, cpuLimitCores: BENCH_SERVICE.cpuLimitMillicores / 1000, memoryLimitBytes: BENCH_SERVICE.memoryLimitBytes, jvm, workload };
  let heap = { fill: freshFill(jvm, workload), allocationSkew: SKEW };
  let perf = podPerformance(heap, cond);
  if (jvm) {
    for (let i = 0; i < SETTLE_S; i++) {
      heap = advanceHeap(heap, perf, cond, 1);
      if ((i & 3) === 3) perf = podPerformance(heap, cond);
    }
    perf = podPerformance(heap, cond);
  }
  return perf.errorRatio > 0 ? Number.POSITIVE_INFINITY : mixtureQuantile([{ weight: 1, perf }], 0.99);
}

/** The highest steady load a pod serves within the SLO, requests/s (bisection on the model's equations). */
export function podRpsAtSlo(kind: ServiceKind, sloP99Ms: number = BENCH_SERVICE.sloP99Ms, workload: Workload = DEFAULT_WORKLOAD): number {
  let lo = 0;
  let hi = (workload.rpsPerCore * BENCH_SERVICE.cpuLimitMillicores) / 1000;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (settledP99(mid, kind, workload) <= sloP99Ms) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface OraclePolicyOptions {
  /** The offered load (before noise) at any time of the trace: what the oracle foresees. */
  load: (tMs: number) => number;
  kind: ServiceKind;
  minReplicas: number;
  maxReplicas: number;
  startupDelayMs?: number;
  sloP99Ms?: number;
  /** The trace's step: the load is looked at on this grid over the window ahead. */
  stepMs?: number;
  /** When the trace starts: the opening replicas cover the load until the first decision's pods are Ready. */
  startMs: number;
}

export const ORACLE_PERIOD_MS = 15_000;

export function oraclePolicy(opts: OraclePolicyOptions): AutoscalePolicy & { podRps: number } {
  const podRps = podRpsAtSlo(opts.kind, opts.sloP99Ms);
  const startup = opts.startupDelayMs ?? BENCH_SERVICE.startupDelayMs;
  const step = Math.min(opts.stepMs ?? 60_000, ORACLE_PERIOD_MS);
  const need = (rps: number) => Math.min(opts.maxReplicas, Math.max(opts.minReplicas, Math.ceil((rps * NOISE_HEADROOM) / podRps)));
  // Replicas set at t serve every look until the pods of the next decision are Ready (t + period +
  // start-up); a look at s serves the load just before s, hence the window opens one period early.
  const busiest = (t: number) => {
    let m = 0;
    for (let u = t - ORACLE_PERIOD_MS; u <= t + ORACLE_PERIOD_MS + startup; u += step) m = Math.max(m, opts.load(u));
    return m;
  };
  return {
    name: 'oracle',
    podRps,
    periodMs: ORACLE_PERIOD_MS,
    initialReplicas: (openingRps) => need(Math.max(openingRps, busiest(opts.startMs + ORACLE_PERIOD_MS))),
    decide: (_sample, service, nowMs) => {
      const to = need(busiest(nowMs));
      return to !== service.replicas ? to : undefined;
    },
  };
}
