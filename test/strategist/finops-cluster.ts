// Test fixture: an over-provisioned tenant on the cluster twin, served as a Kubernetes API, with the
// FinOps MCP server in front of it. acme-prod runs `checkout` (10 pods of 500m for ~60 requests/s
// each: a fifth of what it requests) and `search` (4 pods near their requests); globex-prod is the
// co-tenant whose namespace acme's sessions must never see.
import { VirtualClock } from '../../src/core/clock.ts';
import { parseTenants, type Tenants } from '../../src/governance/tenants.ts';
import { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { jvmTemplate } from '../../src/twin/scenarios/jvm-heap-regression.ts';
import { startFinopsMcpHttp, type FinopsMcpHttp } from '../../mcp-servers/finops/http.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';

export const T0 = Date.parse('2026-11-24T10:00:00Z');
export const STRATEGIST_TOKEN = 'strategist-token-0123456789';
export const GLOBEX_TOKEN = 'globex-token-0123456789';

export function testTenants(): Tenants {
  const base = { tier: 'enterprise', environment: 'production', max_replicas: 40, slo: { p99_latency_ms: 500 }, burn_rate: 1 } as const;
  return parseTenants({
    tenants: {
      acme: { ...base, namespaces: ['acme-prod'], monthly_budget_usd: 20_000, month_to_date_usd: 9_000, pod_monthly_cost_usd: 300 },
      globex: { ...base, tier: 'standard', namespaces: ['globex-prod'], monthly_budget_usd: 5_000, month_to_date_usd: 1_000, pod_monthly_cost_usd: 150 },
    },
  });
}

export interface FinopsCluster {
  clock: VirtualClock;
  twin: ClusterTwin;
  tenants: Tenants;
  finops: FinopsMcpHttp;
  /** Moves simulated time in sample-sized steps, letting every sample land. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function finopsCluster(opts: { checkoutReplicas?: number; checkoutRps?: number; sampleIntervalMs?: number } = {}): Promise<FinopsCluster> {
  const clock = new VirtualClock(T0);
  const twin = new ClusterTwin(clock, { seed: 7 });
  const day = 86_400_000;
  twin.addNamespace('acme-prod', { 'governor.io/tenant': 'acme', 'governor.io/environment': 'production' }, T0 - 400 * day);
  twin.addNamespace('globex-prod', { 'governor.io/tenant': 'globex', 'governor.io/environment': 'production' }, T0 - 200 * day);
  const deploy = (namespace: string, name: string, replicas: number, rps: number) =>
    twin.addDeployment({
      namespace,
      name,
      replicas,
      rps,
      revisions: [{ template: jvmTemplate(name, `registry.example/${name}:1.0.0`, '-XX:+UseG1GC -XX:MaxRAMPercentage=70 -XX:NewRatio=2'), changeCause: 'release 1.0.0', createdAtMs: T0 - 3 * day }],
    });
  const checkoutReplicas = opts.checkoutReplicas ?? 10;
  deploy('acme-prod', 'checkout', checkoutReplicas, opts.checkoutRps ?? checkoutReplicas * 60);
  deploy('acme-prod', 'search', 4, 4 * 240);
  deploy('globex-prod', 'storefront', 6, 6 * 60);
  twin.start();
  const api = await startKubeApiServer(twin, { port: 0 });
  const tenants = testTenants();
  const sampleIntervalMs = opts.sampleIntervalMs ?? 30_000;
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
