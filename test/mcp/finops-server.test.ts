// The FinOps MCP server over Streamable HTTP against the cluster twin's Kubernetes API: costs from
// the tenant configuration, utilisation from the server's own samples (history grows with the
// clock), and isolation by bearer token. Expected numbers are computed from the twin's own truth and
// the tenant configuration, never read back from the server under test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { GLOBEX_TOKEN, STRATEGIST_TOKEN, T0, finopsCluster, type FinopsCluster } from '../strategist/finops-cluster.ts';

const MINUTE = 60_000;

interface CostReport {
  tenant: string;
  deployments: Array<{ namespace: string; name: string; replicas: number; cpu_request_millicores: number; cpu_use_millicores: number; cpu_utilisation: number | null; monthly_cost_usd: number }>;
  totals: { replicas: number; monthly_run_rate_usd: number };
  budget: { monthly_budget_usd: number; month_to_date_usd: number; forecast_month_end_usd: number; forecast_over_budget: boolean; forecast_pct_of_budget: number | null };
}
interface Utilisation {
  samples: number;
  history_minutes: number;
  window_minutes: number;
  replicas: number | null;
  cpu_millicores: { mean: number; p95: number; peak: number } | null;
  utilisation: { mean: number; p95: number; peak: number } | null;
}

describe('FinOps MCP server on the cluster twin', () => {
  let cluster: FinopsCluster;
  let client: McpToolClient;

  beforeEach(async () => {
    cluster = await finopsCluster();
    client = await connectMcp({ url: cluster.finops.url, token: STRATEGIST_TOKEN, name: 'strategist' });
  });
  afterEach(async () => {
    await client.close();
    await cluster.close();
  });

  const call = async <T>(tool: string, args: Record<string, unknown>): Promise<T> => {
    const out = await client.callTool<T>(tool, args);
    if (!out.ok) throw new Error(`${tool}: ${out.code}: ${out.message}`);
    return out.data;
  };

  it('prices every deployment at the tenant pod price and forecasts the month against the budget', async () => {
    const report = await call<CostReport>('get_cost_report', { tenant: 'acme' });
    expect(report.deployments.map((d) => d.name)).toEqual(['checkout', 'search']);
    const checkout = report.deployments.find((d) => d.name === 'checkout')!;
    expect(checkout).toMatchObject({ namespace: 'acme-prod', replicas: 10, cpu_request_millicores: 500, monthly_cost_usd: 3_000 });
    // Current use is what the twin measures for the pods, summed.
    const truth = cluster.twin.podMetrics('acme-prod', 'checkout').reduce((s, p) => s + p.cpu_millicores, 0);
    expect(checkout.cpu_use_millicores).toBeCloseTo(truth, -1);
    expect(checkout.cpu_utilisation).toBeCloseTo(truth / (10 * 500), 2);
    expect(checkout.cpu_utilisation!).toBeLessThan(0.4);

    expect(report.totals).toEqual({ replicas: 14, monthly_run_rate_usd: 14 * 300 });
    // 24 Nov 10:00 UTC: 6 days 14 hours of a 30-day month left; month-to-date is the configured 9,000.
    const remaining = (Date.UTC(2026, 11, 1) - T0) / (30 * 86_400_000);
    expect(report.budget.monthly_budget_usd).toBe(20_000);
    expect(report.budget.month_to_date_usd).toBe(9_000);
    expect(report.budget.forecast_month_end_usd).toBeCloseTo(9_000 + 4_200 * remaining, 1);
    expect(report.budget.forecast_over_budget).toBe(false);
  });

  it('month-to-date grows with the pods observed running, at the tenant pod price', async () => {
    await cluster.advance(60 * MINUTE);
    const report = await call<CostReport>('get_cost_report', { tenant: 'acme' });
    // 14 pods for an hour at $300 per pod-month of 30 days.
    const expected = 9_000 + (14 * 300 * 60 * MINUTE) / (30 * 86_400_000);
    expect(report.budget.month_to_date_usd).toBeCloseTo(expected, 1);
  });

  it('utilisation history grows with the clock, and says how much there is', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', window_minutes: 60 };
    const first = await call<Utilisation>('get_utilisation', args);
    expect(first.samples).toBe(1);
    expect(first.history_minutes).toBe(0);

    await cluster.advance(10 * MINUTE);
    const ten = await call<Utilisation>('get_utilisation', args);
    expect(ten.samples).toBe(21);
    expect(ten.history_minutes).toBe(10);

    await cluster.advance(80 * MINUTE);
    const later = await call<Utilisation>('get_utilisation', args);
    // The window bounds what counts: 60 minutes of a 90-minute history.
    expect(later.history_minutes).toBe(60);
    expect(later.samples).toBe(121);
    expect(later.replicas).toBe(10);

    const u = later.utilisation!;
    expect(u.mean).toBeLessThanOrEqual(u.p95);
    expect(u.p95).toBeLessThanOrEqual(u.peak);
    expect(u.p95).toBeLessThan(0.4);
    const truth = cluster.twin.podMetrics('acme-prod', 'checkout').reduce((s, p) => s + p.cpu_millicores, 0) / (10 * 500);
    expect(u.mean).toBeGreaterThan(truth * 0.8);
    expect(u.mean).toBeLessThan(truth * 1.2);
    expect(later.cpu_millicores!.p95 / 5_000).toBeCloseTo(u.p95, 2);

    // The busy neighbour reads busy.
    const search = await call<Utilisation>('get_utilisation', { namespace: 'acme-prod', deployment: 'search', window_minutes: 60 });
    expect(search.utilisation!.p95).toBeGreaterThan(0.6);
  });

  it('follows a change of replicas: fewer pods, same work, higher utilisation', async () => {
    await cluster.advance(5 * MINUTE);
    cluster.twin.scale('acme-prod', 'checkout', 5);
    await cluster.advance(5 * MINUTE);
    const recent = await call<Utilisation>('get_utilisation', { namespace: 'acme-prod', deployment: 'checkout', window_minutes: 3 });
    const before = await call<Utilisation>('get_utilisation', { namespace: 'acme-prod', deployment: 'checkout', window_minutes: 10 });
    expect(recent.replicas).toBe(5);
    expect(recent.utilisation!.mean).toBeGreaterThan(before.utilisation!.mean);
  });

  it('refuses other tenants: their namespaces, their cost report, and tenants it does not know', async () => {
    const ns = await client.callTool('get_utilisation', { namespace: 'globex-prod', deployment: 'storefront', window_minutes: 60 });
    expect(ns).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await client.callTool('get_cost_report', { tenant: 'globex' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await client.callTool('get_cost_report', { tenant: 'nobody' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });

    // globex's own session sees globex, and only globex.
    const globex = await connectMcp({ url: cluster.finops.url, token: GLOBEX_TOKEN, name: 'strategist' });
    try {
      const own = await globex.callTool<CostReport>('get_cost_report', { tenant: 'globex' });
      expect(own.ok && own.data.deployments.map((d) => d.name)).toEqual(['storefront']);
      expect(await globex.callTool('get_cost_report', { tenant: 'acme' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    } finally {
      await globex.close();
    }

    await expect(connectMcp({ url: cluster.finops.url, token: 'not-a-token', name: 'strategist' })).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('a deployment that does not exist is not_found; bad arguments are refused by the schema', async () => {
    expect(await client.callTool('get_utilisation', { namespace: 'acme-prod', deployment: 'nope', window_minutes: 60 })).toMatchObject({ ok: false, code: 'not_found' });
    expect(await client.callTool('get_utilisation', { namespace: 'acme-prod', deployment: 'checkout', window_minutes: 0 })).toMatchObject({ ok: false, code: 'invalid_arguments' });
  });
});
