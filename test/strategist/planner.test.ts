// Strategist's right-sizing rule as a pure function: it recommends only on sustained low utilisation
// with enough fresh history, sizes for p95 at 65% of requests, never goes below 2 replicas in
// production, and computes the saving from the tenant's pod price.
import { describe, expect, it } from 'vitest';
import type { CostDeployment, CostReport, Utilisation } from '../../agents/strategist/finops-views.ts';
import { capacityChangePct, rightSize, rightSizedReplicas, type RightSizingInput } from '../../agents/strategist/planner.ts';

const deployment = (over: Partial<CostDeployment> = {}): CostDeployment => ({
  namespace: 'acme-prod',
  name: 'checkout',
  replicas: 10,
  ready_replicas: 10,
  cpu_request_millicores: 500,
  memory_request_bytes: 2 * 2 ** 30,
  cpu_use_millicores: 1_000,
  cpu_utilisation: 0.2,
  monthly_cost_usd: 3_000,
  autoscaler: null,
  ...over,
});

/** Utilisation of a 10 × 500m deployment from per-sample totals in millicores. */
const utilisation = (p95Millicores: number, over: Partial<Utilisation> = {}, requested = 5_000): Utilisation => ({
  namespace: 'acme-prod',
  deployment: 'checkout',
  window_minutes: 60,
  samples: 121,
  sample_interval_s: 30,
  history_minutes: 60,
  newest_sample_age_s: 0,
  largest_gap_s: 30,
  replicas: 10,
  cpu_request_millicores: 500,
  cpu_millicores: { mean: p95Millicores * 0.9, p95: p95Millicores, peak: p95Millicores * 1.1 },
  utilisation: { mean: (p95Millicores * 0.9) / requested, p95: p95Millicores / requested, peak: (p95Millicores * 1.1) / requested },
  ...over,
});

const budget: CostReport['budget'] = {
  monthly_budget_usd: 20_000,
  month_to_date_usd: 9_000,
  forecast_month_end_usd: 18_000,
  forecast_pct_of_budget: 90,
  forecast_over_budget: false,
};

const input = (over: Partial<RightSizingInput> = {}): RightSizingInput => {
  const d = over.deployment ?? deployment();
  return {
    tenant: 'acme',
    environment: 'production',
    podMonthlyCostUsd: 300,
    sloP99Ms: 500,
    deployment: d,
    namespaceDeployments: [d, deployment({ name: 'search', replicas: 10 })],
    utilisation: utilisation(1_000),
    budget,
    ...over,
  };
};

describe('rightSize', () => {
  it('recommends fewer replicas for sustained low utilisation, sized for p95 at 65% of requests, with the saving', () => {
    // p95 demand 1,000m of 5,000m requested (20%): 1000 / (0.65 × 500) = 3.08 → 4 replicas.
    const r = rightSize(input());
    expect(r.kind).toBe('recommend');
    if (r.kind !== 'recommend') return;
    const rec = r.recommendation;
    expect(rec.params).toMatchObject({ deployment: 'checkout', from_replicas: 10, to_replicas: 4, monthly_saving_usd: 6 * 300 });
    expect(rec.params.utilisation).toMatchObject({ p95: 0.2, history_minutes: 60, samples: 121 });
    expect(rec.params.utilisation.p95_at_target).toBeCloseTo(1_000 / 2_000, 3);
    expect(rec.action).toBe('recommendation');
    expect(rec.tool_call).toEqual({ server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 4 } });
    expect(rec.compensating_action).toEqual({ server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 10 } });
    // 6 of 20 equal pods in the namespace: −30% of the tenant's capacity there.
    expect(rec.blast_radius).toEqual({ tenants: 1, services: 1, capacity_change_pct: -30 });
    expect(rec.reasoning.join('\n')).toMatch(/20% of its CPU requests at p95 over the last 60 min/);
    expect(rec.reasoning.join('\n')).toMatch(/\$1,800 per month/);
    expect(rec.reasoning.join('\n')).toMatch(/kubectl scale deployment\/checkout -n acme-prod --replicas=4/);
  });

  it('never goes below 2 replicas in production, and says why', () => {
    const r = rightSize(input({ utilisation: utilisation(150) }));
    expect(r.kind === 'recommend' && r.recommendation.params).toMatchObject({ to_replicas: 2, monthly_saving_usd: 8 * 300 });
    expect(r.kind === 'recommend' && r.recommendation.reasoning.join('\n')).toMatch(/floor for a production deployment/);
    // Outside production the floor is 1.
    const staging = rightSize(input({ environment: 'staging', utilisation: utilisation(150) }));
    expect(staging.kind === 'recommend' && staging.recommendation.params.to_replicas).toBe(1);
    // Already at the floor: nothing to recommend.
    const two = deployment({ replicas: 2 });
    expect(rightSize(input({ deployment: two, namespaceDeployments: [two], utilisation: utilisation(100, { replicas: 2 }, 1_000) })).kind).toBe('hold');
  });

  it('holds when p95 is not below 40% of requests, even if the mean is low', () => {
    const spiky = utilisation(2_100, { utilisation: { mean: 0.15, p95: 0.42, peak: 0.6 } });
    const r = rightSize(input({ utilisation: spiky }));
    expect(r).toMatchObject({ kind: 'hold' });
    expect(r.kind === 'hold' && r.reason).toMatch(/p95 CPU is 42% of requests/);
    expect(rightSize(input({ utilisation: utilisation(1_950) })).kind).toBe('recommend'); // 39%
  });

  it('holds with too little, stale or gappy history', () => {
    expect(rightSize(input({ utilisation: utilisation(1_000, { history_minutes: 2, samples: 5 }) }))).toMatchObject({ kind: 'hold', reason: expect.stringMatching(/only 2 min of utilisation history/) });
    expect(rightSize(input({ utilisation: utilisation(1_000, { history_minutes: 29.5 }) })).kind).toBe('hold');
    expect(rightSize(input({ utilisation: utilisation(1_000, { history_minutes: 30 }) })).kind).toBe('recommend');
    expect(rightSize(input({ utilisation: utilisation(1_000, { newest_sample_age_s: 900 }) }))).toMatchObject({ kind: 'hold', reason: expect.stringMatching(/stale/) });
    expect(rightSize(input({ utilisation: utilisation(1_000, { largest_gap_s: 1_200 }) }))).toMatchObject({ kind: 'hold', reason: expect.stringMatching(/gap/) });
    expect(rightSize(input({ utilisation: utilisation(1_000, { samples: 0, history_minutes: 0, newest_sample_age_s: null, cpu_millicores: null, utilisation: null }) })).kind).toBe('hold');
  });

  it('holds for a deployment an autoscaler owns, or whose replicas are changing', () => {
    const hpa = deployment({ autoscaler: { name: 'checkout', min_replicas: 4, max_replicas: 20 } });
    expect(rightSize(input({ deployment: hpa }))).toMatchObject({ kind: 'hold', reason: expect.stringMatching(/HorizontalPodAutoscaler/) });
    expect(rightSize(input({ utilisation: utilisation(1_000, { replicas: 12 }) }))).toMatchObject({ kind: 'hold', reason: expect.stringMatching(/changing/) });
  });

  it('keeps the observed peak under 90% of requests when the peak, not p95, is the constraint', () => {
    // p95 1,000m needs 4 pods; a 2,000m peak needs ceil(2000 / 450) = 5.
    const peaky = utilisation(1_000, { cpu_millicores: { mean: 800, p95: 1_000, peak: 2_000 } });
    const r = rightSize(input({ utilisation: peaky }));
    expect(r.kind === 'recommend' && r.recommendation.params.to_replicas).toBe(5);
  });
});

describe('sizing arithmetic', () => {
  it('rightSizedReplicas rounds up and respects the floor', () => {
    expect(rightSizedReplicas({ p95Millicores: 1_300, peakMillicores: 1_300, requestPerPodMillicores: 500, target: 0.65, peakCeiling: 0.9, floor: 2 })).toBe(4);
    expect(rightSizedReplicas({ p95Millicores: 1_301, peakMillicores: 1_301, requestPerPodMillicores: 500, target: 0.65, peakCeiling: 0.9, floor: 2 })).toBe(5);
    expect(rightSizedReplicas({ p95Millicores: 10, peakMillicores: 10, requestPerPodMillicores: 500, target: 0.65, peakCeiling: 0.9, floor: 2 })).toBe(2);
  });

  it('capacityChangePct weighs replicas by CPU requests across the namespace', () => {
    const ds = [deployment({ name: 'a', replicas: 4, cpu_request_millicores: 1_000 }), deployment({ name: 'b', replicas: 8, cpu_request_millicores: 500 })];
    expect(capacityChangePct(ds, 'b', 8, 4)).toBe(-25);
    expect(capacityChangePct(ds, 'a', 4, 2)).toBe(-25);
  });
});
