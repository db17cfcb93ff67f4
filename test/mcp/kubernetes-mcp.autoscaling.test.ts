// The Kubernetes MCP server's HPA, events and resources tools against the cluster twin's API, over
// Streamable HTTP with the real MCP client: what they read is the cluster's, what they write reaches
// the cluster, a grant is needed for every write, their hard limits hold whatever the grant, and
// another tenant's namespace is an isError result.
import { AppsV1Api, AutoscalingV2Api, type KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario, type Scenario } from '../../src/twin/scenarios/index.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';

const TOKEN = 'elastik-token-0123456789';
const ns = 'acme-prod';
let clock: VirtualClock;
let scenario: Scenario;
let api: KubeApiServer;
let kube: KubeConfig;
let mcp: { url: string; close(): Promise<void> };
let elastik: McpToolClient;
const keys = generateGrantKeys('k');

beforeEach(async () => {
  clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
  scenario = buildScenario('jvm-heap-regression', clock);
  scenario.twin.start();
  api = await startKubeApiServer(scenario.twin, { port: 0 });
  kube = loadKubeconfig(api.kubeconfig());
  mcp = await startKubernetesMcpHttp({
    kube, sharedState: new MemorySharedState(), clock, grantPublicKeys: new Map([['k', keys.publicKey]]), tokens: new Map([[TOKEN, { agent: 'elastik', namespaces: [ns] }]]),
  });
  elastik = await connectMcp({ url: mcp.url, token: TOKEN, name: 'elastik' });
});

afterEach(async () => {
  await elastik.close();
  await mcp.close();
  scenario.twin.stop();
  await api.close();
});

const grant = (tool: string, args: Record<string, unknown>, namespace = ns) =>
  issueGrant(keys, { proposal_id: 'p1', agent: 'elastik', tenant: 'acme', namespace, server: 'kubernetes', tool, args, basis: 'policy', nowMs: clock.now(), ttlMs: 900_000 });
const call = <T = Record<string, unknown>>(tool: string, args: Record<string, unknown>, withGrant = true) =>
  elastik.callTool<T>(tool, withGrant ? { ...args, grant: grant(tool, args, String(args['namespace'])) } : args);
const replicas = async (name = 'checkout') => (await kube.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name })).spec!.replicas!;
const createHpa = (min: number, max: number) =>
  kube.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace: ns,
    body: {
      metadata: { name: 'checkout', namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' },
        minReplicas: min, maxReplicas: max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 90 } } }],
      },
    },
  });

describe('get_hpa_status and set_hpa_bounds: working with the HPA that owns a deployment', () => {
  it('no HPA: null; with one: its bounds, replicas, metrics; scale_deployment is refused and says to move the bounds', async () => {
    expect(await call('get_hpa_status', { namespace: ns, deployment: 'checkout' }, false)).toMatchObject({ ok: true, data: { hpa: null } });
    await createHpa(8, 16);
    await clock.advance(30_000);
    const status = await call<{ hpa: { name: string; min_replicas: number; max_replicas: number; current_replicas: number; metrics: Array<{ name: string; target: string }> } }>('get_hpa_status', { namespace: ns, deployment: 'checkout' }, false);
    expect(status.ok).toBe(true);
    if (!status.ok) return;
    expect(status.data.hpa).toMatchObject({ name: 'checkout', min_replicas: 8, max_replicas: 16, current_replicas: 8 });
    expect(status.data.hpa.metrics[0]).toMatchObject({ name: 'cpu', target: '90% utilisation' });

    const before = await replicas();
    const fight = await call('scale_deployment', { namespace: ns, deployment: 'checkout', replicas: 12 });
    expect(fight).toMatchObject({ ok: false, code: 'conflict' });
    expect(fight.ok ? '' : fight.message).toMatch(/scaled by HorizontalPodAutoscaler checkout \(8-16 replicas\); change its bounds with set_hpa_bounds/);
    expect(await replicas()).toBe(before);
  });

  it('raising minReplicas makes the HPA scale the deployment; the hard limits hold whatever the grant; the cooldown is scale_deployment\'s', async () => {
    await createHpa(8, 16);
    await clock.advance(30_000);
    const refused = async (args: Record<string, unknown>, rule: RegExp) => {
      const out = await call('set_hpa_bounds', { namespace: ns, hpa: 'checkout', deployment: 'checkout', ...args });
      expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
      expect(out.ok ? '' : out.message).toMatch(rule);
    };
    await refused({ min_replicas: 25, max_replicas: 30 }, /max_scale_up_factor: .*8 → 25 replicas is a 3\.1x scale-up/);
    await refused({ min_replicas: 12, max_replicas: 10 }, /hpa_bounds_order: .*maxReplicas 10 is below minReplicas 12/);
    await refused({ min_replicas: 12, max_replicas: 40 }, /max_scale_up_factor: .*maxReplicas 16 → 40 opens the ceiling past 3x the 8 running replicas \(at most 24\)/);
    await refused({ min_replicas: 1, max_replicas: 16 }, /min_production_replicas/);
    expect(await call('set_hpa_bounds', { namespace: ns, hpa: 'checkout', deployment: 'checkout', min_replicas: 12, max_replicas: 20 }, false)).toMatchObject({ ok: false });
    expect(await call('set_hpa_bounds', { namespace: ns, hpa: 'checkout', deployment: 'cart', min_replicas: 12, max_replicas: 20 })).toMatchObject({ ok: false, code: 'conflict', message: expect.stringMatching(/scales Deployment checkout, not Deployment cart/) });

    const ok = await call('set_hpa_bounds', { namespace: ns, hpa: 'checkout', deployment: 'checkout', min_replicas: 12, max_replicas: 20 });
    expect(ok).toMatchObject({ ok: true, data: { deployment: 'checkout', from: { min_replicas: 8, max_replicas: 16 }, to: { min_replicas: 12, max_replicas: 20 } } });
    await clock.advance(30_000);
    expect(await replicas()).toBeGreaterThanOrEqual(12);

    // Within 300 s of that, another bound change is refused: the cooldown of the deployment's scaling.
    await refused({ min_replicas: 14, max_replicas: 20 }, /scale_cooldown/);
    await clock.advance(301_000);
    expect(await call('set_hpa_bounds', { namespace: ns, hpa: 'checkout', deployment: 'checkout', min_replicas: 8, max_replicas: 16 })).toMatchObject({ ok: true });
  });

  it("another tenant's namespace is an isError result for every new tool, and nothing changes", async () => {
    for (const [tool, args, withGrant] of [
      ['get_hpa_status', { namespace: 'globex-prod', deployment: 'storefront' }, false],
      ['get_events', { namespace: 'globex-prod' }, false],
      ['set_hpa_bounds', { namespace: 'globex-prod', hpa: 'storefront', deployment: 'storefront', min_replicas: 4, max_replicas: 8 }, true],
      ['patch_resource_limits', { namespace: 'globex-prod', deployment: 'storefront', container: 'app', limits: { memory: '3Gi' } }, true],
    ] as const) {
      const out = await call(tool, { ...args }, withGrant);
      expect(out, tool).toMatchObject({ ok: false, code: 'tenant_forbidden' });
      expect((out.raw as { response: { isError?: boolean } }).response.isError, tool).toBe(true);
    }
  });
});

describe('get_events', () => {
  it("the namespace's events, newest first, filtered by object, type and age", async () => {
    scenario.twin.scale(ns, 'checkout', 10);
    await clock.advance(60_000);
    const all = await call<{ events: Array<{ reason: string; object: { kind: string; name: string }; last_seen: string; type: string }>; truncated: boolean }>('get_events', { namespace: ns }, false);
    expect(all.ok).toBe(true);
    if (!all.ok) return;
    expect(all.data.events.length).toBeGreaterThan(0);
    const seen = all.data.events.map((e) => e.last_seen);
    expect([...seen].sort().reverse()).toEqual(seen);
    const scaled = await call<{ events: Array<{ reason: string; object: { kind: string; name: string } }> }>('get_events', { namespace: ns, kind: 'Deployment', name: 'checkout' }, false);
    expect(scaled.ok && scaled.data.events.some((e) => e.reason === 'ScalingReplicaSet')).toBe(true);
    expect(scaled.ok && scaled.data.events.every((e) => e.object.kind === 'Deployment' && e.object.name === 'checkout')).toBe(true);
    const one = await call<{ events: unknown[]; truncated: boolean }>('get_events', { namespace: ns, limit: 1 }, false);
    expect(one.ok && one.data.events.length === 1 && one.data.truncated === all.data.events.length > 1).toBe(true);
    const warnings = await call<{ events: Array<{ type: string }> }>('get_events', { namespace: ns, type: 'Warning' }, false);
    expect(warnings.ok && warnings.data.events.every((e) => e.type === 'Warning')).toBe(true);
    expect(await call('get_events', { namespace: ns, limit: 0 }, false)).toMatchObject({ ok: false });
  });
});

describe('patch_resource_limits: a vertical change, in steps', () => {
  const containerName = async () => (await kube.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'checkout' })).spec!.template!.spec!.containers[0]!.name;

  it('writes the new limits into the template (a rollout), and refuses what its hard limits forbid, whatever the grant', async () => {
    const container = await containerName();
    const p = (args: Record<string, unknown>) => call('patch_resource_limits', { namespace: ns, deployment: 'checkout', container, ...args });
    const refused = async (args: Record<string, unknown>, rule: RegExp) => {
      const out = await p(args);
      expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
      expect(out.ok ? '' : out.message).toMatch(rule);
    };
    await refused({ limits: { memory: '5Gi' } }, /max_resource_change_factor: .*limits\.memory 2048Mi → 5120Mi is a 2\.50x change/);
    await refused({ limits: { cpu: '20' } }, /max_resource_change_factor.*max_container_resources: .*limits\.cpu 20000m is above the 16-core ceiling/);
    await refused({ requests: { memory: '3Gi' } }, /requests_within_limits: .*requests\.memory 3072Mi is above limits\.memory 2048Mi/);
    // The sick pods use ~94% of 2Gi: a 1.2Gi limit would OOM-kill them at once.
    await refused({ limits: { memory: '1200Mi' }, requests: { memory: '1200Mi' } }, /memory_limit_below_usage/);
    expect(await p({})).toMatchObject({ ok: false, code: 'input_invalid' });
    expect(await call('patch_resource_limits', { namespace: ns, deployment: 'checkout', container: 'nope', limits: { memory: '3Gi' } })).toMatchObject({ ok: false, code: 'not_found' });
    expect(await call('patch_resource_limits', { namespace: ns, deployment: 'checkout', container, limits: { memory: '3Gi' } }, false)).toMatchObject({ ok: false });
    expect(await call('patch_resource_limits', { namespace: ns, deployment: 'checkout', container, limits: { memory: 'lots' } })).toMatchObject({ ok: false });

    const ok = await p({ limits: { memory: '3Gi' } });
    expect(ok).toMatchObject({ ok: true, data: { changed: true, to: { limits: { memory: '3072Mi' }, requests: { memory: '2048Mi' } } } });
    const live = await kube.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'checkout' });
    expect(live.spec!.template!.spec!.containers[0]!.resources).toMatchObject({ limits: { memory: '3Gi', cpu: '1' }, requests: { memory: '2Gi' } });
    await refused({ limits: { memory: '4Gi' } }, /resources_cooldown/);
  });
});
