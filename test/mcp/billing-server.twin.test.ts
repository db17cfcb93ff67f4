// The Billing MCP server over Streamable HTTP against the cluster twin's Kubernetes API: usage and
// cost per tenant, node tenancy without other tenants' pod names, sessions bound to namespaces, and
// throttle_tenant / restore_tenant_limit behind single-use grants and their own hard rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { startBillingMcpHttp } from '../../mcp-servers/billing/http.ts';
import { THROTTLED_FROM_ANNOTATION } from '../../mcp-servers/billing/tenancy.ts';
import { noisyCluster, type NoisyCluster } from '../arbitrator/noisy-neighbour.ts';
import { REPLAYED_META_KEY } from '../../mcp-servers/shared/grant-ledger.ts';

const keys = generateGrantKeys('k');
let cluster: NoisyCluster;
let billing: Awaited<ReturnType<typeof startBillingMcpHttp>>;
let arbitrator: McpToolClient;
let acmeOnly: McpToolClient;

beforeAll(async () => {
  cluster = await noisyCluster({ batch: true });
  await cluster.clock.advance(60_000);
  billing = await startBillingMcpHttp({
    kube: cluster.kube,
    sharedState: new MemorySharedState(),
    clock: cluster.clock,
    grantPublicKeys: new Map([['k', keys.publicKey]]),
    tenants: loadTenants(),
    tokens: new Map([
      ['arbitrator-token', { agent: 'arbitrator', namespaces: ['acme-prod', 'initech-prod'] }],
      ['acme-token', { agent: 'arbitrator', namespaces: ['acme-prod'] }],
    ]),
  });
  arbitrator = await connectMcp({ url: billing.url, token: 'arbitrator-token', name: 'arbitrator' });
  acmeOnly = await connectMcp({ url: billing.url, token: 'acme-token', name: 'arbitrator' });
});

afterAll(async () => {
  await arbitrator?.close();
  await acmeOnly?.close();
  await billing?.close();
  await cluster?.close();
});

function grant(tool: string, args: Record<string, unknown>, over: { tenant?: string; server?: string; agent?: 'arbitrator' | 'elastik'; namespace?: string } = {}) {
  return issueGrant(keys, {
    proposal_id: 'p-1',
    agent: over.agent ?? 'arbitrator',
    tenant: over.tenant ?? 'initech',
    namespace: over.namespace ?? String(args['namespace']),
    server: over.server ?? 'billing',
    tool,
    args,
    basis: 'approval',
    nowMs: cluster.clock.now(),
    ttlMs: 15 * 60_000,
  });
}

const cpuLimit = (ns: string, name: string) => cluster.twin.getDeployment(ns, name)!.spec.template.spec.containers[0]!.resources!.limits!['cpu'];

describe('get_tenant_usage', () => {
  it("reports each deployment's requests, limits, use and cost, and the tenant's entitlements", async () => {
    const out = await arbitrator.callTool<{
      entitlements: { tier: string; max_replicas: number };
      deployments: Array<{ name: string; replicas: number; pod_cpu_request_millicores: number; pod_cpu_limit_millicores: number; cpu_usage_millicores: number; monthly_cost_usd: number }>;
      totals: { replicas: number; cpu_limit_millicores: number; monthly_cost_usd: number };
    }>('get_tenant_usage', { tenant: 'initech' });
    if (!out.ok) throw new Error(out.message);
    expect(out.data.entitlements).toMatchObject({ tier: 'standard', max_replicas: 12 });
    const batch = out.data.deployments.find((d) => d.name === 'batch')!;
    const web = out.data.deployments.find((d) => d.name === 'web')!;
    expect(batch).toMatchObject({ replicas: 1, pod_cpu_request_millicores: 500, pod_cpu_limit_millicores: 4000, monthly_cost_usd: 150 });
    expect(web).toMatchObject({ replicas: 4, pod_cpu_request_millicores: 500, pod_cpu_limit_millicores: 1000, monthly_cost_usd: 600 });
    // The batch job burns far more than it asked for; the numbers come from metrics.k8s.io.
    const truth = cluster.twin.podMetrics('initech-prod', 'batch').reduce((s, p) => s + p.cpu_millicores, 0);
    expect(batch.cpu_usage_millicores).toBeGreaterThan(3 * batch.pod_cpu_request_millicores);
    expect(Math.abs(batch.cpu_usage_millicores - truth)).toBeLessThan(50);
    expect(out.data.totals).toMatchObject({ replicas: 5, cpu_limit_millicores: 8000, monthly_cost_usd: 750 });
  });

  it('refuses a tenant whose namespaces are not all in the session, and an unknown tenant', async () => {
    expect(await acmeOnly.callTool('get_tenant_usage', { tenant: 'initech' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await arbitrator.callTool('get_tenant_usage', { tenant: 'nobody' })).toMatchObject({ ok: false, code: 'not_found' });
  });
});

describe('get_node_tenancy', () => {
  it('shows the tenants sharing the nodes, in detail only within the session, and never a pod name', async () => {
    const out = await arbitrator.callTool<{
      tenant: string;
      nodes: Array<{
        node: string;
        cpu_utilisation: number;
        deployment_pods: number;
        tenants: Array<{ tenant: string; in_session: boolean; pods: number; cpu_request_millicores: number; cpu_usage_millicores: number; workloads: Array<{ namespace: string; deployment: string; cpu_usage_millicores: number; cpu_request_millicores: number }> }>;
      }>;
    }>('get_node_tenancy', { namespace: 'acme-prod', deployment: 'checkout' });
    if (!out.ok) throw new Error(out.message);
    expect(out.data.tenant).toBe('acme');
    expect(out.data.nodes.map((n) => n.node)).toEqual(['node-a']);
    const node = out.data.nodes[0]!;
    expect(node.deployment_pods).toBe(2);
    expect(node.cpu_utilisation).toBeGreaterThan(0.9);
    const byTenant = Object.fromEntries(node.tenants.map((t) => [t.tenant, t]));
    expect(Object.keys(byTenant).sort()).toEqual(['acme', 'globex', 'initech']);
    expect(byTenant['initech']).toMatchObject({ in_session: true, pods: 1, cpu_request_millicores: 500 });
    expect(byTenant['initech']!.workloads).toEqual([expect.objectContaining({ namespace: 'initech-prod', deployment: 'batch', cpu_request_millicores: 500 })]);
    expect(byTenant['initech']!.workloads[0]!.cpu_usage_millicores).toBeGreaterThan(3000);
    // globex is outside the session: its name and totals, nothing inside.
    expect(byTenant['globex']).toMatchObject({ in_session: false, pods: 1, cpu_request_millicores: 250, workloads: [] });
    const text = JSON.stringify(out.data);
    for (const p of cluster.twin.listPods()) expect(text).not.toContain(p.metadata.name);
    expect(text).not.toContain('globex-prod');
  });

  it('refuses a namespace outside the session', async () => {
    expect(await acmeOnly.callTool('get_node_tenancy', { namespace: 'initech-prod', deployment: 'batch' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await arbitrator.callTool('get_node_tenancy', { namespace: 'globex-prod', deployment: 'api' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
  });
});

describe('throttle_tenant and restore_tenant_limit', () => {
  const target = { namespace: 'initech-prod', deployment: 'batch' };

  it('refuses without a valid grant for exactly this call', async () => {
    const args = { ...target, cpu_limit: '500m' };
    expect(await arbitrator.callTool('throttle_tenant', args)).toMatchObject({ ok: false, code: 'invalid_arguments' });
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: { id: 'forged' } })).toMatchObject({ ok: false, code: 'grant_invalid' });
    const other = grant('throttle_tenant', { ...target, cpu_limit: '1' });
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: other })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    const kubernetes = grant('throttle_tenant', args, { server: 'kubernetes' });
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: kubernetes })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    const wrongTenant = grant('throttle_tenant', args, { tenant: 'acme' });
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: wrongTenant })).toMatchObject({ ok: false, code: 'grant_mismatch', message: expect.stringContaining("belongs to 'initech'") });
    const elastik = grant('throttle_tenant', args, { agent: 'elastik' });
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: elastik })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    const restoreGrant = grant('restore_tenant_limit', args);
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: restoreGrant })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(cpuLimit('initech-prod', 'batch')).toBe('4');
  });

  it('refuses outside the session whatever the grant', async () => {
    const args = { namespace: 'globex-prod', deployment: 'api', cpu_limit: '250m' };
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: grant('throttle_tenant', args, { tenant: 'globex' }) })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
  });

  it('refuses a limit below the request and a raise, without spending the grant', async () => {
    const below = { ...target, cpu_limit: '250m' };
    const g = grant('throttle_tenant', below);
    expect(await arbitrator.callTool('throttle_tenant', { ...below, grant: g })).toMatchObject({ ok: false, code: 'safety_violation', message: expect.stringContaining('throttle_below_request') });
    // Refused before the grant was consumed: a second try says the same, not grant_used.
    expect(await arbitrator.callTool('throttle_tenant', { ...below, grant: g })).toMatchObject({ ok: false, code: 'safety_violation' });
    const raise = { ...target, cpu_limit: '8' };
    expect(await arbitrator.callTool('throttle_tenant', { ...raise, grant: grant('throttle_tenant', raise) })).toMatchObject({ ok: false, code: 'safety_violation', message: expect.stringContaining('throttle_raises_limit') });
    expect(cpuLimit('initech-prod', 'batch')).toBe('4');
  });

  it('throttles once per grant, records the previous limit, and restores only that value', async () => {
    const args = { ...target, cpu_limit: '500m' };
    const g = grant('throttle_tenant', args);
    const first = await arbitrator.callTool('throttle_tenant', { ...args, grant: g });
    expect(first).toMatchObject({ ok: true, data: { from_cpu_limit: '4', to_cpu_limit: '500m', changed: true, throttled_from: '4' } });
    const d = cluster.twin.getDeployment('initech-prod', 'batch')!;
    expect(cpuLimit('initech-prod', 'batch')).toBe('500m');
    expect(d.metadata.annotations?.[THROTTLED_FROM_ANNOTATION]).toBe('4');
    // The same grant again: answered with its first outcome from the ledger, nothing throttled again.
    expect(await arbitrator.callTool('throttle_tenant', { ...args, grant: g })).toMatchObject({ ok: true, data: first.ok ? first.data : {}, raw: { response: { _meta: { [REPLAYED_META_KEY]: true } } } });

    const wrong = { ...target, cpu_limit: '2' };
    expect(await arbitrator.callTool('restore_tenant_limit', { ...wrong, grant: grant('restore_tenant_limit', wrong) })).toMatchObject({ ok: false, code: 'safety_violation', message: expect.stringContaining('restore_mismatch') });
    const back = { ...target, cpu_limit: '4' };
    expect(await arbitrator.callTool('restore_tenant_limit', { ...back, grant: grant('restore_tenant_limit', back) })).toMatchObject({ ok: true, data: { from_cpu_limit: '500m', to_cpu_limit: '4', changed: true, throttled_from: null } });
    expect(cpuLimit('initech-prod', 'batch')).toBe('4');
    expect(cluster.twin.getDeployment('initech-prod', 'batch')!.metadata.annotations?.[THROTTLED_FROM_ANNOTATION]).toBeUndefined();
    // Nothing recorded any more: a second restore has nothing to bring back.
    expect(await arbitrator.callTool('restore_tenant_limit', { ...back, grant: grant('restore_tenant_limit', back) })).toMatchObject({ ok: false, code: 'conflict' });
  });

  it('refuses an unknown bearer token', async () => {
    await expect(connectMcp({ url: billing.url, token: 'nope', name: 'arbitrator' })).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});
