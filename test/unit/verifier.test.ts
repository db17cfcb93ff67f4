import { describe, expect, it } from 'vitest';
import { judge } from '../../agents/runtime/verifier.ts';

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
