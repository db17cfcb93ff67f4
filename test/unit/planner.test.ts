import { describe, expect, it } from 'vitest';
import { capacityChangePct, plan, scaleAction } from '../../agents/elastik/planner.ts';
import { nextStep } from '../../agents/elastik/sizing.ts';
import type { Observation } from '../../src/contracts/events.ts';

const obs: Observation = {
  id: 'o1', v: 1, ts: '2026-11-24T10:02:00Z', incident_id: 'i1', type: 'observation', agent: 'watchtower',
  tenant: 'acme', namespace: 'acme-prod', severity: 'critical', summary: 's', target: { kind: 'Deployment', name: 'checkout' },
  signals: [
    { metric: 'http_request_duration_p99_ms', target: 'checkout', value: 1240, baseline: 180, change_pct: 588 },
    { metric: 'jvm_gc_pause_ms_per_min', target: 'checkout-0', value: 880, baseline: 200, change_pct: 340 },
  ],
  correlated_change: { kind: 'deployment', name: 'checkout', revision: 2, at: '2026-11-24T09:13:00Z', minutes_before: 47, description: 'JVM heap' },
};
const capacity = {
  namespace: 'acme-prod', total_pods: 40,
  deployments: [
    { name: 'checkout', replicas: 8, cpu_request_millicores: 500, memory_request_bytes: 1 },
    { name: 'cart', replicas: 32, cpu_request_millicores: 500, memory_request_bytes: 1 },
  ],
};
const input = {
  observation: obs,
  metrics: { pods: [], service: { p50_ms: 80, p99_ms: 1240, rps: 900, error_ratio: 0 }, deployment: { replicas: 8, revision: 2 } },
  history: { revisions: [{ revision: 1 }, { revision: 2 }], current_revision: 2 },
  capacity, maxReplicas: 40, sloP99Ms: 500,
};

describe('Elastik planner', () => {
  it('proposes the seed incident\'s cause: a rollback to revision 1 (capacity is the incident work\'s)', () => {
    const actions = plan(input);
    expect(actions.map((a) => a.action)).toEqual(['rollback_deployment']);
    const [rollback] = actions;
    expect(rollback!.tool_call.args).toEqual({ namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 });
    expect(rollback!.compensating_action.args).toMatchObject({ to_revision: 2 });
  });

  it('the seed incident\'s first scaling step: 8 → 12 at 10% capacity, within level 3, judged by capacity too', () => {
    const step = nextStep({ deployment: 'checkout', current: 8, needed: undefined, maxReplicas: 40, capacity, supervisedAllowed: true, first: true });
    expect(step).toMatchObject({ kind: 'scale', to: 12, supervised: false });
    const scale = scaleAction({ namespace: 'acme-prod', deployment: 'checkout', tenant: 'acme', from: 8, to: 12, capacity, sloP99Ms: 500, reasoning: ['r'] });
    expect(scale.params).toEqual({ from_replicas: 8, to_replicas: 12 });
    expect(scale.blast_radius.capacity_change_pct).toBe(10);
    expect(scale.tool_call.args).toEqual({ namespace: 'acme-prod', deployment: 'checkout', replicas: 12 });
    expect(scale.compensating_action.args).toMatchObject({ replicas: 8 });
    expect(scale.verification).toMatchObject({ capacity: true, slo_threshold: 500 });
  });

  it('rolls back a recent release whose pods are being OOM-killed, even when their memory looks normal between kills', () => {
    const oom: Observation = {
      ...obs,
      signals: [
        { metric: 'http_request_duration_p99_ms', target: 'checkout', value: 900, baseline: 180, change_pct: 400 },
        { metric: 'container_oom_kills', target: 'checkout-3', value: 2, baseline: 0, change_pct: 100 },
      ],
    };
    expect(plan({ ...input, observation: oom }).map((a) => a.action)).toEqual(['rollback_deployment']);
    const latencyOnly: Observation = { ...obs, signals: [oom.signals[0]!] };
    expect(plan({ ...input, observation: latencyOnly }).map((a) => a.action)).toEqual([]);
  });

  it('without a capacity estimate scales by half as many again, within the 3x limit and the entitlement', () => {
    const step = (current: number, max: number) => nextStep({ deployment: 'checkout', current, needed: undefined, maxReplicas: max, capacity, supervisedAllowed: true });
    expect(step(8, 40)).toMatchObject({ kind: 'scale', to: 12, supervised: false });
    expect(step(1, 40)).toMatchObject({ kind: 'scale', to: 2 });
    expect(step(30, 40)).toMatchObject({ kind: 'scale', to: 40 });
    expect(step(40, 40)).toMatchObject({ kind: 'blocked', reason: 'entitlement' });
  });

  it('proposes nothing for informational observations, and no rollback without a correlated rollout', () => {
    expect(plan({ ...input, observation: { ...obs, severity: 'info' } })).toEqual([]);
    const { correlated_change: _, ...uncorrelated } = obs;
    expect(plan({ ...input, observation: uncorrelated }).map((a) => a.action)).toEqual([]);
  });

  it('computes signed capacity change, and assumes the worst for an unknown workload', () => {
    expect(capacityChangePct(capacity, 'checkout', 8, 4)).toBe(-10);
    expect(capacityChangePct(capacity, 'ghost', 1, 2)).toBe(100);
  });
});
