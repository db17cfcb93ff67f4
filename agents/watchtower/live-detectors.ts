// The streaming detectors of src/detect run live inside Watchtower, per watched deployment: one
// anomaly detector (seasonal robust baseline, tail surprise, change point: the detector of
// `governor detect` and the NAB bench, with the same options) per signal Watchtower already reads each
// poll — p99 latency, error ratio, requests/s, memory utilisation, CPU, GC pause — and the SRE
// workbook's multi-window multi-burn-rate rules over the error ratio against the error-ratio SLO.
// What they say is evidence, not a verdict: a lone anomaly on a signal opens no incident (the
// rule-based detector stays the gate on latency); it is attached, with its score, to the observation
// of the incident it coincides with. The burn-rate 'page' rule is the one exception: the error budget
// burning at 14.4x over 1 h and 5 min (or 6x over 6 h and 30 min) opens an incident by itself.
// The state is in memory, fixed-size, written in place (O(1) per sample) and driven only by the
// samples' timestamps, so it runs the same live and in virtual time.
import type { DeploymentMetrics } from '../runtime/cluster-views.ts';
import { DEFAULT_DETECTOR_OPTIONS as ANOMALY_OPTIONS, initialDetectorState as initialAnomalyState, observe, type DetectorState as AnomalyState } from '../../src/detect/anomaly-detector.ts';
import { addCounts, errorRatio, evaluateBurnRates, initialBurnWindows, SRE_WORKBOOK_RULES, type BurnRateVerdict, type BurnWindowsState } from '../../src/detect/burn-rate.ts';

/** The error-ratio SLO when neither the deployment's annotation nor the tenants file gives one (99.9% of requests succeed). */
export const DEFAULT_SLO_ERROR_RATIO = 0.001;
/** An anomaly is evidence for an incident that opens within this long after it. */
export const ANOMALY_EVIDENCE_MS = 30 * 60_000;
/** The longest gap between two polls that still counts its requests in the burn-rate windows. */
const MAX_GAP_MS = 5 * 60_000;

export interface WatchedSignal {
  /** The metric name in observations (`anomalies[].metric`). */
  metric: string;
  label: string;
  unit?: string;
  read: (m: DeploymentMetrics) => number | undefined;
}

const finite = (x: number | undefined | null): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
const memUtil = (p: DeploymentMetrics['pods'][number]): number | undefined =>
  finite(p.memory_utilisation) ?? (p.memory_limit_bytes ? p.memory_bytes / p.memory_limit_bytes : undefined);
const maxOf = (xs: (number | undefined)[]): number | undefined => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? Math.max(...v) : undefined;
};

/** Every signal Watchtower reads each poll (DeploymentMetrics), one detector each. */
export const WATCHED_SIGNALS: readonly WatchedSignal[] = [
  { metric: 'http_request_duration_p99_ms', label: 'p99 latency', unit: 'ms', read: (m) => finite(m.service.p99_ms) },
  { metric: 'http_error_ratio', label: 'error ratio', read: (m) => finite(m.service.error_ratio) },
  { metric: 'http_requests_per_second', label: 'traffic', unit: 'req/s', read: (m) => finite(m.service.rps) },
  // The most saturated pod: a leak or a bad heap setting shows on the pods it hits, not on the mean.
  { metric: 'memory_utilisation_max_ratio', label: 'memory utilisation', read: (m) => maxOf(m.pods.map(memUtil)) },
  { metric: 'cpu_millicores_per_pod', label: 'CPU', unit: 'millicores', read: (m) => (m.pods.length ? m.pods.reduce((a, p) => a + p.cpu_millicores, 0) / m.pods.length : undefined) },
  { metric: 'jvm_gc_pause_max_ms_per_min', label: 'GC pause', unit: 'ms/min', read: (m) => maxOf(m.pods.map((p) => finite(p.gc_pause_ms_per_min))) },
];

/** One anomaly a detector labelled: the sample, what the baseline expected there, and the score. */
export interface Anomaly {
  metric: string;
  label: string;
  target: string;
  value: number;
  expected: number;
  score: number;
  at: string;
  unit?: string;
}

export interface LiveState {
  lastMs: number;
  detectors: Record<string, AnomalyState>;
  /** The latest anomaly each signal's detector labelled. */
  last: Record<string, Anomaly & { atMs: number }>;
  burn: BurnWindowsState;
}

export const initialLiveState = (): LiveState => ({ lastMs: NaN, detectors: {}, last: {}, burn: initialBurnWindows() });

export interface BurnReading {
  slo_error_ratio: number;
  severity: BurnRateVerdict['severity'];
  /** The rules that fire, with the burn rate over each of their windows. */
  firing: Array<{ severity: 'page' | 'ticket'; long_s: number; short_s: number; factor: number; burn_long: number; burn_short: number }>;
}

export interface LiveReading {
  /** Anomalies labelled at this sample. */
  anomalies: Anomaly[];
  burn: BurnReading;
}

const round = (x: number, digits = 4): number => Number(x.toPrecision(digits));

/**
 * Feeds one poll's metrics to every detector of the deployment (state written in place). Samples
 * must come in time order; one at or before the last is ignored (a retried poll).
 */
export function observeLive(state: LiveState, nowMs: number, target: string, metrics: DeploymentMetrics, sloErrorRatio: number): LiveReading {
  const anomalies: Anomaly[] = [];
  const fresh = !(nowMs <= state.lastMs);
  if (fresh) {
    for (const s of WATCHED_SIGNALS) {
      const x = s.read(metrics);
      if (x === undefined) continue;
      const det = (state.detectors[s.metric] ??= initialAnomalyState());
      const score = observe(det, nowMs, x, ANOMALY_OPTIONS);
      if (score >= ANOMALY_OPTIONS.labelAt) {
        // What the baseline expected for this sample (observe leaves it in det.expected).
        const a: Anomaly = { metric: s.metric, label: s.label, target, value: round(x), expected: round(det.expected.value), score: round(score, 3), at: new Date(nowMs).toISOString(), ...(s.unit ? { unit: s.unit } : {}) };
        anomalies.push(a);
        state.last[s.metric] = { ...a, atMs: nowMs };
      }
    }
    // Requests since the previous poll, the failed share of them at this poll's error ratio.
    const rps = finite(metrics.service.rps) ?? 0;
    const ratio = Math.min(1, Math.max(0, finite(metrics.service.error_ratio) ?? 0));
    const dtS = Number.isNaN(state.lastMs) ? 0 : Math.min(nowMs - state.lastMs, MAX_GAP_MS) / 1000;
    addCounts(state.burn, nowMs, rps * dtS * ratio, rps * dtS);
    state.lastMs = nowMs;
  }
  const verdict = evaluateBurnRates(1 - sloErrorRatio, (w) => errorRatio(state.burn, w), SRE_WORKBOOK_RULES);
  return {
    anomalies,
    burn: {
      slo_error_ratio: sloErrorRatio,
      severity: verdict.severity,
      firing: verdict.firing.map((f) => ({ severity: f.severity, long_s: f.longS, short_s: f.shortS, factor: f.factor, burn_long: round(f.burnLong), burn_short: round(f.burnShort) })),
    },
  };
}

/** The anomalies labelled within `windowMs` before `nowMs`, strongest first: the evidence for an incident opening now. */
export function recentAnomalies(state: LiveState, nowMs: number, windowMs = ANOMALY_EVIDENCE_MS): Anomaly[] {
  return Object.values(state.last)
    .filter((a) => nowMs - a.atMs <= windowMs && a.atMs <= nowMs)
    .sort((a, b) => b.score - a.score || a.metric.localeCompare(b.metric))
    .map(({ atMs: _, ...a }) => a);
}

/** "error budget burning 20x over 1 h and 21x over 5 min (error-ratio SLO 0.1%)" for the first page rule firing. */
export function describeBurn(b: BurnReading): string | undefined {
  const f = b.firing.find((x) => x.severity === 'page') ?? b.firing[0];
  if (!f) return undefined;
  const span = (s: number) => (s >= 3600 ? `${s / 3600} h` : `${s / 60} min`);
  const r = (x: number) => (x >= 10 ? Math.round(x) : Math.round(x * 10) / 10);
  return `error budget burning ${r(f.burn_long)}x over ${span(f.long_s)} and ${r(f.burn_short)}x over ${span(f.short_s)} (≥ ${f.factor}x; error-ratio SLO ${round(b.slo_error_ratio * 100, 3)}%)`;
}
