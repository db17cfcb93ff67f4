// One MCP session per agent and tenant (agents/runtime/tenant-sessions.ts) against the real
// Kubernetes MCP server on the twin: each session's token binds it to one tenant's namespaces, the
// client picks the session by the call's namespace, and work that knows its tenant (an executor acting
// on a grant) uses that tenant's session — so a grant naming another tenant's namespace is refused by
// the server itself, not by agent code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { tenantSessions, toolsOfTenant, type TenantTools } from '../../agents/runtime/tenant-sessions.ts';
import { routeTools } from '../../agents/runtime/tool-router.ts';
import type { ToolClient } from '../../agents/runtime/tool-client.ts';

const NAMESPACES: Record<string, string[]> = { acme: ['acme-prod'], globex: ['globex-prod'] };
const keys = generateGrantKeys('k');
let clock: VirtualClock;
let tools: TenantTools;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
  const scenario = buildScenario('jvm-heap-regression', clock);
  scenario.twin.start();
  const api = await startKubeApiServer(scenario.twin, { port: 0 });
  const mcp = await startKubernetesMcpHttp({
    kube: loadKubeconfig(api.kubeconfig()),
    sharedState: new MemorySharedState(),
    clock,
    grantPublicKeys: new Map([['k', keys.publicKey]]),
    tokens: new Map(Object.entries(NAMESPACES).map(([t, namespaces]) => [`elastik-${t}`, { agent: 'elastik', namespaces }])),
  });
  const sessions = new Map<string, ToolClient>();
  for (const t of Object.keys(NAMESPACES)) sessions.set(t, await connectMcp({ url: mcp.url, token: `elastik-${t}`, name: `elastik-${t}` }));
  tools = tenantSessions(sessions, (t) => NAMESPACES[t] ?? []);
  closers.push(() => tools.close(), () => mcp.close(), () => api.close(), async () => scenario.twin.stop());
}, 60_000);

afterAll(async () => {
  for (const c of closers) await c();
});

describe('sessions per tenant', () => {
  it("reads each tenant's namespace through that tenant's session", async () => {
    const acme = await tools.callTool<{ namespace: string }>('get_namespace_capacity', { namespace: 'acme-prod' });
    const globex = await tools.callTool<{ namespace: string }>('get_namespace_capacity', { namespace: 'globex-prod' });
    expect(acme).toMatchObject({ ok: true, data: { namespace: 'acme-prod' } });
    expect(globex).toMatchObject({ ok: true, data: { namespace: 'globex-prod' } });
  });

  it('refuses, as a result, a namespace no tenant owns, a call naming no namespace, and a namespace that is not the named tenant\'s', async () => {
    expect(await tools.callTool('get_namespace_capacity', { namespace: 'kube-system' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await tools.callTool('uncordon_node', { node: 'node-a' })).toMatchObject({ ok: false, code: 'tenant_forbidden', message: expect.stringMatching(/names no namespace or tenant/) });
    expect(await tools.callTool('get_tenant_usage', { tenant: 'acme', namespace: 'globex-prod' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await tools.forTenant('initech').callTool('get_namespace_capacity', { namespace: 'acme-prod' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
  });

  it("refuses at the server a correctly signed grant of one tenant that names another tenant's namespace", async () => {
    const args = { namespace: 'globex-prod', deployment: 'storefront', replicas: 5 };
    // Signed for acme's proposal, but naming globex's deployment: what a compromised or confused agent might send.
    const grant = issueGrant(keys, {
      proposal_id: 'p-cross', agent: 'elastik', tenant: 'acme', namespace: 'globex-prod', server: 'kubernetes',
      tool: 'scale_deployment', args, basis: 'policy', nowMs: clock.now(), ttlMs: 60_000,
    });
    const out = await toolsOfTenant(tools, grant.tenant).callTool('scale_deployment', { ...args, grant });
    expect(out).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    if (!out.ok) expect(out.message).toMatch(/not bound to namespace 'globex-prod'/);
  });

  it('keeps the per-tenant choice through a tool router (an executor with two servers)', async () => {
    const other: ToolClient = { callTool: async <T,>() => ({ ok: true as const, data: 'billing' as T, raw: null }), close: async () => {} };
    const routed = routeTools([{ client: tools, tools: ['get_namespace_capacity'] }, { client: other, tools: ['get_tenant_usage'] }]);
    const acme = toolsOfTenant(routed, 'acme');
    expect(await acme.callTool('get_namespace_capacity', { namespace: 'acme-prod' })).toMatchObject({ ok: true });
    expect(await acme.callTool('get_namespace_capacity', { namespace: 'globex-prod' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await acme.callTool('get_tenant_usage', { tenant: 'globex' })).toMatchObject({ ok: true, data: 'billing' });
  });
});
