// Strategist's forecast on series made here: it repeats a clean daily and weekly pattern, averages
// away noise the seasonal-naive forecast copies, and the naive forecast itself is what its name says.
// In the first week (no weekday seen twice) it follows the days that look like the last one: a
// weekend after weekdays, and it leaves an outage's hours out.
import { describe, expect, it } from 'vitest';
import { analogueProfile, forecast, seasonalNaive, seasonFor } from '../../agents/strategist/forecast.ts';

const day = (h: number) => 100 + 80 * Math.sin(((h % 24) / 24) * 2 * Math.PI);
const weekly = (h: number) => day(h) * (Math.floor(h / 24) % 7 >= 5 ? 0.5 : 1);
const mae = (f: ArrayLike<number>, a: ArrayLike<number>) => Array.from(f).reduce((s, v, i) => s + Math.abs(v - a[i]!), 0) / f.length;

describe('demand forecast', () => {
  it('seasonal naive repeats the last season', () => {
    expect([...seasonalNaive([1, 2, 3, 4, 5, 6], 4, 3)]).toEqual([4, 5, 6, 4]);
  });

  it('uses the week as its season once it has eight days, the day before', () => {
    expect(seasonFor(7 * 24, 24)).toBe(24);
    expect(seasonFor(8 * 24, 24)).toBe(168);
  });

  it('continues a clean weekly pattern, weekend included', () => {
    const history = Array.from({ length: 21 * 24 }, (_, h) => weekly(h));
    const next = Array.from({ length: 168 }, (_, h) => weekly(21 * 24 + h));
    const f = forecast(history, 168);
    expect(mae(f, next)).toBeLessThan(10);
  });

  it('beats the seasonal-naive forecast on a noisy weekly pattern', () => {
    let seed = 7;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 60;
    const y = Array.from({ length: 42 * 24 }, (_, h) => Math.max(0, weekly(h) + noise()));
    let model = 0;
    let naive = 0;
    for (let o = 21 * 24; o + 24 <= y.length; o += 24) {
      const next = y.slice(o, o + 24);
      model += mae(forecast(y.slice(0, o), 24), next);
      naive += mae(seasonalNaive(y.slice(0, o), 24, 168), next);
    }
    expect(model).toBeLessThan(0.85 * naive);
  });

  it('never forecasts negative demand, and gives zeros with no history', () => {
    expect(Math.min(...forecast([0, 0, 0, 5, 0, 0], 12))).toBeGreaterThanOrEqual(0);
    expect([...forecast([], 3)]).toEqual([0, 0, 0]);
  });

  it('forecasts a purely daily series exactly, from two days and from three weeks of history', () => {
    for (const days of [2, 3, 5, 7, 21]) {
      const history = Array.from({ length: days * 24 }, (_, h) => day(h));
      const next = Array.from({ length: 48 }, (_, h) => day(days * 24 + h));
      const f = forecast(history, 48);
      for (let h = 0; h < 48; h++) expect(f[h]).toBeCloseTo(next[h]!, 6);
    }
  });

  it('reads nothing after the history: the same history gives the same forecast whatever follows it', () => {
    let seed = 3;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 40;
    const y = Float64Array.from({ length: 20 * 24 }, (_, h) => Math.max(0, weekly(h) + noise()));
    for (const o of [3 * 24, 5 * 24 + 7, 7 * 24, 9 * 24, 15 * 24]) {
      const other = Float64Array.from(y);
      for (let i = o; i < other.length; i++) other[i] = 1000 + i;
      expect([...forecast(other.subarray(0, o), 24)]).toEqual([...forecast(y.subarray(0, o), 24)]);
      expect([...forecast(Array.from(y.slice(0, o)), 24)]).toEqual([...forecast(y.subarray(0, o), 24)]);
    }
  });

  it('in the first week, follows a weekend that has begun instead of the weekdays before it', () => {
    // Monday to Saturday; Saturday runs at half the weekdays' level. Sunday will too.
    const history = Array.from({ length: 6 * 24 }, (_, h) => weekly(h + 0));
    const sunday = Array.from({ length: 24 }, (_, h) => weekly(6 * 24 + h));
    const f = forecast(history, 24);
    const weekdays = Array.from({ length: 24 }, (_, h) => day(h));
    expect(mae(f, sunday)).toBeLessThan(0.1 * mae(weekdays, sunday));
    // The weekdays look nothing like the Saturday: they hardly count.
    const { weights } = analogueProfile(history.map(Math.sqrt), 24);
    expect(weights[0]).toBe(1);
    expect(Math.max(...weights.slice(1))).toBeLessThan(0.01);
  });

  it('in the first week, follows a level that stepped up on the last day', () => {
    const history = Array.from({ length: 5 * 24 }, (_, h) => day(h) * (h >= 4 * 24 ? 2 : 1));
    const next = Array.from({ length: 24 }, (_, h) => 2 * day(5 * 24 + h));
    expect(mae(forecast(history, 24), next)).toBeLessThan(0.05 * mae(Array.from({ length: 24 }, (_, h) => day(h)), next));
  });

  it('in the first week, averages alike noisy days (beats same hour yesterday) and leaves an outage out', () => {
    let seed = 11;
    const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 30;
    const y = Array.from({ length: 7 * 24 }, (_, h) => Math.max(0, day(h) + noise()));
    let model = 0;
    let naive = 0;
    for (let o = 3 * 24; o + 24 <= y.length; o += 24) {
      const clean = Array.from({ length: 24 }, (_, h) => day(o + h));
      model += mae(forecast(y.slice(0, o), 24), clean);
      naive += mae(seasonalNaive(y.slice(0, o), 24, 24), clean);
    }
    expect(model).toBeLessThan(0.8 * naive);
    // Two hours of outage on the day before yesterday: the forecast for those hours does not dip.
    const history = Array.from({ length: 4 * 24 }, (_, h) => day(h));
    history[2 * 24 + 18] = 0;
    history[2 * 24 + 19] = 0;
    const f = forecast(history, 24);
    expect(Math.abs(f[18]! - day(18))).toBeLessThan(1e-6);
    expect(Math.abs(f[19]! - day(19))).toBeLessThan(1e-6);
  });
});

