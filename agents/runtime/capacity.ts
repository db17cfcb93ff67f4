// What a service can serve, read off its own metrics: the demand offered to it, the throughput it
// serves, the errors it sheds, how saturated its pods are, and — from the CPU each served request
// costs — how many requests one pod serves at its CPU limit. Elastik sizes a scale-up from it, the
// verifier judges a scale-up by it, and the compensation guard asks it whether a scale-down would
// leave demand unserved. Pure: metrics in, numbers out; no clock, no I/O.
// It must never invent capacity it cannot see: without served traffic or CPU limits it says
// `undefined`, and the callers fall back to rules.
import type { CapacitySample } from '../../src/audit/records.ts';
import type { DeploymentMetrics } from './cluster-views.ts';

export type { CapacitySample } from '../../src/audit/records.ts';

/** The share of a pod's CPU limit a service is sized to run at: queueing stays short below it. */
export const TARGET_UTILISATION = 0.6;

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Demand, throughput, errors and saturation now. */
export function capacitySample(m: DeploymentMetrics): CapacitySample {
  const ready = m.pods.filter((p) => p.ready);
  const limits = ready.map((p) => p.cpu_limit_millicores).filter((l): l is number => typeof l === 'number' && l > 0);
  const saturation =
    ready.length > 0 && limits.length === ready.length
      ? ready.reduce((sum, p, i) => sum + p.cpu_millicores / limits[i]!, 0) / ready.length
      : null;
  const offered = m.service.rps;
  return {
    offered_rps: round(offered, 1),
    served_rps: round(offered * (1 - m.service.error_ratio), 1),
    error_ratio: m.service.error_ratio,
    saturation: saturation === null ? null : round(saturation),
    ready_pods: ready.length,
  };
}

/**
 * Requests per second one pod serves at its CPU limit: the CPU a served request costs (the pods'
 * CPU over the throughput they serve), into the limit. Undefined when nothing is served or the pods
 * have no CPU limit.
 */
export function podCapacityRps(m: DeploymentMetrics): number | undefined {
  const ready = m.pods.filter((p) => p.ready && typeof p.cpu_limit_millicores === 'number' && p.cpu_limit_millicores > 0);
  const s = capacitySample(m);
  if (ready.length === 0 || s.served_rps <= 0) return undefined;
  const cpu = ready.reduce((sum, p) => sum + p.cpu_millicores, 0) / ready.length;
  const servedPerPod = s.served_rps / Math.max(1, s.ready_pods);
  if (cpu <= 0) return undefined;
  const limit = ready.reduce((sum, p) => sum + p.cpu_limit_millicores!, 0) / ready.length;
  return (servedPerPod * limit) / cpu;
}

/** Replicas that serve `demandRps` at the target utilisation; undefined when capacity is unknown. */
export function replicasFor(demandRps: number, podRps: number | undefined, targetUtilisation = TARGET_UTILISATION): number | undefined {
  if (podRps === undefined || podRps <= 0) return undefined;
  return Math.max(1, Math.ceil(demandRps / (podRps * targetUtilisation)));
}

/** One look at a service during an incident: what each pod served, and whether the SLO held. */
export interface LoadSample {
  atMs: number;
  offered_rps: number;
  /** Served requests per second per ready pod. */
  served_per_pod: number;
  p99_ms: number;
  /** Every replica ready and reporting: the sample speaks for the size it was taken at. */
  steady: boolean;
}

export function loadSample(atMs: number, m: DeploymentMetrics): LoadSample {
  const s = capacitySample(m);
  return {
    atMs,
    offered_rps: s.offered_rps,
    served_per_pod: s.ready_pods > 0 ? s.served_rps / s.ready_pods : 0,
    p99_ms: m.service.p99_ms,
    steady: s.ready_pods === m.deployment.replicas && s.ready_pods > 0,
  };
}

/**
 * Requests per second a pod serves within the SLO, as far as the service has shown it: what its CPU
 * allows at the target utilisation; and once it has been seen breaching, no more than the load it
 * carried healthily (`knownGood`, Watchtower's recent high) nor 85% of the lightest load it breached
 * at. A JVM's allocation pressure, a lock or a pool can bind before the CPU does; this learns where,
 * erring towards the load the service has proven it serves. Undefined without a CPU estimate.
 */
export function podRpsWithinSlo(
  podRps: number | undefined,
  samples: readonly LoadSample[],
  sloP99Ms: number,
  knownGood?: number,
  targetUtilisation = TARGET_UTILISATION,
): number | undefined {
  if (podRps === undefined || podRps <= 0) return undefined;
  const byCpu = podRps * targetUtilisation;
  const breaching = samples.filter((s) => s.steady && s.p99_ms > sloP99Ms && s.served_per_pod > 0).map((s) => s.served_per_pod);
  if (breaching.length === 0) return byCpu;
  const knownBad = Math.min(...breaching);
  return Math.min(byCpu, knownBad * 0.85, knownGood !== undefined && knownGood > 0 ? knownGood : Number.POSITIVE_INFINITY);
}
/**
 * Demand ahead: the trend of the offered load over the recent samples carried `horizonMs` forward.
 * Never below the demand now — a dip during an incident is no reason to plan for less.
 */
export function demandAhead(samples: readonly { atMs: number; offered_rps: number }[], horizonMs: number): number {
  const last = samples[samples.length - 1];
  if (!last) return 0;
  const recent = samples.filter((s) => last.atMs - s.atMs <= 5 * 60_000);
  if (recent.length < 2) return last.offered_rps;
  // Least-squares slope over the last five minutes.
  const n = recent.length;
  const mx = recent.reduce((a, s) => a + s.atMs, 0) / n;
  const my = recent.reduce((a, s) => a + s.offered_rps, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of recent) {
    num += (s.atMs - mx) * (s.offered_rps - my);
    den += (s.atMs - mx) ** 2;
  }
  const slopePerMs = den > 0 ? num / den : 0;
  return Math.max(last.offered_rps, last.offered_rps + Math.max(0, slopePerMs) * horizonMs);
}

/**
 * Whether `replicas` pods would serve what is offered now (within the target utilisation's
 * headroom, up to their limit): a scale-down to fewer would shed load.
 */
export function wouldServe(m: DeploymentMetrics, replicas: number): boolean | undefined {
  const pod = podCapacityRps(m);
  if (pod === undefined) return undefined;
  return capacitySample(m).offered_rps <= replicas * pod * 0.9;
}

/**
 * What a capacity action changed between two samples: throughput served up, saturation down, errors
 * down — each relative to before. Positive numbers are better.
 */
export function capacityGain(before: CapacitySample, after: CapacitySample): { served_pct: number; saturation_pct: number | null; errors_pct: number } {
  const pct = (b: number, a: number) => (b > 0 ? ((a - b) / b) * 100 : a > 0 ? 100 : 0);
  return {
    served_pct: round(pct(before.served_rps, after.served_rps), 1),
    saturation_pct: before.saturation === null || after.saturation === null ? null : round(-pct(before.saturation, after.saturation), 1),
    errors_pct: round(-pct(before.error_ratio, after.error_ratio), 1),
  };
}
