// The cluster twin's own behaviour: determinism, start-up delay, the deployment controller's
// rolling update and rollback, resourceVersions, refusals. Virtual time throughout.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { ClusterTwin, TwinError, rollingLimits } from '../../src/twin/cluster-twin.ts';
import { CHANGE_CAUSE_ANNOTATION, JVM_OPTIONS_ANNOTATION, REVISION_ANNOTATION, type PodTemplateSpec } from '../../src/twin/kube-objects.ts';
import { parseLabelSelector } from '../../src/twin/label-selector.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../src/twin/api/patch.ts';
import { mixtureQuantile, parseJvmOptions, podPerformance, DEFAULT_WORKLOAD } from '../../src/twin/performance-model.ts';
import { formatMetricValue, parseQuantity } from '../../src/twin/quantity.ts';
import { buildSmallCluster } from './small-cluster.ts';

const START = Date.parse('2026-11-24T10:00:00Z');

function cluster(opts: Parameters<typeof buildSmallCluster>[1] = {}) {
  const clock = new VirtualClock(START);
  const c = buildSmallCluster(clock, { replicas: 8, ...opts });
  c.twin.start();
  return { clock, ...c };
}

const readyOf = (twin: ClusterTwin, ns: string, app: string) =>
  twin.listPods(ns, `app=${app}`).filter((p) => p.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'));

function newTemplate(twin: ClusterTwin, ns: string, name: string, jvm: string): PodTemplateSpec {
  const t = twin.getDeployment(ns, name)!.spec.template;
  t.metadata!.annotations![JVM_OPTIONS_ANNOTATION] = jvm;
  return t;
}

describe('ClusterTwin determinism', () => {
  async function trace(seed: number) {
    const { clock, twin, namespace, deployment } = cluster({ seed });
    const out: unknown[] = [];
    for (let i = 0; i < 12; i++) {
      if (i === 3) twin.scale(namespace, deployment, 10);
      if (i === 6) twin.applyTemplate(namespace, deployment, newTemplate(twin, namespace, deployment, '-XX:MaxRAMPercentage=75'), 'tune');
      out.push(twin.serviceMetrics(namespace, deployment), twin.podMetrics(namespace, deployment), twin.listPods(namespace).map((p) => p.metadata.name));
      await clock.advance(10_000);
    }
    return JSON.stringify(out);
  }

  it('gives the same cluster for the same seed and the same calls, and another one for another seed', async () => {
    const a = await trace(7);
    expect(await trace(7)).toBe(a);
    expect(await trace(8)).not.toBe(a);
  });

  it('does not depend on how often it is stepped or read', async () => {
    const sample = async (tickMs: number, readEveryMs: number) => {
      const clock = new VirtualClock(START);
      const { twin, namespace, deployment } = buildSmallCluster(clock, { seed: 3 });
      twin.start(tickMs);
      for (let t = 0; t < 120_000; t += readEveryMs) {
        twin.serviceMetrics(namespace, deployment);
        await clock.advance(readEveryMs);
      }
      return twin.serviceMetrics(namespace, deployment);
    };
    expect(await sample(5_000, 1_000)).toEqual(await sample(1_000, 20_000));
  });
});

describe('ClusterTwin pods', () => {
  it('starts new pods not ready, and makes them ready after the start-up delay', async () => {
    const { clock, twin, namespace, deployment } = cluster();
    await clock.advance(2_000);
    const rvBefore = Number(twin.resourceVersion);
    twin.scale(namespace, deployment, 12);
    expect(Number(twin.resourceVersion)).toBeGreaterThan(rvBefore);
    expect(twin.listPods(namespace, `app=${deployment}`)).toHaveLength(12);
    expect(readyOf(twin, namespace, deployment)).toHaveLength(8);
    const fresh = twin.podMetrics(namespace, deployment).filter((p) => !p.ready);
    expect(fresh).toHaveLength(4);
    expect(fresh.every((p) => p.gc_pause_ms_per_min === 0)).toBe(true);

    await clock.advance(29_000);
    expect(readyOf(twin, namespace, deployment)).toHaveLength(8);
    await clock.advance(1_000);
    expect(readyOf(twin, namespace, deployment)).toHaveLength(12);
    const d = twin.getDeployment(namespace, deployment)!;
    expect(d.status).toMatchObject({ replicas: 12, readyReplicas: 12, availableReplicas: 12, updatedReplicas: 12 });
    expect(d.status.unavailableReplicas).toBeUndefined();
  });

  it('spreads load over ready pods only: more ready pods, less load and CPU per pod', async () => {
    const { clock, twin, namespace, deployment } = cluster({ rps: 8 * 200 });
    const cpu = () => twin.podMetrics(namespace, deployment).filter((p) => p.ready).map((p) => p.cpu_millicores);
    const before = Math.max(...cpu());
    twin.scale(namespace, deployment, 16);
    await clock.advance(31_000);
    expect(Math.max(...cpu())).toBeLessThan(before * 0.6);
    expect(twin.serviceMetrics(namespace, deployment).ready_pods).toBe(16);
  });

  it('removes not-ready pods first, then the newest, on scale-down', async () => {
    const { clock, twin, namespace, deployment } = cluster();
    const original = twin.listPods(namespace).map((p) => p.metadata.name);
    twin.scale(namespace, deployment, 10);
    await clock.advance(40_000);
    twin.scale(namespace, deployment, 12);
    const names = twin.listPods(namespace).map((p) => p.metadata.name);
    const secondWave = names.filter((n) => !original.includes(n)).slice(2);
    twin.scale(namespace, deployment, 9);
    const left = twin.listPods(namespace).map((p) => p.metadata.name);
    expect(left).toHaveLength(9);
    for (const n of secondWave) expect(left).not.toContain(n);
    expect(original.every((n) => left.includes(n))).toBe(true);
  });

  it('reports saturation as errors and no ready pods as a timeout', async () => {
    const { clock, twin, namespace, deployment } = cluster({ replicas: 2, rps: 3000 });
    await clock.advance(5_000);
    const m = twin.serviceMetrics(namespace, deployment);
    expect(m.error_ratio).toBeGreaterThan(0.4);
    twin.scale(namespace, deployment, 0);
    expect(twin.serviceMetrics(namespace, deployment)).toMatchObject({ ready_pods: 0, error_ratio: 1, p99_ms: 30_000 });
  });
});

describe('ClusterTwin rolling update', () => {
  it('replaces pods within maxSurge 25% / maxUnavailable 25%, old pods going as new ones become ready', async () => {
    const { clock, twin, namespace, deployment } = cluster({ replicas: 8 });
    const old = new Set(twin.listPods(namespace).map((p) => p.metadata.name));
    const { maxSurge, maxUnavailable } = rollingLimits(8);
    expect([maxSurge, maxUnavailable]).toEqual([2, 2]);
    twin.applyTemplate(namespace, deployment, newTemplate(twin, namespace, deployment, '-XX:MaxRAMPercentage=75 -XX:NewRatio=2'), 'heap 75%');

    let sawMixed = false;
    let doneAt: number | undefined;
    for (let s = 0; s <= 120; s++) {
      const pods = twin.listPods(namespace, `app=${deployment}`);
      const ready = readyOf(twin, namespace, deployment);
      expect(pods.length).toBeLessThanOrEqual(8 + maxSurge);
      expect(ready.length).toBeGreaterThanOrEqual(8 - maxUnavailable);
      const oldLeft = pods.filter((p) => old.has(p.metadata.name)).length;
      if (oldLeft > 0 && oldLeft < 8) sawMixed = true;
      if (doneAt === undefined && oldLeft === 0 && ready.length === 8) doneAt = s;
      await clock.advance(1_000);
    }
    expect(sawMixed).toBe(true);
    // Two waves of four pods, 30 s each.
    expect(doneAt).toBeGreaterThanOrEqual(60);
    expect(doneAt).toBeLessThanOrEqual(62);
    const d = twin.getDeployment(namespace, deployment)!;
    expect(d.metadata.annotations![REVISION_ANNOTATION]).toBe('2');
    expect(d.status.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    const rs = twin.listReplicaSets(namespace, `app=${deployment}`);
    expect(rs.map((r) => [r.metadata.annotations![REVISION_ANNOTATION], r.spec.replicas])).toEqual([
      ['1', 0],
      ['2', 8],
    ]);
    expect(rs[1]!.metadata.annotations![CHANGE_CAUSE_ANNOTATION]).toBe('heap 75%');
  });

  it('re-uses the ReplicaSet of an identical older template under the next revision number (rollback)', async () => {
    const { clock, twin, namespace, deployment } = cluster({ replicas: 4 });
    const original = twin.templateOfRevision(namespace, deployment, 1)!;
    twin.applyTemplate(namespace, deployment, newTemplate(twin, namespace, deployment, '-XX:MaxRAMPercentage=80'), 'heap 80%');
    await clock.advance(90_000);
    const rsBefore = twin.listReplicaSets(namespace);
    const rv = twin.getDeployment(namespace, deployment)!.metadata.resourceVersion;
    // What kubectl sends after a trip through Go structs: nulls and empty objects are no difference.
    const roundTripped = { ...original, metadata: { ...original.metadata, creationTimestamp: null } } as unknown as PodTemplateSpec;
    twin.applyTemplate(namespace, deployment, roundTripped, 'rollback to 1');
    const d = twin.getDeployment(namespace, deployment)!;
    expect(d.metadata.resourceVersion).not.toBe(rv);
    expect(d.metadata.annotations![REVISION_ANNOTATION]).toBe('3');
    const rs = twin.listReplicaSets(namespace);
    expect(rs.map((r) => r.metadata.name).sort()).toEqual(rsBefore.map((r) => r.metadata.name).sort());
    const reused = rs.find((r) => r.metadata.name === rsBefore[0]!.metadata.name)!;
    expect(reused.metadata.annotations).toMatchObject({ [REVISION_ANNOTATION]: '3', [CHANGE_CAUSE_ANNOTATION]: 'rollback to 1' });
    expect(rs.map((r) => r.metadata.annotations![REVISION_ANNOTATION]).sort()).toEqual(['2', '3']);
    await clock.advance(90_000);
    expect(twin.podMetrics(namespace, deployment).every((p) => p.revision === 3 && p.ready)).toBe(true);
  });

  it('treats an identical template as no change', () => {
    const { twin, namespace, deployment } = cluster();
    const before = twin.getDeployment(namespace, deployment)!;
    const after = twin.applyTemplate(namespace, deployment, before.spec.template);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.generation).toBe(before.metadata.generation);
  });

  it('refuses what the API server refuses, in its terms', () => {
    const { twin, namespace, deployment } = cluster();
    const rv = twin.getDeployment(namespace, deployment)!.metadata.resourceVersion;
    twin.scale(namespace, deployment, 9);
    expect(() => twin.scale(namespace, deployment, 10, { resourceVersion: rv })).toThrow(expect.objectContaining({ reason: 'Conflict' }));
    expect(() => twin.scale(namespace, deployment, -1)).toThrow(expect.objectContaining({ reason: 'Invalid' }));
    expect(() => twin.scale(namespace, 'nope', 1)).toThrow(TwinError);
    const t = twin.getDeployment(namespace, deployment)!.spec.template;
    expect(() => twin.applyTemplate(namespace, deployment, { ...t, spec: { containers: [] } })).toThrow(expect.objectContaining({ reason: 'Invalid' }));
    expect(() => twin.applyTemplate(namespace, deployment, { ...t, metadata: { labels: { app: 'other' } } })).toThrow(/selector/);
  });

  it('steps itself on the clock between start() and stop()', async () => {
    const clock = new VirtualClock(START);
    const { twin } = buildSmallCluster(clock);
    twin.start(5_000);
    await clock.advance(12_000);
    expect(twin.modelTimeMs).toBe(START + 10_000);
    twin.stop();
    expect(clock.nextTimerAt()).toBeUndefined();
  });
});

describe('performance model', () => {
  const c = { rps: 200, cpuLimitCores: 1, memoryLimitBytes: 2 * 2 ** 30, jvm: parseJvmOptions('-XX:MaxRAMPercentage=90 -XX:NewRatio=8', 2 * 2 ** 30), workload: DEFAULT_WORKLOAD };

  it('reads heap layouts the way HotSpot does', () => {
    expect(parseJvmOptions('-XX:MaxRAMPercentage=90 -XX:NewRatio=8', 2 ** 31)).toEqual({ heapOfLimit: 0.9, youngOfHeap: 1 / 9 });
    expect(parseJvmOptions('-Xmx1g -Xmn256m -XX:MaxRAMPercentage=90', 2 ** 31)).toEqual({ heapOfLimit: 0.5, youngOfHeap: 0.25 });
    expect(parseJvmOptions('', 2 ** 31)).toEqual({ heapOfLimit: 0.25, youngOfHeap: 1 / 3 });
  });

  it('puts the p99 where the slowest pods’ share of traffic puts it', () => {
    const healthy = podPerformance({ fill: 0.45, allocationSkew: 1 }, c);
    const sick = podPerformance({ fill: 0.97, allocationSkew: 1 }, c);
    expect(sick.gcPauseMsPerMin).toBeGreaterThan(3 * healthy.gcPauseMsPerMin);
    const p99 = (nSick: number) => mixtureQuantile([...Array.from({ length: 8 - nSick }, () => ({ weight: 1, perf: healthy })), ...Array.from({ length: nSick }, () => ({ weight: 1, perf: sick }))], 0.99);
    expect(p99(0)).toBeGreaterThan(150);
    expect(p99(0)).toBeLessThan(220);
    expect(p99(1)).toBeGreaterThan(p99(0));
    expect(p99(3)).toBeGreaterThan(p99(1));
    expect(p99(3)).toBeGreaterThan(1000);
    expect(mixtureQuantile([{ weight: 1, perf: healthy }], 0.5)).toBeLessThan(p99(0));
  });

  it('queues: latency grows with utilisation', () => {
    const at = (rps: number) => podPerformance({ fill: 0.45, allocationSkew: 1 }, { ...c, rps }).medianMs;
    expect(at(100)).toBeLessThan(at(300));
    expect(at(300)).toBeLessThan(at(500));
  });
});

describe('helpers', () => {
  it('parses label selectors', () => {
    const s = parseLabelSelector('app=checkout,tier!=db,env in (prod, stage),!canary');
    expect(s.matches({ app: 'checkout', env: 'prod' })).toBe(true);
    expect(s.matches({ app: 'checkout', env: 'prod', canary: 'x' })).toBe(false);
    expect(s.matches({ app: 'checkout', env: 'dev' })).toBe(false);
    expect(parseLabelSelector('').matches({})).toBe(true);
    expect(() => parseLabelSelector('app=(')).toThrow();
  });

  it('parses and formats quantities', () => {
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('1532416Ki')).toBe(1532416 * 1024);
    expect(() => parseQuantity('2 GB')).toThrow();
    expect(formatMetricValue(1240.5)).toBe('1240500m');
    expect(formatMetricValue(4)).toBe('4');
  });

  it('applies the three patch formats', () => {
    const d = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', image: 'x', env: [{ name: 'A', value: '1' }] }, { name: 'b', image: 'y' }] } } } };
    expect(mergePatch(d, { spec: { replicas: 5 } })).toMatchObject({ spec: { replicas: 5, template: d.spec.template } });
    const smp = strategicMergePatch(d, { spec: { template: { spec: { containers: [{ name: 'b', image: 'z' }] } } } }) as typeof d;
    expect(smp.spec.template.spec.containers.map((c) => c.image)).toEqual(['x', 'z']);
    const smpDel = strategicMergePatch(d, { spec: { template: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } } } }) as typeof d;
    expect(smpDel.spec.template.spec.containers.map((c) => c.name)).toEqual(['b']);
    expect(jsonPatch(d, [{ op: 'test', path: '/spec/replicas', value: 2 }, { op: 'replace', path: '/spec/replicas', value: 3 }])).toMatchObject({ spec: { replicas: 3 } });
    expect(() => jsonPatch(d, [{ op: 'test', path: '/spec/replicas', value: 9 }])).toThrow(/test failed/);
    expect(() => jsonPatch(d, [{ op: 'replace', path: '/spec/nope/x', value: 1 }])).toThrow(/does not exist/);
    expect(d.spec.replicas).toBe(2);
  });
});
