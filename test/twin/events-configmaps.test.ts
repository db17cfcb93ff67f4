// Kubernetes events and config maps in the cluster twin: the controllers', scheduler's and kubelet's
// events with their reasons and sources, aggregation and expiry; config map CRUD with the API
// server's refusals, and a config change that causes a regression (the hook the bad-config-push
// scenario builds on). Virtual time throughout.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import type { TwinChange } from '../../src/twin/cluster-twin.ts';
import { buildFixture } from '../fixtures/scenario.ts';
import { buildSmallCluster } from './small-cluster.ts';

const START = Date.parse('2026-11-24T10:00:00Z');

describe('events', () => {
  it('records what the controllers, the scheduler and the kubelet do, in their words', async () => {
    const clock = new VirtualClock(START);
    const { twin, namespace, deployment } = buildSmallCluster(clock, { replicas: 4 });
    twin.start(1_000);
    const before = new Set(twin.listPods(namespace).map((p) => p.metadata.name));
    twin.scale(namespace, deployment, 5);
    const events = twin.listEvents(namespace);
    const by = (reason: string) => events.filter((e) => e.reason === reason);
    const rs = twin.listReplicaSets(namespace)[0]!.metadata.name;
    const created = twin.listPods(namespace).map((p) => p.metadata.name).find((n) => !before.has(n))!;
    expect(by('SuccessfulCreate').at(-1)!.message).toBe(`Created pod: ${created}`);
    expect(by('ScalingReplicaSet').at(-1)).toMatchObject({
      type: 'Normal',
      involvedObject: { kind: 'Deployment', name: deployment, apiVersion: 'apps/v1' },
      message: `Scaled up replica set ${rs} from 4 to 5`,
      source: { component: 'deployment-controller' },
    });
    expect(by('SuccessfulCreate').at(-1)).toMatchObject({ involvedObject: { kind: 'ReplicaSet', name: rs }, source: { component: 'replicaset-controller' } });
    const node = twin.getPod(namespace, created)!.spec.nodeName!;
    expect(by('Scheduled').at(-1)).toMatchObject({ message: `Successfully assigned ${namespace}/${created} to ${node}`, source: { component: 'default-scheduler' } });
    for (const reason of ['Pulled', 'Created', 'Started']) {
      expect(by(reason).at(-1)).toMatchObject({ involvedObject: { kind: 'Pod', name: created, fieldPath: `spec.containers{${deployment}}` }, source: { component: 'kubelet', host: node } });
    }

    await clock.advance(60_000);
    twin.scale(namespace, deployment, 4);
    const after = twin.listEvents(namespace);
    expect(after.find((e) => e.reason === 'ScalingReplicaSet' && e.message.includes('from 5 to 4'))).toBeDefined();
    expect(after.find((e) => e.reason === 'Killing' && e.involvedObject.name === created)).toMatchObject({ message: `Stopping container ${deployment}` });
    expect(after.find((e) => e.reason === 'SuccessfulDelete')).toMatchObject({ message: `Deleted pod: ${created}` });
  });

  it('adds repeats to one event and forgets events after an hour', async () => {
    const clock = new VirtualClock(START);
    const { twin, namespace, deployment } = buildSmallCluster(clock, { replicas: 4 });
    twin.start(1_000);
    for (let i = 0; i < 3; i++) {
      twin.scale(namespace, deployment, 5);
      twin.scale(namespace, deployment, 4);
    }
    const scaled = twin.listEvents(namespace).filter((e) => e.reason === 'ScalingReplicaSet');
    expect(scaled.map((e) => e.count)).toEqual([3, 3]);
    const names = new Set(twin.listEvents(namespace).map((e) => e.metadata.name));
    expect(names.size).toBe(twin.listEvents(namespace).length);
    await clock.advance(61 * 60_000);
    expect(twin.listEvents(namespace)).toEqual([]);
  });
});

describe('config maps', () => {
  const ns = 'acme-prod';

  /** web reads all of web-config; without its cache (cache.enabled=false) it takes three times the service time. */
  function twinWithConfig() {
    const clock = new VirtualClock(START);
    const { twin } = buildFixture('config-cluster', clock);
    twin.start(1_000);
    return { clock, twin };
  }

  it('creates, reads, lists, replaces and deletes, bumping resourceVersion only on change', () => {
    const { twin } = twinWithConfig();
    const cm = twin.getConfigMap(ns, 'web-config')!;
    expect(cm).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web-config', namespace: ns, labels: { app: 'web' } }, data: { 'pool.size': '64' } });
    expect(twin.listConfigMaps(ns, 'app=web')).toHaveLength(1);
    expect(twin.listConfigMaps(undefined, 'app=other')).toHaveLength(0);
    const same = twin.replaceConfigMap(ns, 'web-config', cm);
    expect(same.metadata.resourceVersion).toBe(cm.metadata.resourceVersion);
    const changed = twin.replaceConfigMap(ns, 'web-config', { ...cm, data: { ...cm.data, 'pool.size': '8' } });
    expect(Number(changed.metadata.resourceVersion)).toBeGreaterThan(Number(cm.metadata.resourceVersion));
    expect(() => twin.replaceConfigMap(ns, 'web-config', { ...cm, data: {} })).toThrow(expect.objectContaining({ reason: 'Conflict' }));
    twin.deleteConfigMap(ns, 'web-config');
    expect(twin.getConfigMap(ns, 'web-config')).toBeUndefined();
    expect(() => twin.deleteConfigMap(ns, 'web-config')).toThrow(expect.objectContaining({ reason: 'NotFound' }));
  });

  it('refuses what the API server refuses', () => {
    const { twin } = twinWithConfig();
    expect(() => twin.createConfigMap({ metadata: { name: 'web-config', namespace: ns } })).toThrow(expect.objectContaining({ reason: 'AlreadyExists' }));
    expect(() => twin.createConfigMap({ metadata: { name: 'x', namespace: 'nope' } })).toThrow(expect.objectContaining({ reason: 'NotFound' }));
    expect(() => twin.createConfigMap({ metadata: { name: 'Bad_Name', namespace: ns } })).toThrow(expect.objectContaining({ reason: 'Invalid' }));
    expect(() => twin.createConfigMap({ metadata: { name: 'k', namespace: ns }, data: { 'a b': 'x' } })).toThrow(/a valid config key/);
    expect(() => twin.createConfigMap({ metadata: { name: 'k', namespace: ns }, data: { n: 5 } })).toThrow(expect.objectContaining({ reason: 'Invalid' }));
    const frozen = twin.createConfigMap({ metadata: { name: 'frozen', namespace: ns }, data: { a: '1' }, immutable: true });
    expect(() => twin.replaceConfigMap(ns, 'frozen', { ...frozen, data: { a: '2' } })).toThrow(/field is immutable/);
  });

  it('lets a bad config push degrade the service that reads it, and a revert restore it', async () => {
    const { clock, twin } = twinWithConfig();
    await clock.advance(30_000);
    const healthy = twin.serviceMetrics(ns, 'web').p99_ms;
    const good = twin.getConfigMap(ns, 'web-config')!;
    twin.replaceConfigMap(ns, 'web-config', { ...good, data: { ...good.data, 'cache.enabled': 'false' } });
    await clock.advance(30_000);
    const degraded = twin.serviceMetrics(ns, 'web').p99_ms;
    expect(degraded).toBeGreaterThan(healthy * 2.5);
    const bad = twin.getConfigMap(ns, 'web-config')!;
    twin.replaceConfigMap(ns, 'web-config', { ...bad, data: good.data });
    await clock.advance(30_000);
    expect(twin.serviceMetrics(ns, 'web').p99_ms).toBeLessThan(healthy * 1.2);
  });
});

describe('change feed', () => {
  it('reports each change once per batch, rendered, in resourceVersion order, with deletions', () => {
    const clock = new VirtualClock(START);
    const { twin, namespace, deployment } = buildSmallCluster(clock, { replicas: 2 });
    const batches: TwinChange[][] = [];
    const stop = twin.watch((c) => batches.push(c));
    twin.scale(namespace, deployment, 3);
    const changes = batches.flat();
    const rvs = changes.map((c) => Number(c.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    expect(changes.filter((c) => c.kind === 'pods' && c.type === 'ADDED')).toHaveLength(1);
    expect(changes.find((c) => c.kind === 'deployments')).toMatchObject({ type: 'MODIFIED', object: { spec: { replicas: 3 } } });
    expect(changes.some((c) => c.kind === 'events' && c.type === 'ADDED')).toBe(true);
    batches.length = 0;
    twin.scale(namespace, deployment, 2);
    expect(batches.flat().find((c) => c.kind === 'pods')).toMatchObject({ type: 'DELETED' });
    stop();
    twin.scale(namespace, deployment, 3);
    expect(batches.flat().filter((c) => c.kind === 'pods' && c.type === 'ADDED')).toHaveLength(0);
  });
});
