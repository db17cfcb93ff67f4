// A robust baseline for one signal: where its value is expected to be and how far from there it
// normally strays, learned one sample at a time. Three layers, each used when the series has shown
// enough of itself: a level (exponentially weighted, with each update clipped so one outlier moves
// it little), a daily profile once two days are seen, and a weekly profile once two weeks are. The
// expectation is the level plus the profile's deviation from it, so a baseline that has seen a
// Monday-morning peak expects it again next Monday.
// O(1) per sample, no allocation: the state is fixed-size typed arrays, written in place. It never
// decides what is anomalous; it only says what is expected (detector.ts judges).

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
/** A profile is trusted when its typical error is below this share of the level's. */
const SEASONAL_GAIN = 0.9;
/** Profile resolution: at most this many bins a day (5 minutes), so one-minute data shares bins. */
export const DAILY_BINS = 288;
export const WEEKLY_BINS = 7 * DAILY_BINS;

export interface BaselineOptions {
  /** Samples over which the level forgets half of what it knew. */
  levelHalfLife: number;
  /** Samples over which the scales (typical error of each layer) forget half. */
  scaleHalfLife: number;
  /** Periods (days, weeks) over which a profile bin forgets half of what it knew. */
  profileHalfLifePeriods: number;
  /** An update moves the level by at most this many scales: outliers teach little. */
  clip: number;
}

export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = { levelHalfLife: 72, scaleHalfLife: 1000, profileHalfLifePeriods: 4, clip: 4 };

export interface BaselineState {
  n: number;
  firstMs: number;
  level: number;
  /** Daily and weekly profiles: the expected value per bin, and how often each bin was seen. */
  daily: Float64Array;
  dailySeen: Float64Array;
  weekly: Float64Array;
  weeklySeen: Float64Array;
  /** Typical absolute error of the level and of each profile: which layer explains the series, and how well. */
  errLevel: number;
  errDaily: number;
  errWeekly: number;
}

export function initialBaseline(): BaselineState {
  return {
    n: 0,
    firstMs: NaN,
    level: 0,
    daily: new Float64Array(DAILY_BINS),
    dailySeen: new Float64Array(DAILY_BINS),
    weekly: new Float64Array(WEEKLY_BINS),
    weeklySeen: new Float64Array(WEEKLY_BINS),
    errLevel: 0,
    errDaily: 0,
    errWeekly: 0,
  };
}

export interface Expectation {
  /** The expected value. */
  value: number;
  /** How far from it the signal typically strays (mean absolute error, never 0). */
  scale: number;
  /** Which layer the expectation comes from. */
  layer: 'level' | 'daily' | 'weekly';
}

const dailyBin = (ms: number): number => Math.floor(((((ms % DAY_MS) + DAY_MS) % DAY_MS) / DAY_MS) * DAILY_BINS);
const weeklyBin = (ms: number): number => Math.floor(((((ms % WEEK_MS) + WEEK_MS) % WEEK_MS) / WEEK_MS) * WEEKLY_BINS);

/** A floor under every scale: a perfectly flat series still has one, relative to its size. */
function floorScale(s: number, level: number): number {
  return Math.max(s, 1e-3 * Math.abs(level), 1e-9);
}

/**
 * What the baseline expects at `ms`. A profile is used only when it has seen this bin before and
 * explains the series better than the level alone (its typical error under SEASONAL_GAIN of
 * the level's), so noise never passes for seasonality.
 */
export function expect(s: BaselineState, ms: number, out: Expectation): Expectation {
  const span = s.n > 0 ? ms - s.firstMs : 0;
  out.value = s.level;
  out.scale = floorScale(s.errLevel, s.level);
  out.layer = 'level';
  if (span >= 2 * WEEK_MS && s.errWeekly < SEASONAL_GAIN * s.errLevel && s.errWeekly <= s.errDaily) {
    if (fromProfile(out, s.weekly, s.weeklySeen, weeklyBin(ms), s.errWeekly, s.level, 'weekly')) return out;
  }
  if (span >= 2 * DAY_MS && s.errDaily < SEASONAL_GAIN * s.errLevel) {
    fromProfile(out, s.daily, s.dailySeen, dailyBin(ms), s.errDaily, s.level, 'daily');
  }
  return out;
}

/** The expectation from one profile's bin, when that bin has been seen. */
function fromProfile(out: Expectation, profile: Float64Array, seen: Float64Array, b: number, err: number, level: number, layer: Expectation['layer']): boolean {
  if (!(seen[b]! > 0)) return false;
  out.value = profile[b]!;
  out.scale = floorScale(err, level);
  out.layer = layer;
  return true;
}

/** Learns one sample (in place). `stepMs` is the series' sampling interval; `weight` < 1 teaches the profiles less. */
export function learn(s: BaselineState, ms: number, x: number, stepMs: number, opts: BaselineOptions, weight = 1): void {
  const db = dailyBin(ms);
  const wb = weeklyBin(ms);
  if (s.n === 0) {
    s.firstMs = ms;
    s.level = x;
  }
  s.n++;
  const k = rates(opts, stepMs);
  const a = k.level;
  const as = k.scale;
  const scale = floorScale(s.errLevel, s.level);
  const lim = opts.clip * scale;

  // Each layer's error before it learns from this sample: which one predicted it better. Errors
  // are clipped so one outlier cannot make a layer look bad (or good) for long.
  const errLim = 3 * lim;
  const eLevel = Math.min(Math.abs(x - s.level), errLim);
  const eDaily = s.dailySeen[db]! > 0 ? Math.min(Math.abs(x - s.daily[db]!), errLim) : eLevel;
  const eWeekly = s.weeklySeen[wb]! > 0 ? Math.min(Math.abs(x - s.weekly[wb]!), errLim) : eDaily;
  if (s.n <= 2) {
    s.errLevel = eLevel;
    s.errDaily = eDaily;
    s.errWeekly = eWeekly;
  } else {
    const w = Math.max(as, 1 / s.n);
    s.errLevel += w * (eLevel - s.errLevel);
    s.errDaily += w * (eDaily - s.errDaily);
    s.errWeekly += w * (eWeekly - s.errWeekly);
  }
  const dev = x - s.level;
  s.level += a * (s.errLevel > 0 ? Math.max(-lim, Math.min(lim, dev)) : dev);

  // A bin is visited once per period for each sample that falls in it.
  const ap = weight * k.profile;
  updateBin(s.daily, s.dailySeen, db, x, ap, lim);
  updateBin(s.weekly, s.weeklySeen, wb, x, ap, lim);
}

/** Per-sample learning rates from half-lives; remembered for the last options and step (Math.pow is the step's dearest call). */
let lastRates: { opts: BaselineOptions; stepMs: number; level: number; scale: number; profile: number } | undefined;
function rates(opts: BaselineOptions, stepMs: number): NonNullable<typeof lastRates> {
  if (lastRates && lastRates.opts === opts && lastRates.stepMs === stepMs) return lastRates;
  // A bin is visited once per period for each sample that falls in it.
  const perDay = Math.max(1, DAY_MS / Math.max(stepMs, 1) / DAILY_BINS);
  lastRates = {
    opts,
    stepMs,
    level: 1 - Math.pow(0.5, 1 / opts.levelHalfLife),
    scale: 1 - Math.pow(0.5, 1 / opts.scaleHalfLife),
    profile: 1 - Math.pow(0.5, 1 / (opts.profileHalfLifePeriods * perDay)),
  };
  return lastRates;
}

function updateBin(mean: Float64Array, seen: Float64Array, b: number, x: number, a: number, lim: number): void {
  if (seen[b] === 0) {
    mean[b] = x;
    seen[b] = 1;
    return;
  }
  seen[b]!++;
  const w = seen[b]! < 3 ? 1 / seen[b]! : a;
  const d = x - mean[b]!;
  mean[b] = mean[b]! + w * Math.max(-lim, Math.min(lim, d));
}
