// The load offered to a deployment of the cluster twin, as a function of simulated time: synthetic
// shapes (constant, diurnal sine, step, spike) and real request-rate traces (traces.ts parses the
// files) scaled per tenant and shifted in time. Pure functions of time; they must never read a clock,
// draw random numbers or do I/O — the twin adds its own seeded noise on top.

export type LoadSource = number | ((nowMs: number) => number);

const DAY_MS = 86_400_000;

/** The rate a load source offers at `nowMs`, never negative. */
export const rpsAt = (s: LoadSource, nowMs: number): number => Math.max(0, typeof s === 'number' ? s : s(nowMs));

export const constant = (rps: number): LoadSource => () => rps;

/**
 * A day-shaped sine: `meanRps` on average, ±`amplitude` (a fraction of the mean) around it, highest at
 * `peakHourUtc` (14:00 by default).
 */
export function diurnal(opts: { meanRps: number; amplitude: number; peakHourUtc?: number; periodMs?: number }): LoadSource {
  const period = opts.periodMs ?? DAY_MS;
  const peakAt = (opts.peakHourUtc ?? 14) * 3_600_000;
  return (t) => opts.meanRps * (1 + opts.amplitude * Math.cos((2 * Math.PI * (t - peakAt)) / period));
}

/** `beforeRps` until `atMs`, `afterRps` from then on. */
export const step = (opts: { beforeRps: number; afterRps: number; atMs: number }): LoadSource => (t) => (t < opts.atMs ? opts.beforeRps : opts.afterRps);

/** A surge: `baseRps`, ramping linearly to `peakRps` over `rampMs` from `atMs`, held for `holdMs`, ramping back down. */
export function spike(opts: { baseRps: number; peakRps: number; atMs: number; rampMs?: number; holdMs?: number }): LoadSource {
  const ramp = opts.rampMs ?? 60_000;
  const hold = opts.holdMs ?? 300_000;
  const { baseRps: base, peakRps: peak, atMs: at } = opts;
  return (t) => {
    const x = t - at;
    if (x <= 0 || x >= 2 * ramp + hold) return base;
    if (x < ramp) return base + ((peak - base) * x) / ramp;
    if (x <= ramp + hold) return peak;
    return peak - ((peak - base) * (x - ramp - hold)) / ramp;
  };
}

export const scaled = (s: LoadSource, factor: number): LoadSource => (t) => factor * rpsAt(s, t);
export const shifted = (s: LoadSource, byMs: number): LoadSource => (t) => rpsAt(s, t - byMs);
export const sum = (...sources: LoadSource[]): LoadSource => (t) => sources.reduce<number>((acc, s) => acc + rpsAt(s, t), 0);

/** A request-rate trace on a regular grid: `counts[i]` requests during [startMs + i·stepMs, + stepMs). */
export interface Trace {
  name: string;
  startMs: number;
  stepMs: number;
  counts: Float64Array;
}

export const traceEndMs = (t: Trace): number => t.startMs + t.counts.length * t.stepMs;

/** The trace's rate (requests per second) at trace time `ms`, linear between sample starts. */
export function traceRate(t: Trace, ms: number): number {
  const x = (ms - t.startMs) / t.stepMs;
  const n = t.counts.length;
  if (x <= 0) return t.counts[0]! / (t.stepMs / 1000);
  if (x >= n - 1) return t.counts[n - 1]! / (t.stepMs / 1000);
  const i = Math.floor(x);
  const f = x - i;
  return ((1 - f) * t.counts[i]! + f * t.counts[i + 1]!) / (t.stepMs / 1000);
}

/** Peak and mean rate (requests per second) of the trace over [fromMs, fromMs + windowMs). */
export function traceStats(t: Trace, fromMs: number, windowMs: number): { peakRps: number; meanRps: number } {
  const a = Math.max(0, Math.floor((fromMs - t.startMs) / t.stepMs));
  const b = Math.min(t.counts.length, Math.ceil((fromMs + windowMs - t.startMs) / t.stepMs));
  let peak = 0;
  let total = 0;
  for (let i = a; i < b; i++) {
    peak = Math.max(peak, t.counts[i]!);
    total += t.counts[i]!;
  }
  const perS = t.stepMs / 1000;
  return { peakRps: peak / perS, meanRps: b > a ? total / (b - a) / perS : 0 };
}

export interface TraceLoadOptions {
  /** Twin time at which the trace's `fromMs` plays. */
  anchorMs: number;
  /** Trace time that plays at `anchorMs` (default: the trace's start). */
  fromMs?: number;
  /** Plays the trace this much later (positive) or earlier: one trace, tenants in other time zones. */
  shiftMs?: number;
  /**
   * How to scale the trace to this tenant: to a peak or a mean rate over `windowMs` from `fromMs`
   * (default one day), or by a plain factor on the trace's own requests per second.
   */
  scale: { peakRps: number } | { meanRps: number } | { factor: number };
  windowMs?: number;
}

/**
 * A trace as a load source: trace time = fromMs + (twin time - anchorMs) - shiftMs, wrapping around
 * at the trace's end, so a day-long run can start anywhere and a week-long one loops.
 */
export function traceLoad(trace: Trace, opts: TraceLoadOptions): LoadSource {
  const from = opts.fromMs ?? trace.startMs;
  const window = opts.windowMs ?? DAY_MS;
  let factor: number;
  if ('factor' in opts.scale) factor = opts.scale.factor;
  else {
    const stats = traceStats(trace, from, window);
    const base = 'peakRps' in opts.scale ? stats.peakRps : stats.meanRps;
    const wanted = 'peakRps' in opts.scale ? opts.scale.peakRps : opts.scale.meanRps;
    factor = base > 0 ? wanted / base : 0;
  }
  const length = traceEndMs(trace) - trace.startMs;
  const shift = opts.shiftMs ?? 0;
  return (t) => {
    let ms = from + (t - opts.anchorMs) - shift - trace.startMs;
    ms = ((ms % length) + length) % length;
    return factor * traceRate(trace, trace.startMs + ms);
  };
}
