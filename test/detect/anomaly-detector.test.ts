// The streaming detector on series built to show one thing each: a spike in noise, a level shift,
// a daily pattern learned and then broken, a routine daily spike left alone. Every series is made
// here from a seeded generator, so a failure is the detector's, not the data's.
import { describe, expect, it } from 'vitest';
import { cloneDetectorState, DEFAULT_DETECTOR_OPTIONS, initialDetectorState, observe, scoreSeries } from '../../src/detect/anomaly-detector.ts';

const STEP = 300_000; // five minutes
const T0 = Date.UTC(2026, 0, 5);
const PER_DAY = 288;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}
function series(n: number, f: (i: number, noise: number) => number, seed = 1): { t: number[]; v: number[] } {
  const r = rng(seed);
  const t: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < n; i++) {
    t.push(T0 + i * STEP);
    v.push(f(i, gauss(r)));
  }
  return { t, v };
}
const labelled = (scores: Float64Array) => [...scores].map((s, i) => (s >= DEFAULT_DETECTOR_OPTIONS.labelAt ? i : -1)).filter((i) => i >= 0);

describe('streaming anomaly detector', () => {
  it('scores stay in [0, 1], and nothing is scored while it is still learning', () => {
    const { t, v } = series(2000, (i, e) => 50 + 5 * e);
    const s = scoreSeries(t, v);
    for (const x of s) expect(x >= 0 && x <= 1).toBe(true);
    expect(Math.max(...s.slice(0, DEFAULT_DETECTOR_OPTIONS.warmup))).toBe(0);
  });

  it('labels a spike in noise at the spike, and nothing else in plain noise', () => {
    const { t, v } = series(3000, (i, e) => 50 + 2 * e + (i === 2500 ? 40 : 0));
    const hits = labelled(scoreSeries(t, v));
    expect(hits).toContain(2500);
    expect(hits.filter((i) => i > 600 && i !== 2500)).toEqual([]);
  });

  it('finds a level shift within a few samples, then takes the new level as normal', () => {
    const { t, v } = series(3000, (i, e) => (i < 2000 ? 30 : 45) + 1 * e);
    const hits = labelled(scoreSeries(t, v)).filter((i) => i > 600);
    expect(hits.length).toBeGreaterThan(0);
    expect(hits[0]!).toBeGreaterThanOrEqual(2000);
    expect(hits[0]!).toBeLessThan(2010);
    expect(hits.filter((i) => i > 2400)).toEqual([]);
  });

  it('learns a daily pattern, and labels a day whose peak does not come', () => {
    const day = (i: number) => ((i % PER_DAY) >= 110 && (i % PER_DAY) < 220 ? 80 : 20);
    const { t, v } = series(10 * PER_DAY, (i, e) => (i >= 7 * PER_DAY && i < 8 * PER_DAY ? 20 : day(i)) + 2 * e);
    const hits = labelled(scoreSeries(t, v));
    // Days 3 to 6 are routine once the pattern is learned; the missing peak of day 7 is not.
    expect(hits.filter((i) => i >= 3 * PER_DAY && i < 7 * PER_DAY)).toEqual([]);
    expect(hits.some((i) => i >= 7 * PER_DAY + 110 && i < 7 * PER_DAY + 140)).toBe(true);
  });

  it('leaves a routine daily spike alone once seen, but labels one far above it', () => {
    const { t, v } = series(14 * PER_DAY, (i, e) => 0.1 + 0.005 * e + (i % PER_DAY === 100 ? (i === 12 * PER_DAY + 100 ? 3 : 1.5) : 0));
    const s = scoreSeries(t, v);
    const routine = Array.from({ length: 8 }, (_, d) => s[(3 + d) * PER_DAY + 100]!);
    expect(Math.max(...routine)).toBeLessThan(DEFAULT_DETECTOR_OPTIONS.labelAt);
    expect(s[12 * PER_DAY + 100]!).toBeGreaterThanOrEqual(DEFAULT_DETECTOR_OPTIONS.labelAt);
  });

  it('labels routine spikes that start coming closer together, though no single spike is new', () => {
    // A spike of the same height every 100 samples; at 3000 three more come within 15 samples.
    const burst = new Set([3005, 3010, 3015]);
    const { t, v } = series(4000, (i, e) => 1 + 0.01 * e + (i % 100 === 0 || burst.has(i) ? 20 : 0));
    const s = scoreSeries(t, v);
    const hits = labelled(s);
    expect(hits.filter((i) => i > 600 && i < 3000)).toEqual([]);
    expect(hits.some((i) => i >= 3005 && i <= 3020)).toBe(true);
    // The same series without the burst: only the short-window evidence could have labelled it.
    const plain = scoreSeries(t, v.map((x, i) => (burst.has(i) ? 1 : x)));
    expect(labelled(plain).filter((i) => i > 600)).toEqual([]);
    expect(labelled(scoreSeries(t, v, { ...DEFAULT_DETECTOR_OPTIONS, shortHalfLife: 0 })).filter((i) => i >= 3005 && i <= 3020)).toEqual([]);
  });

  it('labels a signal that gets stuck at one value for longer than it ever was, once; never one that never moved', () => {
    // Bursty writes: zero most of the time, with idle runs of up to 60 samples; from 3000 it stops.
    const { t, v } = series(4000, (i, e) => (i < 3000 && i % 60 < 8 ? 100 + 10 * e : 0));
    const hits = labelled(scoreSeries(t, v)).filter((i) => i > 600);
    expect(hits.filter((i) => i < 3000)).toEqual([]);
    expect(hits.filter((i) => i >= 3000)).toHaveLength(1);
    expect(hits[0]!).toBeLessThan(3100);
    const flat = series(4000, () => 42);
    expect(Math.max(...scoreSeries(flat.t, flat.v))).toBe(0);
  });

  it('does not let an anomalous day become the next day\'s expectation', () => {
    // A daily peak of 80; on day 9 it goes to 160. Days 10 and 11 are routine again.
    const day = (i: number) => ((i % PER_DAY) >= 110 && (i % PER_DAY) < 220 ? 80 : 20);
    const { t, v } = series(12 * PER_DAY, (i, e) => (i >= 9 * PER_DAY && i < 10 * PER_DAY && day(i) === 80 ? 160 : day(i)) + 2 * e);
    const hits = labelled(scoreSeries(t, v));
    expect(hits.some((i) => i >= 9 * PER_DAY + 110 && i < 9 * PER_DAY + 140)).toBe(true);
    expect(hits.filter((i) => i >= 10 * PER_DAY)).toEqual([]);
  });

  it('is deterministic, and a cloned state continues exactly as the original', () => {
    const { t, v } = series(1500, (i, e) => 10 + e + (i === 1200 ? 30 : 0));
    expect(scoreSeries(t, v)).toEqual(scoreSeries(t, v));
    const a = initialDetectorState();
    for (let i = 0; i < 1000; i++) observe(a, t[i]!, v[i]!);
    const b = cloneDetectorState(a);
    for (let i = 1000; i < 1500; i++) expect(observe(b, t[i]!, v[i]!)).toBe(observe(a, t[i]!, v[i]!));
  });
});
