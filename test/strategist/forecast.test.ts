// Strategist's forecast on series made here: it repeats a clean daily and weekly pattern, averages
// away noise the seasonal-naive forecast copies, and the naive forecast itself is what its name says.
import { describe, expect, it } from 'vitest';
import { forecast, seasonalNaive, seasonFor } from '../../agents/strategist/forecast.ts';

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
});
