// Prometheus as the metrics source: each signal's PromQL comes from a signals file, checked whole at
// load (every problem named; a template reading beyond the namespace it is asked about is refused),
// and the Prometheus MCP server's `service_signals` reads them for one deployment. On the seed
// scenario's twin behind its Prometheus-compatible query API, the signals agree with what the twin's
// Kubernetes side reports, and the agent-side composition (agents/runtime/prometheus-signals.ts)
// hands Watchtower and the verifier Prometheus's numbers with Kubernetes' pods.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startSampler } from '../../src/twin/metrics/sampler.ts';
import { startQueryApiServer } from '../../src/twin/metrics/query-api.ts';
import { startPrometheusMcpHttp } from '../../mcp-servers/prometheus/http.ts';
import { DEFAULT_SIGNALS, checkSignals, fillSignal, loadSignals } from '../../mcp-servers/prometheus/signals.ts';
import { mergeSignals, withPrometheusSignals } from '../../agents/runtime/prometheus-signals.ts';
import type { ToolClient } from '../../agents/runtime/tool-client.ts';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const ACME = 'acme-signals-token';
const CUSTOM = 'acme-custom-token';

let clock: VirtualClock;
let twin: ReturnType<typeof buildScenario>['twin'];
const stop: (() => Promise<unknown>)[] = [];
let client: McpToolClient;
let custom: McpToolClient;

beforeAll(async () => {
  clock = new VirtualClock(T0);
  const s = buildScenario('jvm-heap-regression', clock);
  twin = s.twin;
  twin.start();
  const sampler = startSampler(twin);
  const api = await startQueryApiServer(sampler.store, { now: () => clock.now() });
  const session = { agent: 'watchtower', namespaces: ['acme-prod'], tenants: ['acme'] };
  const mcp = await startPrometheusMcpHttp({ prometheusUrl: api.url, clock, tokens: new Map([[ACME, session]]) });
  // A team whose exporter names things differently: p99 from the summary's max over pods, halved, to
  // tell its answers from the defaults'.
  const signals = { ...DEFAULT_SIGNALS, service: { ...DEFAULT_SIGNALS.service, p99_ms: 'max(http_request_duration_seconds{namespace="{{namespace}}",deployment="{{deployment}}",quantile="0.99"}) * 500' } };
  const mcp2 = await startPrometheusMcpHttp({ prometheusUrl: api.url, clock, tokens: new Map([[CUSTOM, session]]), signals });
  stop.push(() => mcp.close(), () => mcp2.close(), () => api.close(), async () => sampler.stop(), async () => twin.stop());
  await clock.advance(30 * 60_000);
  client = await connectMcp({ url: mcp.url, token: ACME, name: 'watchtower' });
  custom = await connectMcp({ url: mcp2.url, token: CUSTOM, name: 'watchtower' });
}, 120_000);

afterAll(async () => {
  await client?.close();
  await custom?.close();
  for (const s of stop) await s();
});

type Signals = {
  service: { p50_ms: number | null; p99_ms: number | null; rps: number | null; error_ratio: number | null };
  pods: { pod: string; memory_bytes: number | null; memory_limit_bytes: number | null; cpu_millicores: number | null; gc_pause_ms_per_min: number | null; cpu_throttled_ratio: number | null }[];
  queries: Record<string, string>;
};

describe('the signals file', () => {
  it('ships the defaults as config/signals.json, and they pass their own check', () => {
    expect(loadSignals('config/signals.json')).toEqual(DEFAULT_SIGNALS);
    expect(checkSignals(DEFAULT_SIGNALS, 'defaults')).toEqual(DEFAULT_SIGNALS);
  });

  it('refuses a file with every problem named: a missing signal, a template without {{namespace}}, one that reads other namespaces, one that does not parse', () => {
    const bad = {
      ...DEFAULT_SIGNALS,
      service: { p50_ms: 'max(http_request_duration_seconds{quantile="0.5"})', p99_ms: DEFAULT_SIGNALS.service.p99_ms, rps: DEFAULT_SIGNALS.service.rps, error_ratio: 'sum(rate(http_request_errors_total{namespace="{{namespace}}"}[1m])) / sum(rate(http_requests_total[1m]))' },
      pod: { ...DEFAULT_SIGNALS.pod, cpu_millicores: 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="{{namespace}}"}[1m]' },
      burn: { requests: DEFAULT_SIGNALS.burn.requests },
    };
    let caught: unknown;
    try {
      checkSignals(bad, 'signals file x.json');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GovernorError);
    const message = (caught as GovernorError).message;
    expect(message).toMatch(/service\.p50_ms: must name \{\{namespace\}\}/);
    expect(message).toMatch(/burn\.errors/);
    // The shape is refused first; once it is right, the queries are checked, each named.
    const shaped = { ...bad, service: { ...bad.service, p50_ms: DEFAULT_SIGNALS.service.p50_ms }, burn: DEFAULT_SIGNALS.burn };
    expect(() => checkSignals(shaped, 'signals file x.json')).toThrow(/service\.error_ratio: .*pod\.cpu_millicores: /s);
  });

  it('refuses a file that is not JSON, or missing when named, with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'signals-'));
    writeFileSync(join(dir, 'bad.json'), '{ "service": ');
    expect(() => loadSignals(join(dir, 'bad.json'))).toThrow(/bad\.json is not JSON/);
    expect(() => loadSignals(join(dir, 'missing.json'))).toThrow(/missing\.json/);
  });

  it('fills names only: a namespace or deployment that is not a Kubernetes name never reaches a query', () => {
    expect(() => fillSignal(DEFAULT_SIGNALS.service.p99_ms, { namespace: 'acme-prod"} or up{x="', deployment: 'checkout' })).toThrow(/not a namespace name/);
    expect(() => fillSignal(DEFAULT_SIGNALS.burn.errors, { namespace: 'acme-prod', deployment: 'checkout', window: '5m] or up[5m' })).toThrow(/not a range/);
    expect(fillSignal(DEFAULT_SIGNALS.pod.memory_bytes, { namespace: 'acme-prod', deployment: 'web.v2' })).toContain('pod=~"web\\\\.v2-[a-z0-9]+-[a-z0-9]+"');
  });
});

describe('service_signals', () => {
  it("reads the deployment's signals with the configured PromQL, agreeing with the twin", async () => {
    const out = await client.callTool<Signals>('service_signals', { namespace: 'acme-prod', deployment: 'checkout' });
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    const truth = twin.serviceMetrics('acme-prod', 'checkout');
    // The sampler scrapes every 15 s; the twin's p99 moves between scrapes, so within 15 %.
    expect(out.data.service.p99_ms).toBeGreaterThan(500);
    expect(Math.abs(out.data.service.p99_ms! - truth.p99_ms) / truth.p99_ms).toBeLessThan(0.15);
    expect(Math.abs(out.data.service.rps! - truth.rps) / truth.rps).toBeLessThan(0.15);
    expect(out.data.service.error_ratio).toBeGreaterThanOrEqual(0);
    const pods = twin.podMetrics('acme-prod', 'checkout');
    expect(out.data.pods.map((p) => p.pod).sort()).toEqual(pods.map((p) => p.pod).sort());
    for (const p of out.data.pods) {
      expect(p.memory_bytes).toBeGreaterThan(0);
      expect(p.memory_limit_bytes).toBeGreaterThanOrEqual(p.memory_bytes!);
      expect(p.gc_pause_ms_per_min).not.toBeNull();
      // The seed's pods are not throttled: the CFS counters say so (0, not "no data").
      expect(p.cpu_throttled_ratio).toBe(0);
    }
    expect(out.data.queries['p99_ms']).toBe(fillSignal(DEFAULT_SIGNALS.service.p99_ms, { namespace: 'acme-prod', deployment: 'checkout' }));
  });

  it('uses the configured templates, not built-in queries', async () => {
    const [a, b] = await Promise.all([
      client.callTool<Signals>('service_signals', { namespace: 'acme-prod', deployment: 'checkout' }),
      custom.callTool<Signals>('service_signals', { namespace: 'acme-prod', deployment: 'checkout' }),
    ]);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.data.service.p99_ms).toBeCloseTo(a.data.service.p99_ms! / 2, 0);
    expect(b.data.queries['p99_ms']).toContain('* 500');
  });

  it("refuses another tenant's namespace as an isError result", async () => {
    const out = await client.callTool('service_signals', { namespace: 'globex-prod', deployment: 'storefront' });
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.code).toBe('tenant_forbidden');
  });
});

describe('service_signals on a throttled service', () => {
  it("reads each pod's CFS throttling from the cAdvisor counters, as the twin has it", async () => {
    const clock = new VirtualClock(T0);
    const s = buildScenario('cpu-throttling', clock);
    s.twin.start();
    const sampler = startSampler(s.twin);
    const api = await startQueryApiServer(sampler.store, { now: () => clock.now() });
    const t = s.targets[0]!;
    const mcp = await startPrometheusMcpHttp({ prometheusUrl: api.url, clock, tokens: new Map([['thr', { agent: 'elastik', namespaces: [t.namespace] }]]) });
    const c = await connectMcp({ url: mcp.url, token: 'thr', name: 'elastik' });
    try {
      await clock.advance(20 * 60_000);
      const out = await c.callTool<Signals>('service_signals', { namespace: t.namespace, deployment: t.deployment });
      expect(out.ok).toBe(true);
      if (!out.ok) return;
      const truth = new Map(s.twin.podMetrics(t.namespace, t.deployment).map((p) => [p.pod, p.cpu_throttled_ratio]));
      const read = out.data.pods.filter((p) => truth.has(p.pod));
      expect(read.length).toBeGreaterThan(0);
      expect(Math.max(...read.map((p) => p.cpu_throttled_ratio ?? 0))).toBeGreaterThanOrEqual(0.15);
      for (const p of read) expect(Math.abs((p.cpu_throttled_ratio ?? 0) - truth.get(p.pod)!)).toBeLessThan(0.1);
    } finally {
      await c.close();
      await mcp.close();
      await api.close();
      sampler.stop();
      s.twin.stop();
    }
  }, 60_000);
});

describe('Prometheus as the source of get_pod_metrics', () => {
  const k8sPods = { namespace: 'acme-prod', deployment: { name: 'checkout', replicas: 2 }, pods: [{ pod: 'checkout-abc12-x1', ready: true, memory_bytes: 1, memory_limit_bytes: 4, cpu_millicores: 1, revision: 2 }], pods_without_metrics: [], service: null };

  it('takes the service and pod signals from Prometheus and the pods from Kubernetes, and says so', () => {
    const merged = mergeSignals(k8sPods, {
      at: 1, queries: { p99_ms: 'q' },
      service: { p50_ms: 100, p99_ms: 900, rps: 50, error_ratio: 0.01 },
      pods: [{ pod: 'checkout-abc12-x1', memory_bytes: 3, memory_limit_bytes: 4, cpu_millicores: 250, gc_pause_ms_per_min: 1200, cpu_throttled_ratio: 0.4 }, { pod: 'gone-pod', memory_bytes: 1, memory_limit_bytes: 1, cpu_millicores: 1, gc_pause_ms_per_min: 1 }],
    });
    expect('data' in merged).toBe(true);
    if (!('data' in merged)) return;
    expect(merged.data['service']).toEqual({ p50_ms: 100, p99_ms: 900, rps: 50, error_ratio: 0.01 });
    expect(merged.data['pods']).toEqual([{ pod: 'checkout-abc12-x1', ready: true, revision: 2, memory_bytes: 3, memory_limit_bytes: 4, memory_utilisation: 0.75, cpu_millicores: 250, gc_pause_ms_per_min: 1200, cpu_throttled_ratio: 0.4 }]);
    expect(merged.data['signals_source']).toMatchObject({ server: 'prometheus', tool: 'service_signals' });
  });

  it('fails rather than guessing when Prometheus has no p99; no traffic reads as zero requests and errors', () => {
    expect(mergeSignals(k8sPods, { at: 1, queries: {}, service: { p50_ms: null, p99_ms: null, rps: 5, error_ratio: 0 }, pods: [] })).toEqual({ missing: 'p99_ms' });
    const idle = mergeSignals(k8sPods, { at: 1, queries: {}, service: { p50_ms: null, p99_ms: 40, rps: null, error_ratio: null }, pods: [] });
    expect('data' in idle && idle.data['service']).toEqual({ p50_ms: 40, p99_ms: 40, rps: 0, error_ratio: 0 });
  });

  it('asks Kubernetes without the custom metrics API, Prometheus for the signals, and passes other tools through', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const kube: ToolClient = {
      callTool: async <T,>(tool: string, args: Record<string, unknown>) => {
        calls.push([tool, args]);
        return { ok: true as const, data: (tool === 'get_pod_metrics' ? k8sPods : { revisions: [] }) as T, raw: null };
      },
      close: async () => {},
    };
    const tools = withPrometheusSignals(kube, (ns) => (ns === 'acme-prod' ? client : undefined));
    const out = await tools.callTool<{ service: { p99_ms: number }; signals_source: unknown }>('get_pod_metrics', { namespace: 'acme-prod', deployment: 'checkout' });
    expect(out.ok).toBe(true);
    if (out.ok) expect(out.data.service.p99_ms).toBeGreaterThan(500);
    expect(calls[0]).toEqual(['get_pod_metrics', { namespace: 'acme-prod', deployment: 'checkout', service_metrics: false }]);
    await tools.callTool('get_rollout_history', { namespace: 'acme-prod', deployment: 'checkout' });
    expect(calls[1]).toEqual(['get_rollout_history', { namespace: 'acme-prod', deployment: 'checkout' }]);
    // A namespace without a Prometheus session reads Kubernetes as before.
    await tools.callTool('get_pod_metrics', { namespace: 'other', deployment: 'x' });
    expect(calls[2]).toEqual(['get_pod_metrics', { namespace: 'other', deployment: 'x' }]);
  });
});
