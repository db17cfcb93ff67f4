// Strategist's demand forecast: the next day or week of a request-rate series from its history,
// with daily and weekly seasonality. On the square root of the counts (it steadies their noise, and
// unlike a logarithm it is not thrown by an hour of near-zero traffic in an outage), each future slot is a weighted mean of the same slot in recent
// periods — the same hour of the same weekday once there are two weeks, else the same hour of
// recent days — moved by how far the last day ran above or below what that profile predicted.
// Averaging several periods is what beats the seasonal-naive forecast, which repeats one noisy
// period. Pure: history in, forecast out; no clock, no I/O. It only forecasts; what to provision
// is the planner's decision.

export interface ForecastOptions {
  /** Steps in a day (24 for hourly data). */
  day: number;
  /** Weights of the last periods, newest first. */
  weights: readonly number[];
  /** Share of the last day's gap to the profile carried into the forecast. */
  levelCarry: number;
}

export const DEFAULT_FORECAST: ForecastOptions = { day: 24, weights: [0.45, 0.3, 0.15, 0.1], levelCarry: 0.3 };

const toRoot = (v: number) => Math.sqrt(Math.max(0, v));
const fromRoot = (v: number) => Math.max(0, v) ** 2;

/** The season the profile uses for this much history: a week once two weeks are there, else a day. */
export function seasonFor(historyLength: number, day: number): number {
  return historyLength >= 8 * day ? 7 * day : day;
}

/** Profile value (log) at absolute index `i`, from the periods before `end`. */
function profileAt(log: Float64Array, end: number, i: number, season: number, weights: readonly number[], day: number): number {
  if (season === day || end < 7 * day) return end < 7 * day ? 0.5 * latestPeriod(log, end, i, day) + 0.5 * weightedPeriods(log, end, i, day, weights) : weightedPeriods(log, end, i, day, weights);
  // With a week or more: the same hour of the same weekday, and the same hour of recent days moved
  // to that weekday's level (a Saturday is not a Friday), in equal parts.
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

/**
 * The same slot in the latest period. With less than a week of days, the days seen may not be
 * alike (a weekend comes), so the latest day counts as much as the average of all of them.
 */
function latestPeriod(log: Float64Array, end: number, i: number, season: number): number {
  const k = i - season * Math.ceil((i - end + 1) / season);
  return k >= 0 ? log[k]! : log[end - 1]!;
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
  // How the last day ran against what the profile (from before it) would have said.
  let gap = 0;
  const span = Math.min(opts.day, n - season);
  if (span > 0) {
    const from = n - span;
    for (let i = from; i < n; i++) gap += log[i]! - profileAt(log, from, i, season, opts.weights, opts.day);
    gap /= span;
  }
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
