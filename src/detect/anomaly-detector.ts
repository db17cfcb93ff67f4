// The streaming anomaly detector for one signal (one per watched series: latency, error ratio,
// traffic, saturation). Each sample is compared with what the robust baseline expects (level, daily
// and weekly profiles); how rare that deviation is, by the signal's own history, is the point
// evidence; a short-window mean of the residuals beyond noise, against the furthest it has gone, is
// the evidence of deviations that come together (spikes closer together, a run on one side); a
// CUSUM over the same residuals is the change-point evidence; a run of one repeated value longer
// than the signal has ever shown is the evidence of a stuck signal. The strongest of them
// becomes a score in [0, 1] (1: as rare as this detector can tell), and a label where the score
// reaches `labelAt`. After a label, scores are damped for a while unless the signal gets clearly
// worse, so one incident is one alert rather than a storm, and the profiles learn little from the
// incident meanwhile.
// Deterministic, no clock, no I/O: state in, score out. The state is fixed-size and written in
// place (O(1) per sample, no allocation), so a million samples a second fit on one core; copy it
// with `cloneDetectorState` to branch or replay. It never looks at labels or at the future, and
// nothing in it is tuned per series.
import { DEFAULT_BASELINE_OPTIONS, expect, initialBaseline, learn, type BaselineOptions, type BaselineState, type Expectation } from './robust-baseline.ts';
import { accumulate, DEFAULT_CUSUM, initialCusum, restart, type CusumOptions, type CusumState } from './change-point.ts';
import { initialTail, remember, tailShare, type TailState } from './tail-surprise.ts';

export interface DetectorOptions {
  baseline: BaselineOptions;
  cusum: CusumOptions;
  /** Samples learned before any score is given. */
  warmup: number;
  /** Samples over which the history of deviations forgets half. */
  tailHalfLife: number;
  /** Pseudo-samples of "anything can happen" in that history. */
  tailPrior: number;
  /** Score of a change point. */
  fullSurprise: number;
  /** Score at or above which a sample is labelled anomalous. */
  labelAt: number;
  /** Samples after a label during which scores are damped, and the factor they are damped by. */
  refractory: number;
  damping: number;
  /**
   * How much a sample labelled anomalous teaches the profiles (1: as much as any other); with
   * `quietLearning`, so does every sample of the damping period after a label (the incident is
   * still going on: its day must not become tomorrow's expectation).
   */
  anomalyLearning: number;
  quietLearning: boolean;
  /** Weight of how rare a deviation is against how far it goes beyond the largest remembered. */
  rarityWeight: number;
  /**
   * A value outside the remembered range by more than `noveltyMargin` of the range scores
   * `noveltyBase`, rising to 1 at `noveltySpan` more.
   */
  noveltyMargin: number;
  noveltyBase: number;
  noveltySpan: number;
  /** Samples over which the remembered range narrows half-way back to the level. */
  rangeHalfLife: number;
  /**
   * The short-window evidence: the mean, over about `shortHalfLife` samples, of the residuals
   * beyond `shortAllowance` scales (ordinary noise adds nothing), each capped at `shortClip`,
   * against the largest such |mean| remembered (which forgets half in `shortMemoryHalfLife`
   * samples). Beyond `shortMargin` times that largest it scores `shortBase`, rising to 1 at twice
   * as far. It sees what no single sample shows: routine spikes that start coming closer together,
   * a run of modest deviations on one side. `shortHalfLife` 0 turns it off.
   */
  shortHalfLife: number;
  shortAllowance: number;
  shortClip: number;
  shortMemoryHalfLife: number;
  shortMargin: number;
  shortBase: number;
  /**
   * A signal stuck at one value (a dead exporter, writes that stopped): the sample at which the
   * current run of identical values grows past `flatMargin` times the longest run it has shown
   * before (and is at least `flatMin` samples long) scores `flatBase`. The longest run forgets half
   * in `flatMemoryHalfLife` samples. A signal that has never changed value never scores. `flatMargin`
   * 0 turns it off.
   */
  flatMargin: number;
  flatMin: number;
  flatMemoryHalfLife: number;
  flatBase: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = {
  baseline: DEFAULT_BASELINE_OPTIONS,
  cusum: DEFAULT_CUSUM,
  warmup: 150,
  tailHalfLife: 2000,
  tailPrior: 1,
  fullSurprise: 0.9,
  labelAt: 0.9,
  refractory: 300,
  damping: 0.5,
  anomalyLearning: 0.1,
  quietLearning: true,
  rarityWeight: 0.7,
  noveltyMargin: 0,
  noveltyBase: 0.85,
  noveltySpan: 0.5,
  rangeHalfLife: 8000,
  shortHalfLife: 10,
  shortAllowance: 1,
  shortClip: 10,
  shortMemoryHalfLife: 8000,
  shortMargin: 1.4,
  shortBase: 0.9,
  flatMargin: 1.2,
  flatMin: 30,
  flatMemoryHalfLife: 8000,
  flatBase: 0.9,
};

export interface DetectorState {
  n: number;
  lastMs: number;
  /** The sampling interval, learned from the timestamps. */
  stepMs: number;
  baseline: BaselineState;
  tail: TailState;
  cusum: CusumState;
  /** Samples left in the damping after a label, and the score that raised it. */
  quiet: number;
  quietScore: number;
  /** The largest |z| remembered (forgotten at the tail's pace). */
  maxZ: number;
  /** The short-window mean of the residuals, and the largest |mean| remembered. */
  shortMean: number;
  maxShort: number;
  /** The previous value, the current run of identical values, and the longest finished run remembered. */
  lastX: number;
  flatRun: number;
  maxFlat: number;
  /** The remembered range of values. */
  hi: number;
  lo: number;
  expected: Expectation;
}

export function initialDetectorState(): DetectorState {
  return {
    n: 0,
    lastMs: NaN,
    stepMs: NaN,
    baseline: initialBaseline(),
    tail: initialTail(),
    cusum: initialCusum(),
    quiet: 0,
    quietScore: 0,
    maxZ: 0,
    shortMean: 0,
    maxShort: 0,
    lastX: NaN,
    flatRun: 0,
    maxFlat: 0,
    hi: 0,
    lo: 0,
    expected: { value: 0, scale: 1, layer: 'level' },
  };
}

export function cloneDetectorState(s: DetectorState): DetectorState {
  return structuredClone(s);
}

/** Scores one sample and learns it. Samples must come in time order. */
export function observe(s: DetectorState, ms: number, x: number, o: DetectorOptions = DEFAULT_DETECTOR_OPTIONS): number {
  if (s.n > 0) {
    const dt = ms - s.lastMs;
    // The sampling interval is the shortest gap seen: gaps in the data only ever lengthen one.
    if (dt > 0 && !(dt >= s.stepMs)) s.stepMs = dt;
  }
  s.lastMs = ms;
  s.n++;
  const e = expect(s.baseline, ms, s.expected);
  const z = (x - e.value) / e.scale;
  const absZ = Math.abs(z);
  // The short-window mean of what lies beyond ordinary noise (learned whether or not scores are given yet).
  const beyondNoise = absZ > o.shortAllowance ? Math.min(o.shortClip, absZ - o.shortAllowance) * (z > 0 ? 1 : -1) : 0;
  s.shortMean += rates(o).shortAlpha * (beyondNoise - s.shortMean);
  const absShort = Math.abs(s.shortMean);
  if (x === s.lastX) s.flatRun++;
  else {
    // A run is remembered once it ends (the first ones belong to the start-up, like the range's).
    if (s.n > o.warmup / 2) s.maxFlat = Math.max(s.flatRun, s.maxFlat);
    s.flatRun = 0;
  }
  s.lastX = x;

  let score = 0;
  if (s.n > o.warmup) {
    // How rare this deviation is, as a share of the rarest this memory can tell (a first-ever
    // deviation of this size scores 1 whether the memory is a day or a month long).
    const floor = o.tailPrior / (s.tail.total / s.tail.inc + o.tailPrior);
    const rarity = Math.log(tailShare(s.tail, absZ, o.tailPrior)) / Math.log(floor);
    // Beyond the largest deviation remembered, how far beyond: twice as far as ever scores 0.2 more.
    const beyond = absZ > s.maxZ && s.maxZ > 0 ? Math.min(1, Math.log2(absZ / s.maxZ)) : 0;
    const pointEvidence = o.rarityWeight * rarity + (1 - o.rarityWeight) * beyond;
    // Each sample adds at most ±3 scales to the CUSUM: a spike alone is the point evidence's case.
    const shift = accumulate(s.cusum, Math.max(-3, Math.min(3, z)), o.cusum);
    // A value outside everything this signal has shown (its remembered range), by a share of that range.
    const range = s.hi - s.lo;
    const outside = range > 0 ? Math.max(x - s.hi, s.lo - x) / range : 0;
    const novelty = outside > o.noveltyMargin ? o.noveltyBase + (1 - o.noveltyBase) * Math.min(1, (outside - o.noveltyMargin) / o.noveltySpan) : 0;
    // The recent residuals together, beyond the furthest they have gone together.
    const shortRef = o.shortMargin * s.maxShort;
    const short = o.shortHalfLife > 0 && shortRef > 0 && absShort > shortRef ? o.shortBase + (1 - o.shortBase) * Math.min(1, Math.log2(absShort / shortRef)) : 0;
    // Stuck at one value longer than ever before: scored once, where the run crosses the mark.
    const flatMark = o.flatMargin * s.maxFlat;
    const flat = o.flatMargin > 0 && s.maxFlat > 0 && s.flatRun >= o.flatMin && s.flatRun > flatMark && s.flatRun - 1 <= flatMark ? o.flatBase : 0;
    const evidence = Math.max(pointEvidence, novelty, short, flat, shift >= 1 ? o.fullSurprise : 0);
    score = Math.min(1, evidence);
    if (shift >= 1) {
      // A change point: the old level is history. Learn the new one from here.
      s.baseline.level = x;
      restart(s.cusum);
    }
  }
  // The first deviations are measured against a scale still being learned: too wild to remember.
  if (s.n > o.warmup / 2) {
    const { keep, shortKeep, flatKeep } = rates(o);
    remember(s.tail, absZ, keep);
    s.maxZ = Math.max(absZ, s.maxZ * keep);
    s.maxShort = Math.max(absShort, s.maxShort * shortKeep);
    s.maxFlat *= flatKeep;
  }
  // The remembered range: widened at once by a new extreme, narrowed slowly towards the level but
  // never inside the band the signal's ordinary noise covers. It starts after the first samples,
  // which often carry a start-up transient.
  if (s.n === Math.ceil(o.warmup / 2)) {
    s.hi = x;
    s.lo = x;
  } else if (s.n > o.warmup / 2) {
    const { shrink } = rates(o);
    const mid = s.baseline.level;
    const band = 3 * e.scale;
    s.hi = Math.max(x, mid + band, s.hi - shrink * Math.max(0, s.hi - mid));
    s.lo = Math.min(x, mid - band, s.lo + shrink * Math.max(0, mid - s.lo));
  }
  // What looks anomalous teaches the profiles less: an incident must not become the new normal.
  const incident = score >= o.labelAt || (o.quietLearning && s.quiet > 0);
  learn(s.baseline, ms, x, Number.isNaN(s.stepMs) ? 60_000 : s.stepMs, o.baseline, incident ? o.anomalyLearning : 1);

  if (s.quiet > 0) {
    s.quiet--;
    // Damped: only a clearly worse sample speaks during the quiet period.
    if (score <= s.quietScore) score *= o.damping;
  }
  if (score >= o.labelAt && s.quiet === 0) {
    s.quiet = o.refractory;
    s.quietScore = score;
  }
  return score;
}

// Per-sample rates from half-lives, remembered for the last options seen (Math.pow is dear at a million samples a second).
interface Rates {
  keep: number;
  shrink: number;
  shortAlpha: number;
  shortKeep: number;
  flatKeep: number;
}
let ratesFor: DetectorOptions | undefined;
let cached: Rates = { keep: 0, shrink: 0, shortAlpha: 0, shortKeep: 0, flatKeep: 0 };
function rates(o: DetectorOptions): Rates {
  if (ratesFor === o) return cached;
  ratesFor = o;
  const half = (life: number) => Math.pow(0.5, 1 / life);
  cached = {
    keep: half(o.tailHalfLife),
    shrink: 1 - half(o.rangeHalfLife),
    shortKeep: half(o.shortMemoryHalfLife),
    flatKeep: half(o.flatMemoryHalfLife),
    shortAlpha: o.shortHalfLife > 0 ? 1 - half(o.shortHalfLife) : 0,
  };
  return cached;
}

/** Scores a whole series with one fresh detector (what `governor detect` and the benchmark run). */
export function scoreSeries(timestamps: ArrayLike<number>, values: ArrayLike<number>, o: DetectorOptions = DEFAULT_DETECTOR_OPTIONS): Float64Array {
  const s = initialDetectorState();
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = observe(s, timestamps[i]!, values[i]!, o);
  return out;
}
