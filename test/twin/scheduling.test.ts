// Nodes, the scheduler and noisy neighbours in the cluster twin: pods bind by requests, stay Pending
// with a FailedScheduling event when no node has room, and are scheduled once room frees; cordoned
// nodes take no new pods; a neighbour burning CPU beyond its request slows co-located pods down and
// nobody else. Virtual time throughout.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import type { ClusterTwin, NodeSetup } from '../../src/twin/cluster-twin.ts';
import { nodeContention } from '../../src/twin/node-contention.ts';
import { placePod } from '../../src/twin/scheduler.ts';
import { buildFixture } from '../fixtures/scenario.ts';
import { buildSmallCluster } from './small-cluster.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
/** Room for four pods of 500m / 2Gi each. */
const smallNode = (name: string): NodeSetup => ({ name, cpu: 2, memory: '8Gi' });

function cluster(replicas: number, nodes = [smallNode('node-a'), smallNode('node-b')]) {
  const clock = new VirtualClock(START);
  const c = buildSmallCluster(clock, { replicas, nodes });
  c.twin.start(1_000);
  return { clock, ...c };
}

const phases = (twin: ClusterTwin, ns: string) => twin.listPods(ns).map((p) => p.status.phase);
const nodeOf = (twin: ClusterTwin, ns: string) => twin.listPods(ns).map((p) => p.spec.nodeName ?? '-');

describe('scheduler', () => {
  it('places pods by requests on the least allocated node', () => {
    const { twin, namespace } = cluster(4);
    expect(nodeOf(twin, namespace).sort()).toEqual(['node-a', 'node-a', 'node-b', 'node-b']);
    const a = twin.getNode('node-a')!;
    expect(a.status.allocatable).toMatchObject({ cpu: '2', memory: `${8 * 1024 * 1024}Ki`, pods: '110' });
    const m = twin.nodeMetrics().find((n) => n.node === 'node-a')!;
    expect(m).toMatchObject({ requested_cpu_millicores: 1000, requested_memory_bytes: 4 * 2 ** 30, pods: 2 });
  });

  it('leaves pods Pending with a FailedScheduling event when no node has room, and binds them when room frees', async () => {
    const { clock, twin, namespace, deployment } = cluster(8);
    expect(phases(twin, namespace).every((p) => p === 'Running')).toBe(true);
    twin.scale(namespace, deployment, 10);
    const pending = twin.listPods(namespace).filter((p) => p.status.phase === 'Pending');
    expect(pending).toHaveLength(2);
    expect(pending[0]!.spec.nodeName).toBeUndefined();
    const scheduled = pending[0]!.status.conditions.find((c) => c.type === 'PodScheduled')!;
    expect(scheduled).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(scheduled.message).toMatch(/^0\/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory\. preemption: 0\/2 nodes are available: 2 No preemption victims found/);
    const failed = twin.listEvents(namespace).filter((e) => e.reason === 'FailedScheduling');
    expect(failed.map((e) => e.involvedObject.name).sort()).toEqual(pending.map((p) => p.metadata.name).sort());
    expect(failed[0]).toMatchObject({ type: 'Warning', source: { component: 'default-scheduler' }, count: 1 });

    // Pending pods are not ready, have no metrics, and the deployment says so.
    await clock.advance(60_000);
    expect(twin.getDeployment(namespace, deployment)!.status).toMatchObject({ replicas: 10, readyReplicas: 8, unavailableReplicas: 2 });
    expect(twin.podMetricsOf(namespace, pending[0]!.metadata.name)).toMatchObject({ ready: false, cpu_millicores: 0, memory_bytes: 0 });
    expect(twin.serviceMetrics(namespace, deployment).ready_pods).toBe(8);

    // The scheduler retries every 5 minutes: the same event counts up.
    await clock.advance(4 * 60_000);
    expect(twin.listEvents(namespace).find((e) => e.reason === 'FailedScheduling')!.count).toBe(2);

    // A new node: both pods bind at once and are ready after the start-up delay.
    twin.addNode(smallNode('node-c'));
    expect(nodeOf(twin, namespace).filter((n) => n === 'node-c')).toHaveLength(2);
    expect(twin.listEvents(namespace).filter((e) => e.reason === 'Scheduled' && e.message.endsWith('to node-c'))).toHaveLength(2);
    await clock.advance(30_000);
    expect(twin.getDeployment(namespace, deployment)!.status.readyReplicas).toBe(10);
  });

  it('schedules a pending pod when a scale-down elsewhere frees room', () => {
    const { twin, namespace, deployment } = cluster(8);
    twin.scale(namespace, deployment, 9);
    expect(phases(twin, namespace).filter((p) => p === 'Pending')).toHaveLength(1);
    // Scaling down removes the unscheduled pod first.
    twin.scale(namespace, deployment, 8);
    expect(phases(twin, namespace)).not.toContain('Pending');
    expect(twin.listPods(namespace)).toHaveLength(8);
  });

  it('honours a pod nodeSelector', () => {
    expect(
      placePod(
        { requests: { cpu: 0.5, memory: 2 ** 30 }, nodeSelector: { disk: 'ssd' } },
        [
          { name: 'a', unschedulable: false, labels: {}, allocatable: { cpu: 4, memory: 8 * 2 ** 30, pods: 110 }, requested: { cpu: 0, memory: 0, pods: 0 } },
          { name: 'b', unschedulable: false, labels: { disk: 'ssd' }, allocatable: { cpu: 4, memory: 8 * 2 ** 30, pods: 110 }, requested: { cpu: 3, memory: 0, pods: 5 } },
        ],
      ),
    ).toEqual({ node: 'b' });
  });
});

describe('cordon', () => {
  it('keeps running pods but sends new ones elsewhere; uncordon lets pending pods in', () => {
    const { twin, namespace, deployment } = cluster(4);
    const before = twin.getNode('node-a')!.metadata.resourceVersion;
    const cordoned = twin.cordonNode('node-a');
    expect(cordoned.spec).toMatchObject({ unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] });
    expect(Number(cordoned.metadata.resourceVersion)).toBeGreaterThan(Number(before));
    expect(twin.listEvents('default').find((e) => e.reason === 'NodeNotSchedulable')).toMatchObject({ involvedObject: { kind: 'Node', name: 'node-a' } });
    expect(nodeOf(twin, namespace).filter((n) => n === 'node-a')).toHaveLength(2);

    twin.scale(namespace, deployment, 7);
    const nodes = nodeOf(twin, namespace);
    expect(nodes.filter((n) => n === 'node-a')).toHaveLength(2);
    expect(nodes.filter((n) => n === 'node-b')).toHaveLength(4);
    const pending = twin.listPods(namespace).find((p) => p.status.phase === 'Pending')!;
    expect(pending.status.conditions[0]!.message).toMatch(/^0\/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 node\(s\) were unschedulable\./);

    twin.uncordonNode('node-a');
    expect(twin.getNode('node-a')!.spec.unschedulable).toBeUndefined();
    expect(phases(twin, namespace)).not.toContain('Pending');
    expect(nodeOf(twin, namespace).filter((n) => n === 'node-a')).toHaveLength(3);
  });
});

describe('noisy neighbours', () => {
  it('share a busy node by requests and slow everyone on it down', () => {
    const quiet = nodeContention(8, [
      { demandCores: 0.3, requestCores: 0.5, limitCores: 1 },
      { demandCores: 0.3, requestCores: 0.5, limitCores: 1 },
    ]);
    expect(quiet.speed).toBe(1);
    expect(quiet.availableCores).toEqual([1, 1]);
    const busy = nodeContention(4, [
      { demandCores: 0.3, requestCores: 0.5, limitCores: 1 },
      { demandCores: 3.7, requestCores: 0.5, limitCores: 4 },
    ]);
    expect(busy.utilisation).toBe(1);
    expect(busy.speed).toBeCloseTo(0.6, 10);
    // The quiet pod keeps its limit; the burster gets what is left after it.
    expect(busy.availableCores).toEqual([1, 3.7]);
  });

  it('raise the latency of co-located pods when one bursts beyond its request, and only theirs', async () => {
    // The shared-node fixture: acme's checkout (the victim) on node-a, initech's web (the control) on
    // node-b, and initech's batch job, pinned to node-a, deployed with no replicas.
    const clock = new VirtualClock(START);
    const { twin } = buildFixture('shared-node', clock);
    const p99 = () => ({ victim: twin.serviceMetrics('acme-prod', 'checkout').p99_ms, control: twin.serviceMetrics('initech-prod', 'web').p99_ms });
    twin.start(1_000);
    await clock.advance(60_000);
    const before = p99();

    // The batch job starts on node-a: requests 500m like everyone, burns 3.5 cores.
    twin.scale('initech-prod', 'batch', 1);
    await clock.advance(60_000);
    const after = p99();
    expect(twin.nodeMetrics().find((n) => n.node === 'node-a')!.cpu_millicores).toBeGreaterThan(3_900);
    expect(after.victim).toBeGreaterThan(before.victim * 1.3);
    expect(Math.abs(after.control - before.control) / before.control).toBeLessThan(0.1);

    // The job ends: the victims recover.
    twin.scale('initech-prod', 'batch', 0);
    await clock.advance(10_000);
    expect(twin.serviceMetrics('acme-prod', 'checkout').p99_ms).toBeLessThan(before.victim * 1.1);
  });
});
