// The Arbitrator on the cluster twin, through the real Billing MCP server over HTTP and the real
// audit store: a batch job bursting next to acme's checkout raises checkout's p99; the Arbitrator
// proposes (once per incident, whatever the redeliveries) to throttle the batch job's tenant down to
// its request; the throttle, executed through the tool with a grant as the executor would, brings
// checkout's p99 back down.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arbitrator } from '../../agents/arbitrator/arbitrator.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { EVENT_VERSION, type Observation, type Proposal } from '../../src/contracts/events.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { startBillingMcpHttp } from '../../mcp-servers/billing/http.ts';
import { harness } from '../integration/harness.ts';
import { noisyCluster, type NoisyCluster } from './noisy-neighbour.ts';

const keys = generateGrantKeys('k');
let h: Awaited<ReturnType<typeof harness>>;
let cluster: NoisyCluster;
let billing: Awaited<ReturnType<typeof startBillingMcpHttp>>;
let tools: McpToolClient;

beforeEach(async () => {
  h = await harness();
  cluster = await noisyCluster();
  billing = await startBillingMcpHttp({
    kube: cluster.kube,
    sharedState: new MemorySharedState(),
    clock: cluster.clock,
    grantPublicKeys: new Map([['k', keys.publicKey]]),
    tenants: h.tenants,
    tokens: new Map([['arbitrator-token', { agent: 'arbitrator', namespaces: ['acme-prod', 'initech-prod'] }]]),
  });
  tools = await connectMcp({ url: billing.url, token: 'arbitrator-token', name: 'arbitrator' });
});

afterEach(async () => {
  await tools?.close();
  await billing?.close();
  await cluster?.close();
  await h?.close();
});

const p99 = () => cluster.twin.serviceMetrics('acme-prod', 'checkout').p99_ms;

function observation(value: number, baseline: number): Observation {
  return {
    id: 'obs-nn-1',
    v: EVENT_VERSION,
    ts: new Date(cluster.clock.now()).toISOString(),
    incident_id: 'inc-nn-1',
    type: 'observation',
    agent: 'watchtower',
    tenant: 'acme',
    namespace: 'acme-prod',
    severity: 'warning',
    summary: `p99 latency of checkout ${Math.round(value)} ms, baseline ${Math.round(baseline)} ms`,
    target: { kind: 'Deployment', name: 'checkout' },
    signals: [{ metric: 'http_request_duration_p99_ms', target: 'checkout', value, baseline, change_pct: Math.round(((value - baseline) / baseline) * 100) }],
  };
}

describe('noisy neighbour on the twin', () => {
  it('finds the bursting co-tenant, proposes its throttle once, and the executed throttle brings the victim back', async () => {
    await cluster.clock.advance(60_000);
    const healthy = p99();
    cluster.startBatch();
    await cluster.clock.advance(60_000);
    const sick = p99();
    expect(sick).toBeGreaterThan(healthy * 1.3);

    const arbitrator = new Arbitrator({ tools, recorder: h.recorder, audit: h.audit, clock: cluster.clock, logger: h.logger, tenants: h.tenants });
    const obs = observation(sick, healthy);
    const p = await arbitrator.onObservation(obs);
    expect(p).toMatchObject({
      agent: 'arbitrator',
      tenant: 'initech',
      namespace: 'initech-prod',
      action: 'throttle_tenant',
      target: { kind: 'Deployment', name: 'batch' },
      params: { from_cpu_limit: '4', to_cpu_limit: '500m', victim: { tenant: 'acme', deployment: 'checkout' } },
      tool_call: { server: 'billing', tool: 'throttle_tenant', args: { namespace: 'initech-prod', deployment: 'batch', cpu_limit: '500m' } },
      compensating_action: { server: 'billing', tool: 'restore_tenant_limit', args: { namespace: 'initech-prod', deployment: 'batch', cpu_limit: '4' } },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
      verification: { slo_threshold: 500 },
    });

    // Redelivered observation (and a second observation in the same incident): no second proposal.
    await arbitrator.onMessage({ id: '2-0', stream: 'governor:observations', deliveries: 2, event: obs });
    expect(await arbitrator.onObservation({ ...obs, id: 'obs-nn-2' })).toMatchObject({ id: p!.id });
    const records = await h.audit.list({ incident_id: 'inc-nn-1', kind: 'proposal' });
    expect(records).toHaveLength(1);
    const payload = records[0]!.payload as { proposal: Proposal; tool_calls: Array<{ server: string; tool: string; args: unknown; response: unknown }> };
    expect(payload.tool_calls.map((c) => `${c.server}/${c.tool}`)).toEqual(['billing/get_node_tenancy', 'billing/get_tenant_usage']);
    expect(payload.tool_calls[0]!.response).toMatchObject({ nodes: [{ node: 'node-a' }] });
    expect(records[0]!.tenant).toBe('initech');

    // What the gateway grants and the executor sends: the proposal's exact tool call with its grant.
    const grant = issueGrant(keys, {
      proposal_id: p!.id, incident_id: p!.incident_id, agent: 'arbitrator', tenant: p!.tenant, namespace: p!.namespace,
      server: p!.tool_call.server, tool: p!.tool_call.tool, args: p!.tool_call.args, basis: 'approval', nowMs: cluster.clock.now(), ttlMs: 15 * 60_000,
    });
    const done = await tools.callTool(grant.tool, { ...grant.args, grant });
    expect(done).toMatchObject({ ok: true, data: { from_cpu_limit: '4', to_cpu_limit: '500m', changed: true } });

    // The rolling update replaces the batch pod; the node calms down and checkout recovers.
    await cluster.clock.advance(3 * 60_000);
    const healed = p99();
    expect(healed).toBeLessThan(sick * 0.8);
    expect(healed).toBeLessThan(healthy * 1.15);
    const tenancy = await tools.callTool<{ nodes: Array<{ cpu_utilisation: number }> }>('get_node_tenancy', { namespace: 'acme-prod', deployment: 'checkout' });
    if (!tenancy.ok) throw new Error(tenancy.message);
    expect(tenancy.data.nodes[0]!.cpu_utilisation).toBeLessThan(0.8);

    // A fresh incident now finds nothing to arbitrate: the batch job stays within 1.5x its request.
    expect(await arbitrator.onObservation({ ...observation(healed, healthy), id: 'obs-nn-3', incident_id: 'inc-nn-2' })).toBeNull();
  });

  it('proposes nothing when the victim is slow but no neighbour bursts', async () => {
    await cluster.clock.advance(60_000);
    const arbitrator = new Arbitrator({ tools, recorder: h.recorder, audit: h.audit, clock: cluster.clock, logger: h.logger, tenants: h.tenants });
    expect(await arbitrator.onObservation(observation(p99() * 3, p99()))).toBeNull();
    expect(await h.audit.list({ incident_id: 'inc-nn-1', kind: 'proposal' })).toHaveLength(0);
  });
});
