// The Cloud Provider MCP server (mcp-servers/cloud) over Streamable HTTP, on the pending-pods
// scenario's twin: the apps node pool (2 nodes) with 2 of api's pods Pending for lack of cpu.
// list_node_groups shows the group with its bounds; scale_node_group changes nothing without a grant
// bound to exactly the call, refuses a grant for another tenant's namespace, enforces the group's
// hard bounds even with a grant, refuses a size that moved, and — with everything right — adds a
// node on which the Pending pods run. Over stdio, the same tools with their schemas.
import type { KeyObject } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { MemoryCloudProvider } from '../../src/cloud/memory-cloud-provider.ts';
import { TwinCloudProvider } from '../../src/cloud/twin-cloud-provider.ts';
import { loadNodeGroups, type NodeGroups } from '../../src/cloud/node-groups.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { SharedStatePauseEpoch } from '../../src/governance/pause-epoch.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import type { McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startCloudMcpHttp } from '../../mcp-servers/cloud/http.ts';
import { runCloudMcpStdio } from '../../mcp-servers/cloud/stdio.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const keys = generateGrantKeys('k');
const publicKeys = new Map<string, KeyObject>([['k', keys.publicKey]]);

interface GroupOut { name: string; current_nodes: number; min_nodes: number; max_nodes: number; max_step: number; price_per_hour_usd: number; monthly_cost_usd: number; nodes: { name: string; pods: number }[] }

describe('Cloud Provider MCP server on the twin', () => {
  let clock: VirtualClock;
  let twin: ClusterTwin;
  let host: McpHttpHost;
  let acme: McpToolClient;
  let globex: McpToolClient;
  let groups: NodeGroups;
  const grant = (args: Record<string, unknown>, over: Partial<Parameters<typeof issueGrant>[1]> = {}) =>
    issueGrant(keys, { proposal_id: 'p-nodes', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'cloud', tool: 'scale_node_group', args, basis: 'approval', nowMs: clock.now(), ttlMs: 15 * 60_000, ...over });
  const pending = () => twin.listPods('acme-prod').filter((p) => p.status.phase === 'Pending').length;
  const apps = async (): Promise<GroupOut> => {
    const out = await acme.callTool<{ groups: GroupOut[] }>('list_node_groups', { node_group: 'apps' });
    if (!out.ok) throw new Error(out.message);
    return out.data.groups[0]!;
  };

  beforeEach(async () => {
    clock = new VirtualClock(START);
    twin = buildScenario('pending-pods', clock).twin;
    twin.start();
    await clock.advance(10_000);
    // The committed config, with apps' maximum lowered to 3 so that "above max" is one node away.
    groups = { ...loadNodeGroups(), apps: { ...loadNodeGroups()['apps']!, max_nodes: 3 } };
    const shared = new MemorySharedState();
    host = await startCloudMcpHttp({
      provider: new TwinCloudProvider(twin, groups), groups, clock, sharedState: shared, grantPublicKeys: publicKeys, pauseEpoch: new SharedStatePauseEpoch(shared),
      tokens: new Map([
        ['acme-elastik-token', { agent: 'elastik', namespaces: ['acme-prod'] }],
        ['globex-elastik-token', { agent: 'elastik', namespaces: ['globex-prod'] }],
      ]),
    });
    acme = await connectMcp({ url: host.url, token: 'acme-elastik-token', name: 'elastik' });
    globex = await connectMcp({ url: host.url, token: 'globex-elastik-token', name: 'elastik' });
  });
  afterEach(async () => {
    await acme.close();
    await globex.close();
    await host.close();
    twin.stop();
  });

  it('list_node_groups shows the group, its nodes, bounds and price', async () => {
    const g = await apps();
    expect(g).toMatchObject({ name: 'apps', current_nodes: 2, min_nodes: 2, max_nodes: 3, max_step: 1, price_per_hour_usd: 0.192 });
    expect(g.monthly_cost_usd).toBeCloseTo(2 * 0.192 * 730, 2);
    expect(g.nodes.map((n) => n.name)).toEqual(['apps-01', 'apps-02']);
    expect(g.nodes.every((n) => n.pods === 4)).toBe(true);
    expect(await acme.callTool('list_node_groups', { node_group: 'gpu' })).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('scale_node_group without a grant, or with one for another call, changes nothing', async () => {
    const args = { node_group: 'apps', from_nodes: 2, to_nodes: 3 };
    expect(await acme.callTool('scale_node_group', { ...args, grant: {} })).toMatchObject({ ok: false, code: 'grant_invalid' });
    expect(await acme.callTool('scale_node_group', { ...args, grant: grant({ ...args, to_nodes: 2 }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await acme.callTool('scale_node_group', { ...args, grant: grant(args, { server: 'kubernetes' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect((await apps()).current_nodes).toBe(2);
    expect(pending()).toBe(2);
  });

  it("refuses acme's grant on a session of another tenant's namespaces", async () => {
    const args = { node_group: 'apps', from_nodes: 2, to_nodes: 3 };
    expect(await globex.callTool('scale_node_group', { ...args, grant: grant(args) })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect((await apps()).current_nodes).toBe(2);
  });

  it('enforces the hard bounds even with a grant for exactly the call', async () => {
    for (const [to, words] of [[4, 'at most 1 per call'], [1, 'below node group apps\'s minimum of 2']] as const) {
      const args = { node_group: 'apps', from_nodes: 2, to_nodes: to };
      const out = await acme.callTool('scale_node_group', { ...args, grant: grant(args) });
      expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
      expect(!out.ok && out.message).toContain(words);
    }
    // A size that moved since the call was planned.
    const stale = { node_group: 'apps', from_nodes: 3, to_nodes: 3 };
    expect(await acme.callTool('scale_node_group', { ...stale, grant: grant(stale) })).toMatchObject({ ok: false, code: 'conflict' });
    expect((await apps()).current_nodes).toBe(2);

    // Within bounds: one node added; then at the maximum, one more is refused whatever the grant.
    const up = { node_group: 'apps', from_nodes: 2, to_nodes: 3 };
    expect(await acme.callTool('scale_node_group', { ...up, grant: grant(up) })).toMatchObject({ ok: true });
    const beyond = { node_group: 'apps', from_nodes: 3, to_nodes: 4 };
    const out = await acme.callTool('scale_node_group', { ...beyond, grant: grant(beyond) });
    expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
    expect(!out.ok && out.message).toContain("above node group apps's maximum of 3");
    expect((await apps()).current_nodes).toBe(3);
  });

  it('with a grant for exactly the call, adds a node and the Pending pods run on it; the grant covers that call only', async () => {
    expect(pending()).toBe(2);
    const args = { node_group: 'apps', from_nodes: 2, to_nodes: 3 };
    const g = grant(args);
    const out = await acme.callTool<{ added: string[]; monthly_cost_delta_usd: number }>('scale_node_group', { ...args, grant: g });
    expect(out).toMatchObject({ ok: true, data: { node_group: 'apps', from_nodes: 2, to_nodes: 3, added: ['apps-03'], removed: [] } });
    expect(out.ok && out.data.monthly_cost_delta_usd).toBeCloseTo(0.192 * 730, 2);
    await clock.advance(60_000);
    expect(pending()).toBe(0);
    expect(twin.listPods('acme-prod').filter((p) => p.status.phase === 'Running' && p.spec.nodeName === 'apps-03')).toHaveLength(2);
    const again = { node_group: 'apps', from_nodes: 3, to_nodes: 3 };
    expect(await acme.callTool('scale_node_group', { ...again, grant: g })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    // The reverse scale (the compensating action) finds apps-03 busy now: refused, nothing terminated.
    const down = { node_group: 'apps', from_nodes: 3, to_nodes: 2 };
    expect(await acme.callTool('scale_node_group', { ...down, grant: grant(down) })).toMatchObject({ ok: false, code: 'conflict' });
    expect((await apps()).current_nodes).toBe(3);
  });
});

describe('Cloud Provider MCP server over stdio', () => {
  it('serves list_node_groups and scale_node_group with their schemas and annotations', async () => {
    const groups = loadNodeGroups();
    const shared = new MemorySharedState();
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const session = await runCloudMcpStdio({
      provider: new MemoryCloudProvider(groups), groups, clock: new VirtualClock(START), sharedState: shared, grantPublicKeys: new Map(), pauseEpoch: new SharedStatePauseEpoch(shared),
      session: { agent: 'elastik', namespaces: ['acme-prod'] }, stdin, stdout,
    });
    const client = new Client({ name: 'elastik', version: '0' });
    await client.connect(new PipeClientTransport(stdin, stdout));
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual(['list_node_groups', 'scale_node_group']);
    expect(byName.get('list_node_groups')!.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.get('scale_node_group')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    for (const t of tools) expect(t.outputSchema).toBeDefined();
    const res = await client.callTool({ name: 'list_node_groups', arguments: {} });
    expect((res.structuredContent as { provider: string; groups: { name: string }[] }).groups.map((g) => g.name)).toEqual(Object.keys(groups).sort());
    // No key to verify grants with: every scale is refused (fail closed).
    const refused = await client.callTool({ name: 'scale_node_group', arguments: { node_group: 'apps', from_nodes: 2, to_nodes: 3, grant: {} } });
    expect(refused.isError).toBe(true);
    await client.close();
    await session.close();
  });
});

/** The client end of a pipe pair, as StdioClientTransport would be for a spawned process. */
class PipeClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();
  constructor(private readonly toServer: PassThrough, private readonly fromServer: PassThrough) {}
  async start(): Promise<void> {
    this.fromServer.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (let m = this.buffer.readMessage(); m; m = this.buffer.readMessage()) this.onmessage?.(m);
    });
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.toServer.write(serializeMessage(message));
  }
  async close(): Promise<void> {
    this.toServer.end();
    this.onclose?.();
  }
}
