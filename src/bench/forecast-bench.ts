// `governor bench forecast`: Strategist's demand forecast against the seasonal-naive forecast on the
// hourly web traces (../shared/data/traces/web_hourly). Rolling origins: from the third day on, at
// every midnight of the trace, forecast the next day (24 h) and, where the trace goes on long
// enough, the next week (168 h), from the history before the origin only. Errors: MASE (mean
// absolute error over that of the one-day seasonal-naive forecast inside the trace, so below 1
// beats "same hour yesterday" on average) and sMAPE (%). The naive forecasts are scored on the
// same origins: the daily one (same hour yesterday) everywhere, the weekly one (same hour last
// week) on the origins with a week of history. Pure: traces in, figures out.
//
// The first week (a cold start): the ClarkNet traces are one week long, so their origins all have
// less than a week of history. To see how the forecast does in that regime beyond two traces, every
// trace of two weeks or more is also cut into 7-day windows (one from each midnight), each forecast
// as if it were the whole trace: day-ahead from its days 3 to 6, from the window's history only.
import { DEFAULT_FORECAST, forecast, seasonalNaive, type ForecastOptions } from '../../agents/strategist/forecast.ts';
import type { Trace } from '../twin/load-shapes.ts';

export interface ErrorPair {
  mase: number;
  smape_pct: number;
}

export interface HorizonResult {
  horizon_h: number;
  origins: number;
  model: ErrorPair;
  naive_daily: ErrorPair;
  /** On the origins with a week of history (absent when there are none). */
  weekly?: { origins: number; model: ErrorPair; naive_weekly: ErrorPair };
  /** Below every seasonal-naive forecast it was compared with. */
  beats_naive: boolean;
}

/** Day-ahead forecasts within 7-day windows of a long trace, each window as if it were the whole trace. */
export interface FirstWeekResult {
  windows: number;
  /** Mean over the windows of the window's MASE (scaled by the window's own same-hour-yesterday MAE). */
  model_mase: number;
  naive_daily_mase: number;
  /** Share of the windows whose model error is below the naive one. */
  windows_below_naive_pct: number;
}

export interface TraceForecastResult {
  trace: string;
  hours: number;
  horizons: HorizonResult[];
  /** Traces of two weeks or more. */
  first_week?: FirstWeekResult;
}

export interface ForecastBenchResult {
  traces: TraceForecastResult[];
  all_beat_naive: boolean;
}

const FIRST_ORIGIN_H = 72;

class ErrorSum {
  abs = 0;
  smape = 0;
  n = 0;
  add(f: number, a: number): void {
    this.abs += Math.abs(f - a);
    this.smape += f === 0 && a === 0 ? 0 : (200 * Math.abs(f - a)) / (Math.abs(f) + Math.abs(a));
    this.n++;
  }
  pair(scale: number): ErrorPair {
    return { mase: round(this.abs / this.n / scale), smape_pct: round(this.smape / this.n, 2) };
  }
}

/** Mean absolute error of "same hour yesterday" inside the trace: the MASE scale. */
function naiveScale(y: Float64Array, season: number): number {
  let s = 0;
  for (let i = season; i < y.length; i++) s += Math.abs(y[i]! - y[i - season]!);
  return s / Math.max(1, y.length - season) || 1;
}

export function benchForecastTrace(trace: Trace, opts: ForecastOptions = DEFAULT_FORECAST): TraceForecastResult {
  const y = trace.counts;
  const day = opts.day;
  const week = 7 * day;
  const scale = naiveScale(y, day);
  // Origins at midnight UTC of the trace's days, from the third day on.
  const firstMidnight = (day - (new Date(trace.startMs).getUTCHours() % day)) % day;
  const horizons: HorizonResult[] = [];
  for (const H of [day, week]) {
    const model = new ErrorSum();
    const naive = new ErrorSum();
    const wModel = new ErrorSum();
    const wNaive = new ErrorSum();
    let origins = 0;
    let wOrigins = 0;
    for (let o = firstMidnight; o + H <= y.length; o += day) {
      if (o < FIRST_ORIGIN_H) continue;
      const history = y.subarray(0, o);
      const f = forecast(history, H, opts);
      const d = seasonalNaive(history, H, day);
      const w = o >= week ? seasonalNaive(history, H, week) : undefined;
      for (let h = 0; h < H; h++) {
        const a = y[o + h]!;
        model.add(f[h]!, a);
        naive.add(d[h]!, a);
        if (w) {
          wModel.add(f[h]!, a);
          wNaive.add(w[h]!, a);
        }
      }
      origins++;
      if (w) wOrigins++;
    }
    if (origins === 0) continue;
    const m = model.pair(scale);
    const nd = naive.pair(scale);
    const weekly = wOrigins > 0 ? { origins: wOrigins, model: wModel.pair(scale), naive_weekly: wNaive.pair(scale) } : undefined;
    horizons.push({
      horizon_h: H,
      origins,
      model: m,
      naive_daily: nd,
      ...(weekly ? { weekly } : {}),
      beats_naive: m.mase < nd.mase && (!weekly || weekly.model.mase < weekly.naive_weekly.mase),
    });
  }
  const first_week = y.length >= 2 * week ? firstWeekWindows(y, firstMidnight, opts) : undefined;
  return { trace: trace.name, hours: y.length, horizons, ...(first_week ? { first_week } : {}) };
}

function firstWeekWindows(y: Float64Array, firstMidnight: number, opts: ForecastOptions): FirstWeekResult {
  const day = opts.day;
  const week = 7 * day;
  let windows = 0;
  let model = 0;
  let naive = 0;
  let below = 0;
  for (let w0 = firstMidnight; w0 + week <= y.length; w0 += day) {
    const win = y.subarray(w0, w0 + week);
    const scale = naiveScale(win, day);
    let m = 0;
    let d = 0;
    let hours = 0;
    for (let o = FIRST_ORIGIN_H; o + day <= week; o += day) {
      const f = forecast(win.subarray(0, o), day, opts);
      const nv = seasonalNaive(win.subarray(0, o), day, day);
      for (let h = 0; h < day; h++) {
        m += Math.abs(f[h]! - win[o + h]!);
        d += Math.abs(nv[h]! - win[o + h]!);
      }
      hours += day;
    }
    windows++;
    model += m / hours / scale;
    naive += d / hours / scale;
    if (m < d) below++;
  }
  return {
    windows,
    model_mase: round(model / windows),
    naive_daily_mase: round(naive / windows),
    windows_below_naive_pct: round((100 * below) / windows, 1),
  };
}

export function benchForecast(traces: readonly Trace[], opts?: ForecastOptions): ForecastBenchResult {
  const results = traces.map((t) => benchForecastTrace(t, opts));
  return { traces: results, all_beat_naive: results.every((r) => r.horizons.every((h) => h.beats_naive)) };
}

/** Day-ahead forecasts from each midnight over the trace's last `days` days, with the naive one: for the chart. */
export function dayAheadPath(trace: Trace, days: number, opts: ForecastOptions = DEFAULT_FORECAST): { from: number; actual: Float64Array; model: Float64Array; naive: Float64Array } {
  const y = trace.counts;
  const day = opts.day;
  const firstMidnight = (day - (new Date(trace.startMs).getUTCHours() % day)) % day;
  const lastOrigin = firstMidnight + Math.floor((y.length - firstMidnight) / day - 1) * day;
  const from = Math.max(FIRST_ORIGIN_H + ((firstMidnight - FIRST_ORIGIN_H) % day + day) % day, lastOrigin - (days - 1) * day);
  const n = lastOrigin + day - from;
  const model = new Float64Array(n);
  const naive = new Float64Array(n);
  for (let o = from; o <= lastOrigin; o += day) {
    model.set(forecast(y.subarray(0, o), day, opts), o - from);
    naive.set(seasonalNaive(y.subarray(0, o), day, day), o - from);
  }
  return { from, actual: y.slice(from, from + n), model, naive };
}

function round(x: number, digits = 3): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
