// Test fixture: an over-provisioned tenant (test/fixtures/scenarios/overprovisioned-tenant.json) on
// the cluster twin, served as a Kubernetes API, with the FinOps MCP server in front of it. acme-prod
// runs `checkout` (10 pods of 500m for ~60 requests/s each: a fifth of what it requests) and `search`
// (4 pods near their requests); globex-prod is the co-tenant whose namespace acme's sessions must
// never see. The tenants are the scenario's.
import { VirtualClock } from '../../src/core/clock.ts';
import type { Tenants } from '../../src/governance/tenants.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { startFinopsMcpHttp, type FinopsMcpHttp } from '../../mcp-servers/finops/http.ts';
import { buildFixture } from '../fixtures/scenario.ts';

export const T0 = Date.parse('2026-11-24T10:00:00Z');
export const STRATEGIST_TOKEN = 'strategist-token-0123456789';
export const GLOBEX_TOKEN = 'globex-token-0123456789';

export interface FinopsCluster {
  clock: VirtualClock;
  twin: ClusterTwin;
  tenants: Tenants;
  finops: FinopsMcpHttp;
  /** Moves simulated time in sample-sized steps, letting every sample land. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** `startAtMs`: when the cluster (and the FinOps server's sampling) starts; T0 by default. */
export async function finopsCluster(opts: { startAtMs?: number } = {}): Promise<FinopsCluster> {
  const clock = new VirtualClock(opts.startAtMs ?? T0);
  const { twin, tenants } = buildFixture('overprovisioned-tenant', clock);
  twin.start();
  const api = await startKubeApiServer(twin, { port: 0 });
  const sampleIntervalMs = 30_000;
  const finops = await startFinopsMcpHttp({
    kube: loadKubeconfig(api.kubeconfig()),
    clock,
    tenants,
    sampleIntervalMs,
    tokens: new Map([
      [STRATEGIST_TOKEN, { agent: 'strategist', namespaces: ['acme-prod'] }],
      [GLOBEX_TOKEN, { agent: 'strategist', namespaces: ['globex-prod'] }],
    ]),
  });
  await finops.sampler.idle();
  return {
    clock,
    twin,
    tenants,
    finops,
    async advance(ms: number) {
      for (let left = ms; left > 0; left -= sampleIntervalMs) {
        await clock.advance(Math.min(sampleIntervalMs, left));
        await finops.sampler.idle();
      }
    },
    async close() {
      await finops.close();
      twin.stop();
      await api.close();
    },
  };
}
