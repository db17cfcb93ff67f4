// The FinOps server's pure arithmetic: percentiles and windows over its own samples, and the
// month-end forecast (including the month boundary, where the configured month-to-date stops counting).
import { describe, expect, it } from 'vitest';
import { forecastMonth, monthOf } from '../../mcp-servers/finops/cost-model.ts';
import { percentile, summariseUtilisation, type UsageSample } from '../../mcp-servers/finops/usage-stats.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const sample = (minute: number, cpu: number, request = 1_000): UsageSample => ({
  atMs: T0 + minute * 60_000,
  replicas: 2,
  pods: 2,
  cpu_millicores: cpu,
  cpu_request_millicores: request,
  memory_bytes: 0,
});

describe('usage statistics', () => {
  it('nearest-rank p95', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 0.95)).toBe(95);
    expect(percentile([3], 0.95)).toBe(3);
    expect(percentile([1, 2], 0.95)).toBe(2);
  });

  it('summarises only the window, and reports the history and gaps it found', () => {
    const samples = [sample(0, 900), sample(50, 100), sample(51, 200), sample(60, 300), sample(70, 400)];
    const s = summariseUtilisation(samples, 30, T0 + 71 * 60_000);
    expect(s.samples).toBe(4); // minute 0 is outside 41..71
    expect(s.history_minutes).toBe(20);
    expect(s.largest_gap_s).toBe(600);
    expect(s.newest_sample_age_s).toBe(60);
    expect(s.cpu_millicores).toEqual({ mean: 250, p95: 400, peak: 400 });
    expect(s.utilisation).toEqual({ mean: 0.25, p95: 0.4, peak: 0.4 });
  });

  it('no samples: no figures, zero history; no requests: no utilisation', () => {
    expect(summariseUtilisation([], 60, T0)).toMatchObject({ samples: 0, history_minutes: 0, cpu_millicores: null, utilisation: null, newest_sample_age_s: null });
    expect(summariseUtilisation([sample(0, 100, 0)], 60, T0).utilisation).toBeNull();
  });
});

describe('month forecast', () => {
  it('month-to-date plus the run rate over the rest of the UTC month', () => {
    const f = forecastMonth({ nowMs: T0, monthlyBudgetUsd: 20_000, configuredMonthToDateUsd: 9_000, configuredMonthKey: '2026-11', observedSinceUsd: 50, monthlyRunRateUsd: 60_000 });
    const remaining = (Date.UTC(2026, 11, 1) - T0) / (30 * 86_400_000);
    expect(f.month_to_date_usd).toBe(9_050);
    expect(f.forecast_month_end_usd).toBeCloseTo(9_050 + 60_000 * remaining, 1);
    expect(f.forecast_over_budget).toBe(true);
    expect(f.forecast_pct_of_budget).toBeCloseTo((100 * (9_050 + 60_000 * remaining)) / 20_000, 0);
  });

  it('a new month does not carry last month\'s configured spend', () => {
    const dec = Date.parse('2026-12-02T00:00:00Z');
    const f = forecastMonth({ nowMs: dec, monthlyBudgetUsd: 20_000, configuredMonthToDateUsd: 9_000, configuredMonthKey: '2026-11', observedSinceUsd: 100, monthlyRunRateUsd: 3_100 });
    expect(f.month_to_date_usd).toBe(100);
    expect(f.forecast_month_end_usd).toBeCloseTo(100 + 3_100 * (30 / 31), 1);
    expect(monthOf(dec)).toEqual({ startMs: Date.UTC(2026, 11, 1), endMs: Date.UTC(2027, 0, 1), key: '2026-12' });
  });
});
