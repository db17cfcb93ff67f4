import { describe, expect, it } from 'vitest';
import { capacityGain, capacitySample, demandAhead, podCapacityRps, replicasFor, wouldServe } from '../../agents/runtime/capacity.ts';

const metrics = (pods: { cpu: number; limit?: number | null; ready?: boolean }[], rps: number, errors = 0) => ({
  pods: pods.map((p, i) => ({ pod: `p${i}`, ready: p.ready ?? true, memory_bytes: 1, cpu_millicores: p.cpu, cpu_limit_millicores: p.limit === undefined ? 1000 : p.limit })),
  service: { p50_ms: 100, p99_ms: 300, rps, error_ratio: errors },
  deployment: { replicas: pods.length },
});

describe('capacity read off a service', () => {
  it('samples demand, what is served, errors and saturation', () => {
    expect(capacitySample(metrics([{ cpu: 1000 }, { cpu: 1000 }, { cpu: 1000, ready: false }], 2700, 1 / 3))).toEqual({
      offered_rps: 2700, served_rps: 1800, error_ratio: 1 / 3, saturation: 1, ready_pods: 2,
    });
    expect(capacitySample(metrics([{ cpu: 250, limit: null }], 150)).saturation).toBeNull();
  });

  it('estimates what one pod serves at its CPU limit from the CPU a served request costs', () => {
    // 150 rps per pod at 250 millicores: a pod of 1000 millicores serves 600.
    expect(podCapacityRps(metrics([{ cpu: 250 }, { cpu: 250 }, { cpu: 250 }], 450))).toBeCloseTo(600, 5);
    // Saturated and shedding: 900 served per pod would need 1500 millicores; they serve 600 at 1000.
    expect(podCapacityRps(metrics([{ cpu: 1000 }, { cpu: 1000 }, { cpu: 1000 }], 2700, 1 - 1800 / 2700))).toBeCloseTo(600, 5);
    expect(podCapacityRps(metrics([{ cpu: 250, limit: null }], 450))).toBeUndefined();
    expect(podCapacityRps(metrics([{ cpu: 0 }], 0))).toBeUndefined();
  });

  it('sizes for the demand at the target utilisation, and says when a smaller size would shed load', () => {
    expect(replicasFor(2700, 600)).toBe(8); // 2700 / (600 × 0.6) = 7.5
    expect(replicasFor(2700, undefined)).toBeUndefined();
    const m = metrics([{ cpu: 1000 }, { cpu: 1000 }, { cpu: 1000 }, { cpu: 1000 }, { cpu: 1000 }], 3300, 0.09);
    expect(wouldServe(m, 3)).toBe(false);
    expect(wouldServe(m, 7)).toBe(true);
  });

  it('carries a rising demand forward, and never plans for less than now', () => {
    const min = 60_000;
    const rising = [0, 1, 2, 3].map((i) => ({ atMs: i * min, offered_rps: 1000 + 100 * i }));
    expect(demandAhead(rising, 5 * min)).toBeCloseTo(1300 + 500, 5);
    const falling = [0, 1, 2, 3].map((i) => ({ atMs: i * min, offered_rps: 1300 - 100 * i }));
    expect(demandAhead(falling, 5 * min)).toBe(1000);
    expect(demandAhead([], min)).toBe(0);
  });

  it('tells what a capacity action changed', () => {
    const before = { offered_rps: 2700, served_rps: 1800, error_ratio: 0.33, saturation: 1, ready_pods: 3 };
    const after = { offered_rps: 2700, served_rps: 2700, error_ratio: 0, saturation: 0.9, ready_pods: 5 };
    expect(capacityGain(before, after)).toEqual({ served_pct: 50, saturation_pct: 10, errors_pct: 100 });
  });
});
