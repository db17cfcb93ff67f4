// The twin's Kubernetes API through the real clients: @kubernetes/client-node 2.x (the Kubernetes
// MCP server's client) and kubectl. If these accept it, the same code runs against a real cluster.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  Metrics,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario, type Scenario } from '../../src/twin/scenarios/index.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const ns = 'acme-prod';

let clock: VirtualClock;
let scenario: Scenario;
let api: KubeApiServer;
let kube: KubeConfig;
let apps: AppsV1Api;
let core: CoreV1Api;
let custom: CustomObjectsApi;

// A fresh scenario and server for every test; the server is cheap and holds no state of its own.
beforeEach(async () => {
  clock = new VirtualClock(START);
  scenario = buildScenario('jvm-heap-regression', clock);
  scenario.twin.start();
  api = await startKubeApiServer(scenario.twin, {});
  kube = loadKubeconfig(api.kubeconfig());
  apps = kube.makeApiClient(AppsV1Api);
  core = kube.makeApiClient(CoreV1Api);
  custom = kube.makeApiClient(CustomObjectsApi);
});

afterEach(async () => {
  scenario.twin.stop();
  await api.close();
});

async function apiError(p: Promise<unknown>): Promise<ApiException<unknown>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiException) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const statusOf = (e: ApiException<unknown>) => (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { kind: string; reason: string; code: number; message: string };

describe('twin Kubernetes API through @kubernetes/client-node', () => {
  it('reads namespaces, deployments, pods and ReplicaSets in their Kubernetes shapes', async () => {
    const namespace = await core.readNamespace({ name: ns });
    expect(namespace.metadata?.labels).toMatchObject({ 'governor.io/tenant': 'acme', 'governor.io/environment': 'production' });

    const d = await apps.readNamespacedDeployment({ name: 'checkout', namespace: ns });
    expect(d.kind).toBe('Deployment');
    expect(d.spec?.replicas).toBe(8);
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(d.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(d.status?.readyReplicas).toBe(8);
    expect(d.spec?.template?.spec?.containers[0]?.resources?.limits).toEqual({ cpu: '1', memory: '2Gi' });

    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=checkout' });
    expect(pods.items).toHaveLength(8);
    expect(pods.items.every((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toBe(true);
    expect(pods.items[0]?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet', controller: true });
    expect((await core.listNamespacedPod({ namespace: ns })).items).toHaveLength(40);

    const rs = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=checkout' });
    const byRevision = Object.fromEntries(rs.items.map((r) => [r.metadata?.annotations?.['deployment.kubernetes.io/revision'], r]));
    expect(Object.keys(byRevision).sort()).toEqual(['1', '2']);
    expect(byRevision['2']?.metadata?.annotations?.['kubernetes.io/change-cause']).toMatch(/JVM heap/);
    expect(byRevision['2']?.metadata?.creationTimestamp?.toISOString()).toBe(new Date(START - 47 * 60_000).toISOString());
    expect(byRevision['2']?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'checkout', uid: d.metadata?.uid });

    const all = await apps.listDeploymentForAllNamespaces();
    expect(all.items.map((x) => `${x.metadata?.namespace}/${x.metadata?.name}`)).toContain('globex-prod/storefront');
  });

  it('answers 404 NotFound as a Status', async () => {
    const e = await apiError(apps.readNamespacedDeployment({ name: 'nope', namespace: ns }));
    expect(e.code).toBe(404);
    expect(statusOf(e)).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404, message: 'deployments.apps "nope" not found' });
    expect((await apiError(core.readNamespace({ name: 'nope' }))).code).toBe(404);
    expect((await apiError(apps.readNamespacedDeploymentScale({ name: 'nope', namespace: ns }))).code).toBe(404);
  });

  it('scales through the scale subresource (merge patch and PUT), with 409 on a stale resourceVersion', async () => {
    const scale = await apps.readNamespacedDeploymentScale({ name: 'checkout', namespace: ns });
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 8 }, status: { replicas: 8, selector: 'app=checkout' } });

    const patched = await apps.patchNamespacedDeploymentScale(
      { name: 'checkout', namespace: ns, body: { spec: { replicas: 12 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.replicas).toBe(12);
    expect(scenario.twin.getDeployment(ns, 'checkout')?.spec.replicas).toBe(12);
    expect(scenario.twin.listPods(ns, 'app=checkout')).toHaveLength(12);

    // `scale` still carries the resourceVersion from before the patch.
    const stale = await apiError(apps.replaceNamespacedDeploymentScale({ name: 'checkout', namespace: ns, body: { ...scale, spec: { replicas: 10 } } }));
    expect(stale.code).toBe(409);
    expect(statusOf(stale).reason).toBe('Conflict');

    const fresh = await apps.readNamespacedDeploymentScale({ name: 'checkout', namespace: ns });
    const replaced = await apps.replaceNamespacedDeploymentScale({ name: 'checkout', namespace: ns, body: { ...fresh, spec: { replicas: 10 } } });
    expect(replaced.spec?.replicas).toBe(10);

    const invalid = await apiError(
      apps.patchNamespacedDeploymentScale({ name: 'checkout', namespace: ns, body: { spec: { replicas: -1 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
    expect(invalid.code).toBe(422);
    expect(statusOf(invalid).reason).toBe('Invalid');
  });

  it('patches deployments with merge, strategic merge and JSON patches; a rollback re-uses revision 1 as revision 3', async () => {
    const rs = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=checkout' });
    const rev1 = rs.items.find((r) => r.metadata?.annotations?.['deployment.kubernetes.io/revision'] === '1')!;
    const template = structuredClone(rev1.spec!.template!);
    delete template.metadata!.labels!['pod-template-hash'];

    const rolled = await apps.patchNamespacedDeployment(
      { name: 'checkout', namespace: ns, body: { metadata: { annotations: { 'kubernetes.io/change-cause': 'rollback to 1' } }, spec: { template } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(rolled.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const after = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=checkout' });
    expect(after.items).toHaveLength(2);
    const reused = after.items.find((r) => r.metadata?.name === rev1.metadata?.name)!;
    expect(reused.metadata?.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'kubernetes.io/change-cause': 'rollback to 1' });

    // client-node's default patch type is JSON patch.
    const jp = await apps.patchNamespacedDeployment({ name: 'checkout', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 9 }] });
    expect(jp.spec?.replicas).toBe(9);

    const smp = await apps.patchNamespacedDeployment(
      { name: 'checkout', namespace: ns, body: { spec: { template: { spec: { containers: [{ name: 'checkout', image: 'registry.acme.example/checkout:4.12.1' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(smp.spec?.template?.spec?.containers).toHaveLength(1);
    expect(smp.spec?.template?.spec?.containers[0]).toMatchObject({ image: 'registry.acme.example/checkout:4.12.1', resources: { limits: { memory: '2Gi' } } });
    expect(smp.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('4');

    const negative = await apiError(
      apps.patchNamespacedDeployment({ name: 'checkout', namespace: ns, body: { spec: { replicas: -3 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
    expect(negative.code).toBe(422);
    const failedTest = await apiError(apps.patchNamespacedDeployment({ name: 'checkout', namespace: ns, body: [{ op: 'test', path: '/spec/replicas', value: 1 }] }));
    expect(failedTest.code).toBe(422);
    expect(scenario.twin.getDeployment(ns, 'checkout')?.spec.replicas).toBe(9);
  });

  it('replaces deployments with PUT, refusing a stale resourceVersion with 409 and a dry run changing nothing', async () => {
    const d = await apps.readNamespacedDeployment({ name: 'checkout', namespace: ns });
    await apps.patchNamespacedDeployment({ name: 'checkout', namespace: ns, body: [{ op: 'replace', path: '/spec/replicas', value: 10 }] });
    const stale = await apiError(apps.replaceNamespacedDeployment({ name: 'checkout', namespace: ns, body: { ...d, spec: { ...d.spec!, replicas: 11 } } }));
    expect(stale.code).toBe(409);
    expect(statusOf(stale).message).toMatch(/the object has been modified/);

    const fresh = await apps.readNamespacedDeployment({ name: 'checkout', namespace: ns });
    const dry = await apps.replaceNamespacedDeployment({ name: 'checkout', namespace: ns, dryRun: 'All', body: { ...fresh, spec: { ...fresh.spec!, replicas: 11 } } });
    expect(dry.spec?.replicas).toBe(11);
    expect(scenario.twin.getDeployment(ns, 'checkout')?.spec.replicas).toBe(10);
    const put = await apps.replaceNamespacedDeployment({ name: 'checkout', namespace: ns, body: { ...fresh, spec: { ...fresh.spec!, replicas: 11 } } });
    expect(put.spec?.replicas).toBe(11);
  });

  it('serves metrics.k8s.io PodMetrics as metrics-server does', async () => {
    const usage = await new Metrics(kube).getPodMetrics(ns);
    expect(usage.items).toHaveLength(40);
    const truth = scenario.twin.podMetrics(ns, 'checkout');
    const one = usage.items.find((m) => m.metadata.name === truth[0]!.pod)!;
    expect(one.containers[0]!.usage.cpu).toMatch(/^\d+m$/);
    expect(one.containers[0]!.usage.memory).toMatch(/^\d+Ki$/);
    expect(Number(one.containers[0]!.usage.memory.slice(0, -2)) * 1024).toBeCloseTo(truth[0]!.memory_bytes, -4);
  });

  it('serves the custom metrics API per pod and per deployment, matching the twin', async () => {
    const gc = (await custom.listNamespacedCustomObject({
      group: 'custom.metrics.k8s.io',
      version: 'v1beta2',
      namespace: ns,
      plural: 'pods/*/jvm_gc_pause_ms_per_min',
      labelSelector: 'app=checkout',
    })) as { kind: string; items: { describedObject: { kind: string; name: string }; metric: { name: string }; value: string }[] };
    expect(gc.kind).toBe('MetricValueList');
    expect(gc.items).toHaveLength(8);
    const truth = new Map(scenario.twin.podMetrics(ns, 'checkout').map((p) => [p.pod, p]));
    for (const item of gc.items) {
      expect(item.describedObject.kind).toBe('Pod');
      expect(item.metric.name).toBe('jvm_gc_pause_ms_per_min');
      expect(Number(item.value)).toBe(truth.get(item.describedObject.name)!.gc_pause_ms_per_min);
    }
    const mem = (await custom.listNamespacedCustomObject({
      group: 'custom.metrics.k8s.io',
      version: 'v1beta2',
      namespace: ns,
      plural: 'pods/*/memory_utilisation_ratio',
      labelSelector: 'app=checkout',
    })) as { items: { describedObject: { name: string }; value: string }[] };
    for (const item of mem.items) expect(Number(item.value.replace(/m$/, '')) / 1000).toBeCloseTo(truth.get(item.describedObject.name)!.memory_utilisation, 3);

    const service = scenario.twin.serviceMetrics(ns, 'checkout');
    for (const [metric, expected] of [
      ['http_request_duration_p99_ms', service.p99_ms],
      ['http_request_duration_p50_ms', service.p50_ms],
      ['http_requests_per_second', service.rps],
      ['http_error_ratio', service.error_ratio],
    ] as const) {
      const list = (await custom.getNamespacedCustomObject({
        group: 'custom.metrics.k8s.io',
        version: 'v1beta2',
        namespace: ns,
        plural: 'deployments.apps',
        name: `checkout/${metric}`,
      })) as { items: { describedObject: { kind: string; name: string }; value: string }[] };
      expect(list.items).toHaveLength(1);
      expect(list.items[0]!.describedObject).toMatchObject({ kind: 'Deployment', name: 'checkout' });
      const v = list.items[0]!.value;
      expect(v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v)).toBeCloseTo(expected, 3);
    }
    const unknown = await apiError(
      custom.getNamespacedCustomObject({ group: 'custom.metrics.k8s.io', version: 'v1beta2', namespace: ns, plural: 'deployments.apps', name: 'checkout/nope' }),
    );
    expect(unknown.code).toBe(404);
  });

  it('moves with the clock: p99 read through the API follows the incident', async () => {
    const read = async () => {
      const list = (await custom.getNamespacedCustomObject({
        group: 'custom.metrics.k8s.io',
        version: 'v1beta2',
        namespace: ns,
        plural: 'deployments.apps',
        name: 'checkout/http_request_duration_p99_ms',
      })) as { items: { value: string }[] };
      const v = list.items[0]!.value;
      return v.endsWith('m') ? Number(v.slice(0, -1)) / 1000 : Number(v);
    };
    expect(await read()).toBeLessThan(500);
    await clock.advance(3 * 60_000);
    expect(await read()).toBeGreaterThan(1000);
  });
});

describe('twin Kubernetes API over raw HTTP', () => {
  const raw = (path: string, init: RequestInit = {}) => fetch(`${api.url}${path}`, init);

  it('serves discovery and version', async () => {
    expect(await (await raw('/version')).json()).toMatchObject({ major: '1', gitVersion: expect.stringContaining('twin') });
    const groups = (await (await raw('/apis')).json()) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(['apps', 'autoscaling', 'metrics.k8s.io', 'custom.metrics.k8s.io']);
    const appsV1 = (await (await raw('/apis/apps/v1')).json()) as { resources: { name: string; kind: string; group?: string }[] };
    expect(appsV1.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({ kind: 'Scale', group: 'autoscaling' });
  });

  it('refuses what it does not serve: 404 for unknown paths, 405 for other verbs, 415 for other patch types, 401 for a malformed token', async () => {
    const unknown = await raw('/apis/batch/v1/namespaces/acme-prod/jobs');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    const del = await raw('/apis/apps/v1/namespaces/acme-prod/deployments/checkout', { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(await del.json()).toMatchObject({ reason: 'MethodNotAllowed' });
    const apply = await raw('/apis/apps/v1/namespaces/acme-prod/deployments/checkout', {
      method: 'PATCH',
      headers: { 'content-type': 'application/apply-patch+yaml' },
      body: 'spec: {replicas: 3}',
    });
    expect(apply.status).toBe(415);
    expect(await apply.json()).toMatchObject({ reason: 'UnsupportedMediaType' });
    const badJson = await raw('/apis/apps/v1/namespaces/acme-prod/deployments/checkout', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: '{',
    });
    expect(badJson.status).toBe(400);
    expect((await raw('/api/v1/namespaces', { headers: { authorization: 'Basic Zm9vOmJhcg==' } })).status).toBe(401);
    expect((await raw('/api/v1/namespaces', { headers: { authorization: 'Bearer whatever' } })).status).toBe(200);
    expect((await raw('/api/v1/namespaces/acme-prod/pods?labelSelector=app%3D(')).status).toBe(400);
  });

  it('prints Tables for kubectl', async () => {
    const res = await raw('/apis/apps/v1/namespaces/acme-prod/deployments', { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const table = (await res.json()) as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.slice(0, 5).map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
    expect(table.rows[0]!.cells.slice(0, 5)).toEqual(['checkout', '8/8', 8, 8, '3d']);
  });
});

describe('twin Kubernetes API through kubectl', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'twin-kubectl-'));
    await writeFile(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: twin',
        '  cluster:',
        `    server: ${api.url}`,
        'users:',
        '- name: sre',
        '  user:',
        '    token: any-token',
        'contexts:',
        '- name: twin',
        '  context:',
        '    cluster: twin',
        '    user: sre',
        'current-context: twin',
        '',
      ].join('\n'),
    );
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const kubectl = async (...args: string[]) => {
    const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], {
      timeout: 20_000,
    });
    return stdout;
  };

  it('lists deployments in all namespaces and scales checkout to 10', async () => {
    const list = await kubectl('get', 'deployments', '-A');
    const lines = list.trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(lines.find((l) => /\bcheckout\b/.test(l))).toMatch(/^acme-prod\s+checkout\s+8\/8\s+8\s+8\s+3d$/);
    expect(lines.some((l) => /^globex-prod\s+storefront\s/.test(l))).toBe(true);
    expect(lines).toHaveLength(1 + 7);

    expect(await kubectl('scale', 'deployment', 'checkout', '--replicas=10', '-n', 'acme-prod')).toMatch(/deployment.apps\/checkout scaled/);
    expect(scenario.twin.getDeployment(ns, 'checkout')?.spec.replicas).toBe(10);
    expect(await kubectl('get', 'deployment', 'checkout', '-n', 'acme-prod', '-o', 'jsonpath={.spec.replicas} {.status.readyReplicas}')).toBe('10 8');
    await clock.advance(30_000);
    expect(await kubectl('get', 'deployment', 'checkout', '-n', 'acme-prod', '-o', 'jsonpath={.status.readyReplicas}')).toBe('10');
  });

  it('shows the rollout history and rolls back like on a real cluster', async () => {
    expect(await kubectl('rollout', 'history', 'deployment/checkout', '-n', 'acme-prod')).toMatch(/1\s+release 4\.12\.0\n2\s+JVM heap tuning/);
    await kubectl('rollout', 'undo', 'deployment/checkout', '-n', 'acme-prod');
    const history = await kubectl('rollout', 'history', 'deployment/checkout', '-n', 'acme-prod');
    expect(history).toMatch(/2\s+JVM heap tuning.*\n3\s+release 4\.12\.0/);
    expect(history).not.toMatch(/^1\s/m);
  });
});
