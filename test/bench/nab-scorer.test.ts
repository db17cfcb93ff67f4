// NAB's scoring, checked against cases worked out by hand from NAB's formulas (nab/sweeper.py):
// a 20-row series whose 4-row window is rows 10–13, probation floor(0.15 × 20) = 3 rows, standard
// profile (TP 1, FN 1, FP 0.11). The expected numbers were computed outside this code.
import { describe, expect, it } from 'vitest';
import { bestThreshold, normalise, probationaryLength, scaledSigmoid, scoreAt, scoreCorpus, sweep, type LabelledSeries } from '../../src/bench/nab-scorer.ts';

const STANDARD = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
const series: LabelledSeries = { name: 's', timestamps: Array.from({ length: 20 }, (_, i) => i * 1000), windows: [[10_000, 13_000]] };
const scoresWith = (hits: Record<number, number>) => Array.from({ length: 20 }, (_, i) => hits[i] ?? 0);
const rawAt = (hits: Record<number, number>, threshold = 0.5) => scoreAt(sweep(series, scoresWith(hits), STANDARD), STANDARD, threshold).score;

describe('NAB scorer', () => {
  it('scaled sigmoid: 0.98661 at a window’s left edge, 0 at its right edge, −1 from three widths past it', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.986614, 6);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.848284, 6);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('probation is 15% of the rows, at most 750', () => {
    expect(probationaryLength(20)).toBe(3);
    expect(probationaryLength(4032)).toBe(604);
    expect(probationaryLength(10_000)).toBe(750);
  });

  it('a detection on the window’s first row earns the full true-positive weight', () => {
    expect(rawAt({ 10: 1 })).toBeCloseTo(1, 9);
  });

  it('a later detection earns less: half-way 0.85979, the last row 0.56212', () => {
    expect(rawAt({ 12: 1 })).toBeCloseTo(0.8597926, 6);
    expect(rawAt({ 13: 1 })).toBeCloseTo(0.5621241, 6);
  });

  it('only the first detection in a window counts, and the others cost nothing', () => {
    expect(rawAt({ 12: 1, 13: 1, 11: 1 })).toBeCloseTo(rawAt({ 11: 1 }), 9);
  });

  it('a missed window costs the false-negative weight', () => {
    expect(rawAt({})).toBe(-1);
  });

  it('a false positive before any window costs the full FP weight; one after a window less, by its distance', () => {
    expect(rawAt({ 5: 1 })).toBeCloseTo(-1 - 0.11, 9);
    expect(rawAt({ 10: 1, 15: 1 })).toBeCloseTo(1 - 0.1024221, 6);
    expect(rawAt({ 10: 1, 19: 1 })).toBeCloseTo(1 - 0.1099900, 6);
  });

  it('the probationary rows are not scored', () => {
    expect(rawAt({ 2: 1 })).toBe(-1);
    expect(sweep(series, scoresWith({}), STANDARD)).toHaveLength(17);
  });

  it('detections are the scores at or above the threshold', () => {
    const pts = sweep(series, scoresWith({ 5: 0.6, 10: 0.4 }), STANDARD);
    expect(scoreAt(pts, STANDARD, 0.7).score).toBe(-1);
    expect(scoreAt(pts, STANDARD, 0.6).score).toBeCloseTo(-1.11, 9);
    expect(scoreAt(pts, STANDARD, 0.4).score).toBeCloseTo(1 - 0.11, 9);
  });

  it('the optimiser picks the threshold with the best total, over every series together', () => {
    // Series A: an FP at 0.95 before its window, the window's first row at 0.9.
    // Series B: its window's first row at 0.5, three FPs before it at 0.7.
    const a = sweep(series, scoresWith({ 5: 0.95, 10: 0.9 }), STANDARD, 0);
    const b = sweep(series, scoresWith({ 4: 0.7, 5: 0.7, 6: 0.7, 10: 0.5 }), STANDARD, 1);
    // 1.1: −2; 0.95: −2.11; 0.9: −0.11; 0.7: −0.44; 0.5: 1.56.
    const best = bestThreshold([...a, ...b], STANDARD);
    expect(best.threshold).toBe(0.5);
    expect(best.score).toBeCloseTo(1.56, 9);
  });

  it('normalises so that the null detector scores 0 and a perfect one 100', () => {
    expect(normalise(-36, -36, 36)).toBe(0);
    expect(normalise(36, -36, 36)).toBe(100);
    // Long enough that NAB's null detector (a constant 0.5) does best by detecting nothing.
    const long: LabelledSeries = { name: 'long', timestamps: Array.from({ length: 200 }, (_, i) => i), windows: [[100, 109]] };
    const at = (i: number) => Array.from({ length: 200 }, (_, k) => (k === i ? 1 : 0));
    const perfect = scoreCorpus([long], [at(100)], STANDARD);
    expect(perfect.null_raw).toBe(-1);
    expect(perfect.perfect_raw).toBe(1);
    expect(perfect.normalised).toBeCloseTo(100, 9);
    expect(scoreCorpus([long], [at(-1)], STANDARD).normalised).toBe(0);
    // Half-way into the window, the detection earns 0.85979: normalised (0.85979 + 1) / 2.
    expect(scoreCorpus([long], [at(105)], STANDARD).normalised).toBeCloseTo(92.98963, 4);
  });

  it('a window limit that is not a timestamp is refused rather than silently never entered', () => {
    expect(() => sweep({ ...series, windows: [[10_500, 13_000]] }, scoresWith({}), STANDARD)).toThrow(/not a timestamp/);
  });
});
