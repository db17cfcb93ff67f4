// get_pod_metrics on the cluster twin tells a pod killed at its memory limit from a healthy one:
// restart count and OOMKilled as the last termination reason, through the real Kubernetes API and
// client-node — what Watchtower's detector keeps an incident open on (test/unit/detector.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys } from '../../src/governance/grants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { PodMetrics } from '../../agents/runtime/cluster-views.ts';
import { buildFixture } from '../fixtures/scenario.ts';
import { MINUTE, START } from '../twin/memory-fixture.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('get_pod_metrics on pods killed at their memory limit', () => {
  it('reports each pod\'s restarts and OOMKilled, and nothing for a pod that never restarted', async () => {
    const clock = new VirtualClock(START);
    const { twin } = buildFixture('leaking-release', clock);
    twin.start(1000);
    cleanups.push(() => twin.stop());
    const api = await startKubeApiServer(twin, { port: 0 });
    cleanups.push(() => api.close());
    const keys = generateGrantKeys('k');
    const mcp = await startKubernetesMcpHttp({
      kube: loadKubeconfig(api.kubeconfig()), sharedState: new MemorySharedState(), clock,
      grantPublicKeys: new Map([['k', keys.publicKey]]), tokens: new Map([['t', { agent: 'watchtower', namespaces: ['acme-prod'] }]]),
    });
    cleanups.push(() => mcp.close());
    const tools = await connectMcp({ url: mcp.url, token: 't', name: 'watchtower' });
    cleanups.push(() => tools.close());
    const pods = async () => {
      const r = await tools.callTool<{ pods: unknown[] }>('get_pod_metrics', { namespace: 'acme-prod', deployment: 'api' });
      if (!r.ok) throw new Error(r.message);
      return r.data.pods.map((p) => PodMetrics.parse(p));
    };

    expect((await pods()).map((p) => [p.restart_count, p.last_termination_reason])).toEqual([[0, null], [0, null]]);
    await clock.advance(39 * MINUTE); // both pods of the leaking release reach their limit at ~38 min
    const after = await pods();
    expect(after).toHaveLength(2);
    for (const p of after) expect(p).toMatchObject({ restart_count: 1, last_termination_reason: 'OOMKilled' });
  }, 60_000);
});
