// Watchtower's rule-based detector for one deployment: p99 latency against its SLO and its own
// baseline, GC pause and memory per pod against the fleet, containers OOM-killed, correlated with the
// rollout that was running at the incident's onset (last-good-revision.ts), never merely the newest.
// A pure function of the samples it is fed (state in, decision out): no clock, no I/O, so it runs
// the same live, in virtual time and in replay. It never acts; it only says what it sees.
import type { Signal } from '../../src/contracts/events.ts';
import type { DeploymentMetrics, RolloutHistory } from '../runtime/cluster-views.ts';
import { blameRollout } from '../runtime/last-good-revision.ts';
import { THROTTLED_RATIO, limitSignals } from '../runtime/limit-signals.ts';

export interface DetectorOptions {
  sloP99Ms: number;
  /** Consecutive breaching samples before an incident opens (damps one-sample blips). */
  confirmSamples: number;
  /** Consecutive healthy samples before an open incident is considered resolved. */
  resolveSamples: number;
  /** A pod is a GC outlier when its pause time is at least this multiple of the fleet median. */
  gcOutlierRatio: number;
  /** A pod is under memory pressure at or above this utilisation. */
  memoryPressure: number;
  /** Rollouts younger than this are considered as a cause. */
  correlationWindowMin: number;
  /**
   * An OOM kill keeps an open incident open this long: a leaking pod's memory (and its latency)
   * looks fine for a while after each restart, but the cause is still there.
   */
  oomHoldMin: number;
  /** A sample departs from normal (the incident's onset, when it lasts) at this multiple of the baseline. */
  onsetRatio: number;
}

export const DEFAULT_DETECTOR_OPTIONS: Omit<DetectorOptions, 'sloP99Ms'> = {
  confirmSamples: 2,
  resolveSamples: 3,
  gcOutlierRatio: 2,
  memoryPressure: 0.85,
  correlationWindowMin: 120,
  oomHoldMin: 10,
  onsetRatio: 1.25,
};

export interface DetectorState {
  baselineP99Ms: number | undefined;
  /**
   * Requests per second each ready pod served while its latency stayed near its baseline, as a
   * recent high (rises quickly, falls slowly): the load a pod is known to carry well, which Elastik
   * sizes from.
   */
  healthyServedPerPod: number | undefined;
  breaching: number;
  healthy: number;
  open: boolean;
  /** Each pod's restart count at the previous sample. */
  restarts: Readonly<Record<string, number>>;
  /** Pods OOM-killed within the hold window: how many times, and when last. */
  oomKills: Readonly<Record<string, { count: number; lastMs: number }>>;
  /** The first sample of the current run of samples departing from normal: the onset, if it becomes an incident. */
  degradedSinceMs?: number;
  /** The last sample that did not depart from normal. */
  lastHealthyMs?: number;
}

export const initialDetectorState = (): DetectorState => ({
  baselineP99Ms: undefined,
  healthyServedPerPod: undefined,
  breaching: 0,
  healthy: 0,
  open: false,
  restarts: {},
  oomKills: {},
});

/** Served requests per second per ready pod in a sample; undefined when no pod is ready. */
export function servedPerPod(m: DeploymentMetrics): number | undefined {
  const ready = m.pods.filter((p) => p.ready).length;
  return ready > 0 ? (m.service.rps * (1 - m.service.error_ratio)) / ready : undefined;
}

/** A recent high: up fast, down slowly. */
function recentHigh(previous: number | undefined, x: number | undefined): number | undefined {
  if (x === undefined) return previous;
  if (previous === undefined) return x;
  return x > previous ? previous * 0.7 + x * 0.3 : previous * 0.995 + x * 0.005;
}

/**
 * OOM kills seen between the previous sample and this one (a restart count that went up, with
 * OOMKilled as the reason), added to those still within the hold window. A pod seen for the first
 * time gives its count as the starting point, not as kills.
 */
function trackOomKills(state: DetectorState, pods: DeploymentMetrics['pods'], nowMs: number, holdMs: number): Pick<DetectorState, 'restarts' | 'oomKills'> {
  const restarts: Record<string, number> = {};
  const oomKills: Record<string, { count: number; lastMs: number }> = {};
  for (const [pod, k] of Object.entries(state.oomKills)) if (nowMs - k.lastMs <= holdMs) oomKills[pod] = k;
  for (const p of pods) {
    const count = p.restart_count ?? 0;
    restarts[p.pod] = count;
    const before = state.restarts[p.pod];
    if (before !== undefined && count > before && p.last_termination_reason === 'OOMKilled') {
      oomKills[p.pod] = { count: (oomKills[p.pod]?.count ?? 0) + (count - before), lastMs: nowMs };
    }
  }
  return { restarts, oomKills };
}

/** The burn-rate 'page' rule firing on the error ratio: what it says, and the error ratio against its SLO. */
export interface BurnPage {
  summary: string;
  sloErrorRatio: number;
}

export interface Finding {
  kind: 'incident' | 'resolved';
  /** An incident opened by the burn-rate rule alone (latency within its objectives). */
  opened_by?: 'burn_rate';
  severity: 'info' | 'warning' | 'critical';
  summary: string;
  signals: Signal[];
  /** When the incident began: its first departing sample, and the last healthy one before it. */
  onset?: { at: string; last_healthy_at?: string };
  correlated_change?: {
    kind: 'deployment';
    name: string;
    revision: number;
    at: string;
    minutes_before: number;
    description: string;
    /** The revision that ran before this one: the rollback target. */
    last_good_revision?: number;
    /** Why this revision and not another (later rollouts, earlier ones). */
    reasons: string[];
  };
}

const median = (xs: number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const pct = (value: number, baseline: number): number =>
  baseline > 0 ? Math.round(((value - baseline) / baseline) * 1000) / 10 : 0;

export function assess(
  state: DetectorState,
  sample: { nowMs: number; deployment: string; metrics: DeploymentMetrics; history?: RolloutHistory; burn?: BurnPage },
  opts: DetectorOptions,
): { state: DetectorState; finding?: Finding } {
  const p99 = sample.metrics.service.p99_ms;
  const baseline = state.baselineP99Ms ?? p99;
  // A breach is the SLO crossed, or the latency tripled against its own history while still under it.
  const breach = p99 > opts.sloP99Ms || p99 > baseline * 3;
  const oom = trackOomKills(state, sample.metrics.pods, sample.nowMs, opts.oomHoldMin * 60_000);
  const killing = Object.keys(oom.oomKills).length > 0;
  // The error budget burning at a 'page' rate (live-detectors.ts): an incident by itself, and one
  // that stays open while it burns, whatever the latency says.
  const burning = sample.burn !== undefined;
  const departed = breach || killing || burning || p99 > baseline * opts.onsetRatio;
  const next: DetectorState = {
    // The baseline learns only from healthy samples, so an incident cannot become the new normal.
    baselineP99Ms: breach ? baseline : baseline * 0.9 + p99 * 0.1,
    // Only near its usual latency does a load count as one the pods carry well: a ramp can stay under
    // the SLO for a while on its way to breaking it.
    healthyServedPerPod: breach || p99 > baseline * 1.25 ? state.healthyServedPerPod : recentHigh(state.healthyServedPerPod, servedPerPod(sample.metrics)),
    breaching: breach ? state.breaching + 1 : 0,
    // Pods being OOM-killed are not healthy, whatever the latency says between kills.
    healthy: breach || killing || burning ? 0 : state.healthy + 1,
    open: state.open,
    ...oom,
    ...(departed
      ? { degradedSinceMs: state.degradedSinceMs ?? sample.nowMs, ...(state.lastHealthyMs !== undefined ? { lastHealthyMs: state.lastHealthyMs } : {}) }
      : { lastHealthyMs: sample.nowMs }),
  };

  const confirmed = next.breaching >= opts.confirmSamples;
  if (!state.open && (confirmed || burning)) {
    next.open = true;
    const onset = { atMs: next.degradedSinceMs ?? sample.nowMs, ...(next.lastHealthyMs !== undefined ? { lastHealthyMs: next.lastHealthyMs } : {}) };
    const finding = describeIncident(sample, baseline, opts, next.oomKills, state.healthyServedPerPod, onset);
    return { state: next, finding: confirmed ? finding : { ...finding, opened_by: 'burn_rate' } };
  }
  if (state.open && next.healthy >= opts.resolveSamples) {
    next.open = false;
    return {
      state: next,
      finding: {
        kind: 'resolved',
        severity: 'info',
        summary: `${sample.deployment}: p99 ${Math.round(p99)} ms is back under the ${opts.sloP99Ms} ms SLO`,
        signals: [
          { metric: 'http_request_duration_p99_ms', target: sample.deployment, value: p99, baseline, change_pct: pct(p99, baseline), unit: 'ms' },
        ],
      },
    };
  }
  return { state: next };
}

function describeIncident(
  sample: { nowMs: number; deployment: string; metrics: DeploymentMetrics; history?: RolloutHistory; burn?: BurnPage },
  baseline: number,
  opts: DetectorOptions,
  oomKills: DetectorState['oomKills'] = {},
  healthyServedPerPod?: number,
  onset: { atMs: number; lastHealthyMs?: number } = { atMs: sample.nowMs },
): Finding {
  const { metrics, deployment } = sample;
  const p99 = metrics.service.p99_ms;
  const signals: Signal[] = [
    { metric: 'http_request_duration_p99_ms', target: deployment, value: p99, baseline, change_pct: pct(p99, baseline), unit: 'ms' },
  ];
  // The error ratio against its objective, when the burn-rate rule pages.
  if (sample.burn) {
    const ratio = metrics.service.error_ratio;
    const slo = sample.burn.sloErrorRatio;
    signals.push({ metric: 'http_error_ratio', target: deployment, value: Math.round(ratio * 1e5) / 1e5, baseline: slo, change_pct: pct(ratio, slo), unit: 'share of requests failed (baseline: the SLO)' });
  }
  // What each pod carries now against what it carried while the SLO held: evidence for sizing.
  const perPod = servedPerPod(metrics);
  if (perPod !== undefined && healthyServedPerPod !== undefined) {
    const r = (x: number) => Math.round(x * 10) / 10;
    signals.push({ metric: 'served_rps_per_pod', target: deployment, value: r(perPod), baseline: r(healthyServedPerPod), change_pct: pct(perPod, healthyServedPerPod), unit: 'req/s' });
  }

  const gcValues = metrics.pods.map((p) => p.gc_pause_ms_per_min ?? 0);
  const gcMedian = median(gcValues);
  const gcOutliers = metrics.pods.filter((p) => gcMedian > 0 && (p.gc_pause_ms_per_min ?? 0) >= gcMedian * opts.gcOutlierRatio);
  for (const p of gcOutliers) {
    signals.push({
      metric: 'jvm_gc_pause_ms_per_min',
      target: p.pod,
      value: p.gc_pause_ms_per_min ?? 0,
      baseline: gcMedian,
      change_pct: pct(p.gc_pause_ms_per_min ?? 0, gcMedian),
      unit: 'ms/min',
    });
  }

  const util = (p: DeploymentMetrics['pods'][number]): number =>
    p.memory_utilisation ?? (p.memory_limit_bytes ? p.memory_bytes / p.memory_limit_bytes : 0);
  const memMedian = median(metrics.pods.map(util));
  const memPressured = metrics.pods.filter((p) => util(p) >= opts.memoryPressure);
  for (const p of memPressured) {
    signals.push({
      metric: 'memory_utilisation_ratio',
      target: p.pod,
      value: Math.round(util(p) * 1000) / 1000,
      baseline: Math.round(memMedian * 1000) / 1000,
      change_pct: pct(util(p), memMedian),
    });
  }

  const killed = Object.entries(oomKills).sort(([a], [b]) => a.localeCompare(b));
  for (const [pod, k] of killed) {
    signals.push({ metric: 'container_oom_kills', target: pod, value: k.count, baseline: 0, change_pct: 100, unit: `kills in ${opts.oomHoldMin} min` });
  }

  // Pods throttled at their CPU limit: the share of CFS periods on the median pod.
  const limits = limitSignals(metrics);
  if (limits.throttled !== null && limits.throttled >= THROTTLED_RATIO) {
    signals.push({
      metric: 'cpu_throttled_ratio',
      target: deployment,
      value: Math.round(limits.throttled * 1000) / 1000,
      baseline: 0,
      change_pct: 100,
      unit: 'share of CFS periods',
    });
  }

  // The rollout running at the onset, not the newest: one pushed after the trouble began is not its cause.
  let correlated: Finding['correlated_change'];
  const history = sample.history;
  if (history && history.revisions.length > 1) {
    const blame = blameRollout(history, onset, opts.correlationWindowMin);
    if (blame.suspect) {
      const s = blame.suspect;
      correlated = {
        kind: 'deployment',
        name: deployment,
        revision: s.revision,
        at: new Date(s.atMs).toISOString(),
        minutes_before: Math.round((sample.nowMs - s.atMs) / 60_000),
        description: s.description,
        ...(blame.lastGood !== undefined ? { last_good_revision: blame.lastGood } : {}),
        reasons: blame.reasons,
      };
    }
  }

  const parts = [`${deployment}: p99 ${Math.round(p99)} ms (baseline ${Math.round(baseline)} ms, SLO ${opts.sloP99Ms} ms)`];
  if (sample.burn) parts.push(sample.burn.summary);
  if (gcOutliers.length) parts.push(`GC pause up on ${gcOutliers.length} of ${metrics.pods.length} pods`);
  if (memPressured.length) parts.push(`memory ≥ ${Math.round(opts.memoryPressure * 100)}% on ${memPressured.length} pods`);
  if (killed.length) parts.push(`${killed.length} pods OOM-killed in the last ${opts.oomHoldMin} min`);
  if (correlated) parts.push(`rollout of revision ${correlated.revision} ${correlated.minutes_before} min earlier (${correlated.description})`);

  return {
    kind: 'incident',
    severity: p99 > opts.sloP99Ms || sample.burn ? 'critical' : 'warning',
    summary: parts.join('; '),
    signals,
    onset: { at: new Date(onset.atMs).toISOString(), ...(onset.lastHealthyMs !== undefined ? { last_healthy_at: new Date(onset.lastHealthyMs).toISOString() } : {}) },
    ...(correlated ? { correlated_change: correlated } : {}),
  };
}
