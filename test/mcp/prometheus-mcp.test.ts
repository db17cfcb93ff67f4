// The Prometheus MCP server over Streamable HTTP, on the seed scenario's twin behind its
// Prometheus-compatible query API (the same code talks to a real Prometheus at PROMETHEUS_URL).
// Queries confined to the session's tenant answer; every escape the issue lists is refused before
// anything reaches Prometheus; the SLO and burn-rate helpers read what the twin reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startSampler } from '../../src/twin/metrics/sampler.ts';
import { startQueryApiServer } from '../../src/twin/metrics/query-api.ts';
import { startPrometheusMcpHttp } from '../../mcp-servers/prometheus/http.ts';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const ACME = 'acme-token';

let clock: VirtualClock;
let stop: (() => Promise<void>)[] = [];
let client: McpToolClient;
/** Every query that reached the Prometheus API, as it arrived. */
const reached: string[] = [];

beforeAll(async () => {
  clock = new VirtualClock(T0);
  const s = buildScenario('jvm-heap-regression', clock);
  s.twin.start();
  const sampler = startSampler(s.twin);
  const api = await startQueryApiServer(sampler.store, { now: () => clock.now() });
  // A recording proxy in front of the query API: what the server sends to Prometheus is visible.
  const proxy: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const q = new URLSearchParams(body.toString('utf8')).get('query');
    if (q) reached.push(q);
    const upstream = await fetch(new URL(req.url!, api.url.replace(/\/?$/, '/')), { method: req.method, headers: { 'content-type': String(req.headers['content-type'] ?? '') }, body });
    res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const mcp = await startPrometheusMcpHttp({
    prometheusUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${new URL(api.url).pathname}`,
    clock,
    tokens: new Map([[ACME, { agent: 'watchtower', namespaces: ['acme-prod'], tenants: ['acme'] }]]),
  });
  stop = [() => mcp.close(), () => new Promise<void>((r) => proxy.close(() => r())), () => api.close(), async () => sampler.stop(), async () => s.twin.stop()];
  // Half an hour of the seed morning: the heap regression breaches checkout's 500 ms SLO.
  await clock.advance(30 * 60_000);
  client = await connectMcp({ url: mcp.url, token: ACME, name: 'watchtower' });
}, 120_000);

afterAll(async () => {
  await client?.close();
  for (const s of stop) await s();
});

describe('Prometheus MCP server', () => {
  it('answers a query confined to the tenant, instant and range', async () => {
    const q = 'http_request_duration_seconds{namespace="acme-prod",deployment="checkout",quantile="0.99"} * 1000';
    const now = await client.callTool<{ series: { metric: Record<string, string>; points: { v: number }[] }[] }>('query', { query: q });
    expect(now.ok).toBe(true);
    if (!now.ok) return;
    expect(now.data.series).toHaveLength(1);
    expect(now.data.series[0]!.points[0]!.v).toBeGreaterThan(500);
    const range = await client.callTool<{ series: { points: unknown[] }[] }>('query_range', { query: q, start: (clock.now() - 10 * 60_000) / 1000, step: 60 });
    expect(range.ok && range.data.series[0]!.points.length).toBe(11);
    // By tenant label as well as by namespace.
    const byTenant = await client.callTool<{ series: unknown[] }>('query', { query: 'sum(rate(http_requests_total{tenant="acme"}[5m]))' });
    expect(byTenant.ok).toBe(true);
  });

  it.each([
    ['every series', '{__name__=~".+"}'],
    ['a metric with no tenant matcher', 'up'],
    ['an unconfined side of or', 'http_requests_total{namespace="acme-prod"} or http_requests_total'],
    ['a regex wider than the tenant', 'http_requests_total{namespace=~"acme-.*"}'],
    ['a regex naming another tenant too', 'http_requests_total{namespace=~"acme-prod|globex-prod"}'],
    ['a negative matcher', 'http_requests_total{namespace!="acme-prod"}'],
    ['label_replace over an unconfined selector', 'label_replace(http_requests_total, "namespace", "acme-prod", "", "")'],
    ['a subquery on another tenant', 'max_over_time(rate(http_requests_total{namespace="globex-prod"}[1m])[10m:1m])'],
    ['a subquery wrapping an unconfined selector', 'max_over_time(http_requests_total[10m:1m])'],
    ['a second tenant\'s namespace', 'http_requests_total{namespace="globex-prod"}'],
    ['another tenant by label', 'http_requests_total{tenant="globex"}'],
    ['a query that does not parse', 'http_requests_total{namespace="acme-prod"'],
  ])('refuses %s before it reaches Prometheus', async (_what, query) => {
    const before = reached.length;
    const out = await client.callTool('query', { query });
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.code).toBe('tenant_forbidden');
    const range = await client.callTool('query_range', { query, start: (clock.now() - 60_000) / 1000, step: 15 });
    expect(range.ok).toBe(false);
    expect(reached.length).toBe(before);
  });

  it("reports the latency SLO from the twin's own numbers, and refuses another tenant's deployment", async () => {
    const out = await client.callTool<{ p99_ms_now: number; samples: number; breaching_samples: number; slo_holds_now: boolean }>('slo_status', {
      namespace: 'acme-prod', deployment: 'checkout', slo_p99_ms: 500, window_minutes: 30,
    });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.data.slo_holds_now).toBe(false);
    expect(out.data.p99_ms_now).toBeGreaterThan(500);
    expect(out.data.samples).toBeGreaterThan(100);
    expect(out.data.breaching_samples).toBeGreaterThan(0);
    expect(out.data.breaching_samples).toBeLessThan(out.data.samples);
    const other = await client.callTool('slo_status', { namespace: 'globex-prod', deployment: 'storefront', slo_p99_ms: 500 });
    expect(other.ok === false && other.code).toBe('tenant_forbidden');
  });

  it('computes the multi-window burn rate and the workbook alerts from the error counters of a shedding service', async () => {
    // A launch multiplies signup's load 6x: it sheds what it cannot serve, and its error budget burns.
    const c2 = new VirtualClock(T0);
    const s = buildScenario('launch-surge', c2);
    s.twin.start();
    const sampler = startSampler(s.twin);
    const api = await startQueryApiServer(sampler.store, { now: () => c2.now() });
    const mcp = await startPrometheusMcpHttp({ prometheusUrl: api.url, clock: c2, tokens: new Map([['t', { agent: 'arbitrator', namespaces: ['initech-prod'] }]]) });
    await c2.advance(20 * 60_000);
    const c = await connectMcp({ url: mcp.url, token: 't', name: 'arbitrator' });
    try {
      const out = await c.callTool<{ windows: { minutes: number; error_ratio: number | null; burn_rate: number | null }[]; alerts: { severity: string; long_minutes: number; firing: boolean }[]; error_budget: number; sustainable: boolean }>('burn_rate', {
        namespace: 'initech-prod', deployment: 'signup', slo_target: 0.999,
      });
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      expect(out.data.windows.map((w) => w.minutes)).toEqual([5, 30, 60, 120, 360, 1440, 4320]);
      expect(out.data.error_budget).toBeCloseTo(0.001, 6);
      const five = out.data.windows[0]!;
      // The twin's own shed share now, against the 5-minute ratio Prometheus computed from counters.
      const truth = s.twin.serviceMetrics('initech-prod', 'signup').error_ratio;
      expect(truth).toBeGreaterThan(0.2);
      expect(five.error_ratio!).toBeGreaterThan(truth * 0.7);
      expect(five.error_ratio!).toBeLessThan(Math.min(1, truth * 1.3));
      for (const w of out.data.windows) if (w.error_ratio !== null) expect(w.burn_rate!).toBeCloseTo(w.error_ratio / 0.001, 0);
      // Burning hundreds of times faster than sustainable: the fast page fires, and nothing is sustainable.
      expect(out.data.alerts.find((a) => a.severity === 'page' && a.long_minutes === 60)!.firing).toBe(true);
      expect(out.data.sustainable).toBe(false);
    } finally {
      await c.close();
      await mcp.close();
      await api.close();
      sampler.stop();
      s.twin.stop();
    }
  }, 60_000);

  it('says Prometheus is unavailable, retryably, when it cannot be reached', async () => {
    const dead = await startPrometheusMcpHttp({ prometheusUrl: 'http://127.0.0.1:9/', clock, tokens: new Map([['t', { agent: 'watchtower', namespaces: ['acme-prod'] }]]), timeoutMs: 1000 });
    const c = await connectMcp({ url: dead.url, token: 't', name: 'watchtower' });
    try {
      const out = await c.callTool('query', { query: 'up{namespace="acme-prod"}' });
      expect(out.ok === false && out.code).toBe('upstream_unavailable');
    } finally {
      await c.close();
      await dead.close();
    }
  });
});
