// Multi-window, multi-burn-rate SLO alerts as the SRE Workbook sets them out, for a 99.9% SLO
// (error budget 0.1%): 14.4x is an error ratio of 1.44%, 6x of 0.6%, 3x of 0.3%, 1x of 0.1%.
import { describe, expect, it } from 'vitest';
import { addCounts, burnRate, errorRatio, evaluateBurnRates, initialBurnWindows } from '../../src/detect/burn-rate.ts';

const SLO = 0.999;
const ratios = (r: Record<number, number>) => (w: number) => r[w];

describe('burn-rate alerts', () => {
  it('burn rate is the error ratio over the budget', () => {
    expect(burnRate(0.0144, SLO)).toBeCloseTo(14.4, 9);
  });

  it('pages when both the hour and the five minutes burn at 14.4x', () => {
    const v = evaluateBurnRates(SLO, ratios({ 3600: 0.02, 300: 0.02 }));
    expect(v.severity).toBe('page');
    expect(v.firing[0]).toMatchObject({ longS: 3600, shortS: 300, factor: 14.4 });
  });

  it('stops paging once the short window recovers, though the hour still carries the burn', () => {
    expect(evaluateBurnRates(SLO, ratios({ 3600: 0.02, 300: 0.0001 })).severity).toBe('none');
  });

  it('pages on a slower burn over six hours and thirty minutes; a ticket for 3x over a day and two hours', () => {
    expect(evaluateBurnRates(SLO, ratios({ 21600: 0.007, 1800: 0.007 })).severity).toBe('page');
    const t = evaluateBurnRates(SLO, ratios({ 86400: 0.0035, 7200: 0.0035 }));
    expect(t.severity).toBe('ticket');
    expect(t.firing.map((f) => f.factor)).toEqual([3]);
  });

  it('a window without enough data does not fire, and a bad target is refused', () => {
    expect(evaluateBurnRates(SLO, ratios({ 300: 0.5 })).severity).toBe('none');
    expect(() => evaluateBurnRates(1, ratios({}))).toThrow(RangeError);
  });

  it('keeps each window’s error ratio from a stream of counts', () => {
    const s = initialBurnWindows();
    const t0 = Date.UTC(2026, 0, 1);
    // Two hours clean, then ten minutes at 20% errors, 1,000 requests a minute.
    for (let m = 0; m < 130; m++) addCounts(s, t0 + m * 60_000, m >= 120 ? 200 : 0, 1000);
    expect(errorRatio(s, 300)).toBeCloseTo(0.2, 9);
    expect(errorRatio(s, 3600)).toBeCloseTo(2000 / 60_000, 9);
    // Six hours have not passed: that window has no ratio yet.
    expect(errorRatio(s, 21600)).toBeUndefined();
    expect(evaluateBurnRates(SLO, (w) => errorRatio(s, w)).severity).toBe('page');
    // Ten quiet minutes later the five-minute window is clean and the page stops.
    for (let m = 130; m < 140; m++) addCounts(s, t0 + m * 60_000, 0, 1000);
    expect(errorRatio(s, 300)).toBe(0);
    expect(evaluateBurnRates(SLO, (w) => errorRatio(s, w)).severity).toBe('none');
  });
});
