// `governor bench detect`: Watchtower's streaming detector over the NAB development subset, scored
// as NAB scores (nab-scorer.ts), with the figures an operator asks next: how many labelled windows
// it found (recall), how many of its detections fell inside one (precision), how late it was
// against the labelled anomaly, and how many samples a second one core scores. The detector runs
// with its defaults on every series (no per-series settings) and never sees a label; the labels
// only score its output. It reads the wall clock, which is what throughput measures, and nothing else.
import { DEFAULT_DETECTOR_OPTIONS, scoreSeries, type DetectorOptions } from '../detect/anomaly-detector.ts';
import type { NabCorpus, NabSeries } from './nab-corpus.ts';
import { probationaryLength, scoreCorpus, type CorpusScore } from './nab-scorer.ts';

export interface DetectionQuality {
  threshold: number;
  /** Labelled windows (outside probation) with at least one detection, of all such windows. */
  windows: number;
  windows_detected: number;
  recall: number;
  /** Scored rows at or above the threshold inside a window, of all such rows (NAB's tp / (tp + fp)). */
  precision: number;
  /** From the labelled anomaly to the first detection in its window, over detected windows (negative: early). */
  mean_delay_min: number;
}

export interface DetectBenchResult {
  series: number;
  samples: number;
  profile: string;
  nab: Omit<CorpusScore, 'by_series'> & { by_series: Array<CorpusScore['by_series'][number] & { windows: number; windows_detected: number }> };
  /** The same outputs scored at the detector's own label threshold, with no optimisation. */
  at_label_threshold: { threshold: number; normalised: number };
  quality: DetectionQuality;
  throughput: { samples_per_s: number; runs: number };
  published: Record<string, number>;
}

/** Published standard-profile scores on this subset, threshold optimised over it (issue 13). */
export const PUBLISHED_SUBSET_SCORES: Record<string, number> = {
  'Numenta HTM': 72.3,
  'CAD OSE': 71.6,
  ARTime: 69.8,
  'earthgecko Skyline': 55.1,
  'Random Cut Forest': 53.7,
  'Twitter ADVec': 41.2,
};

export function detectionQuality(series: readonly NabSeries[], scores: ReadonlyArray<ArrayLike<number>>, threshold: number): DetectionQuality & { perSeries: Array<{ windows: number; detected: number }> } {
  let windows = 0;
  let detected = 0;
  let tp = 0;
  let fp = 0;
  const delays: number[] = [];
  const perSeries = series.map((s, k) => {
    const sc = scores[k]!;
    const start = probationaryLength(s.timestamps.length);
    const inWindow = (t: number) => s.windows.some(([a, b]) => t >= a && t <= b);
    for (let i = start; i < sc.length; i++) if (sc[i]! >= threshold) inWindow(s.timestamps[i]!) ? tp++ : fp++;
    let found = 0;
    let counted = 0;
    for (const [a, b] of s.windows) {
      // A window wholly inside probation is not scored by NAB, so not counted here either.
      if (b < s.timestamps[start]!) continue;
      counted++;
      let first = -1;
      for (let i = start; i < sc.length; i++) {
        const t = s.timestamps[i]!;
        if (t > b) break;
        if (t >= a && sc[i]! >= threshold) {
          first = i;
          break;
        }
      }
      if (first < 0) continue;
      found++;
      const label = s.anomalies.find((x) => x >= a && x <= b) ?? a;
      delays.push((s.timestamps[first]! - label) / 60_000);
    }
    windows += counted;
    detected += found;
    return { windows: counted, detected: found };
  });
  return {
    threshold,
    windows,
    windows_detected: detected,
    recall: round(windows ? detected / windows : 0),
    precision: round(tp + fp ? tp / (tp + fp) : 0),
    mean_delay_min: round(delays.length ? delays.reduce((a, d) => a + d, 0) / delays.length : 0),
    perSeries,
  };
}

/** Samples per second of the detector alone, the median of `runs` passes after one warm-up pass. */
export function measureThroughput(series: readonly NabSeries[], opts: DetectorOptions, runs = 5): number {
  const samples = series.reduce((a, s) => a + s.values.length, 0);
  for (const s of series) scoreSeries(s.timestamps, s.values, opts);
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (const s of series) scoreSeries(s.timestamps, s.values, opts);
    rates.push(samples / ((performance.now() - t0) / 1000));
  }
  rates.sort((a, b) => a - b);
  return Math.round(rates[Math.floor(rates.length / 2)]!);
}

export function benchDetect(corpus: NabCorpus, opts: { profile?: string; detector?: DetectorOptions; onProgress?: (line: string) => void } = {}): { result: DetectBenchResult; scores: Float64Array[] } {
  const progress = opts.onProgress ?? (() => {});
  const profile = opts.profile ?? 'standard';
  const cost = corpus.profiles[profile];
  if (!cost) throw new Error(`no scoring profile "${profile}" (known: ${Object.keys(corpus.profiles).join(', ')})`);
  const detector = opts.detector ?? DEFAULT_DETECTOR_OPTIONS;
  const scores = corpus.series.map((s, i) => {
    progress(`detect: ${i + 1}/${corpus.series.length} ${s.name} (${s.values.length} samples)`);
    return scoreSeries(s.timestamps, s.values, detector);
  });
  progress('score: optimising the threshold over the corpus, as NAB does');
  const nab = scoreCorpus(corpus.series, scores, cost);
  const atLabel = scoreCorpus(corpus.series, scores, cost, detector.labelAt);
  const quality = detectionQuality(corpus.series, scores, nab.threshold);
  progress('throughput: the detector alone, one core');
  const samplesPerS = measureThroughput(corpus.series, detector);
  const { perSeries, ...q } = quality;
  return {
    scores,
    result: {
      series: corpus.series.length,
      samples: corpus.series.reduce((a, s) => a + s.values.length, 0),
      profile,
      nab: {
        ...nab,
        normalised: round(nab.normalised, 2),
        by_series: nab.by_series.map((r, i) => ({ ...r, raw: round(r.raw), windows: perSeries[i]!.windows, windows_detected: perSeries[i]!.detected })),
      },
      at_label_threshold: { threshold: detector.labelAt, normalised: round(atLabel.normalised, 2) },
      quality: q,
      throughput: { samples_per_s: samplesPerS, runs: 5 },
      published: PUBLISHED_SUBSET_SCORES,
    },
  };
}

function round(x: number, digits = 3): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
