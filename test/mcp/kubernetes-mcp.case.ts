// One integration suite for the Kubernetes MCP server against a Kubernetes API described by
// ClusterUnderTest (the cluster twin's, in kubernetes-mcp.twin.test.ts): real Streamable HTTP, the
// real MCP Client, real client-node underneath. Cluster state is checked through the Kubernetes API itself, with a
// client of its own, never through the server under test.
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyObject } from 'node:crypto';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { DeploymentMetrics, NamespaceCapacity, RolloutHistory } from '../../agents/runtime/cluster-views.ts';
import { REPLAYED_META_KEY } from '../../mcp-servers/shared/grant-ledger.ts';

export interface ClusterUnderTest {
  kube: KubeConfig;
  clock: VirtualClock;
  tenant: string;
  namespace: string;
  deployment: string;
  /** A namespace of another tenant (it may or may not exist in the cluster). */
  otherNamespace: string;
  /** Moves simulated time; the cluster moves with it. */
  advance(ms: number): Promise<void>;
  /** What the cluster itself says, from its own source of truth, to compare the tools' answers with. */
  truth(): Promise<{ p99_ms: number; rps: number; pods: Record<string, { gc_pause_ms_per_min: number | null; memory_utilisation: number | null }> }>;
  close(): Promise<void>;
}

const ELASTIK_TOKEN = 'elastik-token-0123456789';
const WATCHTOWER_TOKEN = 'watchtower-token-0123456789';
const MINUTE = 60_000;

export function kubernetesMcpSuite(name: string, makeCluster: () => Promise<ClusterUnderTest>, makeSharedState: () => SharedState): void {
  describe(`Kubernetes MCP server over Streamable HTTP (${name})`, () => {
    let cluster: ClusterUnderTest;
    let shared: SharedState;
    let keys: ReturnType<typeof generateGrantKeys>;
    let publicKeys: Map<string, KeyObject>;
    let tokens: Map<string, { agent: string; namespaces: readonly string[] }>;
    let mcp: { url: string; close(): Promise<void> };
    let elastik: McpToolClient;
    let apps: AppsV1Api;
    const closers: Array<() => Promise<void>> = [];

    beforeEach(async () => {
      cluster = await makeCluster();
      shared = makeSharedState();
      keys = generateGrantKeys('test-key');
      publicKeys = new Map([['test-key', keys.publicKey]]);
      tokens = new Map([
        [ELASTIK_TOKEN, { agent: 'elastik', namespaces: [cluster.namespace] }],
        [WATCHTOWER_TOKEN, { agent: 'watchtower', namespaces: [cluster.namespace] }],
      ]);
      mcp = await startKubernetesMcpHttp({ kube: cluster.kube, sharedState: shared, clock: cluster.clock, grantPublicKeys: publicKeys, tokens });
      elastik = await connectMcp({ url: mcp.url, token: ELASTIK_TOKEN, name: 'elastik' });
      apps = cluster.kube.makeApiClient(AppsV1Api);
    });

    afterEach(async () => {
      for (const c of closers.splice(0).reverse()) await c();
      await elastik.close();
      await mcp.close();
      await shared.close();
      await cluster.close();
    });

    const target = () => ({ namespace: cluster.namespace, deployment: cluster.deployment });
    const replicasNow = async (namespace = cluster.namespace, name = cluster.deployment) =>
      (await apps.readNamespacedDeployment({ namespace, name })).spec?.replicas ?? -1;
    const readDeployment = () => apps.readNamespacedDeployment({ namespace: cluster.namespace, name: cluster.deployment });
    const templateNow = async () => JSON.stringify((await readDeployment()).spec?.template);
    const grantFor = (tool: string, args: Record<string, unknown>, over: Partial<Parameters<typeof issueGrant>[1]> = {}) =>
      issueGrant(keys, {
        proposal_id: 'proposal-1',
        agent: 'elastik',
        tenant: cluster.tenant,
        namespace: cluster.namespace,
        server: 'kubernetes',
        tool,
        args,
        basis: 'policy',
        nowMs: cluster.clock.now(),
        ttlMs: 15 * MINUTE,
        ...over,
      });
    const scale = async (replicas: number, grant: unknown = undefined) => {
      const args = { ...target(), replicas };
      return elastik.callTool<{ from_replicas: number; to_replicas: number }>('scale_deployment', {
        ...args,
        grant: grant === undefined ? grantFor('scale_deployment', args) : grant,
      });
    };

    it('lists typed tools with input and output schemas and annotations', async () => {
      const client = new Client({ name: 'schema-check', version: '0' });
      const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { requestInit: { headers: { Authorization: `Bearer ${WATCHTOWER_TOKEN}` } } });
      await client.connect(transport);
      closers.push(() => client.close());
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((t) => [t.name, t]));
      expect([...byName.keys()].sort()).toEqual(['cordon_node', 'get_events', 'get_hpa_status', 'get_namespace_capacity', 'get_node_status', 'get_pod_metrics', 'get_rollout_history', 'patch_resource_limits', 'rollback_deployment', 'scale_deployment', 'set_hpa_bounds', 'uncordon_node']);
      expect(byName.get('get_node_status')!.annotations).toMatchObject({ readOnlyHint: true });
      expect(byName.get('cordon_node')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      expect(byName.get('cordon_node')!.inputSchema.required).toEqual(expect.arrayContaining(['node', 'drain', 'grant']));
      for (const t of tools) {
        expect(t.description?.length).toBeGreaterThan(60);
        expect(t.inputSchema.type).toBe('object');
        expect(t.outputSchema?.type).toBe('object');
        expect(t.annotations).toBeDefined();
      }
      expect(byName.get('get_pod_metrics')!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      expect(byName.get('get_rollout_history')!.annotations).toMatchObject({ readOnlyHint: true });
      expect(byName.get('scale_deployment')!.annotations).toMatchObject({ readOnlyHint: false, idempotentHint: true });
      expect(byName.get('rollback_deployment')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
      const scaleInput = byName.get('scale_deployment')!.inputSchema;
      expect(scaleInput.required).toEqual(expect.arrayContaining(['namespace', 'deployment', 'replicas', 'grant']));
      expect((scaleInput.properties as Record<string, { type?: string }>)['replicas']!.type).toBe('integer');
      expect(Object.keys(byName.get('get_pod_metrics')!.outputSchema!.properties ?? {})).toEqual(
        expect.arrayContaining(['pods', 'service', 'deployment']),
      );
    });

    it("get_pod_metrics returns the cluster's numbers", async () => {
      const out = await elastik.callTool<{
        deployment: { replicas: number; revision: number | null; template_annotations: Record<string, string> };
        pods: Array<{ pod: string; revision: number | null; gc_pause_ms_per_min: number | null; memory_utilisation: number | null; memory_bytes: number }>;
        service: { p99_ms: number; rps: number };
      }>('get_pod_metrics', target());
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      const truth = await cluster.truth();
      expect(out.data.deployment.replicas).toBe(await replicasNow());
      expect(out.data.service.p99_ms).toBeCloseTo(truth.p99_ms, 1);
      expect(out.data.service.rps).toBeCloseTo(truth.rps, 1);
      expect(out.data.pods.map((p) => p.pod).sort()).toEqual(Object.keys(truth.pods).sort());
      for (const p of out.data.pods) {
        expect(p.gc_pause_ms_per_min ?? null).toBeCloseTo(truth.pods[p.pod]!.gc_pause_ms_per_min ?? NaN, 1);
        expect(p.memory_utilisation).toBeCloseTo(truth.pods[p.pod]!.memory_utilisation ?? NaN, 2);
        expect(p.memory_bytes).toBeGreaterThan(0);
        expect(p.revision).toBe(out.data.deployment.revision);
      }
      // The raw exchange is kept for the audit record.
      expect(out.raw.request.params).toEqual({ name: 'get_pod_metrics', arguments: target() });
    });

    it('get_rollout_history lists the revisions with change-cause and pod-template annotations', async () => {
      const out = await elastik.callTool<{ current_revision: number; revisions: Array<{ revision: number; change_cause: string | null; annotations: Record<string, string> }> }>(
        'get_rollout_history',
        target(),
      );
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      expect(out.data.revisions.length).toBeGreaterThanOrEqual(2);
      expect(out.data.current_revision).toBe(Math.max(...out.data.revisions.map((r) => r.revision)));
      const [first, last] = [out.data.revisions[0]!, out.data.revisions.at(-1)!];
      expect(last.change_cause).toBeTruthy();
      expect(first.annotations).not.toEqual(last.annotations);
    });

    it('scales with a valid grant, and the cluster has the new replica count', async () => {
      const before = await replicasNow();
      const out = await scale(before + 4);
      expect(out).toMatchObject({ ok: true, data: { from_replicas: before, to_replicas: before + 4 } });
      expect(await replicasNow()).toBe(before + 4);
    });

    it('refuses requests without a token or with an unknown token (401 with WWW-Authenticate)', async () => {
      const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } };
      const post = (headers: Record<string, string>) =>
        fetch(mcp.url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(init) });
      const none = await post({});
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
      const unknown = await post({ Authorization: 'Bearer not-a-known-token' });
      expect(unknown.status).toBe(401);
      expect(unknown.headers.get('www-authenticate')).toMatch(/invalid_token/);
      await expect(connectMcp({ url: mcp.url, token: 'not-a-known-token', name: 'intruder' })).rejects.toMatchObject({ code: 'unauthenticated' });
    });

    it("refuses a session used with another agent's token (403)", async () => {
      const headers = (token: string) => ({ 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${token}` });
      const init = await fetch(mcp.url, {
        method: 'POST',
        headers: headers(WATCHTOWER_TOKEN),
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '0' } } }),
      });
      expect(init.status).toBe(200);
      await init.text();
      const sessionId = init.headers.get('mcp-session-id')!;
      expect(sessionId).toBeTruthy();
      const hijack = await fetch(mcp.url, {
        method: 'POST',
        headers: { ...headers(ELASTIK_TOKEN), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
      });
      expect(hijack.status).toBe(403);
    });

    it("refuses another tenant's namespace (tenant_forbidden) and changes nothing", async () => {
      const args = { namespace: cluster.otherNamespace, deployment: cluster.deployment, replicas: 6 };
      const grant = grantFor('scale_deployment', args, { namespace: cluster.otherNamespace });
      const otherBefore = await replicasNow(cluster.otherNamespace).catch(() => null);
      const out = await elastik.callTool('scale_deployment', { ...args, grant });
      expect(out).toMatchObject({ ok: false, code: 'tenant_forbidden' });
      expect(await replicasNow(cluster.otherNamespace).catch(() => null)).toBe(otherBefore);
      const read = await elastik.callTool('get_pod_metrics', { namespace: cluster.otherNamespace, deployment: cluster.deployment });
      expect(read).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    });

    it('refuses missing, forged, unknown-key, expired, other-args, other-tool and other-agent grants, and changes nothing', async () => {
      const before = await replicasNow();
      const to = before + 4;
      const args = { ...target(), replicas: to };
      const valid = grantFor('scale_deployment', args);
      const cases: Array<[string, unknown, string]> = [
        ['missing', null, 'invalid_arguments'],
        ['malformed', { id: 'x' }, 'grant_invalid'],
        ['forged (args changed after signing)', { ...valid, args: { ...args, replicas: to + 1 } }, 'grant_invalid'],
        ['signed by an unknown key', issueGrant(generateGrantKeys('test-key'), { ...baseRequest(), args }), 'grant_invalid'],
        ['for other args', grantFor('scale_deployment', { ...args, replicas: to + 1 }), 'grant_mismatch'],
        ['for another tool', grantFor('rollback_deployment', args), 'grant_mismatch'],
        ['for another agent', grantFor('scale_deployment', args, { agent: 'configurer' }), 'grant_mismatch'],
        ['for another tenant', grantFor('scale_deployment', args, { tenant: 'globex' }), 'grant_mismatch'],
      ];
      function baseRequest() {
        return { proposal_id: 'p', agent: 'elastik' as const, tenant: cluster.tenant, namespace: cluster.namespace, server: 'kubernetes', tool: 'scale_deployment', basis: 'policy' as const, nowMs: cluster.clock.now(), ttlMs: MINUTE };
      }
      for (const [label, grant, code] of cases) {
        const out = await elastik.callTool('scale_deployment', { ...args, ...(grant === null ? {} : { grant }) });
        expect({ label, ok: out.ok, code: out.ok ? undefined : out.code }).toEqual({ label, ok: false, code });
      }
      const short = grantFor('scale_deployment', args, { ttlMs: MINUTE });
      await cluster.advance(MINUTE + 1_000);
      const expired = await elastik.callTool('scale_deployment', { ...args, grant: short });
      expect(expired).toMatchObject({ ok: false, code: 'grant_expired' });
      expect(await replicasNow()).toBe(before);
      // After all those refusals, neither the grant nor the cooldown was spent: the valid grant still works.
      expect(await elastik.callTool('scale_deployment', { ...args, grant: valid })).toMatchObject({ ok: true });
    });

    it('answers a replayed grant with its first outcome and does nothing again', async () => {
      const before = await replicasNow();
      const args = { ...target(), replicas: before + 2 };
      const grant = grantFor('scale_deployment', args);
      expect(await elastik.callTool('scale_deployment', { ...args, grant })).toMatchObject({ ok: true });
      // Past the cooldown, so that only the grant's single use stands in the way.
      await cluster.advance(5 * MINUTE + 1_000);
      // Someone else scales meanwhile: the replay answers with the first outcome and leaves this alone.
      const again = await elastik.callTool('scale_deployment', { ...args, grant });
      expect(again).toMatchObject({ ok: true, data: { to_replicas: before + 2 }, raw: { response: { _meta: { [REPLAYED_META_KEY]: true } } } });
      expect(await replicasNow()).toBe(before + 2);
    });

    it('refuses more than a 3x scale-up even with a valid grant (safety_violation)', async () => {
      const before = await replicasNow();
      const out = await scale(before * 4);
      expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
      expect(out.ok ? '' : out.message).toMatch(/max_scale_up_factor/);
      expect(await replicasNow()).toBe(before);
    });

    it('refuses fewer than 2 replicas in production even with a valid grant (safety_violation)', async () => {
      const before = await replicasNow();
      const out = await scale(1);
      expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
      expect(out.ok ? '' : out.message).toMatch(/min_production_replicas/);
      expect(await replicasNow()).toBe(before);
    });

    it('holds a 300 s cooldown between scaling actions on a deployment, then allows the next', async () => {
      const before = await replicasNow();
      expect(await scale(before + 4)).toMatchObject({ ok: true });
      await cluster.advance(MINUTE);
      const early = await scale(before + 6);
      expect(early).toMatchObject({ ok: false, code: 'safety_violation' });
      expect(early.ok ? '' : early.message).toMatch(/cooldown/);
      expect(await replicasNow()).toBe(before + 4);
      await cluster.advance(4 * MINUTE);
      expect(await scale(before + 6)).toMatchObject({ ok: true, data: { from_replicas: before + 4, to_replicas: before + 6 } });
      expect(await replicasNow()).toBe(before + 6);
    });

    it('two server instances sharing one SharedState agree on the cooldown', async () => {
      const second = await startKubernetesMcpHttp({ kube: cluster.kube, sharedState: shared, clock: cluster.clock, grantPublicKeys: publicKeys, tokens });
      closers.push(() => second.close());
      const viaSecond = await connectMcp({ url: second.url, token: ELASTIK_TOKEN, name: 'elastik-2' });
      closers.push(() => viaSecond.close());
      const before = await replicasNow();
      expect(await scale(before + 2)).toMatchObject({ ok: true });
      await cluster.advance(10_000);
      const args = { ...target(), replicas: before + 4 };
      const out = await viaSecond.callTool('scale_deployment', { ...args, grant: grantFor('scale_deployment', args) });
      expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
      expect(out.ok ? '' : out.message).toMatch(/cooldown/);
      expect(await replicasNow()).toBe(before + 2);
    });

    it("rolls back to revision 1: the deployment gets revision 1's template again", async () => {
      const history = await elastik.callTool<{ current_revision: number; revisions: Array<{ revision: number; annotations: Record<string, string>; change_cause: string | null }> }>(
        'get_rollout_history',
        target(),
      );
      if (!history.ok) throw new Error(history.message);
      const rev1 = history.data.revisions.find((r) => r.revision === 1)!;
      const templateBefore = await templateNow();
      const args = { ...target(), to_revision: 1 };
      const out = await elastik.callTool<{ from_revision: number; to_revision: number; change_cause: string | null; changed: boolean }>('rollback_deployment', {
        ...args,
        grant: grantFor('rollback_deployment', args),
      });
      expect(out).toMatchObject({ ok: true, data: { from_revision: history.data.current_revision, to_revision: 1, change_cause: rev1.change_cause, changed: true } });
      expect(await templateNow()).not.toBe(templateBefore);
      await cluster.advance(5 * MINUTE);
      const after = await elastik.callTool<{ deployment: { revision: number; template_annotations: Record<string, string> } }>('get_pod_metrics', target());
      if (!after.ok) throw new Error(after.message);
      // The old JVM settings are back; the controller records the restored template as a new revision.
      expect(after.data.deployment.template_annotations).toEqual(rev1.annotations);
      expect(after.data.deployment.revision).toBeGreaterThan(history.data.current_revision);
      const deployment = await readDeployment();
      expect(deployment.metadata?.annotations?.['kubernetes.io/change-cause']).toBe(rev1.change_cause ?? undefined);
      expect(deployment.spec?.template?.metadata?.labels?.['pod-template-hash']).toBeUndefined();
    });

    it('rolls back to the previous revision by default, and a replayed rollback grant is refused', async () => {
      const args = target();
      const grant = grantFor('rollback_deployment', args);
      const out = await elastik.callTool<{ from_revision: number; to_revision: number }>('rollback_deployment', { ...args, grant });
      expect(out.ok).toBe(true);
      if (out.ok) expect(out.data.to_revision).toBe(out.data.from_revision - 1);
      expect(await elastik.callTool('rollback_deployment', { ...args, grant })).toMatchObject({ ok: true, data: out.ok ? out.data : {}, raw: { response: { _meta: { [REPLAYED_META_KEY]: true } } } });
    });

    it('refuses a rollback to a revision that is not in the history (not_found) without spending the grant', async () => {
      const bad = { ...target(), to_revision: 99 };
      expect(await elastik.callTool('rollback_deployment', { ...bad, grant: grantFor('rollback_deployment', bad) })).toMatchObject({ ok: false, code: 'not_found' });
      const missing = await elastik.callTool('get_pod_metrics', { namespace: cluster.namespace, deployment: 'no-such-deployment' });
      expect(missing).toMatchObject({ ok: false, code: 'not_found' });
    });

    it("the agents' cluster views accept every read tool's output", async () => {
      const reads: Array<[string, Record<string, unknown>, { safeParse(v: unknown): { success: boolean; error?: unknown } }]> = [
        ['get_pod_metrics', target(), DeploymentMetrics],
        ['get_rollout_history', target(), RolloutHistory],
        ['get_namespace_capacity', { namespace: cluster.namespace }, NamespaceCapacity],
      ];
      for (const [tool, args, view] of reads) {
        const out = await elastik.callTool<unknown>(tool, args);
        expect(out.ok, tool).toBe(true);
        if (out.ok) expect(view.safeParse(out.data).success, tool).toBe(true);
      }
    });

    it('get_namespace_capacity reports replicas and per-pod requests', async () => {
      const out = await elastik.callTool<{ total_pods: number; deployments: Array<{ name: string; replicas: number; cpu_request_millicores: number }> }>(
        'get_namespace_capacity',
        { namespace: cluster.namespace },
      );
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      const d = out.data.deployments.find((x) => x.name === cluster.deployment)!;
      expect(d.replicas).toBe(await replicasNow());
      expect(d.cpu_request_millicores).toBeGreaterThan(0);
      expect(out.data.total_pods).toBeGreaterThanOrEqual(d.replicas);
    });
  });
}
