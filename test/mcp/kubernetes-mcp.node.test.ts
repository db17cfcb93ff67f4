// The node tools of the Kubernetes MCP server (get_node_status, cordon_node, uncordon_node) against
// the cluster twin's Kubernetes API, over Streamable HTTP with real client-node underneath: grants
// required and bound to the exact call, and tenant isolation on a shared node — another tenant's
// pods are neither listed nor evicted. Cluster state is checked on the twin itself.
import type { KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import type { VirtualClock } from '../../src/core/clock.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { MINUTE, memoryCluster, runningOn } from '../twin/memory-fixture.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';

interface NodeOut {
  name: string;
  unschedulable: boolean;
  memory_pressure: boolean;
  memory: { used_ratio: number | null; available_bytes: number | null };
  pods: Array<{ namespace: string; pod: string; deployment: string | null }>;
  other_tenants_pods: number;
  other_tenants: number;
  session_pods_here?: number;
}

describe('Kubernetes MCP node tools on the cluster twin', () => {
  let twin: ClusterTwin;
  let clock: VirtualClock;
  let api: KubeApiServer;
  let mcp: { url: string; close(): Promise<void> };
  let acme: McpToolClient;
  let globex: McpToolClient;
  const keys = generateGrantKeys('k');
  const publicKeys = new Map<string, KeyObject>([['k', keys.publicKey]]);
  const grant = (tool: string, args: Record<string, unknown>, over: Partial<Parameters<typeof issueGrant>[1]> = {}) =>
    issueGrant(keys, {
      proposal_id: 'p-node', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
      tool, args, basis: 'approval', nowMs: clock.now(), ttlMs: 15 * MINUTE, ...over,
    });

  beforeEach(async () => {
    ({ twin, clock } = memoryCluster());
    twin.start(1000);
    api = await startKubeApiServer(twin, { port: 0 });
    mcp = await startKubernetesMcpHttp({
      kube: loadKubeconfig(api.kubeconfig()),
      sharedState: new MemorySharedState(),
      clock,
      grantPublicKeys: publicKeys,
      tokens: new Map([
        ['acme-token', { agent: 'elastik', namespaces: ['acme-prod'] }],
        ['globex-token', { agent: 'elastik', namespaces: ['globex-prod'] }],
      ]),
    });
    acme = await connectMcp({ url: mcp.url, token: 'acme-token', name: 'elastik' });
    globex = await connectMcp({ url: mcp.url, token: 'globex-token', name: 'elastik' });
  });
  afterEach(async () => {
    await acme.close();
    await globex.close();
    await mcp.close();
    twin.stop();
    await api.close();
  });

  it("get_node_status shows a deployment's nodes, the session's pods only, and other tenants' as a count", async () => {
    // A node without any pod of the session (n4 joined empty) cannot be looked at.
    expect(await acme.callTool('get_node_status', { node: 'n4' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    twin.setNodeSystemMemoryLeak('n1', 300);
    await clock.advance(13 * MINUTE);
    const out = await acme.callTool<{ nodes: NodeOut[] }>('get_node_status', { namespace: 'acme-prod', deployment: 'web' });
    if (!out.ok) throw new Error(out.message);
    const names = out.data.nodes.map((n) => n.name);
    expect(names).toEqual([...new Set(twin.listPods('acme-prod', 'app=web').filter((p) => p.status.phase === 'Running').map((p) => p.spec.nodeName!))].sort());
    const n1 = out.data.nodes.find((n) => n.name === 'n1')!;
    expect(n1.memory_pressure).toBe(true);
    expect(n1.memory.used_ratio).toBeGreaterThan(0.8);
    expect(n1.pods.every((p) => p.namespace === 'acme-prod')).toBe(true);
    expect(n1.pods.map((p) => p.pod).sort()).toEqual(runningOn(twin, 'n1', 'acme-prod').map((p) => p.metadata.name).sort());
    expect(n1.other_tenants_pods).toBe(runningOn(twin, 'n1', 'globex-prod').length);
    expect(n1.other_tenants).toBe(1);
    expect(JSON.stringify(out.data)).not.toContain('shop-');
  });

  it('cordon_node needs a grant for exactly this call, and changes nothing without one', async () => {
    expect(await acme.callTool('cordon_node', { node: 'n1', drain: true, grant: {} })).toMatchObject({ ok: false, code: 'grant_invalid' });
    const wrong = grant('cordon_node', { node: 'n2', drain: true });
    expect(await acme.callTool('cordon_node', { node: 'n1', drain: true, grant: wrong })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    const noDrain = grant('cordon_node', { node: 'n1', drain: false });
    expect(await acme.callTool('cordon_node', { node: 'n1', drain: true, grant: noDrain })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    // acme's grant used on globex's session: not its namespace.
    const g = grant('cordon_node', { node: 'n1', drain: true });
    expect(await globex.callTool('cordon_node', { node: 'n1', drain: true, grant: g })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(twin.getNode('n1')!.spec.unschedulable).toBeUndefined();
    expect(twin.listPods().filter((p) => p.spec.nodeName === 'n1')).toHaveLength(4);
  });

  it("cordon_node with drain evicts only the session's pods; they come back elsewhere; uncordon_node undoes it", async () => {
    const acmeBefore = runningOn(twin, 'n1', 'acme-prod').map((p) => p.metadata.name);
    const globexBefore = runningOn(twin, 'n1', 'globex-prod').map((p) => p.metadata.name);
    expect(acmeBefore.length).toBeGreaterThan(0);
    expect(globexBefore.length).toBeGreaterThan(0);
    const args = { node: 'n1', drain: true };
    const out = await acme.callTool<{ evicted: Array<{ pod: string }>; kept: unknown[]; other_tenants_pods: number; was_unschedulable: boolean }>('cordon_node', {
      ...args,
      grant: grant('cordon_node', args),
    });
    if (!out.ok) throw new Error(out.message);
    expect(out.data.evicted.map((e) => e.pod).sort()).toEqual(acmeBefore.sort());
    expect(out.data.kept).toEqual([]);
    expect(out.data.other_tenants_pods).toBe(globexBefore.length);
    expect(out.data.was_unschedulable).toBe(false);
    const node = twin.getNode('n1')!;
    expect(node.spec.unschedulable).toBe(true);
    expect(node.metadata.annotations!['governor.io/cordoned-by']).toBe('acme-prod');
    // globex's pod is untouched, acme's replacements run on other nodes.
    expect(runningOn(twin, 'n1').map((p) => p.metadata.name)).toEqual(globexBefore);
    await clock.advance(MINUTE);
    for (const d of ['web', 'api']) expect(twin.serviceMetrics('acme-prod', d).ready_pods).toBe(twin.getDeployment('acme-prod', d)!.spec.replicas);
    expect(runningOn(twin, 'n1', 'acme-prod')).toEqual([]);

    // acme has nothing left on n1: it may not act on the node any more (nor see it), only undo its cordon.
    expect(await acme.callTool('cordon_node', { ...args, grant: grant('cordon_node', args, { proposal_id: 'other' }) })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await acme.callTool('get_node_status', { node: 'n1' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    const again = grant('uncordon_node', { node: 'n1' });
    expect(await globex.callTool('uncordon_node', { node: 'n1', grant: again })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await acme.callTool('uncordon_node', { node: 'n1', grant: again })).toMatchObject({ ok: true, data: { unschedulable: false, was_unschedulable: true } });
    expect(twin.getNode('n1')!.spec.unschedulable).toBeUndefined();
    expect(twin.getNode('n1')!.metadata.annotations!['governor.io/cordoned-by']).toBeUndefined();
  });

  it("uncordon_node refuses to undo a cordon it did not make (an operator's)", async () => {
    twin.cordonNode('n2');
    const g = grant('uncordon_node', { node: 'n2' });
    expect(await acme.callTool('uncordon_node', { node: 'n2', grant: g })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(twin.getNode('n2')!.spec.unschedulable).toBe(true);
  });
});
