// The Numenta Anomaly Benchmark's score, computed as NAB computes it (nab/sweeper.py and
// nab/optimizer.py at the commit the data comes from; ../shared/data/nab/README.md): each labelled
// window rewards only its first detection, by a scaled sigmoid of where in the window it fell; every
// detection outside a window costs the profile's false-positive weight, scaled by how far it is past
// the previous window; every missed window costs the false-negative weight; the first 15% of each
// file (at most 750 rows) is probationary and not scored. One threshold is chosen for the whole
// corpus (the one that maximises the summed score, as NAB's optimiser does) and the raw score is
// normalised so that the null detector scores 0 and a perfect one 100.
// Pure and deterministic; it never reads files and never sees the detector, only its scores.
//
// NAB's own quirks are kept on purpose, so that figures compare with the published ones: a
// position inside a window is -(right - i + 1) / width (so the last row of a window scores just
// above zero, never zero), a detection before any window costs the full weight, and a window
// wholly inside the probationary period is not scored.

export interface CostMatrix {
  tpWeight: number;
  fpWeight: number;
  fnWeight: number;
}

export interface LabelledSeries {
  name: string;
  /** Epoch ms, ascending. */
  timestamps: ArrayLike<number>;
  /** Inclusive [start, end] of each labelled window, in epoch ms; each limit is one of the timestamps. */
  windows: ReadonlyArray<readonly [number, number]>;
}

/** One scorable row: its anomaly score, what detecting it would earn, and its window (-1: none). */
export interface SweepPoint {
  score: number;
  sweep: number;
  window: number;
}

export interface ThresholdScore {
  threshold: number;
  score: number;
  tp: number;
  tn: number;
  fp: number;
  fn: number;
}

export const PROBATION_PERCENT = 0.15;

export function probationaryLength(rows: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3.0) return -1.0;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1.0;
}

/** The first row at `t` (NAB's `timestamps.index`: a repeated timestamp resolves to its first row). */
function indexOf(timestamps: ArrayLike<number>, t: number, series: string): number {
  let lo = 0;
  let hi = timestamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (timestamps[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo < timestamps.length && timestamps[lo] === t) return lo;
  throw new Error(`${series}: window limit ${new Date(t).toISOString()} is not a timestamp of the series`);
}

/**
 * The scorable rows of one series (probationary rows left out), each with the weighted score that
 * detecting it would contribute. `windowIdBase` numbers this series' windows after earlier ones, so
 * rows of several series can be pooled for one corpus-wide threshold.
 */
export function sweep(series: LabelledSeries, scores: ArrayLike<number>, cost: CostMatrix, windowIdBase = 0, probationPercent = PROBATION_PERCENT): SweepPoint[] {
  const n = series.timestamps.length;
  if (scores.length !== n) throw new Error(`${series.name}: ${scores.length} scores for ${n} rows`);
  const bounds = series.windows.map(([a, b]) => [indexOf(series.timestamps, a, series.name), indexOf(series.timestamps, b, series.name)] as const);
  const maxTP = scaledSigmoid(-1.0);
  const probation = probationaryLength(n, probationPercent);
  const out: SweepPoint[] = [];
  let next = 0;
  let cur = -1;
  let curRight = 0;
  let curWidth = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    if (next < bounds.length && i === bounds[next]![0]) {
      cur = next++;
      curRight = bounds[cur]![1];
      curWidth = curRight - bounds[cur]![0] + 1;
    }
    let weighted: number;
    if (cur >= 0) {
      weighted = (scaledSigmoid(-(curRight - i + 1) / curWidth) * cost.tpWeight) / maxTP;
    } else {
      const position = prevRight < 0 ? 3.0 : Math.abs(prevRight - i) / (prevWidth - 1);
      weighted = scaledSigmoid(position) * cost.fpWeight;
    }
    if (i >= probation) out.push({ score: scores[i]!, sweep: weighted, window: cur >= 0 ? windowIdBase + cur : -1 });
    if (cur >= 0 && i === curRight) {
      prevRight = i;
      prevWidth = curWidth;
      cur = -1;
    }
  }
  return out;
}

/**
 * The score at every threshold the scores offer, from detecting nothing (1.1) down to detecting
 * everything: a row with threshold T counts every row whose score is at least T as a detection.
 */
export function scoresByThreshold(points: readonly SweepPoint[], cost: CostMatrix): ThresholdScore[] {
  const sorted = [...points].sort((a, b) => b.score - a.score);
  const windowScore = new Map<number, number>();
  for (const p of sorted) if (p.window >= 0) windowScore.set(p.window, -cost.fnWeight);
  let fpTotal = 0;
  let windowTotal = -cost.fnWeight * windowScore.size;
  let tn = 0;
  let fn = 0;
  for (const p of sorted) p.window >= 0 ? fn++ : tn++;
  let tp = 0;
  let fp = 0;
  let threshold = 1.1;
  const out: ThresholdScore[] = [];
  for (const p of sorted) {
    if (p.score !== threshold) {
      out.push({ threshold, score: fpTotal + windowTotal, tp, tn, fp, fn });
      threshold = p.score;
    }
    if (p.window >= 0) {
      tp++;
      fn--;
      const before = windowScore.get(p.window)!;
      if (p.sweep > before) {
        windowScore.set(p.window, p.sweep);
        windowTotal += p.sweep - before;
      }
    } else {
      fp++;
      tn--;
      fpTotal += p.sweep;
    }
  }
  out.push({ threshold, score: fpTotal + windowTotal, tp, tn, fp, fn });
  return out;
}

/** The best threshold for the pooled rows; on a tie the higher threshold, as NAB's stable sort picks. */
export function bestThreshold(points: readonly SweepPoint[], cost: CostMatrix): ThresholdScore {
  let best: ThresholdScore | undefined;
  for (const row of scoresByThreshold(points, cost)) if (!best || row.score > best.score) best = row;
  return best!;
}

/** The score of one series' rows with detections at `threshold` (a score at least the threshold). */
export function scoreAt(points: readonly SweepPoint[], cost: CostMatrix, threshold: number): ThresholdScore {
  const windowScore = new Map<number, number>();
  let fpTotal = 0;
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (const p of points) {
    const detected = p.score >= threshold;
    if (p.window >= 0) {
      if (!windowScore.has(p.window)) windowScore.set(p.window, -cost.fnWeight);
      if (detected) {
        tp++;
        if (p.sweep > windowScore.get(p.window)!) windowScore.set(p.window, p.sweep);
      } else fn++;
    } else if (detected) {
      fp++;
      fpTotal += p.sweep;
    } else tn++;
  }
  let score = fpTotal;
  for (const v of windowScore.values()) score += v;
  return { threshold, score, tp, tn, fp, fn };
}

/** NAB's normalisation: the null detector scores 0, a detector that finds every window at its start 100. */
export function normalise(raw: number, nullRaw: number, perfectRaw: number): number {
  return (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
}

export interface CorpusScore {
  threshold: number;
  raw: number;
  null_raw: number;
  perfect_raw: number;
  normalised: number;
  counts: Omit<ThresholdScore, 'threshold' | 'score'>;
  by_series: Array<{ name: string; raw: number } & Omit<ThresholdScore, 'threshold' | 'score'>>;
}

/**
 * The corpus score of one detector's outputs: the threshold optimised over all series together,
 * each series scored at it, the total normalised against NAB's null detector (a constant 0.5, also
 * thresholded at its best) and the perfect one (every labelled window's weight `tpWeight`).
 */
export function scoreCorpus(series: readonly LabelledSeries[], scores: ReadonlyArray<ArrayLike<number>>, cost: CostMatrix, fixedThreshold?: number): CorpusScore {
  const perSeries: SweepPoint[][] = [];
  const nullPoints: SweepPoint[] = [];
  let base = 0;
  let windows = 0;
  series.forEach((s, k) => {
    const pts = sweep(s, scores[k]!, cost, base);
    perSeries.push(pts);
    for (const p of pts) nullPoints.push({ ...p, score: 0.5 });
    base += s.windows.length;
    windows += s.windows.length;
  });
  const threshold = fixedThreshold ?? bestThreshold(perSeries.flat(), cost).threshold;
  const bySeries = perSeries.map((pts, k) => {
    const r = scoreAt(pts, cost, threshold);
    return { name: series[k]!.name, raw: r.score, tp: r.tp, tn: r.tn, fp: r.fp, fn: r.fn };
  });
  const raw = bySeries.reduce((a, r) => a + r.raw, 0);
  const nullRaw = bestThreshold(nullPoints, cost).score;
  const perfectRaw = windows * cost.tpWeight;
  const sum = (k: 'tp' | 'tn' | 'fp' | 'fn') => bySeries.reduce((a, r) => a + r[k], 0);
  return {
    threshold,
    raw,
    null_raw: nullRaw,
    perfect_raw: perfectRaw,
    normalised: normalise(raw, nullRaw, perfectRaw),
    counts: { tp: sum('tp'), tn: sum('tn'), fp: sum('fp'), fn: sum('fn') },
    by_series: bySeries,
  };
}
