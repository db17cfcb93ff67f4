// The shared MCP suite against the small fake Kubernetes API, plus what only a fake can provoke:
// the cluster refusing a write after the server's own checks passed.
import type { KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.ts';
import { kubeConfigFor } from './kube-config.ts';
import { kubernetesMcpSuite, type ClusterUnderTest } from './kubernetes-mcp.case.ts';

async function fakeCluster(): Promise<ClusterUnderTest & { api: FakeKubeApi }> {
  const api = await startFakeKubeApi();
  const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
  return {
    api,
    kube: kubeConfigFor(api.url),
    clock,
    tenant: 'acme',
    namespace: 'acme-prod',
    deployment: 'checkout',
    otherNamespace: 'globex-prod',
    advance: (ms) => clock.advance(ms),
    async truth() {
      // The fake's fixed numbers for revision 2 of checkout, 8 pods.
      const pods: Record<string, { gc_pause_ms_per_min: number; memory_utilisation: number }> = {};
      const d = api.deployment('acme-prod', 'checkout')!;
      const hash = (await fetch(`${api.url}/apis/apps/v1/namespaces/acme-prod/replicasets?labelSelector=app=checkout`).then((r) => r.json()) as { items: Array<{ metadata: { name: string; annotations: Record<string, string> } }> }).items.find(
        (rs) => rs.metadata.annotations['deployment.kubernetes.io/revision'] === d.metadata.annotations['deployment.kubernetes.io/revision'],
      )!.metadata.name;
      for (let i = 0; i < d.spec.replicas; i++) pods[`${hash}-${String(i).padStart(5, 'p')}`] = { gc_pause_ms_per_min: 185, memory_utilisation: 0.94 };
      return { p99_ms: 1240, rps: 850, pods };
    },
    close: () => api.close(),
  };
}

kubernetesMcpSuite('fake Kubernetes API', fakeCluster, () => new MemorySharedState());

describe('Kubernetes MCP server when the cluster refuses a write (fake Kubernetes API)', () => {
  let cluster: Awaited<ReturnType<typeof fakeCluster>>;
  let mcp: { url: string; close(): Promise<void> };
  let client: McpToolClient;
  const keys = generateGrantKeys('k');
  const publicKeys = new Map<string, KeyObject>([['k', keys.publicKey]]);
  const grant = (args: Record<string, unknown>) =>
    issueGrant(keys, {
      proposal_id: 'p', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
      tool: 'scale_deployment', args, basis: 'policy', nowMs: cluster.clock.now(), ttlMs: 600_000,
    });

  beforeEach(async () => {
    cluster = await fakeCluster();
    mcp = await startKubernetesMcpHttp({
      kube: cluster.kube,
      sharedState: new MemorySharedState(),
      clock: cluster.clock,
      grantPublicKeys: publicKeys,
      tokens: new Map([['t', { agent: 'elastik', namespaces: ['acme-prod'] }]]),
    });
    client = await connectMcp({ url: mcp.url, token: 't', name: 'elastik' });
  });
  afterEach(async () => {
    await client.close();
    await mcp.close();
    await cluster.close();
  });

  it('gives back the cooldown and the grant when the API server rejects the scale', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 };
    const g = grant(args);
    cluster.api.failNext('PATCH', /\/deployments\/checkout\/scale$/, 503);
    const failed = await client.callTool('scale_deployment', { ...args, grant: g });
    expect(failed).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    expect(cluster.api.deployment('acme-prod', 'checkout')!.spec.replicas).toBe(8);
    // Neither the cooldown nor the grant was spent by a write that did not happen.
    expect(await client.callTool('scale_deployment', { ...args, grant: g })).toMatchObject({ ok: true, data: { from_replicas: 8, to_replicas: 12 } });
  });

  it('does not apply a scale decided on a state that changed before the write (conflict), and gives the claims back', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 20 };
    const g = grant(args);
    // 8 → 20 is within 3x of what the server read; someone scales to 4 between its read and its write.
    cluster.api.beforeNext('PATCH', /\/deployments\/checkout\/scale$/, () => cluster.api.mutate('acme-prod', 'checkout', (d) => (d.spec.replicas = 4)));
    const out = await client.callTool('scale_deployment', { ...args, grant: g });
    expect(out).toMatchObject({ ok: false, code: 'conflict' });
    expect(cluster.api.deployment('acme-prod', 'checkout')!.spec.replicas).toBe(4);
    // Re-deciding on the new state: 4 → 20 is now beyond 3x, whatever the (unspent) grant says.
    expect(await client.callTool('scale_deployment', { ...args, grant: g })).toMatchObject({ ok: false, code: 'safety_violation' });
  });

  it('does not apply a rollback planned on a state that changed before the write', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 };
    const g = issueGrant(keys, {
      proposal_id: 'p', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
      tool: 'rollback_deployment', args, basis: 'approval', nowMs: cluster.clock.now(), ttlMs: 600_000,
    });
    cluster.api.beforeNext('PATCH', /\/deployments\/checkout$/, () => cluster.api.mutate('acme-prod', 'checkout', (d) => (d.spec.replicas = 9)));
    const out = await client.callTool('rollback_deployment', { ...args, grant: g });
    expect(out.ok).toBe(false);
    expect(cluster.api.deployment('acme-prod', 'checkout')!.metadata.annotations['deployment.kubernetes.io/revision']).toBe('2');
    expect(await client.callTool('rollback_deployment', { ...args, grant: g })).toMatchObject({ ok: true, data: { to_revision: 1 } });
  });

  it('reports an unreachable metrics API as upstream_unavailable, retryable', async () => {
    cluster.api.failNext('GET', /custom\.metrics.*http_request_duration_p99_ms$/, 503);
    const out = await client.callTool('get_pod_metrics', { namespace: 'acme-prod', deployment: 'checkout' });
    expect(out).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    const raw = out.raw.response as { _meta?: Record<string, { retryable?: boolean }> };
    expect(raw._meta?.['governor.io/error']?.retryable).toBe(true);
  });

  it('never touches the cluster for a call outside the session or without a valid grant', async () => {
    const seen = cluster.api.requests.length;
    await client.callTool('scale_deployment', { namespace: 'globex-prod', deployment: 'checkout', replicas: 6, grant: grant({ namespace: 'globex-prod', deployment: 'checkout', replicas: 6 }) });
    await client.callTool('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 12, grant: grant({ namespace: 'acme-prod', deployment: 'checkout', replicas: 13 }) });
    expect(cluster.api.requests.slice(seen)).toEqual([]);
  });
});
