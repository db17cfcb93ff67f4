// The twin's memory faults, with the numbers they are tuned to: a leaking release OOM-killed at its
// limit and cured by a rollback; a node whose system daemon leaks, the kubelet's reclaim slowdown,
// MemoryPressure, taint and evictions that do not settle it, and a drain that does.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import type { ContainerStatus, Pod } from '../../src/twin/kube-objects.ts';
import { buildFixture } from '../fixtures/scenario.ts';
import { MINUTE, START, leakingTemplate, memoryCluster, runningOn } from './memory-fixture.ts';

const status = (p: Pod): ContainerStatus => p.status.containerStatuses![0]!;
let stop: (() => void) | undefined;
afterEach(() => stop?.());

describe('memory leak of a release (MEMORY_LEAK_ANNOTATION)', () => {
  // 2 GiB container, heap 70% with a third young: non-heap 6%, young 23.3%, and an old generation
  // that needs live set / 0.9 = 33.3% leave 37.3% = 764.6 MiB to leak: 38.2 min at 20 MiB/min.
  const build = () => {
    const clock = new VirtualClock(START);
    const { twin } = buildFixture('leaking-release', clock);
    twin.start(1000);
    stop = () => twin.stop();
    return { clock, twin };
  };

  it('grows memory and GC time, then is OOMKilled at its limit after ~38 min, restarts and comes back at its baseline', async () => {
    const { clock, twin } = build();
    await clock.advance(10 * MINUTE);
    // Two more pods, ten minutes younger: they will carry the load while the first two restart.
    twin.scale('acme-prod', 'api', 4);
    twin.setLoad('acme-prod', 'api', 4 * 170);
    await clock.advance(MINUTE);
    const first = twin.podMetrics('acme-prod', 'api').filter((p) => p.ready);
    const byAge = twin.listPods('acme-prod').sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));
    const old = byAge.slice(0, 2).map((p) => p.metadata.name);
    const young = byAge.slice(2).map((p) => p.metadata.name);
    const at11 = Object.fromEntries(first.map((p) => [p.pod, p]));
    expect(at11[old[0]!]!.memory_utilisation).toBeGreaterThan(at11[young[0]!]!.memory_utilisation + 0.05);

    await clock.advance(26.75 * MINUTE); // 37.75 min: close to the limit, the collector struggles
    const sick = Object.fromEntries(twin.podMetrics('acme-prod', 'api').map((p) => [p.pod, p]));
    expect(sick[old[0]!]!.memory_utilisation).toBeGreaterThan(0.95);
    expect(sick[old[0]!]!.gc_pause_ms_per_min).toBeGreaterThan(2 * sick[young[0]!]!.gc_pause_ms_per_min);
    expect(status(twin.getPod('acme-prod', old[0]!)!).restartCount).toBe(0);

    await clock.advance(45_000); // 38.5 min: just past the kills at 38.2 (the second pod started 3 s later)
    for (const name of old) {
      const p = twin.getPod('acme-prod', name)!;
      const s = status(p);
      expect(s.restartCount).toBe(1);
      expect(s.lastState?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
      const killedAt = Date.parse(s.lastState!.terminated.finishedAt) - START;
      expect(killedAt).toBeGreaterThanOrEqual(38 * MINUTE);
      expect(killedAt).toBeLessThanOrEqual(38.35 * MINUTE);
      expect(s.ready).toBe(false); // the start-up delay (30 s) is not over
    }
    // Meanwhile the two younger pods carry all the traffic.
    const during = twin.podMetrics('acme-prod', 'api');
    expect(during.filter((p) => p.ready).map((p) => p.pod).sort()).toEqual([...young].sort());
    // 680 requests/s over two pods instead of four.
    expect(during.find((p) => p.pod === young[0])!.rps).toBeGreaterThan(300);
    const events = twin.listEvents();
    expect(events.some((e) => e.reason === 'OOMKilling' && e.involvedObject.kind === 'Node' && e.message.includes(old[0]!))).toBe(true);
    expect(events.some((e) => e.reason === 'Started' && e.involvedObject.name === old[0] && e.count >= 2)).toBe(true);

    await clock.advance(30_000);
    const after = Object.fromEntries(twin.podMetrics('acme-prod', 'api').map((p) => [p.pod, p]));
    expect(after[old[0]!]!.ready).toBe(true);
    expect(after[old[0]!]!.memory_utilisation).toBeLessThan(0.65);
    expect(status(twin.getPod('acme-prod', old[0]!)!).state).toHaveProperty('running');
  });

  it('is cured by rolling back to the revision without the leak', async () => {
    const { clock, twin } = build();
    await clock.advance(5 * MINUTE);
    twin.applyTemplate('acme-prod', 'api', twin.templateOfRevision('acme-prod', 'api', 1)!);
    await clock.advance(60 * MINUTE);
    const pods = twin.listPods('acme-prod');
    expect(pods.every((p) => status(p).restartCount === 0)).toBe(true);
    expect(Math.max(...twin.podMetrics('acme-prod', 'api').map((p) => p.memory_utilisation))).toBeLessThan(0.65);
  });

  it('a deployment set up long after its leaking release starts with pods that have been OOM-killed before', () => {
    const clock = new VirtualClock(START);
    const twin = new ClusterTwin(clock, { seed: 3 });
    twin.addNamespace('acme-prod');
    twin.addDeployment({ namespace: 'acme-prod', name: 'api', replicas: 2, rps: 340, revisions: [{ template: leakingTemplate('api', 'r/api:2', 20), createdAtMs: START - 100 * MINUTE }] });
    for (const p of twin.listPods('acme-prod')) {
      expect(status(p).restartCount).toBe(2); // 100 min / 38.2 min
      expect(status(p).lastState?.terminated.reason).toBe('OOMKilled');
    }
  });
});

describe('node memory pressure from a leaking system daemon', () => {
  it('slows the pods on the node within ~10 min at 300 MiB/min, then MemoryPressure, taint and evictions that do not settle it', async () => {
    const { clock, twin } = memoryCluster();
    twin.start(1000);
    stop = () => twin.stop();
    const baseline = twin.serviceMetrics('acme-prod', 'web').p99_ms;
    twin.setNodeSystemMemoryLeak('n1', 300);
    await clock.advance(12 * MINUTE);
    // Reclaim: web has two of its six pods on n1, and its p99 has more than doubled.
    expect(runningOn(twin, 'n1', 'acme-prod').length).toBe(3);
    expect(twin.serviceMetrics('acme-prod', 'web').p99_ms).toBeGreaterThan(2 * baseline);
    expect(twin.getNode('n1')!.status.conditions.find((c) => c.type === 'MemoryPressure')!.status).toBe('False');

    await clock.advance(MINUTE);
    const n1 = twin.getNode('n1')!;
    expect(n1.status.conditions.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    expect(n1.spec.taints).toContainEqual(expect.objectContaining({ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }));
    const evicted = twin.listPods().filter((p) => p.status.phase === 'Failed');
    expect(evicted).toHaveLength(1);
    expect(evicted[0]!.status).toMatchObject({ reason: 'Evicted' });
    expect(evicted[0]!.status.message).toMatch(/^The node was low on resource: memory\. Threshold quantity: 512Mi/);
    expect(twin.listEvents().some((e) => e.reason === 'Evicted' && e.involvedObject.name === evicted[0]!.metadata.name)).toBe(true);
    // The ReplicaSet replaced it, on another node (the taint keeps it off n1).
    const app = evicted[0]!.metadata.labels!['app']!;
    const ns = evicted[0]!.metadata.namespace!;
    const live = twin.listPods(ns, `app=${app}`).filter((p) => p.status.phase === 'Running');
    expect(live.length).toBe(twin.getDeployment(ns, app)!.spec.replicas);
    expect(live.filter((p) => p.spec.nodeName === 'n1').length).toBeLessThan(app === 'web' ? 2 : 1);

    // Evictions buy minutes: the daemon keeps what it holds, the node keeps evicting and hurting.
    await clock.advance(6 * MINUTE);
    expect(twin.listPods().filter((p) => p.status.phase === 'Failed').length).toBeGreaterThanOrEqual(2);
    const m = twin.nodeMetrics().find((x) => x.node === 'n1')!;
    expect(m.memory_pressure).toBe(true);
    expect(m.system_leak_bytes).toBeGreaterThan(19 * 300 * 2 ** 20 - 1);
    expect(twin.listPods().filter((p) => p.status.phase === 'Running' && p.spec.nodeName === 'n1').every((p) => Date.parse(p.metadata.creationTimestamp) < START)).toBe(true);
  });

  it('a drain (cordon + evictions) moves the pods to healthy nodes and restores the service', async () => {
    const { clock, twin } = memoryCluster();
    twin.start(1000);
    stop = () => twin.stop();
    const baseline = twin.serviceMetrics('acme-prod', 'web').p99_ms;
    twin.setNodeSystemMemoryLeak('n1', 300);
    await clock.advance(12 * MINUTE);
    expect(twin.serviceMetrics('acme-prod', 'web').p99_ms).toBeGreaterThan(2 * baseline);
    twin.cordonNode('n1');
    for (const p of runningOn(twin, 'n1')) twin.evictPod(p.metadata.namespace!, p.metadata.name);
    await clock.advance(MINUTE);
    expect(runningOn(twin, 'n1')).toEqual([]);
    for (const [ns, d] of [['acme-prod', 'web'], ['acme-prod', 'api'], ['globex-prod', 'shop']] as const) {
      const s = twin.serviceMetrics(ns, d);
      expect(s.ready_pods).toBe(twin.getDeployment(ns, d)!.spec.replicas);
      expect(s.p99_ms).toBeLessThan(1.2 * baseline);
    }
    expect(twin.getNode('n1')!.spec.unschedulable).toBe(true);
    // Nothing was left to evict: the kubelet has no pods to take from.
    expect(twin.listPods().filter((p) => p.status.phase === 'Failed')).toEqual([]);
  });
});
