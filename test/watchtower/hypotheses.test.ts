// Ranked hypotheses by rules: what the signals and the correlated rollout point at, most likely first.
import { describe, expect, it } from 'vitest';
import { ruleHypotheses } from '../../agents/watchtower/hypotheses.ts';
import type { Signal } from '../../src/contracts/events.ts';

const p99: Signal = { metric: 'http_request_duration_p99_ms', target: 'checkout', value: 1028, baseline: 239, change_pct: 330 };
const change = { kind: 'deployment' as const, name: 'checkout', revision: 2, at: '2026-11-24T09:13:00.000Z', minutes_before: 47, description: 'JVM heap tuning' };
const target = { kind: 'Deployment', name: 'checkout' };

describe('ruleHypotheses', () => {
  it('puts the rollout first when pods show GC and memory pressure after it (the seed incident)', () => {
    const signals: Signal[] = [
      p99,
      ...['checkout-a', 'checkout-b', 'checkout-c'].map((pod) => ({ metric: 'jvm_gc_pause_ms_per_min', target: pod, value: 4000, baseline: 900, change_pct: 340 })),
      { metric: 'memory_utilisation_ratio', target: 'checkout-a', value: 0.94, baseline: 0.6, change_pct: 57 },
    ];
    const h = ruleHypotheses({ signals, correlated_change: change, target });
    expect(h[0]!.text).toMatch(/^revision 2 of checkout \(JVM heap tuning\), rolled out 47 min before .*3 pod\(s\) under GC or memory pressure/);
    expect(h.map((x) => x.confidence!)).toEqual([...h.map((x) => x.confidence!)].sort((a, b) => b - a));
    expect(h.reduce((t, x) => t + x.confidence!, 0)).toBeCloseTo(1, 1);
    expect(h[0]!.confidence!).toBeGreaterThan(0.5);
  });

  it('puts capacity first for a surge with no rollout, and OOM kills first for a leak', () => {
    const surge = ruleHypotheses({ signals: [p99, { metric: 'served_rps_per_pod', target: 'checkout', value: 900, baseline: 500, change_pct: 80 }], target });
    expect(surge[0]!.text).toMatch(/^more load per pod than checkout serves within its SLO \(900 req\/s a pod against 500/);
    const leak = ruleHypotheses({ signals: [p99, { metric: 'container_oom_kills', target: 'checkout-a', value: 2, baseline: 0, change_pct: 100 }], target });
    expect(leak[0]!.text).toMatch(/OOM-killed/);
  });

  it('puts the CPU limit first when the pods are throttled at it, even with more load per pod', () => {
    const h = ruleHypotheses({
      signals: [
        p99,
        { metric: 'served_rps_per_pod', target: 'checkout', value: 3.9, baseline: 1, change_pct: 290 },
        { metric: 'cpu_throttled_ratio', target: 'checkout', value: 0.31, baseline: 0, change_pct: 100, unit: 'share of CFS periods' },
      ],
      target,
    });
    expect(h[0]!.text).toBe("checkout's pods are throttled at their CPU limit in 31% of CFS periods: the limit, not the number of pods, holds the requests back");
    expect(h[1]!.text).toMatch(/^more load per pod/);
  });

  it('says so when the signals show latency alone', () => {
    const h = ruleHypotheses({ signals: [p99], target });
    expect(h).toEqual([{ text: 'a cause the signals do not show: a dependency, the network, or a node', confidence: 1 }]);
  });
});
