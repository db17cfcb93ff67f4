// Discovery through @kubernetes/client-node's informers against the twin's API server: the watch set
// follows annotations on Deployments and labels on namespaces as they change, without a restart;
// kubectl label / annotate works on namespaces, deployments and pods as on a cluster.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiException, AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterDiscovery } from '../../src/cluster/cluster-discovery.ts';
import type { Discovery } from '../../src/cluster/watch-targets.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario, type Scenario } from '../../src/twin/scenarios/index.ts';

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
let scenario: Scenario;
let api: KubeApiServer;
let kube: KubeConfig;
let discovery: ClusterDiscovery;
let changes: Discovery[];
let dir: string;

beforeEach(async () => {
  scenario = buildScenario('two-tenants', new VirtualClock(Date.parse('2026-11-24T10:00:00Z')));
  scenario.twin.start();
  api = await startKubeApiServer(scenario.twin, {});
  kube = loadKubeconfig(api.kubeconfig());
  changes = [];
  discovery = new ClusterDiscovery({ kube, tenants: scenario.tenants, logger: silentLogger(), onChange: (d) => changes.push(d), restartMs: 100 });
  dir = await mkdtemp(join(tmpdir(), 'discovery-'));
  await writeFile(join(dir, 'kubeconfig'), api.kubeconfig(), { mode: 0o600 });
});

afterEach(async () => {
  await discovery.stop();
  scenario.twin.stop();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

const refs = () => discovery.targets().map((t) => `${t.tenant}:${t.namespace}/${t.deployment}@${t.sloP99Ms}:${t.environment}`);
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; watching ${refs().join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const kubectl = async (...args: string[]) =>
  (await promisify(execFile)('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 20_000 })).stdout;

describe('ClusterDiscovery against the twin', () => {
  it('starts with the scenario\'s targets, then follows annotations and labels without a restart', async () => {
    const first = await discovery.start();
    expect(first.targets.map((t) => `${t.namespace}/${t.deployment}`).sort()).toEqual(scenario.targets.map((t) => `${t.namespace}/${t.deployment}`).sort());
    const apps = kube.makeApiClient(AppsV1Api);
    const core = kube.makeApiClient(CoreV1Api);
    const [{ namespace, deployment, tenant }] = scenario.targets as [Scenario['targets'][number]];
    const other = (await apps.listNamespacedDeployment({ namespace })).items.map((d) => d.metadata!.name!).find((n) => !scenario.targets.some((t) => t.deployment === n && t.namespace === namespace))!;
    expect(other).toBeDefined();

    // Annotating a deployment adds it.
    await apps.patchNamespacedDeployment({ name: other, namespace, body: { metadata: { annotations: { 'governor.io/slo-p99-ms': '350' } } } }, merge);
    await until(() => refs().includes(`${tenant}:${namespace}/${other}@350:production`), `${other} watched`);

    // Changing the objective changes it; removing the annotation removes it.
    await apps.patchNamespacedDeployment({ name: other, namespace, body: { metadata: { annotations: { 'governor.io/slo-p99-ms': '275' } } } }, merge);
    await until(() => refs().includes(`${tenant}:${namespace}/${other}@275:production`), 'the new objective');
    await apps.patchNamespacedDeployment({ name: other, namespace, body: { metadata: { annotations: { 'governor.io/slo-p99-ms': null } } } }, merge);
    await until(() => !refs().some((r) => r.includes(`/${other}@`)), `${other} no longer watched`);

    // A namespace's environment label applies to its targets.
    await core.patchNamespace({ name: namespace, body: { metadata: { labels: { 'governor.io/environment': 'staging' } } } }, merge);
    await until(() => refs().includes(`${tenant}:${namespace}/${deployment}@${scenario.targets[0]!.sloP99Ms}:staging`), 'the staging label');

    // Labelling the namespace for another tenant, one the tenants file does not know: the file gives
    // the namespace to its tenant, so it is reported and no longer watched (fail closed).
    await core.patchNamespace({ name: namespace, body: { metadata: { labels: { 'governor.io/tenant': 'initech' } } } }, merge);
    await until(() => !refs().some((r) => r.includes(`${namespace}/`)), 'the namespace unwatched');
    expect(discovery.discovery.problems.join('\n')).toMatch(new RegExp(`${namespace}/${deployment}: its namespace belongs to tenant ${tenant} in the tenants file, but is labelled for initech; not watched`));
    expect(changes.length).toBeGreaterThanOrEqual(5);
  });

  it('kubectl label / annotate on namespaces, deployments and pods, as a cluster takes them', async () => {
    await discovery.start();
    const { namespace, deployment } = scenario.targets[0]!;
    expect(await kubectl('label', 'namespace', namespace, 'team=payments')).toMatch(new RegExp(`namespace/${namespace} labeled`));
    expect(await kubectl('annotate', 'namespace', namespace, 'owner=sre@example.com')).toMatch(new RegExp(`namespace/${namespace} annotated`));
    const nsObj = JSON.parse(await kubectl('get', 'namespace', namespace, '-o', 'json')) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(nsObj.metadata.labels).toMatchObject({ team: 'payments', 'kubernetes.io/metadata.name': namespace, 'governor.io/tenant': scenario.targets[0]!.tenant });
    expect(nsObj.metadata.annotations).toEqual({ owner: 'sre@example.com' });
    // Overwriting needs --overwrite, as on a cluster; the label of the namespace's own name cannot be changed.
    await expect(kubectl('label', 'namespace', namespace, 'team=search')).rejects.toThrow(/already has a value \(payments\)/);
    expect(await kubectl('label', 'namespace', namespace, 'team-')).toMatch(/unlabeled/);

    expect(await kubectl('annotate', 'deployment', deployment, '-n', namespace, '--overwrite', 'governor.io/slo-p99-ms=420')).toMatch(/annotated/);
    await until(() => discovery.targets().some((t) => t.deployment === deployment && t.sloP99Ms === 420), 'the annotated objective');

    const pod = (await kubectl('get', 'pods', '-n', namespace, '-l', `app=${deployment}`, '-o', 'name')).trim().split('\n')[0]!;
    expect(await kubectl('label', pod, '-n', namespace, 'debug=true')).toMatch(/labeled/);
    expect(await kubectl('annotate', pod, '-n', namespace, 'note=looked-at')).toMatch(/annotated/);
    expect(await kubectl('get', 'pods', '-n', namespace, '-l', 'debug=true', '-o', 'name')).toBe(`${pod}\n`);
    const podObj = JSON.parse(await kubectl('get', pod, '-n', namespace, '-o', 'json')) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(podObj.metadata.annotations['note']).toBe('looked-at');
    expect(podObj.metadata.labels['app']).toBe(deployment);
    // Its ReplicaSet's labels stay: the twin does not orphan pods, and says so.
    await expect(kubectl('label', pod, '-n', namespace, '--overwrite', `app=elsewhere`)).rejects.toThrow(/keeps a pod's template labels/);
    // A bad label (kubectl checks it before sending; a client library does not) is refused as the API server refuses it.
    const core = kube.makeApiClient(CoreV1Api);
    const bad = await core.patchNamespace({ name: namespace, body: { metadata: { labels: { bad: '-x-' } } } }, merge).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApiException);
    expect((bad as ApiException<string>).code).toBe(422);
    expect((JSON.parse(String((bad as ApiException<string>).body)) as { message: string }).message).toMatch(/metadata.labels\[bad\]: Invalid value: "-x-"/);
  });

  it('a stale resourceVersion on a namespace is a 409, as on a cluster', async () => {
    const core = kube.makeApiClient(CoreV1Api);
    const { namespace } = scenario.targets[0]!;
    const n = await core.readNamespace({ name: namespace });
    await core.replaceNamespace({ name: namespace, body: { ...n, metadata: { ...n.metadata, labels: { ...n.metadata!.labels, a: 'b' } } } });
    const stale = await core.replaceNamespace({ name: namespace, body: { ...n, metadata: { ...n.metadata, labels: { ...n.metadata!.labels, a: 'c' } } } }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ApiException);
    expect((stale as ApiException<unknown>).code).toBe(409);
  });
});

describe('a rollback keeps a deployment watched', () => {
  it('the twin copies the deployment\'s annotations to its ReplicaSets, so `rollout undo` keeps governor.io/slo-p99-ms', async () => {
    const { KubeClient } = await import('../../mcp-servers/kubernetes/kube-client.ts');
    const seed = buildScenario('jvm-heap-regression', new VirtualClock(Date.parse('2026-11-24T10:00:00Z')));
    seed.twin.start();
    const seedApi = await startKubeApiServer(seed.twin, {});
    try {
      const client = new KubeClient(loadKubeconfig(seedApi.kubeconfig()));
      await client.applyRollback(await client.planRollback('acme-prod', 'checkout', 1));
      const d = seed.twin.getDeployment('acme-prod', 'checkout')!;
      expect(d.metadata.annotations).toMatchObject({ 'governor.io/slo-p99-ms': '500', 'kubernetes.io/change-cause': 'release 4.12.0' });
    } finally {
      seed.twin.stop();
      await seedApi.close();
    }
  });
});
