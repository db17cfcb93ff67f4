// Axes for the charts: a linear mapping from data to pixels, and tick positions a person reads at a
// glance (1, 2, 5 × 10^k; whole hours, days or weeks on a time axis). Pure arithmetic: it never
// draws, so the chart builders and their tests share one notion of where a value lands.

export interface Scale {
  readonly min: number;
  readonly max: number;
  /** Pixel position of a data value. */
  at(value: number): number;
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  let [min, max] = domain;
  // A flat series still gets an axis: widen an empty domain around its one value.
  if (!(max > min)) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  const [r0, r1] = range;
  const k = (r1 - r0) / (max - min);
  return { min, max, at: (v) => r0 + (v - min) * k };
}

/** Ticks at 1, 2 or 5 × 10^k, about `count` of them, inside [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** [min, max] widened to the nearest nice ticks, so lines never touch the frame. */
export function niceDomain(min: number, max: number, count = 5): [number, number] {
  const ticks = niceTicks(min, max, count);
  if (ticks.length < 2) return [min, max];
  const step = ticks[1]! - ticks[0]!;
  return [Math.floor(min / step) * step, Math.ceil(max / step) * step];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TIME_STEPS = [60_000, 5 * 60_000, 15 * 60_000, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY];

/** Ticks on a time axis (epoch ms, UTC): whole minutes, hours, days or weeks, about `count` of them. */
export function timeTicks(minMs: number, maxMs: number, count = 6): { ticks: number[]; stepMs: number } {
  const raw = (maxMs - minMs) / Math.max(1, count);
  const stepMs = TIME_STEPS.find((s) => s >= raw) ?? TIME_STEPS.at(-1)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(minMs / stepMs) * stepMs; t <= maxMs; t += stepMs) ticks.push(t);
  return { ticks, stepMs };
}

/** A tick label that says as much as the step needs: a date for days, a time of day below that. */
export function formatTime(ms: number, stepMs: number): string {
  const iso = new Date(ms).toISOString();
  if (stepMs >= DAY) return iso.slice(5, 10);
  if (ms % DAY === 0) return `${iso.slice(5, 10)} 00:00`;
  return iso.slice(11, 16);
}

/** A number short enough for an axis: 1.2k, 3.4M, 0.05. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}
