// The HorizontalPodAutoscaler's arithmetic case by case, against what kube-controller-manager does:
// the replica calculator (tolerance, unready and missing pods), the default scale-up policies, the
// 300 s scale-down stabilisation window, min/max bounds and the conditions they set. Pure functions,
// no twin; the integration with the twin is in hpa.test.ts.
import { describe, expect, it } from 'vitest';
import {
  applyRateLimits,
  behaviourOf,
  decide,
  emptyHistory,
  podMetricReplicas,
  validateHpaSpec,
  type HpaHistory,
  type HpaPod,
} from '../../src/twin/hpa-algorithm.ts';
import type { HorizontalPodAutoscalerSpec } from '../../src/twin/kube-objects.ts';

const NOW = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;

/** A pod that has run for an hour, ready, using `cpu` millicores of a 500m request. */
const pod = (name: string, cpu: number | undefined, over: Partial<HpaPod> = {}): HpaPod => ({
  name,
  phase: 'Running',
  ready: true,
  startTimeMs: NOW - 60 * MIN,
  readyTransitionMs: NOW - 59 * MIN,
  metrics: cpu === undefined ? {} : { cpu },
  requests: { cpu: 500 },
  ...over,
});

const pods = (n: number, cpu: number) => Array.from({ length: n }, (_, i) => pod(`p${i}`, cpu));

const spec = (over: Partial<HorizontalPodAutoscalerSpec> = {}): HorizontalPodAutoscalerSpec => ({
  scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  minReplicas: 2,
  maxReplicas: 50,
  metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  ...over,
});

function sync(current: number, podList: HpaPod[], history: HpaHistory = emptyHistory(), nowMs = NOW, s = spec()) {
  return decide({ spec: s, specReplicas: current, statusReplicas: podList.length, pods: podList, objectMetric: () => undefined, nowMs, history });
}

describe('replica calculator', () => {
  it('asks for ceil(current x metric / target) replicas', () => {
    // 4 pods at 400m of 500m = 80% against a 50% target: 4 x 1.6 = 6.4 → 7.
    expect(podMetricReplicas(4, pods(4, 400), 'cpu', { utilization: 50 }, 'cpu', NOW)).toEqual({ replicas: 7, utilization: 80, average: 400 });
    expect(podMetricReplicas(4, pods(4, 100), 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(2);
  });

  it('changes nothing within the 10% tolerance band, and acts just outside it', () => {
    // 270m = 54% → ratio 1.08: inside the band.
    expect(podMetricReplicas(10, pods(10, 270), 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(10);
    // 230m = 46% → 0.92: inside.
    expect(podMetricReplicas(10, pods(10, 230), 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(10);
    // 280m = 56% → 1.12: outside, 10 x 1.12 → 12.
    expect(podMetricReplicas(10, pods(10, 280), 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(12);
    // 220m = 44% → 0.88: outside, 10 x 0.88 → 9.
    expect(podMetricReplicas(10, pods(10, 220), 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(9);
  });

  it('truncates utilisation to a whole percent before comparing, as upstream does', () => {
    // 279.5m = 55.9% → 55 → ratio 1.1 → 11 pods (12 without the truncation).
    expect(podMetricReplicas(10, pods(10, 279.5), 'cpu', { utilization: 50 }, 'cpu', NOW)).toMatchObject({ replicas: 11, utilization: 55 });
  });

  it('counts unready pods as using nothing when scaling up (CPU only), and ignores Pending pods', () => {
    const list = [...pods(4, 500), pod('starting', 350, { ready: false, readyTransitionMs: NOW - 10_000, startTimeMs: NOW - 10_000 }), pod('pending', undefined, { phase: 'Pending', startTimeMs: undefined })];
    // Ready pods alone: 100% → 2.0; with the starting pod at 0: 2000/2500 = 80% → 1.6 x 5 = 8.
    expect(podMetricReplicas(6, list, 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(8);
    // Ready for under one metric window within the first 5 minutes still counts as unready.
    const justReady = [...pods(4, 500), pod('fresh', 450, { startTimeMs: NOW - 40_000, readyTransitionMs: NOW - 10_000 })];
    expect(podMetricReplicas(5, justReady, 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(8);
    // The same pod ready for 20 s counts.
    const settled = [...pods(4, 500), pod('fresh', 450, { startTimeMs: NOW - 50_000, readyTransitionMs: NOW - 20_000 })];
    expect(podMetricReplicas(5, settled, 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(10);
  });

  it('counts pods without metrics as using their whole request on a scale-down, so it does not overshoot', () => {
    const list = [...pods(4, 100), pod('nometrics', undefined)];
    // Ready: 20% → 0.4 → would be 2; with the missing pod at 100%: (400 + 500) / 2500 = 36% → 0.72 x 5 → 4.
    expect(podMetricReplicas(5, list, 'cpu', { utilization: 50 }, 'cpu', NOW).replicas).toBe(4);
  });

  it('averages Pods metrics against an average value', () => {
    const list = pods(4, 0).map((p, i) => ({ ...p, metrics: { http_requests_per_second: [300, 300, 300, 300][i]! } }));
    expect(podMetricReplicas(4, list, 'http_requests_per_second', { averageValue: 200 }, undefined, NOW).replicas).toBe(6);
  });
});

describe('scaling policies and stabilisation', () => {
  const rules = behaviourOf(spec());

  it('limits a scale-up to the larger of +4 pods and +100% per 15 s', () => {
    expect(applyRateLimits(2, 20, 2, 50, emptyHistory(), rules, NOW)).toMatchObject({ replicas: 6, reason: 'ScaleUpLimit' });
    expect(applyRateLimits(10, 40, 2, 50, emptyHistory(), rules, NOW)).toMatchObject({ replicas: 20, reason: 'ScaleUpLimit' });
    expect(applyRateLimits(10, 15, 2, 50, emptyHistory(), rules, NOW)).toMatchObject({ replicas: 15, reason: 'DesiredWithinRange' });
    expect(applyRateLimits(10, 40, 2, 12, emptyHistory(), rules, NOW)).toMatchObject({ replicas: 12, reason: 'TooManyReplicas' });
    // Pods added within the period count against it: 6 of the 10 came 10 s ago, so the period started at 4.
    const recent: HpaHistory = { ...emptyHistory(), scaleUpEvents: [{ atMs: NOW - 10_000, change: 6 }] };
    expect(applyRateLimits(10, 40, 2, 50, recent, rules, NOW).replicas).toBe(10);
    // An event exactly one period old no longer counts (upstream: strictly after the cutoff).
    const old: HpaHistory = { ...emptyHistory(), scaleUpEvents: [{ atMs: NOW - 15_000, change: 6 }] };
    expect(applyRateLimits(10, 40, 2, 50, old, rules, NOW).replicas).toBe(20);
  });

  it('keeps the highest recommendation of the last 300 s before scaling down', () => {
    let history = emptyHistory();
    // A new HPA remembers the current size: no scale-down in its first window either.
    let d = sync(10, pods(10, 100), history, NOW);
    expect(d).toMatchObject({ desiredReplicas: 10, rescale: false });
    expect(d.conditions.find((c) => c.type === 'AbleToScale')).toMatchObject({ reason: 'ScaleDownStabilized' });
    history = d.history;
    for (let t = 15_000; t < 300_000; t += 15_000) {
      d = sync(10, pods(10, 100), history, NOW + t);
      history = d.history;
      expect(d.desiredReplicas).toBe(10);
    }
    // 300 s after the first sync the 10 has left the window (cutoff is exclusive).
    d = sync(10, pods(10, 100), history, NOW + 300_000);
    // 20% of a 50% target: 10 x 0.4 = 4.
    expect(d).toMatchObject({ desiredReplicas: 4, rescale: true, rescaleReason: 'All metrics below target' });
    expect(d.history.scaleDownEvents).toEqual([{ atMs: NOW + 300_000, change: 6 }]);
  });

  it('scales up at once, with the reason upstream writes into the event', () => {
    const d = sync(4, pods(4, 450));
    expect(d).toMatchObject({ desiredReplicas: 8, rescale: true, rescaleReason: 'cpu resource utilization (percentage of request) above target' });
    expect(d.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '450m' } } }]);
    expect(d.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['AbleToScale', 'True', 'SucceededRescale'],
      ['ScalingActive', 'True', 'ValidMetricFound'],
      ['ScalingLimited', 'False', 'DesiredWithinRange'],
    ]);
  });

  it('brings the target inside min/max first, and does nothing for a target scaled to zero', () => {
    expect(sync(60, pods(60, 250))).toMatchObject({ desiredReplicas: 50, rescale: true, rescaleReason: 'Current number of replicas above Spec.MaxReplicas' });
    expect(sync(1, pods(1, 250))).toMatchObject({ desiredReplicas: 2, rescale: true });
    const zero = sync(0, []);
    expect(zero.rescale).toBe(false);
    expect(zero.conditions.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'False', reason: 'ScalingDisabled' });
  });

  it('reports a metric it cannot compute and does not scale', () => {
    const d = sync(4, [pod('a', undefined, { phase: 'Pending' })]);
    expect(d.rescale).toBe(false);
    expect(d.conditions.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric' });
    expect(d.warnings.map((w) => w.reason)).toEqual(['FailedGetResourceMetric', 'FailedComputeMetricsReplicas']);
  });

  it('takes the largest proposal of several metrics, and Object metrics on the deployment', () => {
    const s = spec({
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'Object', object: { describedObject: { kind: 'Deployment', name: 'web' }, metric: { name: 'http_request_duration_p99_ms' }, target: { type: 'Value', value: '300' } } },
      ],
    });
    const d = decide({ spec: s, specReplicas: 4, statusReplicas: 4, pods: pods(4, 250), objectMetric: () => 600, nowMs: NOW, history: emptyHistory() });
    // CPU is at target (4); p99 is twice its target: 4 ready pods x 2 = 8.
    expect(d).toMatchObject({ desiredReplicas: 8, rescaleReason: 'Deployment metric http_request_duration_p99_ms above target' });
  });
});

describe('HPA validation', () => {
  it('refuses what the API server refuses', () => {
    expect(validateHpaSpec(spec())).toEqual([]);
    expect(validateHpaSpec(spec({ maxReplicas: 1, minReplicas: 3 })).map((c) => c.field)).toEqual(['spec.maxReplicas']);
    expect(validateHpaSpec({ maxReplicas: 3 }).map((c) => c.field)).toEqual(['spec.scaleTargetRef.kind', 'spec.scaleTargetRef.name']);
    const bad = validateHpaSpec(spec({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }] }));
    expect(bad[0]).toMatchObject({ field: 'spec.metrics[0].resource.target.averageUtilization' });
    expect(validateHpaSpec(spec({ behavior: { scaleUp: { policies: [{ type: 'Pods', value: 0, periodSeconds: 15 }] } } }))[0]).toMatchObject({
      field: 'spec.behavior.scaleUp.policies[0].value',
    });
  });
});
