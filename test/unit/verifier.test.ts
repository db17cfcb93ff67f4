import { describe, expect, it } from 'vitest';
import { PODS_NOT_READY, compensationWouldHurt, judge, judgeCompensation, judgedValue } from '../../agents/runtime/verifier.ts';
import { proposal } from '../integration/harness.ts';

const spec = { metric: 'p99', slo_threshold: 500, min_improvement_pct: 20, window_s: 120 };
const s = (pairs: [number, number][]) => pairs.map(([t, v]) => ({ atMs: t * 1000, value: v }));

describe('verification judgement', () => {
  it('restored after two samples under the SLO', () => {
    expect(judge(spec, 1240, s([[15, 600], [30, 450]]), 0, 300_000)).toBeUndefined();
    expect(judge(spec, 1240, s([[15, 600], [30, 450], [45, 420]]), 0, 300_000)).toBe('restored');
  });
  it('improved only once the window has passed with enough improvement', () => {
    expect(judge(spec, 1000, s([[60, 700]]), 0, 300_000)).toBeUndefined();
    expect(judge(spec, 1000, s([[120, 700]]), 0, 300_000)).toBe('improved');
    expect(judge(spec, 1000, s([[120, 900]]), 0, 300_000)).toBeUndefined();
  });
  it('not helped when the budget runs out', () => {
    expect(judge(spec, 1000, s([[300, 950]]), 0, 300_000)).toBe('not_helped');
  });
});

describe('judging an action that adds capacity', () => {
  const cap = { ...spec, capacity: true };
  const c = (offered: number, served: number, saturation: number | null, errors = 0) => ({ offered_rps: offered, served_rps: served, error_ratio: errors, saturation, ready_pods: 3 });
  const before = c(2700, 1800, 1.0, 0.33);
  const at = (t: number, p99: number, capacity = before) => ({ atMs: t * 1000, value: p99, capacity });

  it('partially helped at the end of its window: more served or less saturated, though p99 is still out', () => {
    expect(judge(cap, 2000, [at(60, 1900, c(2700, 2500, 0.95, 0.07))], 0, 300_000, before)).toBeUndefined();
    expect(judge(cap, 2000, [at(120, 1900, c(2700, 2500, 0.95, 0.07))], 0, 300_000, before)).toBe('partially_helped');
    expect(judge(cap, 2000, [at(120, 1900, c(2700, 1800, 0.8, 0.33))], 0, 300_000, before)).toBe('partially_helped');
    // A p99 that improved enough is 'improved', whatever the capacity says.
    expect(judge(cap, 2000, [at(120, 1500, c(2700, 2500, 0.9))], 0, 300_000, before)).toBe('improved');
  });

  it('not helped when nothing it could change changed; and an action that is not a capacity action is never partial', () => {
    expect(judge(cap, 2000, [at(120, 1990, c(2700, 1820, 0.99, 0.32))], 0, 300_000, before)).toBeUndefined();
    expect(judge(cap, 2000, [at(300, 1990, c(2700, 1820, 0.99, 0.32))], 0, 300_000, before)).toBe('not_helped');
    expect(judge(spec, 2000, [at(120, 1900, c(2700, 2500, 0.5))], 0, 300_000, before)).toBeUndefined();
  });
});

describe('judging a compensating action', () => {
  const at = (t: number, p99: number) => ({ atMs: t * 1000, value: p99 });
  it('restored when the service is back to where it was (within 10%) or under its SLO, twice', () => {
    expect(judgeCompensation(spec, 800, [at(15, 870), at(30, 860)], 0)).toBe('restored');
    expect(judgeCompensation(spec, 300, [at(15, 480), at(30, 450)], 0)).toBe('restored');
    expect(judgeCompensation(spec, 800, [at(15, 870), at(30, 900)], 0)).toBeUndefined();
    expect(judgeCompensation(spec, 800, [at(120, 1200)], 0)).toBe('not_helped');
  });
});

describe('the compensation guard', () => {
  const metrics = (replicas: number, offered: number, errors: number, cpu: number) => ({
    pods: Array.from({ length: replicas }, (_, i) => ({ pod: `p${i}`, ready: true, memory_bytes: 1, cpu_millicores: cpu, cpu_limit_millicores: 1000 })),
    service: { p50_ms: 200, p99_ms: 1500, rps: offered, error_ratio: errors },
    deployment: { replicas },
  });
  const scale = (from: number, to: number) => proposal({
    params: { from_replicas: from, to_replicas: to },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'ns', deployment: 'signup', replicas: to } },
    compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'ns', deployment: 'signup', replicas: from } },
  });

  it('never scales back down while demand exceeds what the smaller size serves', () => {
    // 5 pods at their CPU limit serve 3000 of 3300 offered (600 each): 3 pods would serve 1800.
    expect(compensationWouldHurt(scale(3, 5), metrics(5, 3300, 0.09, 1000))).toMatch(/not fired: 3300 requests\/s are offered, more than 3 pods serve/);
    // Demand fell back to what 3 pods serve easily: undoing is safe.
    expect(compensationWouldHurt(scale(3, 5), metrics(5, 900, 0, 300))).toBeUndefined();
    // Not a scale-down, nothing to guard.
    expect(compensationWouldHurt(scale(5, 3), metrics(3, 3300, 0.4, 1000))).toBeUndefined();
  });
});

describe('the judged value of one reading', () => {
  const reading = {
    service: { p50_ms: 80, p99_ms: 420, rps: 100, error_ratio: 0 },
    deployment: { replicas: 10 },
    pods: [{ pod: 'a', ready: true, memory_bytes: 1, cpu_millicores: 1 }, { pod: 'b', ready: false, memory_bytes: 1, cpu_millicores: 1 }],
    pods_without_metrics: [{ pod: 'c', ready: false }, { pod: 'd', ready: false }],
  };
  it('is p99 latency for an SLO metric, and the pods not ready (Pending or starting) for a node-group step', () => {
    expect(judgedValue({ metric: 'http_request_duration_p99_ms' }, reading)).toBe(420);
    expect(judgedValue({ metric: PODS_NOT_READY }, reading)).toBe(3);
    // Two readings with none left: restored.
    const spec = { metric: PODS_NOT_READY, slo_threshold: 0, min_improvement_pct: 50, window_s: 180 };
    expect(judge(spec, 2, [{ atMs: 15_000, value: 0 }, { atMs: 30_000, value: 0 }], 0, 300_000)).toBe('restored');
  });
});
