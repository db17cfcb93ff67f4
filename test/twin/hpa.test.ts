// The HorizontalPodAutoscaler controller inside the twin, end to end in virtual time: CRUD and
// validation of autoscaling/v2 objects, a load step answered within the default scale-up policy,
// the 300 s stabilisation before a scale-down, status, conditions and events. The arithmetic itself
// is tested case by case in hpa-algorithm.test.ts.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { benchTwinDay } from '../../src/twin/bench.ts';
import { buildSmallCluster } from './small-cluster.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const S = 1000;

function autoscaled(replicas = 2, rpsPerPod = 150) {
  const clock = new VirtualClock(START);
  const c = buildSmallCluster(clock, { replicas, rps: replicas * rpsPerPod });
  c.twin.createHpa({
    metadata: { name: c.deployment, namespace: c.namespace },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: c.deployment },
      minReplicas: 2,
      maxReplicas: 20,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    },
  });
  c.twin.start(1_000);
  return { clock, ...c };
}

const replicasOf = (twin: ClusterTwin, ns: string, name: string) => twin.getDeployment(ns, name)!.spec.replicas;

describe('HorizontalPodAutoscaler objects', () => {
  it('are stored with the API server defaults, replaced with a resourceVersion check, and deleted', () => {
    const { twin, namespace } = autoscaled();
    const bare = twin.createHpa({ metadata: { name: 'bare', namespace }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5 } });
    expect(bare.spec).toMatchObject({
      minReplicas: 1,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    expect(bare.status).toEqual({ currentReplicas: 0, desiredReplicas: 0 });
    const replaced = twin.replaceHpa(namespace, 'bare', { ...bare, spec: { ...bare.spec, maxReplicas: 8 } });
    expect(replaced.spec.maxReplicas).toBe(8);
    expect(replaced.metadata.generation).toBe(2);
    expect(() => twin.replaceHpa(namespace, 'bare', { ...bare, spec: { ...bare.spec, maxReplicas: 9 } })).toThrow(expect.objectContaining({ reason: 'Conflict' }));
    expect(() => twin.createHpa({ metadata: { name: 'bad', namespace }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 4, maxReplicas: 2 } })).toThrow(
      expect.objectContaining({ reason: 'Invalid' }),
    );
    twin.deleteHpa(namespace, 'bare');
    expect(twin.listHpas(namespace).map((h) => h.metadata.name)).toEqual(['web']);
  });

  it('scale up within the default policy, and report it in status, conditions and an event', async () => {
    const { clock, twin, namespace, deployment } = autoscaled();
    // Twice the load a pod can take at 50%: CPU hits the 1-core limit (200% of the request).
    await clock.advance(15 * S);
    expect(replicasOf(twin, namespace, deployment)).toBe(2);
    twin.setLoad(namespace, deployment, 2 * 700);
    await clock.advance(15 * S);
    // Desired ceil(2 x 200 / 50) = 8; the policy allows max(2 + 4, 2 x 2) = 6 per 15 s.
    expect(replicasOf(twin, namespace, deployment)).toBe(6);
    const hpa = twin.getHpa(namespace, deployment)!;
    expect(hpa.status).toMatchObject({ currentReplicas: 2, desiredReplicas: 6, lastScaleTime: new Date(START + 30 * S).toISOString() });
    expect(hpa.status.currentMetrics?.[0]).toMatchObject({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 200 } } });
    expect(hpa.status.conditions?.find((c) => c.type === 'ScalingLimited')).toMatchObject({ status: 'True', reason: 'ScaleUpLimit' });
    const rescale = twin.listEvents(namespace).find((e) => e.reason === 'SuccessfulRescale')!;
    expect(rescale).toMatchObject({
      involvedObject: { kind: 'HorizontalPodAutoscaler', name: deployment },
      message: 'New size: 6; reason: cpu resource utilization (percentage of request) above target',
      source: { component: 'horizontal-pod-autoscaler' },
    });
    // New pods are unready for 30 s (and one metric window): they count as using nothing, so the
    // HPA keeps asking for more while they start, as upstream does.
    await clock.advance(15 * S);
    expect(replicasOf(twin, namespace, deployment)).toBeGreaterThan(6);
    await clock.advance(120 * S);
    const settled = replicasOf(twin, namespace, deployment);
    const util = twin.getHpa(namespace, deployment)!.status.currentMetrics![0]!.resource!.current.averageUtilization!;
    expect(settled).toBeLessThanOrEqual(20);
    expect(util).toBeGreaterThan(40);
    expect(util).toBeLessThan(60);
  });

  it('scale down only once the 300 s stabilisation window has passed', async () => {
    const { clock, twin, namespace, deployment } = autoscaled(8, 250);
    await clock.advance(330 * S);
    const high = replicasOf(twin, namespace, deployment);
    expect(high).toBeGreaterThanOrEqual(8);
    // Load drops by three quarters between two syncs.
    await clock.advance(5 * S);
    twin.setLoad(namespace, deployment, (high * 250) / 4);
    const droppedAt = clock.now();
    const seen: { t: number; r: number }[] = [];
    for (let t = 0; t <= 330 * S; t += 5 * S) {
      seen.push({ t, r: replicasOf(twin, namespace, deployment) });
      await clock.advance(5 * S);
    }
    const firstDown = seen.find((x) => x.r < high)!;
    expect(firstDown).toBeDefined();
    expect(firstDown.t).toBeGreaterThanOrEqual(290 * S);
    expect(firstDown.t).toBeLessThanOrEqual(310 * S);
    expect(seen.filter((x) => x.t < firstDown.t).every((x) => x.r === high)).toBe(true);
    expect(Date.parse(twin.getHpa(namespace, deployment)!.status.lastScaleTime!)).toBeGreaterThanOrEqual(droppedAt + 290 * S);
    expect(twin.listEvents(namespace).some((e) => e.reason === 'SuccessfulRescale' && e.message.endsWith('All metrics below target'))).toBe(true);
  });

  it('report a missing target', async () => {
    const clock = new VirtualClock(START);
    const { twin, namespace } = buildSmallCluster(clock);
    twin.createHpa({ metadata: { name: 'ghost', namespace }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'ghost' }, maxReplicas: 3 } });
    twin.start(1_000);
    await clock.advance(15 * S);
    expect(twin.getHpa(namespace, 'ghost')!.status.conditions?.[0]).toMatchObject({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale' });
    expect(twin.listEvents(namespace).find((e) => e.reason === 'FailedGetScale')?.type).toBe('Warning');
  });
});

describe('benchTwinDay', () => {
  it('runs the WorldCup day cluster and reports its figures (two simulated hours here)', () => {
    const r = benchTwinDay({ simulatedMs: 2 * 3_600_000 });
    expect(r).toMatchObject({ simulated_s: 7200, steps: 7200 });
    expect(r.pods).toBeGreaterThanOrEqual(14);
    expect(r.wall_s).toBeGreaterThan(0);
  });
});
