// Change-point detection for one signal: a two-sided CUSUM (Page, 1954) over standardised residuals.
// Small shifts that no single sample makes rare add up until the sum crosses its decision limit;
// then the detector reports the change and starts again, so one shift is one change point, and the
// baseline can be told to learn the new level instead of calling every later sample an outlier.
// O(1), in place; it never judges single samples (tail-surprise.ts does).

export interface CusumOptions {
  /** Allowance: residuals within ±k scales are taken as noise. */
  k: number;
  /** Decision limit, in accumulated scales. */
  h: number;
}

export const DEFAULT_CUSUM: CusumOptions = { k: 0.5, h: 60 };

export interface CusumState {
  up: number;
  down: number;
}

export const initialCusum = (): CusumState => ({ up: 0, down: 0 });

/** Adds one standardised residual; returns the statistic as a share of the limit (≥ 1: a change). */
export function accumulate(s: CusumState, z: number, o: CusumOptions): number {
  s.up = Math.max(0, s.up + z - o.k);
  s.down = Math.max(0, s.down - z - o.k);
  return Math.max(s.up, s.down) / o.h;
}

export function restart(s: CusumState): void {
  s.up = 0;
  s.down = 0;
}
