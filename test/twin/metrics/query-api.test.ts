// The query API over HTTP, on a store with hand-made series whose every answer can be worked out by
// hand: selectors with each matcher, lookback and staleness, offset, the functions, aggregation,
// arithmetic and comparisons, vector matching, query_range steps, series/labels endpoints, and the
// errors — each in Prometheus's JSON shape and status code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeriesStore, type Sample } from '../../../src/twin/metrics/series-store.ts';
import { formatFloat, parseTime, startQueryApiServer, type QueryApiServer } from '../../../src/twin/metrics/query-api.ts';
import { SUPPORTED_SUBSET } from '../../../src/twin/metrics/promql-error.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const S = 15_000;
/** 20 minutes in: scrape 80, on the grid. */
const T = T0 + 80 * S;
const sec = (ms: number) => ms / 1000;

function buildStore(): SeriesStore {
  const store = new SeriesStore();
  for (let i = 0; i <= 120; i++) {
    const a = { namespace: 'a', tenant: 'ta' };
    const b = { namespace: 'b', tenant: 'tb' };
    const s: Sample[] = [
      { labels: { __name__: 'req_total', ...a, deployment: 'web', pod: 'p1' }, value: 15 * i },
      { labels: { __name__: 'req_total', ...a, deployment: 'web', pod: 'p2' }, value: 30 * i },
      // Restarted at scrape 60: the counter resets.
      { labels: { __name__: 'req_total', ...b, deployment: 'api', pod: 'q1' }, value: 45 * (i < 60 ? i : i - 60) },
      { labels: { __name__: 'err_total', ...a, deployment: 'web', pod: 'p1' }, value: 1.5 * i },
      { labels: { __name__: 'err_total', ...b, deployment: 'api', pod: 'q1' }, value: 4.5 * i },
      { labels: { __name__: 'mem_bytes', ...a, pod: 'p1' }, value: 100 + (i % 4) },
      { labels: { __name__: 'mem_bytes', ...a, pod: 'p2' }, value: 200 },
      { labels: { __name__: 'mem_bytes', ...b, pod: 'q1' }, value: 300 },
      { labels: { __name__: 'limit_bytes', ...a, pod: 'p1', container: 'x' }, value: 400 },
      { labels: { __name__: 'limit_bytes', ...a, pod: 'p2', container: 'x' }, value: 400 },
      { labels: { __name__: 'limit_bytes', ...b, pod: 'q1', container: 'x' }, value: 600 },
    ];
    if (i < 40) s.push({ labels: { __name__: 'gone', ...a, pod: 'old' }, value: 1 });
    store.append(T0 + i * S, s);
  }
  return store;
}

let server: QueryApiServer;
beforeAll(async () => {
  server = await startQueryApiServer(buildStore(), { now: () => T });
});
afterAll(async () => {
  await server.close();
});

async function api(path: string, params: Record<string, string | string[]> = {}, method: 'GET' | 'POST' = 'GET') {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) sp.append(k, x);
  const res =
    method === 'GET'
      ? await fetch(`${server.url}/api/v1${path}?${sp}`)
      : await fetch(`${server.url}/api/v1${path}`, { method, body: sp, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: JSON.parse(text) as any };
}

/** query at T (or `at`), the result as {labels → value}. */
async function vec(query: string, at = T): Promise<Record<string, number>> {
  const r = await api('/query', { query, time: String(sec(at)) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.data.resultType).toBe('vector');
  const out: Record<string, number> = {};
  for (const s of r.body.data.result) {
    expect(s.value[0]).toBe(sec(at));
    out[JSON.stringify(s.metric)] = num(s.value[1]);
  }
  return out;
}

const num = (v: string) => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));
/** Every value rounded to 12 significant digits: the arithmetic of extrapolation is not exact. */
const rounded = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([key, v]) => [key, Number(v.toPrecision(12))]));
const k = (labels: Record<string, string>) => JSON.stringify(labels);
const A1 = { namespace: 'a', pod: 'p1', tenant: 'ta' };
const A2 = { namespace: 'a', pod: 'p2', tenant: 'ta' };
const B1 = { namespace: 'b', pod: 'q1', tenant: 'tb' };

async function badData(query: string, match: RegExp, status = 400, errorType = 'bad_data') {
  const r = await api('/query', { query, time: String(sec(T)) });
  expect(r.status, query).toBe(status);
  expect(Object.keys(r.body).sort()).toEqual(['error', 'errorType', 'status']);
  expect(r.body.status).toBe('error');
  expect(r.body.errorType).toBe(errorType);
  expect(r.body.error).toMatch(match);
  return r.body.error as string;
}

describe('/api/v1/query: selectors', () => {
  it('answers in Prometheus\'s exact JSON shape', async () => {
    const r = await api('/query', { query: 'mem_bytes{pod="p2"}', time: String(sec(T)) });
    expect(r.type).toBe('application/json');
    expect(r.body).toEqual({
      status: 'success',
      data: { resultType: 'vector', result: [{ metric: { __name__: 'mem_bytes', namespace: 'a', pod: 'p2', tenant: 'ta' }, value: [sec(T), '200'] }] },
    });
    expect(await api('/query', { query: '1 + 2 * 3 ^ 2 ^ 0.5', time: '1700000000.5' })).toMatchObject({
      status: 200,
      body: { status: 'success', data: { resultType: 'scalar', result: [1700000000.5, String(1 + 2 * 3 ** (2 ** 0.5))] } },
    });
  });

  it('matches labels with =, !=, =~ (anchored), !~', async () => {
    expect(Object.keys(await vec('mem_bytes{namespace="a"}'))).toHaveLength(2);
    expect(await vec('mem_bytes{namespace!="a"}')).toEqual({ [k({ __name__: 'mem_bytes', ...B1 })]: 300 });
    expect(Object.keys(await vec('mem_bytes{pod=~"p.*"}'))).toHaveLength(2);
    expect(await vec('mem_bytes{pod=~"p"}')).toEqual({});
    expect(Object.keys(await vec('mem_bytes{pod!~"p1|q1"}'))).toEqual([k({ __name__: 'mem_bytes', ...A2 })]);
    expect(Object.keys(await vec('{__name__=~"mem_.*", pod="p1"}'))).toEqual([k({ __name__: 'mem_bytes', ...A1 })]);
    expect(Object.keys(await vec('{"mem_bytes", pod="p1"}'))).toEqual([k({ __name__: 'mem_bytes', ...A1 })]);
    expect(Object.keys(await vec('mem_bytes{pod=~"(?i)P1"}'))).toEqual([k({ __name__: 'mem_bytes', ...A1 })]);
    expect(Object.keys(await vec('mem_bytes{container=""}'))).toHaveLength(3); // no such label = ""
  });

  it('looks back 5 minutes, honours staleness, applies offset', async () => {
    const last = T0 + 120 * S;
    expect(Object.keys(await vec('mem_bytes', last + 299_000))).toHaveLength(3);
    expect(await vec('mem_bytes', last + 300_000)).toEqual({});
    expect(await vec('gone', T0 + 9 * 60_000)).toEqual({ [k({ __name__: 'gone', namespace: 'a', pod: 'old', tenant: 'ta' })]: 1 });
    expect(await vec('gone', T0 + 10 * 60_000)).toEqual({}); // stale, not a ghost for 5 minutes
    expect(await vec('mem_bytes{pod="p1"} offset 30s')).toEqual({ [k({ __name__: 'mem_bytes', ...A1 })]: 102 });
    expect(await vec('mem_bytes{pod="p1"} offset -15s')).toEqual({ [k({ __name__: 'mem_bytes', ...A1 })]: 101 });
  });

  it('returns a range selector as a matrix of the samples in (t - range, t]', async () => {
    const r = await api('/query', { query: 'mem_bytes{pod="p1"}[1m]', time: String(sec(T)) });
    expect(r.body.data).toEqual({
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'mem_bytes', ...A1 },
          values: [
            [sec(T - 45_000), '101'],
            [sec(T - 30_000), '102'],
            [sec(T - 15_000), '103'],
            [sec(T), '100'],
          ],
        },
      ],
    });
  });
});

describe('/api/v1/query: functions and operators', () => {
  it('rate, irate, increase extrapolate and correct counter resets as Prometheus does', async () => {
    expect(rounded(await vec('rate(req_total{namespace="a"}[5m])'))).toEqual({
      [k({ deployment: 'web', ...A1 })]: 1,
      [k({ deployment: 'web', ...A2 })]: 2,
    });
    expect(rounded(await vec('increase(req_total{pod="p1"}[5m])'))).toEqual({ [k({ deployment: 'web', ...A1 })]: 300 });
    expect(rounded(await vec('irate(req_total{pod="p2"}[1m])'))).toEqual({ [k({ deployment: 'web', ...A2 })]: 2 });
    // q1 restarted at scrape 60; at scrape 64 its 5m window holds 2025…2655, 0, 45…180.
    const at = T0 + 64 * S;
    const [rate] = Object.values(await vec('rate(req_total{pod="q1"}[5m])', at));
    expect(rate).toBeCloseTo((2655 - 2025 + 180) / 285, 12);
    expect(Object.values(await vec('irate(req_total{pod="q1"}[1m])', T0 + 60 * S))).toEqual([0]);
    // Fewer than two samples: no output.
    expect(await vec('rate(req_total{pod="p1"}[10s])')).toEqual({});
  });

  it('delta and the _over_time functions', async () => {
    const one = async (q: string) => Object.values(await vec(q))[0];
    expect(await one('delta(mem_bytes{pod="p1"}[1m])')).toBeCloseTo((-1 * 60) / 45, 12);
    expect(await one('avg_over_time(mem_bytes{pod="p1"}[1m])')).toBe(101.5);
    expect(await one('max_over_time(mem_bytes{pod="p1"}[1m])')).toBe(103);
    expect(await one('min_over_time(mem_bytes{pod="p1"}[1m])')).toBe(100);
    expect(await one('sum_over_time(mem_bytes{pod="p1"}[1m])')).toBe(406);
    expect(await one('count_over_time(mem_bytes{pod="p1"}[1m])')).toBe(4);
    expect(await vec('last_over_time(mem_bytes{pod="p1"}[1m] offset 15s)')).toEqual({ [k({ __name__: 'mem_bytes', ...A1 })]: 103 });
    expect(await vec('max_over_time(mem_bytes{pod="p1"}[1m])')).toEqual({ [k(A1)]: 103 }); // name dropped
  });

  it('sum/avg/min/max/count by and without', async () => {
    expect(rounded(await vec('sum by (namespace) (rate(req_total[5m]))'))).toEqual({ [k({ namespace: 'a' })]: 3, [k({ namespace: 'b' })]: 3 });
    expect(rounded(await vec('sum(rate(req_total[5m])) by (namespace)'))).toEqual({ [k({ namespace: 'a' })]: 3, [k({ namespace: 'b' })]: 3 });
    expect(await vec('avg without (pod) (mem_bytes)')).toEqual({ [k({ namespace: 'a', tenant: 'ta' })]: 150, [k({ namespace: 'b', tenant: 'tb' })]: 300 });
    expect(await vec('max by (namespace) (mem_bytes)')).toEqual({ [k({ namespace: 'a' })]: 200, [k({ namespace: 'b' })]: 300 });
    expect(await vec('min by (tenant) (mem_bytes)')).toEqual({ [k({ tenant: 'ta' })]: 100, [k({ tenant: 'tb' })]: 300 });
    expect(await vec('count(mem_bytes)')).toEqual({ '{}': 3 });
    expect(await vec('SUM(mem_bytes)')).toEqual({ '{}': 600 });
    expect(await vec('sum by (nope) (mem_bytes)')).toEqual({ '{}': 600 });
  });

  it('compares and computes with numbers: filters keep the name, arithmetic and bool drop it', async () => {
    expect(await vec('mem_bytes > 150')).toEqual({ [k({ __name__: 'mem_bytes', ...A2 })]: 200, [k({ __name__: 'mem_bytes', ...B1 })]: 300 });
    expect(await vec('150 < mem_bytes')).toEqual(await vec('mem_bytes > 150'));
    expect(await vec('mem_bytes > bool 150')).toEqual({ [k(A1)]: 0, [k(A2)]: 1, [k(B1)]: 1 });
    expect(await vec('mem_bytes{pod="p1"} * 1000')).toEqual({ [k(A1)]: 100_000 });
    expect(await vec('1000 - mem_bytes{pod="p1"}')).toEqual({ [k(A1)]: 900 });
    expect(await vec('mem_bytes{pod="p1"} / 0')).toEqual({ [k(A1)]: Infinity });
    expect(await vec('mem_bytes{pod="p1"} % 30 == 10')).toEqual({ [k(A1)]: 10 });
    expect(await vec('-mem_bytes{pod="p1"}')).toEqual({ [k(A1)]: -100 });
    expect(await vec('(mem_bytes{pod="p1"})')).toEqual({ [k({ __name__: 'mem_bytes', ...A1 })]: 100 });
    const r = await api('/query', { query: '1 > bool 2', time: String(sec(T)) });
    expect(r.body.data).toEqual({ resultType: 'scalar', result: [sec(T), '0'] });
    const inf = await api('/query', { query: '-1/0', time: String(sec(T)) });
    expect(inf.body.data.result[1]).toBe('-Inf');
  });

  it('matches vectors one-to-one, with on/ignoring, and the set operators', async () => {
    // p1: 1.5 errors per 15 requests; q1: 4.5 per 45 (its reset is outside the window).
    expect(rounded(await vec('rate(err_total[5m]) / rate(req_total[5m])'))).toEqual({ [k({ deployment: 'web', ...A1 })]: 0.1, [k({ deployment: 'api', ...B1 })]: 0.1 });
    expect(await vec('mem_bytes / on(pod) limit_bytes')).toEqual({ [k({ pod: 'p1' })]: 0.25, [k({ pod: 'p2' })]: 0.5, [k({ pod: 'q1' })]: 0.5 });
    expect(await vec('mem_bytes / ignoring(container) limit_bytes > 0.4')).toEqual({ [k(A2)]: 0.5, [k(B1)]: 0.5 });
    expect(await vec('mem_bytes / limit_bytes')).toEqual({}); // container differs: no match
    expect(Object.keys(await vec('mem_bytes and on(pod) err_total'))).toEqual([k({ __name__: 'mem_bytes', ...A1 }), k({ __name__: 'mem_bytes', ...B1 })]);
    expect(Object.keys(await vec('mem_bytes unless on(pod) err_total'))).toEqual([k({ __name__: 'mem_bytes', ...A2 })]);
    expect(Object.keys(await vec('mem_bytes{pod="p1"} or mem_bytes{pod="p2"} or mem_bytes{pod="p1"}'))).toHaveLength(2);
    await badData('mem_bytes / on(namespace) limit_bytes', /matching labels must be unique on one side/, 422, 'execution');
    await badData('limit_bytes / on(namespace) mem_bytes{pod!="p2"}', /many-to-one matching must be explicit/, 422, 'execution');
    await badData('rate({__name__=~"req_total|err_total", pod="p1"}[5m])', /same labelset/, 422, 'execution');
  });
});

describe('/api/v1/query_range', () => {
  it('evaluates at start + k·step up to end, as a matrix sorted by labels', async () => {
    const start = T0 + 67_000;
    const r = await api('/query_range', { query: 'mem_bytes{namespace="a"}', start: String(sec(start)), end: String(sec(T0 + 300_000)), step: '1m' });
    expect(r.status).toBe(200);
    expect(r.body.data.resultType).toBe('matrix');
    expect(r.body.data.result.map((s: any) => s.metric.pod)).toEqual(['p1', 'p2']);
    expect(r.body.data.result[1].values).toEqual([67, 127, 187, 247].map((s) => [sec(T0) + s, '200']));
    // p1 at 67 s sees scrape 4 (60 s): 100 + 0; at 127 s scrape 8: 100; at 187 s scrape 12: 100 …
    expect(r.body.data.result[0].values.map((v: any) => v[1])).toEqual(['100', '100', '100', '100']);
    const step = await api('/query_range', { query: 'max_over_time(mem_bytes{pod="p1"}[30s])', start: new Date(T).toISOString(), end: new Date(T + 45_000).toISOString(), step: '15' });
    expect(step.body.data.result[0].values).toEqual([
      [sec(T), '103'],
      [sec(T + 15_000), '101'],
      [sec(T + 30_000), '102'],
      [sec(T + 45_000), '103'],
    ]);
  });

  it('returns a scalar as one series without labels; drops series where they have no value', async () => {
    const r = await api('/query_range', { query: '2 * 21', start: String(sec(T)), end: String(sec(T + 30_000)), step: '15s' }, 'POST');
    expect(r.body.data.result).toEqual([{ metric: {}, values: [0, 15, 30].map((s) => [sec(T) + s, '42']) }]);
    const gone = await api('/query_range', { query: 'gone', start: String(sec(T0 + 9 * 60_000)), end: String(sec(T0 + 11 * 60_000)), step: '60' });
    expect(gone.body.data.result[0].values.map((v: any) => v[0])).toEqual([sec(T0) + 540]);
  });

  it('refuses bad ranges as Prometheus does', async () => {
    const q = (p: Record<string, string>) => api('/query_range', { query: 'mem_bytes', ...p });
    expect((await q({ start: '100', end: '50', step: '1' })).body.error).toBe('end timestamp must not be before start time');
    expect((await q({ start: '100', end: '150', step: '0' })).body.error).toMatch(/zero or negative query resolution step widths are not accepted/);
    expect((await q({ start: '100', end: '150', step: 'x' })).body.error).toBe('invalid parameter "step": cannot parse "x" to a valid duration');
    expect((await q({ start: 'yesterday', end: '150', step: '1' })).body.error).toBe('invalid parameter "start": cannot parse "yesterday" to a valid timestamp');
    const many = await q({ start: '0', end: '100000', step: '1' });
    expect(many.status).toBe(400);
    expect(many.body.error).toMatch(/exceeded maximum resolution of 11,000 points per timeseries/);
    const rv = await api('/query_range', { query: 'mem_bytes[5m]', start: '0', end: '10', step: '1' });
    expect(rv.body).toMatchObject({ status: 'error', errorType: 'bad_data' });
    expect(rv.body.error).toMatch(/invalid expression type "range vector" for range query/);
  });
});

describe('/api/v1/series, labels, label values, metadata', () => {
  it('lists the series matching any match[], within start/end', async () => {
    const r = await api('/series', { 'match[]': ['mem_bytes{namespace="a"}', 'gone'] });
    expect(r.body).toEqual({
      status: 'success',
      data: [
        { __name__: 'gone', namespace: 'a', pod: 'old', tenant: 'ta' },
        { __name__: 'mem_bytes', ...A1 },
        { __name__: 'mem_bytes', ...A2 },
      ],
    });
    const later = await api('/series', { 'match[]': ['mem_bytes{namespace="a"}', 'gone'], start: String(sec(T0 + 10 * 60_000)), end: String(sec(T)) }, 'POST');
    expect(later.body.data).toHaveLength(2);
    expect((await api('/series')).body).toEqual({ status: 'error', errorType: 'bad_data', error: 'no match[] parameter provided' });
    expect((await api('/series', { 'match[]': 'rate(x[5m])' })).body.error).toMatch(/^invalid parameter "match\[\]"/);
  });

  it('lists label names and values, sorted', async () => {
    expect((await api('/labels')).body).toEqual({ status: 'success', data: ['__name__', 'container', 'deployment', 'namespace', 'pod', 'tenant'] });
    expect((await api('/labels', { 'match[]': 'mem_bytes' }, 'POST')).body.data).toEqual(['__name__', 'namespace', 'pod', 'tenant']);
    expect((await api('/label/pod/values')).body).toEqual({ status: 'success', data: ['old', 'p1', 'p2', 'q1'] });
    expect((await api('/label/__name__/values')).body.data).toEqual(['err_total', 'gone', 'limit_bytes', 'mem_bytes', 'req_total']);
    expect((await api('/label/pod/values', { 'match[]': 'gone', start: String(sec(T)) })).body.data).toEqual([]);
    expect((await api('/label/a-b/values')).body).toEqual({ status: 'error', errorType: 'bad_data', error: 'invalid label name: "a-b"' });
  });

  it('answers metadata and buildinfo, 405 for a wrong method, 404 off the API', async () => {
    const md = await api('/metadata', { metric: 'kube_deployment_spec_replicas' });
    expect(md.body).toEqual({ status: 'success', data: { kube_deployment_spec_replicas: [{ type: 'gauge', help: 'Number of desired pods for a deployment.', unit: '' }] } });
    expect((await api('/status/buildinfo')).body.data.version).toMatch(/twin/);
    expect((await fetch(`${server.url}/api/v1/query`, { method: 'PUT' })).status).toBe(405);
    expect((await fetch(`${server.url}/api/v1/label/pod/values`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${server.url}/api/v1/nope`)).status).toBe(404);
  });
});

describe('/api/v1/query: errors', () => {
  it('refuses constructs beyond the subset by name, with the subset', async () => {
    const cases: [string, RegExp][] = [
      ['topk(1, mem_bytes)', /aggregation "topk"/],
      ['quantile_over_time(0.9, mem_bytes[5m])', /function "quantile_over_time"/],
      ['label_replace(mem_bytes, "a", "$1", "pod", "(.*)")', /function "label_replace"/],
      ['max_over_time(mem_bytes[5m:1m])', /subquery mem_bytes\[5m:1m\]/],
      ['mem_bytes @ 100', /@ modifier/],
      ['mem_bytes / on(pod) group_left limit_bytes', /group_left\/group_right/],
      ['"a string"', /string literal/],
      ['rate(mem_bytes[5m+1m])', /duration expression "5m\+1m"/],
      ['mem_bytes offset (1m+1m)', /offset expression/],
      ['mem_bytes atan2 mem_bytes', /binary operator "atan2"/],
      ['mem_bytes{pod=~"(?=p)p1"}', /lookaround is not supported/],
    ];
    for (const [q, what] of cases) {
      const msg = await badData(q, what);
      expect(msg).toMatch(/^invalid parameter "query": /);
      if (!/regexp/.test(msg)) expect(msg).toContain(`not supported by the twin's query API`);
      if (!/regexp/.test(msg)) expect(msg.endsWith(`supported: ${SUPPORTED_SUBSET}`)).toBe(true);
    }
  });

  it('reports syntax errors with a position, and type errors as Prometheus words them', async () => {
    await badData('sum(mem_bytes', /^invalid parameter "query": 1:14: parse error: unexpected end of input$/);
    await badData('mem_bytes{pod="p1"', /parse error/);
    await badData('', /no expression found in input/);
    await badData('foo_bar(mem_bytes)', /unknown function with name "foo_bar"/);
    await badData('rate(mem_bytes)', /expected type range vector in call to function "rate", got instant vector/);
    await badData('sum(mem_bytes[5m])', /expected type instant vector in aggregation expression, got range vector/);
    await badData('mem_bytes[5m] + 1', /binary expression must contain only scalar and instant vector types/);
    await badData('1 > 2', /comparisons between scalars must use BOOL modifier/);
    await badData('mem_bytes and 1', /set operator "and" not allowed in binary scalar expression/);
    await badData('{pod=~".*"}', /at least one non-empty matcher/);
    await badData('mem_bytes{pod="\\q"}', /unknown escape sequence/);
    await badData('mem_bytes offset 5m[1m]', /no offset modifiers allowed before range/);
    const t = await api('/query', { query: 'mem_bytes', time: 'noon' });
    expect(t.body.error).toBe('invalid parameter "time": cannot parse "noon" to a valid timestamp');
  });
});

describe('value and time formats', () => {
  it('formats floats as Go\'s FormatFloat(v, \'f\', -1, 64)', () => {
    expect(formatFloat(1e21)).toBe('1000000000000000000000');
    expect(formatFloat(1.5e-7)).toBe('0.00000015');
    expect(formatFloat(-2.5e22)).toBe('-25000000000000000000000');
    expect(formatFloat(1234.5)).toBe('1234.5');
    expect(formatFloat(NaN)).toBe('NaN');
    expect(formatFloat(Infinity)).toBe('+Inf');
    expect(formatFloat(-Infinity)).toBe('-Inf');
    expect(formatFloat(-0)).toBe('-0');
  });

  it('reads Unix seconds and RFC 3339 times to the millisecond', () => {
    expect(parseTime('1700000000.1234', 'time')).toBe(1_700_000_000_123);
    expect(parseTime('2026-11-24T10:00:00.5Z', 'time')).toBe(T0 + 500);
    expect(parseTime('2026-11-24T11:00:00+01:00', 'time')).toBe(T0);
    expect(() => parseTime('2026-11-24', 'time')).toThrow(/cannot parse/);
  });
});
