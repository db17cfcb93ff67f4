// `governor bench autoscale`: one service driven by one request-rate trace, three times — under
// Governor, under the Kubernetes HPA, under static peak provisioning — on the same load (the same
// seeded noise), and for each what it cost and what it broke: replica-hours, minutes with p99 over
// the SLO, scaling actions (DESIGN §8). Beside them, the same service under a clairvoyant oracle
// (oracle-policy.ts): the fewest replicas that keep the SLO, knowing the trace ahead — the bound no
// policy can beat on this trace without breaking the SLO more. The service is service-model.ts: the twin's equations without
// the twin's per-pod bookkeeping, so a three-month trace runs in seconds. It only simulates and
// counts; the verdict against the bars is printed, never asserted.
import { traceEndMs, traceRate, traceStats, type Trace } from '../../twin/load-shapes.ts';
import { governorPolicy } from './governor-policy.ts';
import { oraclePolicy } from './oracle-policy.ts';
import { hpaPolicy, HPA_DEFAULT_CPU_TARGET, rpsAtCpuTarget, staticPolicy, type AutoscalePolicy } from './policies.ts';
import { BENCH_SERVICE, ServiceModel, type ServiceKind } from './service-model.ts';

/** Issue 13: Governor's replica-hours at most 0.7x the HPA's, its SLO-violation minutes at most 0.5x. */
export const AUTOSCALE_TARGETS = { replicaHours: 0.7, sloViolationMinutes: 0.5 } as const;

/** The model's time step: the HPA's sync period; every controller looks on this grid. */
const STEP_MS = 15_000;
/** One point of the chart every so often (replicas are held, breaches are merged). */
const CHART_EVERY_MS = 5 * 60_000;

export interface PolicyResult {
  replica_hours: number;
  slo_violation_minutes: number;
  scaling_actions: number;
  peak_replicas: number;
  mean_replicas: number;
  /** Share of the offered requests shed as errors (load beyond capacity). */
  shed_ratio: number;
}

export interface AutoscaleSeries {
  /** Epoch ms of each chart point (trace time). */
  x: number[];
  /** Offered requests per second (the minute's mean before noise), per point: the max over its interval. */
  rps: number[];
  replicas: Record<string, number[]>;
  /** Breach intervals per policy: [from, to) in trace time. */
  breaches: Record<string, [number, number][]>;
}

export interface AutoscaleBenchResult {
  trace: { name: string; start: string; end: string; minutes: number; step_s: number; peak_rps: number; mean_rps: number; scale: number };
  service: { kind: ServiceKind; slo_p99_ms: number; cpu_request_millicores: number; cpu_limit_millicores: number; startup_s: number; min_replicas: number; max_replicas: number };
  model: 'service-model';
  hpa: PolicyResult & { cpu_target_pct: number };
  governor: PolicyResult & { forecast: boolean };
  static: PolicyResult & { replicas: number };
  /** The clairvoyant bound: pods sized on the model's own capacity (`pod_rps`, requests/s a pod serves within the SLO). */
  oracle: PolicyResult & { pod_rps: number };
  /**
   * What the oracle and a relaxed version of it say about the target: `replica_hours` and
   * `slo_violation_minutes` are the oracle's over the HPA's; `relaxed_at_slo_budget` is a bound
   * computed minute by minute from the trace (no start-up, no noise, no heap history) for a policy
   * allowed as many minutes over the SLO as the target lets it (half the HPA's), spent on the
   * minutes where breaking the SLO saves the most replicas (those run at the minimum), as replica-hours
   * and over the HPA's.
   */
  oracle_vs_hpa: {
    replica_hours: number;
    slo_violation_minutes: number | null;
    relaxed_at_slo_budget: { budget_minutes: number; replica_hours: number; vs_hpa: number };
    /** The same relaxed bound with no minute over the SLO. */
    relaxed_within_slo: { replica_hours: number; vs_hpa: number };
  };
  /**
   * Governor's figure over the HPA's. The SLO ratio is null when the HPA had no minute over the SLO
   * (JSON has no infinity); `note` then says whether Governor had none either.
   */
  governor_vs_hpa: { replica_hours: number; slo_violation_minutes: number | null; note?: string };
  targets: { replica_hours_at_most: number; slo_violation_minutes_at_most: number; met: boolean };
  wall_s: number;
}

export interface AutoscaleBenchOptions {
  trace: Trace;
  /** Scale the trace so that its busiest minute offers this many requests per second; absent: as recorded. */
  peakRps?: number;
  hpaCpuTargetPct?: number;
  minReplicas?: number;
  maxReplicas?: number;
  forecast?: boolean;
  service?: ServiceKind;
  seed?: number;
  onProgress?: (line: string) => void;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export function benchAutoscale(opts: AutoscaleBenchOptions): { result: AutoscaleBenchResult; series: AutoscaleSeries } {
  const started = performance.now();
  const trace = opts.trace;
  const endMs = traceEndMs(trace);
  const recorded = traceStats(trace, trace.startMs, endMs - trace.startMs);
  const scale = opts.peakRps !== undefined && recorded.peakRps > 0 ? opts.peakRps / recorded.peakRps : 1;
  const peakRps = recorded.peakRps * scale;
  const minReplicas = opts.minReplicas ?? 2;
  const cpuTarget = opts.hpaCpuTargetPct ?? HPA_DEFAULT_CPU_TARGET;
  // Room above the static provisioning, so the entitlement never decides the comparison.
  const maxReplicas = opts.maxReplicas ?? Math.max(minReplicas, Math.ceil((2 * peakRps) / rpsAtCpuTarget(cpuTarget)));
  const base = (t: number) => traceRate(trace, t) * scale;
  const oracle = oraclePolicy({ load: base, kind: opts.service ?? 'jvm', minReplicas, maxReplicas, stepMs: trace.stepMs, startMs: trace.startMs });
  const policies: AutoscalePolicy[] = [
    governorPolicy({ minReplicas, maxReplicas, ...(opts.forecast !== undefined ? { forecast: opts.forecast } : {}) }),
    hpaPolicy({ minReplicas, maxReplicas, cpuTargetPct: cpuTarget }),
    staticPolicy({ peakRps, minReplicas, cpuTargetPct: cpuTarget }),
    oracle,
  ];
  const progress = opts.onProgress ?? (() => {});
  const days = Math.ceil((endMs - trace.startMs) / 86_400_000);
  progress(
    `trace ${trace.name}: ${new Date(trace.startMs).toISOString()} to ${new Date(endMs).toISOString()} (${days} days), ` +
      `peak ${Math.round(peakRps)} requests/s, mean ${Math.round(recorded.meanRps * scale)} (x${round(scale, 3)} the recorded rate)`,
  );

  const series: AutoscaleSeries = { x: [], rps: [], replicas: {}, breaches: {} };
  for (let t = trace.startMs; t < endMs; t += CHART_EVERY_MS) {
    series.x.push(t);
    let peak = 0;
    for (let u = t; u < Math.min(endMs, t + CHART_EVERY_MS); u += trace.stepMs) peak = Math.max(peak, traceRate(trace, u) * scale);
    series.rps.push(peak);
  }

  const results: Record<string, PolicyResult> = {};
  for (const policy of policies) {
    const service = new ServiceModel({ replicas: policy.initialReplicas(base(trace.startMs)), kind: opts.service ?? 'jvm', nowMs: trace.startMs, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
    let replicaMs = 0;
    let violationMs = 0;
    let actions = 0;
    let peak = service.replicas;
    let offered = 0;
    let shed = 0;
    const replicas: number[] = [];
    const breaches: [number, number][] = [];
    let breachFrom: number | undefined;
    let day = 0;
    for (let t = trace.startMs + STEP_MS; t <= endMs; t += STEP_MS) {
      const sample = service.advance(base(t - STEP_MS / 2), t, STEP_MS);
      // What was running over the step just served is what it cost; the step's breach is the sample's.
      replicaMs += sample.replicas * STEP_MS;
      offered += sample.offered_rps;
      shed += sample.offered_rps * sample.error_ratio;
      const breaching = sample.p99_ms > BENCH_SERVICE.sloP99Ms;
      if (breaching) {
        violationMs += STEP_MS;
        breachFrom ??= t - STEP_MS;
      } else if (breachFrom !== undefined) {
        breaches.push([breachFrom, t - STEP_MS]);
        breachFrom = undefined;
      }
      if ((t - trace.startMs) % policy.periodMs === 0) {
        const to = policy.decide(sample, service, t);
        if (to !== undefined && to !== service.replicas) {
          service.scale(to, t);
          actions++;
          peak = Math.max(peak, service.replicas);
        }
      }
      if ((t - trace.startMs) % CHART_EVERY_MS === 0) replicas.push(service.replicas);
      const d = Math.floor((t - trace.startMs) / 86_400_000);
      if (d !== day) {
        day = d;
        if (day % 7 === 0 || day === days) {
          progress(`  ${policy.name}: day ${day}/${days}, ${service.replicas} replicas now; so far ${round(replicaMs / 3_600_000)} replica-hours, ${round(violationMs / 60_000)} min over the SLO, ${actions} scalings`);
        }
      }
    }
    if (breachFrom !== undefined) breaches.push([breachFrom, endMs]);
    const hours = (endMs - trace.startMs) / 3_600_000;
    results[policy.name] = {
      replica_hours: round(replicaMs / 3_600_000),
      // Quarter minutes (the 15 s step), exactly: the ratios are taken from these.
      slo_violation_minutes: round(violationMs / 60_000, 2),
      scaling_actions: actions,
      peak_replicas: peak,
      mean_replicas: round(replicaMs / 3_600_000 / hours, 2),
      shed_ratio: offered > 0 ? round(shed / offered, 5) : 0,
    };
    series.replicas[policy.name] = replicas;
    series.breaches[policy.name] = breaches;
    const r = results[policy.name]!;
    progress(`${policy.name}: ${r.replica_hours} replica-hours, ${r.slo_violation_minutes} min over the SLO, ${r.scaling_actions} scalings (peak ${r.peak_replicas} replicas)`);
  }

  const g = results['governor']!;
  const h = results['hpa']!;
  const s = results['static']!;
  const o = results['oracle']!;
  const budget = h.slo_violation_minutes * AUTOSCALE_TARGETS.sloViolationMinutes;
  const relaxed = relaxedBound(trace, scale, oracle.podRps, minReplicas, budget);
  const relaxedWithin = relaxedBound(trace, scale, oracle.podRps, minReplicas, 0);
  const ratioRh = h.replica_hours > 0 ? round(g.replica_hours / h.replica_hours, 3) : Number.POSITIVE_INFINITY;
  const ratioSlo = h.slo_violation_minutes > 0 ? round(g.slo_violation_minutes / h.slo_violation_minutes, 3) : null;
  const sloMet = ratioSlo !== null ? ratioSlo <= AUTOSCALE_TARGETS.sloViolationMinutes : g.slo_violation_minutes === 0;
  const met = ratioRh <= AUTOSCALE_TARGETS.replicaHours && sloMet;
  const note =
    ratioSlo === null ? (g.slo_violation_minutes === 0 ? 'neither had a minute over the SLO' : `the HPA had no minute over the SLO, Governor ${g.slo_violation_minutes}`) : undefined;
  const result: AutoscaleBenchResult = {
    trace: {
      name: trace.name,
      start: new Date(trace.startMs).toISOString(),
      end: new Date(endMs).toISOString(),
      minutes: Math.round((endMs - trace.startMs) / 60_000),
      step_s: trace.stepMs / 1000,
      peak_rps: Math.round(peakRps),
      mean_rps: Math.round(recorded.meanRps * scale),
      scale: round(scale, 4),
    },
    service: {
      kind: opts.service ?? 'jvm',
      slo_p99_ms: BENCH_SERVICE.sloP99Ms,
      cpu_request_millicores: BENCH_SERVICE.cpuRequestMillicores,
      cpu_limit_millicores: BENCH_SERVICE.cpuLimitMillicores,
      startup_s: BENCH_SERVICE.startupDelayMs / 1000,
      min_replicas: minReplicas,
      max_replicas: maxReplicas,
    },
    model: 'service-model',
    hpa: { ...h, cpu_target_pct: cpuTarget },
    governor: { ...g, forecast: opts.forecast ?? true },
    static: { ...s, replicas: s.peak_replicas },
    oracle: { ...o, pod_rps: round(oracle.podRps) },
    oracle_vs_hpa: {
      replica_hours: h.replica_hours > 0 ? round(o.replica_hours / h.replica_hours, 3) : Number.POSITIVE_INFINITY,
      slo_violation_minutes: h.slo_violation_minutes > 0 ? round(o.slo_violation_minutes / h.slo_violation_minutes, 3) : null,
      relaxed_at_slo_budget: { budget_minutes: round(budget, 2), replica_hours: round(relaxed), vs_hpa: h.replica_hours > 0 ? round(relaxed / h.replica_hours, 3) : Number.POSITIVE_INFINITY },
      relaxed_within_slo: { replica_hours: round(relaxedWithin), vs_hpa: h.replica_hours > 0 ? round(relaxedWithin / h.replica_hours, 3) : Number.POSITIVE_INFINITY },
    },
    governor_vs_hpa: { replica_hours: ratioRh, slo_violation_minutes: ratioSlo, ...(note ? { note } : {}) },
    targets: { replica_hours_at_most: AUTOSCALE_TARGETS.replicaHours, slo_violation_minutes_at_most: AUTOSCALE_TARGETS.sloViolationMinutes, met },
    wall_s: round((performance.now() - started) / 1000, 2),
  };
  return { result, series };
}

/**
 * Replica-hours of the trace sized minute by minute at `podRps` a pod (at least `minReplicas`), with
 * `budgetMinutes` minutes let go over the SLO: those are the minutes where running the minimum saves
 * the most. Optimistic on purpose (no start-up delay, no load noise, no heap history), so that
 * replica-hours above the target's bar here are out of reach for any policy within that budget.
 */
export function relaxedBound(trace: Trace, scale: number, podRps: number, minReplicas: number, budgetMinutes: number): number {
  const needs: number[] = [];
  for (let t = trace.startMs; t < traceEndMs(trace); t += trace.stepMs) needs.push(Math.max(minReplicas, Math.ceil((traceRate(trace, t) * scale) / podRps)));
  const stepMin = trace.stepMs / 60_000;
  const saved = needs.map((n) => n - minReplicas).sort((a, b) => b - a);
  const total = needs.reduce((a, n) => a + n, 0);
  let cut = 0;
  for (let i = 0; i < Math.floor(budgetMinutes / stepMin) && i < saved.length; i++) cut += saved[i]!;
  return ((total - cut) * stepMin) / 60;
}
