// Strategist's demand forecast: the next day or week of a request-rate series from its history,
// with daily and weekly seasonality. On the square root of the counts (it steadies their noise, and
// unlike a logarithm it is not thrown by an hour of near-zero traffic in an outage), each future slot
// is built from the same slot in earlier periods. Pure: history in, forecast out; no clock, no I/O.
// It only forecasts; what to provision is the planner's decision.
//
// - Eight days or more (a weekday seen twice): a weighted mean of the same hour of the same weekday and of the
//   same hour of recent days moved to that weekday's level, moved by how far the last day ran above
//   or below what that profile predicted. Averaging several periods is what beats the
//   seasonal-naive forecast, which repeats one noisy period.
// - Less (the first week): the days are not all alike — a
//   weekend, a holiday or an outage comes — so the recent days count by how much they look like the
//   last one ("analogue" days): a day as alike as days usually are counts much, a Saturday does not
//   count for a Sunday after a Saturday. The noise is how far a day typically is from its most alike
//   other day; an hour farther than three noises from the other days' (weighted-median) value, such
//   as an outage, is left out. The profile is then moved `levelCarry` of the way to the last day's level.
//   Nothing here is fitted to a trace: the weights and the outlier rule come from the history alone.

export interface ForecastOptions {
  /** Steps in a day (24 for hourly data). */
  day: number;
  /** Weights of the last periods, newest first (with eight days of history or more). */
  weights: readonly number[];
  /**
   * Share of the last day's gap to the profile carried into the forecast (in the first week: to the
   * analogue days' profile, which the last day is part of).
   */
  levelCarry: number;
}

export const DEFAULT_FORECAST: ForecastOptions = { day: 24, weights: [0.45, 0.3, 0.15, 0.1], levelCarry: 0.3 };

const toRoot = (v: number) => Math.sqrt(Math.max(0, v));
const fromRoot = (v: number) => Math.max(0, v) ** 2;

/** The season the profile uses for this much history: a week once two weeks are there, else a day. */
export function seasonFor(historyLength: number, day: number): number {
  return historyLength >= 8 * day ? 7 * day : day;
}

/** Profile value (root) at absolute index `i`, from the weeks before `end` (needs a week of history). */
function profileAt(log: Float64Array, end: number, i: number, season: number, weights: readonly number[], day: number): number {
  // The same hour of the same weekday, and the same hour of recent days moved to that weekday's
  // level (a Saturday is not a Friday), in equal parts.
  const dayStart = i - (i % day);
  let weekdayLevel = 0;
  let recentLevel = 0;
  for (let h = 0; h < day; h++) {
    weekdayLevel += weightedPeriods(log, end, dayStart + h, season, weights);
    recentLevel += weightedPeriods(log, end, dayStart + h, day, weights);
  }
  const shift = (weekdayLevel - recentLevel) / day;
  return 0.5 * weightedPeriods(log, end, i, season, weights) + 0.5 * (weightedPeriods(log, end, i, day, weights) + shift);
}

/** The noise floor of a square-rooted count (a Poisson count's root has a standard deviation of 1/2). */
const ROOT_NOISE_FLOOR = 0.5;
/** An hour farther than this many noises from the other days' value is an outlier (an outage). */
const OUTLIER_NOISES = 3;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function weightedMedian(values: readonly number[], weights: readonly number[]): number {
  const order = values.map((_, k) => k).sort((a, b) => values[a]! - values[b]!);
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  for (const k of order) {
    acc += weights[k]!;
    if (acc >= total / 2) return values[k]!;
  }
  return values[order[order.length - 1]!]!;
}

/**
 * With less than eight days: the profile of the next day (root scale, `day` slots, the first being
 * the slot right after the history) from the whole days before the end of the history, each weighted
 * by its likeness to the last day. Likeness: the median over the hours of the absolute difference to
 * the last day, against the noise (the median over the days of that distance to the day's most alike
 * other day, at least ROOT_NOISE_FLOOR), through a Gaussian kernel.
 */
export function analogueProfile(root: ArrayLike<number>, day: number, maxDays = 7): { profile: Float64Array; weights: number[]; noise: number } {
  const n = root.length;
  const days = Math.min(maxDays, Math.floor(n / day));
  // Day k = 0 is the last whole day of the history, k = 1 the one before it, ...
  const at = (k: number, h: number) => root[n - (k + 1) * day + h]!;
  const distance = (a: number, b: number) => median(Array.from({ length: day }, (_, h) => Math.abs(at(a, h) - at(b, h))));
  // The noise: each day's distance to its most alike other day, the median over the days (a day
  // unlike all the others, a holiday, does not set it).
  const nearest: number[] = [];
  for (let a = 0; a < days; a++) {
    let d = Infinity;
    for (let b = 0; b < days; b++) if (b !== a) d = Math.min(d, distance(a, b));
    if (Number.isFinite(d)) nearest.push(d);
  }
  const noise = Math.max(nearest.length > 0 ? median(nearest) : ROOT_NOISE_FLOOR, ROOT_NOISE_FLOOR);
  const weights = Array.from({ length: days }, (_, k) => Math.exp(-0.5 * (distance(0, k) / noise) ** 2));
  const profile = new Float64Array(day);
  for (let h = 0; h < day; h++) {
    const values = Array.from({ length: days }, (_, k) => at(k, h));
    const centre = weightedMedian(values, weights);
    let sum = 0;
    let wsum = 0;
    for (let k = 0; k < days; k++) {
      if (Math.abs(values[k]! - centre) > OUTLIER_NOISES * noise) continue;
      sum += weights[k]! * values[k]!;
      wsum += weights[k]!;
    }
    profile[h] = sum / wsum;
  }
  return { profile, weights, noise };
}

function weightedPeriods(log: Float64Array, end: number, i: number, season: number, weights: readonly number[]): number {
  let sum = 0;
  let wsum = 0;
  // The newest period that is already history for slot i.
  let k = i - season * Math.ceil((i - end + 1) / season);
  for (const w of weights) {
    if (k < 0) break;
    sum += w * log[k]!;
    wsum += w;
    k -= season;
  }
  return wsum > 0 ? sum / wsum : log[end - 1]!;
}

/** The next `horizon` values after `history`. */
export function forecast(history: ArrayLike<number>, horizon: number, opts: ForecastOptions = DEFAULT_FORECAST): Float64Array {
  const n = history.length;
  const out = new Float64Array(horizon);
  if (n === 0) return out;
  const log = Float64Array.from({ length: n }, (_, i) => toRoot(history[i]!));
  const season = seasonFor(n, opts.day);
  if (season === opts.day) {
    // Less than eight days: the analogue days' profile, repeated, moved towards the last day's level.
    if (n < opts.day) {
      out.fill(fromRoot(log[n - 1]!));
      return out;
    }
    const { profile } = analogueProfile(log, opts.day);
    let gap = 0;
    for (let h = 0; h < opts.day; h++) gap += log[n - opts.day + h]! - profile[h]!;
    gap /= opts.day;
    for (let h = 0; h < horizon; h++) out[h] = fromRoot(profile[h % opts.day]! + opts.levelCarry * gap);
    return out;
  }
  // How the last day ran against what the profile (from before it) would have said.
  let gap = 0;
  const span = Math.min(opts.day, n - season);
  const from = n - span;
  for (let i = from; i < n; i++) gap += log[i]! - profileAt(log, from, i, season, opts.weights, opts.day);
  gap /= span;
  for (let h = 0; h < horizon; h++) out[h] = fromRoot(profileAt(log, n, n + h, season, opts.weights, opts.day) + opts.levelCarry * gap);
  return out;
}

/** The seasonal-naive forecast: each future step repeats the same step one season earlier. */
export function seasonalNaive(history: ArrayLike<number>, horizon: number, season: number): Float64Array {
  const n = history.length;
  const out = new Float64Array(horizon);
  for (let h = 0; h < horizon; h++) out[h] = history[n - season + (h % season)]!;
  return out;
}
