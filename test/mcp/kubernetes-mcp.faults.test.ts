// The Kubernetes MCP server when the cluster fails in ways the twin never does: an API server that
// refuses a write after the server's own checks passed (503), answers with a body that is not JSON,
// or drops the connection, and a change by someone else between the server's read and its write.
// The twin (scenario jvm-heap-regression) answers everything else, through the faulty proxy.
import type { KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { startFaultyKubeApi, type FaultyKubeApi } from './faulty-kube-api.ts';

describe('Kubernetes MCP server when the cluster fails (faulty proxy in front of the twin)', () => {
  let clock: VirtualClock;
  let twin: ClusterTwin;
  let api: KubeApiServer;
  let proxy: FaultyKubeApi;
  let mcp: { url: string; close(): Promise<void> };
  let client: McpToolClient;
  const keys = generateGrantKeys('k');
  const publicKeys = new Map<string, KeyObject>([['k', keys.publicKey]]);
  const grant = (tool: string, args: Record<string, unknown>) =>
    issueGrant(keys, {
      proposal_id: 'p', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
      tool, args, basis: tool === 'scale_deployment' ? 'policy' : 'approval', nowMs: clock.now(), ttlMs: 600_000,
    });
  const checkout = () => twin.getDeployment('acme-prod', 'checkout')!;

  beforeEach(async () => {
    clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
    twin = buildScenario('jvm-heap-regression', clock).twin;
    api = await startKubeApiServer(twin, { port: 0 });
    proxy = await startFaultyKubeApi(api.url);
    mcp = await startKubernetesMcpHttp({
      kube: loadKubeconfig(proxy.kubeconfig()),
      sharedState: new MemorySharedState(),
      clock,
      grantPublicKeys: publicKeys,
      tokens: new Map([['t', { agent: 'elastik', namespaces: ['acme-prod'] }]]),
    });
    client = await connectMcp({ url: mcp.url, token: 't', name: 'elastik' });
  });
  afterEach(async () => {
    await client.close();
    await mcp.close();
    await proxy.close();
    await api.close();
  });

  it('gives back the cooldown and the grant when the API server rejects the scale', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 };
    const g = grant('scale_deployment', args);
    proxy.failNext('PATCH', /\/deployments\/checkout\/scale$/, 503);
    const failed = await client.callTool('scale_deployment', { ...args, grant: g });
    expect(failed).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    // The MCP server answered (its cluster refused): nothing about this call is in doubt.
    expect(failed).not.toHaveProperty('unanswered');
    expect(checkout().spec.replicas).toBe(8);
    // Neither the cooldown nor the grant was spent by a write that did not happen.
    expect(await client.callTool('scale_deployment', { ...args, grant: g })).toMatchObject({ ok: true, data: { from_replicas: 8, to_replicas: 12 } });
    expect(checkout().spec.replicas).toBe(12);
  });

  it('does not apply a scale decided on a state that changed before the write (conflict), and gives the claims back', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 20 };
    const g = grant('scale_deployment', args);
    // 8 → 20 is within 3x of what the server read; someone scales to 4 between its read and its write.
    proxy.beforeNext('PATCH', /\/deployments\/checkout\/scale$/, () => twin.scale('acme-prod', 'checkout', 4));
    const out = await client.callTool('scale_deployment', { ...args, grant: g });
    expect(out).toMatchObject({ ok: false, code: 'conflict' });
    expect(checkout().spec.replicas).toBe(4);
    // Re-deciding on the new state: 4 → 20 is now beyond 3x, whatever the (unspent) grant says.
    expect(await client.callTool('scale_deployment', { ...args, grant: g })).toMatchObject({ ok: false, code: 'safety_violation' });
  });

  it('does not apply a rollback planned on a state that changed before the write', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 };
    const g = grant('rollback_deployment', args);
    proxy.beforeNext('PATCH', /\/deployments\/checkout$/, () => twin.scale('acme-prod', 'checkout', 9));
    const out = await client.callTool('rollback_deployment', { ...args, grant: g });
    expect(out.ok).toBe(false);
    expect(checkout().metadata.annotations!['deployment.kubernetes.io/revision']).toBe('2');
    expect(await client.callTool('rollback_deployment', { ...args, grant: g })).toMatchObject({ ok: true, data: { to_revision: 1 } });
  });

  it('reports an unreachable metrics API as upstream_unavailable, retryable', async () => {
    proxy.failNext('GET', /custom\.metrics.*http_request_duration_p99_ms$/, 503);
    const out = await client.callTool('get_pod_metrics', { namespace: 'acme-prod', deployment: 'checkout' });
    expect(out).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    const raw = out.raw.response as { _meta?: Record<string, { retryable?: boolean }> };
    expect(raw._meta?.['governor.io/error']?.retryable).toBe(true);
  });

  it('reports an answer that is not JSON as upstream_unavailable', async () => {
    proxy.malformedNext('GET', /\/deployments\/checkout$/);
    expect(await client.callTool('get_rollout_history', { namespace: 'acme-prod', deployment: 'checkout' })).toMatchObject({ ok: false, code: 'upstream_unavailable' });
  });

  it('settles a scale whose connection dropped before the API server saw it: the same conditional write goes again, applied once', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 };
    const generation = checkout().metadata.generation;
    proxy.dropNext('PATCH', /\/deployments\/checkout\/scale$/);
    const seen = proxy.requests.length;
    expect(await client.callTool('scale_deployment', { ...args, grant: grant('scale_deployment', args) })).toMatchObject({ ok: true, data: { from_replicas: 8, to_replicas: 12 } });
    expect(proxy.requests.slice(seen).filter((r) => r.startsWith('PATCH'))).toHaveLength(2);
    expect(checkout().spec.replicas).toBe(12);
    expect(checkout().metadata.generation).toBe((generation ?? 0) + 1);
  });

  it('settles a scale the API server applied but whose answer was lost: sent again, refused as a conflict, and found done — applied once', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 };
    const generation = checkout().metadata.generation;
    proxy.dropAnswerNext('PATCH', /\/deployments\/checkout\/scale$/);
    const seen = proxy.requests.length;
    expect(await client.callTool('scale_deployment', { ...args, grant: grant('scale_deployment', args) })).toMatchObject({ ok: true, data: { to_replicas: 12 } });
    expect(proxy.requests.slice(seen).filter((r) => r.startsWith('PATCH'))).toHaveLength(2);
    expect(checkout().spec.replicas).toBe(12);
    expect(checkout().metadata.generation).toBe((generation ?? 0) + 1);
  });

  it('marks a call the MCP server never answered (it went away) as unanswered: it may or may not have acted', async () => {
    const other = await startKubernetesMcpHttp({
      kube: loadKubeconfig(proxy.kubeconfig()),
      sharedState: new MemorySharedState(),
      clock,
      grantPublicKeys: publicKeys,
      tokens: new Map([['t', { agent: 'elastik', namespaces: ['acme-prod'] }]]),
    });
    const session = await connectMcp({ url: other.url, token: 't', name: 'elastik' });
    await other.close();
    const out = await session.callTool('get_rollout_history', { namespace: 'acme-prod', deployment: 'checkout' });
    await session.close().catch(() => undefined);
    expect(out).toMatchObject({ ok: false, code: 'upstream_unavailable', unanswered: true });
  });

  it('never touches the cluster for a call outside the session or without a valid grant', async () => {
    const seen = proxy.requests.length;
    await client.callTool('scale_deployment', { namespace: 'globex-prod', deployment: 'storefront', replicas: 6, grant: grant('scale_deployment', { namespace: 'globex-prod', deployment: 'storefront', replicas: 6 }) });
    await client.callTool('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 12, grant: grant('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 13 }) });
    expect(proxy.requests.slice(seen)).toEqual([]);
  });
});
