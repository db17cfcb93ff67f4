// The twin's Kubernetes API over HTTPS, as operators and Governor use it: real kubectl and
// @kubernetes/client-node with a kubeconfig that carries the twin's CA (verified, not skipped) and a
// token, the resources the cluster twin issue adds (nodes and cordon, events, config maps,
// HorizontalPodAutoscalers, node metrics), watch streams, and the API server's errors.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { buildScenario, type Scenario } from '../../src/twin/scenarios/index.ts';
import { generateTlsMaterial, type TlsMaterial } from '../../src/twin/tls.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const ns = 'acme-prod';
const TOKEN = 'twin-test-token';

let tls: TlsMaterial;
let dir: string;
let clock: VirtualClock;
let scenario: Scenario;
let api: KubeApiServer;
let kube: KubeConfig;

beforeAll(async () => {
  tls = await generateTlsMaterial();
  dir = await mkdtemp(join(tmpdir(), 'twin-https-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  clock = new VirtualClock(START);
  scenario = buildScenario('jvm-heap-regression', clock);
  scenario.twin.start();
  api = await startKubeApiServer(scenario.twin, { tls, token: TOKEN });
  await writeFile(join(dir, 'kubeconfig'), api.kubeconfig('sre'), { mode: 0o600 });
  kube = new KubeConfig();
  kube.loadFromString(api.kubeconfig('governor'));
});

afterEach(async () => {
  scenario.twin.stop();
  await api.close();
});

const kubectl = async (...args: string[]) => {
  const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], { timeout: 20_000 });
  return stdout;
};

async function apiError(p: Promise<unknown>): Promise<ApiException<string>> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiException) return err as ApiException<string>;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const reasonOf = (e: ApiException<string>) => (JSON.parse(e.body) as { reason: string }).reason;

/** A raw HTTPS GET that trusts the twin's CA; resolves with the status and the body lines as they come. */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; lines: AsyncIterable<string>; close: () => void }> {
  const url = new URL(path, api.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: tls.caPem, headers: { authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
      const rl = createInterface({ input: res });
      // Iterate from now on: lines that arrive before the caller starts reading are buffered, not lost.
      const iterator = rl[Symbol.asyncIterator]();
      res.on('error', () => {});
      rl.on('error', () => {});
      resolve({ status: res.statusCode ?? 0, lines: { [Symbol.asyncIterator]: () => iterator }, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS and authentication', () => {
  it('hands out a kubeconfig with the CA and the token, and is verified against that CA', async () => {
    expect(api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(api.kubeconfig()).toContain(`certificate-authority-data: "${Buffer.from(tls.caPem).toString('base64')}"`);
    expect(api.caPem).toBe(tls.caPem);
    const core = kube.makeApiClient(CoreV1Api);
    expect((await core.listNamespace()).items.map((n) => n.metadata?.name)).toContain(ns);

    // Without the CA the certificate is not trusted: nobody is told to skip verification.
    const untrusting = new KubeConfig();
    untrusting.loadFromOptions({
      clusters: [{ name: 'twin', server: api.url }],
      users: [{ name: 'u', token: TOKEN }],
      contexts: [{ name: 'c', cluster: 'twin', user: 'u' }],
      currentContext: 'c',
    });
    const refused = await untrusting.makeApiClient(CoreV1Api).listNamespace().then(
      () => undefined,
      (err: Error) => err,
    );
    expect(String(refused?.cause ?? refused)).toMatch(/certificate/i);

    // A wrong token is refused with 401; health checks need none.
    const stranger = new KubeConfig();
    stranger.loadFromString(api.kubeconfig().replace(TOKEN, 'not-the-token'));
    expect((await apiError(stranger.makeApiClient(CoreV1Api).listNamespace())).code).toBe(401);
    expect((await rawGet('/healthz', { authorization: '' })).status).toBe(200);
  });

  it('generates its own certificate with tls: true', async () => {
    const own = await startKubeApiServer(scenario.twin, { tls: true });
    try {
      const k = new KubeConfig();
      k.loadFromString(own.kubeconfig());
      expect((await k.makeApiClient(CoreV1Api).listNode()).items).toHaveLength(4);
      expect(own.caPem).toMatch(/BEGIN CERTIFICATE/);
      expect(own.caPem).not.toBe(tls.caPem);
    } finally {
      await own.close();
    }
  });
});

describe('kubectl over HTTPS', () => {
  it('gets deployments in all namespaces and scales one', async () => {
    const lines = (await kubectl('get', 'deployments', '-A')).trim().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(lines.find((l) => /\bcheckout\b/.test(l))).toMatch(/^acme-prod\s+checkout\s+8\/8\s+8\s+8\s+3d$/);
    expect(await kubectl('scale', 'deployment/checkout', '--replicas=12', '-n', ns)).toMatch(/deployment.apps\/checkout scaled/);
    expect(scenario.twin.getDeployment(ns, 'checkout')!.spec.replicas).toBe(12);
    expect(await kubectl('get', 'events', '-n', ns, '--field-selector', 'reason=ScalingReplicaSet')).toMatch(/deployment\/checkout\s+Scaled up replica set checkout-\w+ from 8 to 12/);
  });

  it('cordons and uncordons a node', async () => {
    expect(await kubectl('cordon', 'twin-node-2')).toMatch(/node\/twin-node-2 cordoned/);
    expect(scenario.twin.getNode('twin-node-2')!.spec.unschedulable).toBe(true);
    expect(await kubectl('get', 'nodes')).toMatch(/twin-node-2\s+Ready,SchedulingDisabled\s+<none>\s+30d\s+v1\.31\.0/);
    expect(await kubectl('cordon', 'twin-node-2')).toMatch(/already cordoned/);
    // New pods avoid the cordoned node.
    scenario.twin.scale(ns, 'checkout', 16);
    expect(scenario.twin.listPods(ns, 'app=checkout').filter((p) => Date.parse(p.metadata.creationTimestamp) === START).map((p) => p.spec.nodeName)).not.toContain('twin-node-2');
    expect(await kubectl('uncordon', 'twin-node-2')).toMatch(/node\/twin-node-2 uncordoned/);
    expect(scenario.twin.getNode('twin-node-2')!.spec.unschedulable).toBeUndefined();
  });

  it('shows top pods and top nodes from the metrics API', async () => {
    const pods = (await kubectl('top', 'pods', '-n', ns)).trim().split('\n');
    expect(pods[0]).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    expect(pods).toHaveLength(41);
    const sickPods = scenario.sickPods['acme-prod/checkout']!;
    const sick = scenario.twin.podMetricsOf(ns, sickPods[0]!)!;
    expect(pods.find((l) => l.startsWith(sickPods[0]!))).toMatch(new RegExp(`\\s${sick.cpu_millicores}m\\s+${Math.round(sick.memory_bytes / 2 ** 20)}Mi`));
    const nodes = (await kubectl('top', 'nodes')).trim().split('\n');
    expect(nodes[0]).toMatch(/^NAME\s+CPU\(cores\)\s+CPU(%|\(%\))\s+MEMORY\(bytes\)\s+MEMORY(%|\(%\))/);
    expect(nodes.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['twin-node-1', 'twin-node-2', 'twin-node-3', 'twin-node-4']);
  });

  it('shows the rollout history', async () => {
    expect(await kubectl('rollout', 'history', 'deployment/checkout', '-n', ns)).toMatch(/1\s+release 4\.12\.0\n2\s+JVM heap tuning/);
  });

  it('autoscales (autoscaling/v1) and shows the HPA working', async () => {
    expect(await kubectl('autoscale', 'deployment', 'cart', '-n', ns, '--min=4', '--max=12', '--cpu-percent=50')).toMatch(/horizontalpodautoscaler.autoscaling\/cart autoscaled/);
    await clock.advance(15_000);
    const line = (await kubectl('get', 'hpa', '-n', ns)).trim().split('\n')[1]!;
    expect(line).toMatch(/^cart\s+Deployment\/cart\s+cpu: \d+%\/50%\s+4\s+12\s+8\s+\d+s$/);
    expect(scenario.twin.getDeployment(ns, 'cart')!.spec.replicas).toBeGreaterThan(8);
  });

  it('creates and lists config maps', async () => {
    expect(await kubectl('create', 'configmap', 'checkout-config', '-n', ns, '--from-literal=pool.size=50')).toMatch(/configmap\/checkout-config created/);
    expect(scenario.twin.getConfigMap(ns, 'checkout-config')!.data).toEqual({ 'pool.size': '50' });
    expect(await kubectl('get', 'configmaps', '-n', ns)).toMatch(/checkout-config\s+1\s+0s/);
  });

  it('watches with get -w', async () => {
    const child = spawn('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), 'get', 'deployments', '-n', ns, '-w', '--output-watch-events'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const lines = createInterface({ input: child.stdout });
      const seen: string[] = [];
      const modified = new Promise<string>((resolve) => {
        lines.on('line', (l) => {
          seen.push(l);
          if (/^MODIFIED\s+checkout\s/.test(l)) resolve(l);
        });
      });
      // Wait for the initial list, then change the deployment.
      while (seen.filter((l) => l.startsWith('ADDED')).length < 5) await new Promise((r) => setTimeout(r, 50));
      expect(seen[0]).toMatch(/^EVENT\s+NAME\s+READY/);
      scenario.twin.scale(ns, 'checkout', 10);
      expect(await modified).toMatch(/^MODIFIED\s+checkout\s+8\/10\s/);
    } finally {
      child.kill();
    }
  });
});

describe('client-node over HTTPS', () => {
  it('lists and patches nodes, and reads node metrics', async () => {
    const core = kube.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    expect(nodes.items.map((n) => n.metadata?.name)).toEqual(['twin-node-1', 'twin-node-2', 'twin-node-3', 'twin-node-4']);
    expect(nodes.items[0]!.status?.allocatable).toMatchObject({ cpu: '15890m', memory: `${62 * 1024 * 1024}Ki`, pods: '110' });
    const cordoned = await core.patchNode({ name: 'twin-node-3', body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    expect(cordoned.spec?.unschedulable).toBe(true);
    expect(cordoned.spec?.taints?.[0]?.key).toBe('node.kubernetes.io/unschedulable');
    expect((await core.listNode({ fieldSelector: 'spec.unschedulable=true' })).items.map((n) => n.metadata?.name)).toEqual(['twin-node-3']);
    const onNode = await core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName=twin-node-3' });
    expect(onNode.items.length).toBeGreaterThan(5);
    expect(onNode.items.every((p) => p.spec?.nodeName === 'twin-node-3')).toBe(true);
  });

  it('does config map CRUD with 404, 409 and 422 as a real API server', async () => {
    const core = kube.makeApiClient(CoreV1Api);
    const body: V1ConfigMap = { metadata: { name: 'flags' }, data: { 'checkout.fast-path': 'on' } };
    const created = await core.createNamespacedConfigMap({ namespace: ns, body });
    expect(created.metadata).toMatchObject({ name: 'flags', namespace: ns });
    expect(reasonOf(await apiError(core.createNamespacedConfigMap({ namespace: ns, body })))).toBe('AlreadyExists');
    const replaced = await core.replaceNamespacedConfigMap({ name: 'flags', namespace: ns, body: { ...created, data: { 'checkout.fast-path': 'off' } } });
    expect(replaced.data).toEqual({ 'checkout.fast-path': 'off' });
    const stale = await apiError(core.replaceNamespacedConfigMap({ name: 'flags', namespace: ns, body: { ...created, data: {} } }));
    expect([stale.code, reasonOf(stale)]).toEqual([409, 'Conflict']);
    const patched = await core.patchNamespacedConfigMap({ name: 'flags', namespace: ns, body: { data: { extra: '1' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(patched.data).toEqual({ 'checkout.fast-path': 'off', extra: '1' });
    const bad = await apiError(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'bad' }, data: { 'no spaces': 'x' } } }));
    expect([bad.code, reasonOf(bad)]).toEqual([422, 'Invalid']);
    expect(JSON.parse(bad.body).details.causes[0].field).toBe('data[no spaces]');
    const deleted = await core.deleteNamespacedConfigMap({ name: 'flags', namespace: ns });
    expect(deleted).toMatchObject({ status: 'Success', details: { name: 'flags', kind: 'configmaps' } });
    expect((await apiError(core.readNamespacedConfigMap({ name: 'flags', namespace: ns }))).code).toBe(404);
    expect((await apiError(core.deleteNamespacedConfigMap({ name: 'flags', namespace: ns }))).code).toBe(404);
  });

  it('creates, reads and validates HorizontalPodAutoscalers', async () => {
    const hpa = kube.makeApiClient(AutoscalingV2Api);
    const created = await hpa.createNamespacedHorizontalPodAutoscaler({
      namespace: ns,
      body: {
        metadata: { name: 'search' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'search' },
          minReplicas: 2,
          maxReplicas: 20,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
        },
      },
    });
    expect(created.metadata?.namespace).toBe(ns);
    await clock.advance(15_000);
    const read = await hpa.readNamespacedHorizontalPodAutoscaler({ name: 'search', namespace: ns });
    expect(read.status?.currentMetrics?.[0]?.resource?.current.averageUtilization).toBeGreaterThan(0);
    expect(read.status?.conditions?.map((c) => c.type)).toEqual(['AbleToScale', 'ScalingActive', 'ScalingLimited']);
    const invalid = await apiError(
      hpa.createNamespacedHorizontalPodAutoscaler({ namespace: ns, body: { metadata: { name: 'x' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 0 } } }),
    );
    expect([invalid.code, reasonOf(invalid)]).toEqual([422, 'Invalid']);
    expect((await apiError(hpa.readNamespacedHorizontalPodAutoscaler({ name: 'nope', namespace: ns }))).code).toBe(404);
  });

  it('watches deployments: a Watch from a list’s resourceVersion receives the change', async () => {
    const apps = kube.makeApiClient(AppsV1Api);
    const list = await apps.listNamespacedDeployment({ namespace: ns });
    const events: { type: string; obj: V1Deployment }[] = [];
    const got = new Promise<void>((resolve) => {
      void new Watch(kube).watch(
        `/apis/apps/v1/namespaces/${ns}/deployments`,
        { resourceVersion: list.metadata?.resourceVersion },
        (type, obj: V1Deployment) => {
          events.push({ type, obj });
          if (type === 'MODIFIED' && obj.metadata?.name === 'checkout' && obj.spec?.replicas === 12) resolve();
        },
        () => {},
      );
    });
    // Let the watch connect before changing anything; nothing may be lost either way.
    await new Promise((r) => setTimeout(r, 200));
    await apps.patchNamespacedDeploymentScale({ name: 'checkout', namespace: ns, body: { spec: { replicas: 12 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await got;
    expect(events.every((e) => e.type !== 'ADDED')).toBe(true);
    expect(Number(events.at(-1)!.obj.metadata?.resourceVersion)).toBeGreaterThan(Number(list.metadata?.resourceVersion));
  });

  it('watches events and pods as the twin moves, and refuses a version it no longer holds with 410', async () => {
    const core = kube.makeApiClient(CoreV1Api);
    const before = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'reason=Started' });
    expect(before.items.length).toBeGreaterThan(0);
    const seen: string[] = [];
    const started = new Promise<string>((resolve) => {
      void new Watch(kube).watch(
        `/api/v1/namespaces/${ns}/events`,
        { fieldSelector: 'reason=Started', resourceVersion: before.metadata?.resourceVersion },
        (type, obj: { involvedObject: { name: string } }) => {
          seen.push(`${type} ${obj.involvedObject.name}`);
          resolve(obj.involvedObject.name);
        },
        () => {},
      );
    });
    await new Promise((r) => setTimeout(r, 200));
    scenario.twin.scale(ns, 'checkout', 9);
    const newPod = await started;
    expect(seen).toEqual([`ADDED ${newPod}`]);
    expect(before.items.map((e) => e.involvedObject.name)).not.toContain(newPod);
    expect(scenario.twin.getPod(ns, newPod)).toBeDefined();

    const expired = await rawGet(`/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=1`);
    expect(expired.status).toBe(200);
    for await (const line of expired.lines) {
      expect(JSON.parse(line)).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
      break;
    }
    expired.close();
  });

  it('streams Tables to kubectl-style watches and answers bad requests as the API server does', async () => {
    const w = await rawGet(`/apis/apps/v1/namespaces/${ns}/deployments?watch=1`, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    const first: unknown[] = [];
    for await (const line of w.lines) {
      first.push(JSON.parse(line));
      if (first.length === 2) break;
    }
    w.close();
    const table = first[0] as { type: string; object: { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] } };
    expect(table.type).toBe('ADDED');
    expect(table.object.kind).toBe('Table');
    expect(table.object.columnDefinitions.map((c) => c.name).slice(0, 5)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age']);
    expect(table.object.rows.map((r) => r.cells.slice(0, 5))).toEqual([['checkout', '8/8', 8, 8, '3d']]);
    expect((first[1] as { object: { columnDefinitions: unknown[] } }).object.columnDefinitions).toEqual([]);
    expect((await rawGet(`/api/v1/namespaces/${ns}/pods?fieldSelector=spec.hostname=x`)).status).toBe(400);
    expect((await rawGet(`/api/v1/namespaces/${ns}/pods?watch=true&resourceVersion=abc`)).status).toBe(400);
    expect((await rawGet('/apis/batch/v1/jobs')).status).toBe(404);
  });
});
