// Utilisation over a window, from the usage samples the FinOps server took itself: mean, p95 and peak
// of CPU use relative to CPU requests, and how much history the answer actually rests on. Pure: no
// clock, no I/O. It must never pretend to more history than it has (a right-sizing decision made on
// two minutes of data is a guess) nor average away a gap: coverage is reported as measured.

/** One look at one deployment: what its running pods used and requested at one moment. */
export interface UsageSample {
  atMs: number;
  /** Desired replicas (spec.replicas) at the time. */
  replicas: number;
  /** Pods that had a metrics.k8s.io sample (running). */
  pods: number;
  /** CPU use of those pods, summed, millicores. */
  cpu_millicores: number;
  /** CPU requests of those same pods, summed, millicores (0 when they request none). */
  cpu_request_millicores: number;
  /** Working-set memory of those pods, summed, bytes. */
  memory_bytes: number;
}

export interface Spread {
  mean: number;
  p95: number;
  peak: number;
}

export interface UtilisationSummary {
  window_minutes: number;
  samples: number;
  /** Span from the oldest to the newest sample in the window: the history the figures rest on. */
  history_minutes: number;
  oldest_sample_at: string | null;
  newest_sample_at: string | null;
  /** How old the newest sample is; a large value means the sampler has stopped seeing the deployment. */
  newest_sample_age_s: number | null;
  /** Longest stretch between two consecutive samples in the window. */
  largest_gap_s: number | null;
  /** Per-sample totals of CPU use, millicores. */
  cpu_millicores: Spread | null;
  /** Per-sample CPU use / CPU requests of the measured pods (0.25 = 25% of requests); null without requests. */
  utilisation: Spread | null;
}

/** Nearest-rank percentile (the value below or at which `q` of the samples fall); `values` non-empty. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function spread(values: readonly number[], digits: number): Spread | null {
  if (values.length === 0) return null;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean: round(mean, digits), p95: round(percentile(values, 0.95), digits), peak: round(Math.max(...values), digits) };
}

/** The samples of the last `windowMinutes` before `nowMs` (inclusive), summarised. */
export function summariseUtilisation(samples: readonly UsageSample[], windowMinutes: number, nowMs: number): UtilisationSummary {
  const fromMs = nowMs - windowMinutes * 60_000;
  const inWindow = samples.filter((s) => s.atMs >= fromMs && s.atMs <= nowMs);
  const first = inWindow[0];
  const last = inWindow.at(-1);
  let largestGapMs: number | null = null;
  for (let i = 1; i < inWindow.length; i++) {
    const gap = inWindow[i]!.atMs - inWindow[i - 1]!.atMs;
    largestGapMs = largestGapMs === null ? gap : Math.max(largestGapMs, gap);
  }
  // A sample without running pods or without requests says nothing about use relative to requests.
  const ratios = inWindow.filter((s) => s.cpu_request_millicores > 0).map((s) => s.cpu_millicores / s.cpu_request_millicores);
  return {
    window_minutes: windowMinutes,
    samples: inWindow.length,
    history_minutes: first && last ? round((last.atMs - first.atMs) / 60_000, 2) : 0,
    oldest_sample_at: first ? new Date(first.atMs).toISOString() : null,
    newest_sample_at: last ? new Date(last.atMs).toISOString() : null,
    newest_sample_age_s: last ? round((nowMs - last.atMs) / 1000, 1) : null,
    largest_gap_s: largestGapMs === null ? null : round(largestGapMs / 1000, 1),
    cpu_millicores: spread(inWindow.map((s) => s.cpu_millicores), 1),
    utilisation: spread(ratios, 4),
  };
}

export const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
