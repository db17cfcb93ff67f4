// Integration with a real Prometheus (the Debian package's binary, run by this test on a free port with
// a temporary config and storage directory):
// 1. it scrapes the live twin's /metrics every second and answers PromQL over what it scraped;
// 2. differential: the twin's own store (40 simulated minutes of the seed incident) is backfilled into
//    Prometheus with `promtool tsdb create-blocks-from openmetrics`, and every query of the subset is
//    asked of both; the twin's query API must answer as Prometheus does (same result type, series,
//    labels, timestamps; values equal to 1e-9 relative).
// Evaluation times sit between scrapes: Prometheus 2.x (Debian bookworm ships 2.42) closes ranges on
// the left, Prometheus 3 and the twin do not, and that only shows on a sample exactly at the boundary.
// A missing binary fails the suite with the apt line that installs it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { startMetricsServer, formatSampleValue, type MetricsServer } from '../../../src/twin/metrics/exposition.ts';
import { compareLabels } from '../../../src/twin/metrics/labels.ts';
import { startQueryApiServer, type QueryApiServer } from '../../../src/twin/metrics/query-api.ts';
import { startSampler } from '../../../src/twin/metrics/sampler.ts';
import type { SeriesStore } from '../../../src/twin/metrics/series-store.ts';
import { TWIN_METRIC_FAMILIES } from '../../../src/twin/metrics/twin-collector.ts';
import { buildScenario } from '../../../src/twin/scenarios/index.ts';
import type { ClusterTwin } from '../../../src/twin/cluster-twin.ts';
import { requireBinary, startPrometheus, type PrometheusProcess } from './prometheus-process.ts';

const HOUR = 3_600_000;
/** Where the backfilled run starts: 6-7 hours ago, on the hour (well clear of the live head). */
const TB = Math.floor((Date.now() - 6 * HOUR) / HOUR) * HOUR;
const RUN_MS = 40 * 60_000;

let dir: string;
let prom: PrometheusProcess | undefined;
let metrics: MetricsServer | undefined;
let twinApi: QueryApiServer | undefined;
let liveTwin: ClusterTwin;
let store: SeriesStore;

/** The store as OpenMetrics, series by series, for promtool's backfill. */
function openMetrics(s: SeriesStore): string {
  const lines: string[] = [];
  const series = s.allSeries().sort((a, b) => compareLabels(a.labels, b.labels));
  for (const ref of series) {
    const { __name__: name, ...rest } = ref.labels;
    const labels = Object.entries(rest)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    const { ts, vs } = s.range(ref, -Infinity, Infinity);
    ts.forEach((t, i) => lines.push(`${name}{${labels}} ${formatSampleValue(vs[i]!)} ${t / 1000}`));
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

beforeAll(async () => {
  const promtool = requireBinary('promtool');
  requireBinary('prometheus');
  dir = mkdtempSync(join(tmpdir(), 'governor-twin-prom-'));

  // The recorded run, backfilled.
  const clock = new VirtualClock(TB);
  const recorded = buildScenario('jvm-heap-regression', clock);
  recorded.twin.start();
  const sampler = startSampler(recorded.twin);
  await clock.advance(RUN_MS);
  sampler.stop();
  store = sampler.store;
  writeFileSync(join(dir, 'backfill.om'), openMetrics(store));
  const bf = spawnSync(promtool, ['tsdb', 'create-blocks-from', 'openmetrics', join(dir, 'backfill.om'), join(dir, 'data')], { encoding: 'utf8' });
  if (bf.status !== 0) throw new Error(`promtool backfill failed: ${bf.stdout}${bf.stderr}`);
  twinApi = await startQueryApiServer(store, { now: () => TB + RUN_MS });

  // The live twin, scraped.
  const live = buildScenario('jvm-heap-regression', new VirtualClock(Date.now()));
  liveTwin = live.twin;
  metrics = await startMetricsServer(liveTwin);
  const target = new URL(metrics.url).host;
  prom = await startPrometheus({
    dir,
    config: [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: twin',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  });
}, 90_000);

afterAll(async () => {
  await prom?.stop();
  await metrics?.close();
  await twinApi?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(base: string, path: string, params: Record<string, string | string[]>): Promise<{ status: number; body: any }> {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) sp.append(k, x);
  const res = await fetch(`${base}/api/v1${path}?${sp}`);
  return { status: res.status, body: await res.json() };
}

async function eventually<T>(f: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; prometheus said:\n${prom?.log()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a real Prometheus scraping the twin', () => {
  it('scrapes /metrics and answers a PromQL query over the twin\'s data', async () => {
    const query = 'kube_deployment_spec_replicas{namespace="acme-prod",deployment="checkout"}';
    const replicas = async () => {
      const r = await get(prom!.url, '/query', { query });
      return r.body.data.result[0] as { metric: Record<string, string>; value: [number, string] } | undefined;
    };
    const first = await eventually(replicas, 'the first scrape');
    expect(first.metric).toEqual({
      __name__: 'kube_deployment_spec_replicas',
      deployment: 'checkout',
      instance: new URL(metrics!.url).host,
      job: 'twin',
      namespace: 'acme-prod',
      tenant: 'acme',
    });
    expect(Number(first.value[1])).toBe(liveTwin.getDeployment('acme-prod', 'checkout')!.spec.replicas);
    expect(first.value[1]).toBe('8');

    liveTwin.scale('acme-prod', 'checkout', 12);
    const scaled = await eventually(async () => {
      const s = await replicas();
      return s?.value[1] === '12' ? s : undefined;
    }, 'the scale to 12 to be scraped');
    expect(Number(scaled.value[1])).toBe(liveTwin.getDeployment('acme-prod', 'checkout')!.spec.replicas);

    const up = await get(prom!.url, '/query', { query: 'up{job="twin"}' });
    expect(up.body.data.result[0].value[1]).toBe('1');
    // Every family made it through Prometheus's parser, every series with namespace and tenant.
    const names = await get(prom!.url, '/label/__name__/values', { 'match[]': '{job="twin"}' });
    for (const f of TWIN_METRIC_FAMILIES) expect(names.body.data).toContain(f.name);
    // (up and scrape_* are Prometheus's own series about the scrape.)
    const untenanted = await get(prom!.url, '/query', {
      query: 'count({job="twin", __name__!~"up|scrape_.+", namespace=""} or {job="twin", __name__!~"up|scrape_.+", tenant=""})',
    });
    expect(untenanted.body.data.result).toEqual([]);
  });
});

// ---- differential -------------------------------------------------------------------------------

const close = (a: string, b: string) => {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
};

type Result = { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] };

/** Both answers, compared as Prometheus's clients would read them. Result order is not significant. */
function expectSameAnswer(query: string, ours: { status: number; body: any }, theirs: { status: number; body: any }) {
  const ctx = `${query}\n  twin: ${JSON.stringify(ours.body).slice(0, 600)}\n  prometheus: ${JSON.stringify(theirs.body).slice(0, 600)}`;
  expect(ours.status, ctx).toBe(theirs.status);
  expect(ours.body.status, ctx).toBe(theirs.body.status);
  if (theirs.body.status === 'error') {
    expect(ours.body.errorType, ctx).toBe(theirs.body.errorType);
    return;
  }
  const a = ours.body.data;
  const b = theirs.body.data;
  expect(a.resultType, ctx).toBe(b.resultType);
  if (b.resultType === 'scalar') {
    expect(a.result[0], ctx).toBe(b.result[0]);
    expect(close(a.result[1], b.result[1]), ctx).toBe(true);
    return;
  }
  const sort = (rs: Result[]) => [...rs].sort((x, y) => compareLabels(x.metric, y.metric));
  const ra = sort(a.result);
  const rb = sort(b.result);
  expect(ra.map((r) => r.metric), ctx).toEqual(rb.map((r) => r.metric));
  expect(rb.length, `${query} should select something`).toBeGreaterThan(0);
  ra.forEach((r, i) => {
    const pa = r.values ?? [r.value!];
    const pb = rb[i]!.values ?? [rb[i]!.value!];
    expect(pa.map((p) => p[0]), ctx).toEqual(pb.map((p) => p[0]));
    pa.forEach((p, j) => expect(close(p[1], pb[j]![1]), `${ctx}\n  at ${p[0]}: ${p[1]} vs ${pb[j]![1]}`).toBe(true));
  });
}

const QUERIES = [
  'http_request_duration_seconds{quantile="0.99"}',
  'http_request_duration_seconds{namespace="acme-prod",quantile=~"0.5|0.99",deployment!="cart"}',
  'container_memory_working_set_bytes{pod!~"checkout-.*",namespace!="globex-prod"}',
  'kube_deployment_spec_replicas offset 10m',
  'rate(http_requests_total[5m])',
  'irate(container_cpu_usage_seconds_total{pod=~"checkout-.*"}[1m])',
  'increase(jvm_gc_pause_seconds_total{namespace="acme-prod"}[10m])',
  'delta(container_memory_working_set_bytes{pod=~"checkout.*"}[5m])',
  'avg_over_time(http_request_duration_seconds{quantile="0.99"}[5m])',
  'max_over_time(container_memory_working_set_bytes[10m])',
  'min_over_time(container_memory_working_set_bytes[10m] offset 5m)',
  'sum_over_time(kube_deployment_status_replicas_ready[2m])',
  'count_over_time(kube_deployment_spec_replicas[3m])',
  'last_over_time(container_memory_working_set_bytes{pod=~"checkout.*"}[1m])',
  'sum by (namespace, deployment) (rate(http_requests_total[5m]))',
  'avg without (pod) (container_memory_working_set_bytes)',
  'max by (tenant) (container_memory_working_set_bytes / container_spec_memory_limit_bytes)',
  'min(container_memory_working_set_bytes)',
  'count by (namespace) (container_memory_working_set_bytes)',
  'container_memory_working_set_bytes / container_spec_memory_limit_bytes > 0.9',
  'rate(http_request_errors_total[5m]) / rate(http_requests_total[5m])',
  'rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m]) * 1000',
  'rate(jvm_gc_pause_seconds_total[5m]) * 60000 > 3000',
  'http_request_duration_seconds > bool 0.5',
  '0.5 < http_request_duration_seconds',
  '-kube_deployment_spec_replicas + 1',
  '2 ^ 10 % 7',
  'kube_deployment_spec_replicas and on(deployment) (http_request_duration_seconds{quantile="0.99"} > 1)',
  'kube_deployment_spec_replicas unless on(deployment) (http_request_duration_seconds{quantile="0.99"} > 1)',
  'kube_deployment_spec_replicas{deployment="checkout"} or kube_deployment_status_replicas',
  'container_memory_working_set_bytes / ignoring(container) container_spec_memory_limit_bytes',
  'container_memory_working_set_bytes{pod=~"checkout-.*"}[1m]',
  'rate(container_cpu_usage_seconds_total{pod=~"cart.*"}[90s] offset 2m)',
  // Errors: the same error type and status.
  'rate(container_memory_working_set_bytes)',
  'sum(container_memory_working_set_bytes',
  'container_memory_working_set_bytes / on(namespace) container_spec_memory_limit_bytes',
];

describe('the twin\'s query API answers as Prometheus does (differential, over backfilled twin data)', () => {
  const times = [TB + 25 * 60_000 + 7_500, TB + 38 * 60_000 + 3_217];

  it.each(QUERIES)('/api/v1/query %s', async (query) => {
    for (const t of times) {
      const params = { query, time: String(t / 1000) };
      expectSameAnswer(query, await get(twinApi!.url, '/query', params), await get(prom!.url, '/query', params));
    }
  });

  it.each([
    ['sum by (deployment) (rate(http_requests_total[2m]))', 60],
    ['http_request_duration_seconds{quantile="0.99",deployment="checkout"}', 30],
    ['container_memory_working_set_bytes{pod=~"checkout-.*"} / container_spec_memory_limit_bytes', 45],
    ['max_over_time(jvm_gc_pause_seconds_total[1m])', 120],
    ['3 * 4', 300],
  ] as const)('/api/v1/query_range %s (step %ss)', async (query, step) => {
    const params = { query, start: String((TB + 10 * 60_000 + 7_500) / 1000), end: String((TB + 35 * 60_000) / 1000), step: String(step) };
    expectSameAnswer(query, await get(twinApi!.url, '/query_range', params), await get(prom!.url, '/query_range', params));
  });

  it('/api/v1/series, /labels and /label/<name>/values', async () => {
    const window = { start: String(TB / 1000), end: String((TB + RUN_MS) / 1000) };
    const matchers = { 'match[]': ['kube_deployment_spec_replicas', 'container_memory_working_set_bytes{namespace="acme-prod",pod=~"checkout.*"}'] };
    const series = [await get(twinApi!.url, '/series', { ...window, ...matchers }), await get(prom!.url, '/series', { ...window, ...matchers })];
    expect(series[0]).toEqual(series[1]);
    expect(series[1]!.body.data.length).toBe(7 + 8);
    for (const path of ['/labels', '/label/pod/values', '/label/__name__/values', '/label/tenant/values']) {
      const ours = await get(twinApi!.url, path, window);
      const theirs = await get(prom!.url, path, window);
      expect(ours, path).toEqual(theirs);
    }
    const filtered = { ...window, 'match[]': 'http_requests_total{namespace="globex-prod"}' };
    expect(await get(twinApi!.url, '/label/deployment/values', filtered)).toEqual(await get(prom!.url, '/label/deployment/values', filtered));
  });
});
