// Governor sizing one service continuously, for `governor bench autoscale`: the hook the benchmark
// needs, composed only of what Elastik and Strategist already decide with, under the guardrails the
// gateway and the MCP server enforce. Today's Elastik scales up only inside an incident; here the same
// sizing runs every 30 s (Elastik's tick) whether or not an incident is open, and scales down too.
//
// - Capacity per pod: from the service's own metrics (agents/runtime/capacity.ts: the CPU a served
//   request costs, into the pod's limit), at Elastik's 60% target utilisation, and never more than
//   85% of a load the service has been seen breaching its SLO at (podRpsWithinSlo): the load a
//   breach began at, remembered for a week.
// - Demand ahead: the largest of the recent trend carried over the cooldown and a pod's start-up
//   (demandAhead, Elastik's horizon), the last minute's slope over the same horizon when the load
//   surges (surgeAhead), and Strategist's seasonal forecast (agents/strategist/forecast.ts, daily
//   and weekly profiles) of the busiest minute in the next half hour, learned from the 15-minute
//   maxima this controller has seen — never from the trace it has not — counted up to 1.5x the
//   busiest look of the last 15 minutes.
// - Steps: Elastik's nextStep (agents/elastik/sizing.ts) — at most 3x, within the level-3 blast
//   radius (±30% of the tenant's capacity in the namespace: the service beside 40 other pods of the
//   tenant, as in DESIGN §6), within the entitlement; scale-downs
//   within the same ±30%, never below 2 replicas, never below what serves the demand now
//   (wouldServe) nor the busiest look of the last 10 minutes, and only when that needs 10% fewer
//   pods (hysteresis).
// - 300 s between two scalings of the deployment (DESIGN §4: the MCP server enforces it).
// It decides sizes only; it never reads a clock (time comes in) and never sees the future of the trace.
import { SCALE_COOLDOWN_MS } from '../../../agents/elastik/incident-work.ts';
import { capacityChangePct, nextStep, STEP_LIMITS } from '../../../agents/elastik/sizing.ts';
import { demandAhead, loadSample, replicasFor, podCapacityRps, podRpsWithinSlo, wouldServe, type LoadSample } from '../../../agents/runtime/capacity.ts';
import type { DeploymentMetrics, NamespaceCapacity } from '../../../agents/runtime/cluster-views.ts';
import { DEFAULT_FORECAST, forecast } from '../../../agents/strategist/forecast.ts';
import { DEFAULT_WORKLOAD } from '../../twin/performance-model.ts';
import type { AutoscalePolicy } from './policies.ts';
import { BENCH_SERVICE, type ServiceSample } from './service-model.ts';

/** Elastik's sizing horizon: its cooldown and the minute new pods take to serve. */
const HORIZON_MS = SCALE_COOLDOWN_MS + 60_000;
const SLOT_MS = 15 * 60_000;
const SLOTS_PER_DAY = 96;
/** Slots of history the forecast reads: five weeks. */
const HISTORY_SLOTS = 35 * SLOTS_PER_DAY;
const MAX_SAMPLES = 40;
/**
 * How long a load the SLO broke at is remembered: a week, the forecast's longest season. A pod's
 * limit does not change from one day to the next; remembered for a day only, it was learnt again by
 * breaking the SLO at the same time each day. (Five weeks, as long as the forecast's history, breaks
 * it less still and pays for it in replica-hours: BENCHMARKS.md.)
 */
const KNOWN_BAD_MEMORY_MS = 7 * 86_400_000;
/** The forecast counts up to this much above the busiest look of the last `FORECAST_CONFIRM_MS`. */
const FORECAST_LEAD = 1.5;
const FORECAST_CONFIRM_MS = 15 * 60_000;
/** A load this much above all of the five minutes before is a surge: the step up follows the last minute's slope, not the last five minutes'. */
const SURGE_RISE = 0.25;
/** A scale-down must still serve the busiest look of this window: a one-minute dip is not a trend. */
const SCALE_DOWN_WINDOW_MS = 10 * 60_000;

/**
 * The demand at the end of the horizon when the load is surging: the last minute's slope carried
 * over the horizon. A step up holds the deployment for the whole cooldown, so a step sized on the
 * five-minute trend of a flash crowd is one the service then waits out over its SLO.
 */
export function surgeAhead(samples: readonly LoadSample[], horizonMs: number): number {
  const last = samples.at(-1);
  if (!last) return 0;
  const before = [...samples].reverse().find((s) => last.atMs - s.atMs >= 60_000);
  // Above everything of the five minutes before: a load coming back from a dip is no surge.
  const earlier = samples.reduce((m, s) => (last.atMs - s.atMs >= 60_000 && last.atMs - s.atMs <= 5 * 60_000 ? Math.max(m, s.offered_rps) : m), 0);
  if (!before || earlier <= 0 || last.offered_rps < earlier * (1 + SURGE_RISE)) return 0;
  const slopePerMs = (last.offered_rps - before.offered_rps) / (last.atMs - before.atMs);
  return last.offered_rps + slopePerMs * horizonMs;
}

export interface GovernorPolicyOptions {
  minReplicas: number;
  maxReplicas: number;
  sloP99Ms?: number;
  /** Use Strategist's forecast of the demand ahead (default true); false: Elastik's trend only. */
  forecast?: boolean;
  /** The tenant's other pods in the namespace, which the blast radius is relative to (default 40, DESIGN §6). */
  otherPodsInNamespace?: number;
}

export const DEFAULT_OTHER_PODS = 40;

/** The metrics Elastik reads through get_pod_metrics, as the service shows them. */
export function metricsOf(s: ServiceSample): DeploymentMetrics {
  const pods = Array.from({ length: s.replicas }, (_, i) => ({
    pod: `bench-${i}`,
    ready: i < s.ready,
    memory_bytes: 0,
    cpu_millicores: i < s.ready ? s.ready_cpu_millicores : 0,
    cpu_limit_millicores: BENCH_SERVICE.cpuLimitMillicores,
  }));
  return { pods, service: { p50_ms: 0, p99_ms: s.p99_ms, rps: s.offered_rps, error_ratio: s.error_ratio }, deployment: { replicas: s.replicas } };
}

/**
 * The tenant's capacity in the namespace: the service and, beside it, the tenant's other pods of the
 * same size (DESIGN §6: the seed tenant runs 40 in that namespace, so 4 more are a 10% change).
 */
function capacityOf(replicas: number, otherPods: number): NamespaceCapacity {
  const pod = { cpu_request_millicores: BENCH_SERVICE.cpuRequestMillicores, memory_request_bytes: BENCH_SERVICE.memoryLimitBytes };
  return {
    namespace: 'bench',
    total_pods: replicas + otherPods,
    deployments: [{ name: 'bench', replicas, ...pod }, ...(otherPods > 0 ? [{ name: 'rest-of-tenant', replicas: otherPods, ...pod }] : [])],
  };
}

export function governorPolicy(opts: GovernorPolicyOptions): AutoscalePolicy {
  const slo = opts.sloP99Ms ?? BENCH_SERVICE.sloP99Ms;
  const useForecast = opts.forecast ?? true;
  const others = opts.otherPodsInNamespace ?? DEFAULT_OTHER_PODS;
  const samples: LoadSample[] = [];
  const breaches: LoadSample[] = [];
  const slots: number[] = [];
  let slotIndex: number | undefined;
  let slotMax = 0;
  let forecastPeak = 0;
  let lastScaleMs = Number.NEGATIVE_INFINITY;

  const observe = (s: ServiceSample) => {
    const i = Math.floor(s.atMs / SLOT_MS);
    if (slotIndex === undefined) slotIndex = i;
    if (i !== slotIndex) {
      slots.push(slotMax);
      // A slot skipped (no look in it) repeats the last one seen.
      for (let k = slotIndex + 1; k < i; k++) slots.push(slotMax);
      if (slots.length > HISTORY_SLOTS) slots.splice(0, slots.length - HISTORY_SLOTS);
      slotIndex = i;
      slotMax = 0;
      // The busiest of the slot now running and the next one, once a day of history is there.
      forecastPeak = useForecast && slots.length >= SLOTS_PER_DAY ? Math.max(...forecast(slots, 2, { ...DEFAULT_FORECAST, day: SLOTS_PER_DAY })) : 0;
    }
    slotMax = Math.max(slotMax, s.offered_rps);
  };

  return {
    name: 'governor',
    periodMs: 30_000,
    // What Elastik's sizing gives for the opening load, a pod serving its CPU limit's worth.
    initialReplicas: (rps) =>
      Math.min(opts.maxReplicas, Math.max(opts.minReplicas, replicasFor(rps, (DEFAULT_WORKLOAD.rpsPerCore * BENCH_SERVICE.cpuLimitMillicores) / 1000) ?? opts.minReplicas)),
    decide(sample, service, nowMs) {
      observe(sample);
      const metrics = metricsOf(sample);
      const look = loadSample(nowMs, metrics);
      samples.push(look);
      if (samples.length > MAX_SAMPLES) samples.shift();
      // Where the SLO broke is remembered for a week, not only for the last 40 looks: a service whose
      // heap, not its CPU, sets its capacity would otherwise be sized by CPU again twenty minutes later.
      // Only the load a breach began at: while it lasts the load may fall and the p99 stay over (a
      // tipped heap takes minutes to recover), and those loads say nothing of what a pod serves.
      const previous = samples.at(-2);
      const onset = previous === undefined || previous.p99_ms <= slo;
      if (look.steady && look.p99_ms > slo && look.served_per_pod > 0 && onset) breaches.push(look);
      while (breaches.length > 0 && breaches[0]!.atMs < nowMs - KNOWN_BAD_MEMORY_MS) breaches.shift();
      if (nowMs < lastScaleMs + SCALE_COOLDOWN_MS) return undefined;
      const lightest = breaches.reduce<LoadSample | undefined>((m, b) => (m === undefined || b.served_per_pod < m.served_per_pod ? b : m), undefined);
      const perPod = podRpsWithinSlo(podCapacityRps(metrics), lightest ? [...samples, lightest] : samples, slo);
      if (perPod === undefined) return undefined;
      // The seasonal forecast leads a ramp the load has begun; it holds no pods for a surge the load
      // shows no sign of (a match-time surge forecast on a day without a match).
      const recentPeak = samples.reduce((m, x) => (x.atMs > nowMs - FORECAST_CONFIRM_MS ? Math.max(m, x.offered_rps) : m), 0);
      const ahead = Math.max(demandAhead(samples, HORIZON_MS), surgeAhead(samples, HORIZON_MS), Math.min(forecastPeak, FORECAST_LEAD * recentPeak));
      const needed = Math.min(opts.maxReplicas, Math.max(opts.minReplicas, Math.ceil(ahead / perPod)));
      const current = service.replicas;
      if (needed > current) {
        const step = nextStep({ deployment: 'bench', current, needed, maxReplicas: opts.maxReplicas, capacity: capacityOf(current, others), supervisedAllowed: false });
        if (step.kind !== 'scale') return undefined;
        lastScaleMs = nowMs;
        return step.to;
      }
      // Down only to what the busiest recent look needs, as the HPA's stabilisation window does.
      const downPeak = samples.reduce((m, x) => (x.atMs > nowMs - SCALE_DOWN_WINDOW_MS ? Math.max(m, x.offered_rps) : m), 0);
      const neededDown = Math.max(needed, Math.min(opts.maxReplicas, Math.ceil(downPeak / perPod)));
      if (neededDown <= current * 0.9 && current > opts.minReplicas) {
        // The smallest size within the level-3 blast radius, no smaller than the need.
        let to = current;
        while (to - 1 >= neededDown && to - 1 >= opts.minReplicas && Math.abs(capacityChangePct(capacityOf(current, others), 'bench', current, to - 1)) <= STEP_LIMITS.level3CapacityPct) to--;
        if (to === current || wouldServe(metrics, to) === false) return undefined;
        lastScaleMs = nowMs;
        return to;
      }
      return undefined;
    },
  };
}
