// The series store on its own (lookback, staleness, left-open ranges, retention, memory), and the
// sampler recording the seed scenario on a VirtualClock: the stored series track the twin.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { startSampler } from '../../../src/twin/metrics/sampler.ts';
import { SeriesStore, type Sample } from '../../../src/twin/metrics/series-store.ts';
import { PromQLEngine } from '../../../src/twin/metrics/promql-engine.ts';
import { TWIN_METRIC_FAMILIES, meanLatencyS } from '../../../src/twin/metrics/twin-collector.ts';
import { buildScenario, type Scenario } from '../../../src/twin/scenarios/index.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const S = 15_000;
const g = (name: string, labels: Record<string, string>, value: number): Sample => ({ labels: { __name__: name, ...labels }, value });

describe('SeriesStore', () => {
  it('finds the newest sample within the 5-minute lookback, and nothing after a series goes stale', () => {
    const store = new SeriesStore();
    for (let i = 0; i < 10; i++) {
      const samples = [g('m', { pod: 'a' }, i)];
      if (i < 4) samples.push(g('m', { pod: 'b' }, 100 + i));
      store.append(T0 + i * S, samples);
    }
    const [a] = store.select([{ name: 'pod', op: '=', value: 'a' }]);
    const [b] = store.select([{ name: 'pod', op: '=', value: 'b' }]);
    expect(store.valueAt(a!, T0 + 2 * S)).toBe(2);
    expect(store.valueAt(a!, T0 + 2 * S + 14_999)).toBe(2);
    expect(store.valueAt(a!, T0 - 1)).toBeUndefined();
    // The last scrape is at T0+9S: within the lookback until 5 minutes later (exclusive).
    expect(store.valueAt(a!, T0 + 9 * S + 299_999)).toBe(9);
    expect(store.valueAt(a!, T0 + 9 * S + 300_000)).toBeUndefined();
    // b was last scraped at T0+3S; from the next scrape on it is stale, not a 5-minute ghost.
    expect(store.valueAt(b!, T0 + 3 * S)).toBe(103);
    expect(store.valueAt(b!, T0 + 4 * S)).toBeUndefined();
  });

  it('gives ranges as (from, to], oldest first, skipping the scrapes a series missed', () => {
    const store = new SeriesStore({ chunkSize: 4 });
    for (let i = 0; i < 12; i++) store.append(T0 + i * S, i % 3 === 0 ? [] : [g('m', {}, i)]);
    const [m] = store.allSeries();
    const r = store.range(m!, T0 + 2 * S, T0 + 8 * S);
    expect(r.vs).toEqual([4, 5, 7, 8]);
    expect(r.ts).toEqual([T0 + 4 * S, T0 + 5 * S, T0 + 7 * S, T0 + 8 * S]);
    expect(store.range(m!, T0 + 100 * S, T0 + 200 * S).vs).toEqual([]);
  });

  it('stores NaN as a value, distinct from the staleness marker', () => {
    const store = new SeriesStore();
    store.append(T0, [g('m', {}, NaN)]);
    store.append(T0 + S, [g('m', {}, 1)]);
    const [m] = store.allSeries();
    expect(store.valueAt(m!, T0)).toBeNaN();
    expect(store.range(m!, T0 - 1, T0 + S).vs).toEqual([NaN, 1]);
  });

  it('selects with =, !=, =~, !~ where a missing label is the empty value', () => {
    const store = new SeriesStore();
    store.append(T0, [g('m', { ns: 'a', pod: 'x-1' }, 1), g('m', { ns: 'b', pod: 'y-1' }, 2), g('m', { pod: 'z' }, 3), g('n', { ns: 'a' }, 4)]);
    const pods = (ms: Parameters<SeriesStore['select']>[0]) => store.select(ms).map((r) => r.labels.pod ?? r.labels.__name__).sort();
    expect(pods([{ name: '__name__', op: '=', value: 'm' }, { name: 'ns', op: '=', value: 'a' }])).toEqual(['x-1']);
    expect(pods([{ name: '__name__', op: '=', value: 'm' }, { name: 'ns', op: '!=', value: 'a' }])).toEqual(['y-1', 'z']);
    expect(pods([{ name: 'pod', op: '=~', value: 'x-.*|z' }])).toEqual(['x-1', 'z']);
    expect(pods([{ name: 'pod', op: '=~', value: 'x' }])).toEqual([]); // anchored
    expect(pods([{ name: '__name__', op: '=', value: 'm' }, { name: 'ns', op: '!~', value: 'a|b' }])).toEqual(['z']);
    expect(pods([{ name: 'ns', op: '=', value: '' }])).toEqual(['z']);
  });

  it('refuses scrapes out of order and a series twice in one scrape', () => {
    const store = new SeriesStore();
    store.append(T0, [g('m', {}, 1)]);
    expect(() => store.append(T0, [])).toThrow(RangeError);
    expect(() => store.append(T0 + 1, [g('m', { a: '' }, 1), g('m', {}, 2)])).toThrow(/duplicate series/);
  });

  it('drops whole chunks beyond the retention and forgets series with no samples left', () => {
    const store = new SeriesStore({ retentionMs: 10 * 60_000, chunkSize: 8 });
    for (let i = 0; i < 200; i++) store.append(T0 + i * S, i < 20 ? [g('old', {}, i), g('m', {}, i)] : [g('m', {}, i)]);
    const st = store.stats();
    expect(st.newestMs).toBe(T0 + 199 * S);
    // At least the retention is kept, at most one chunk more.
    expect(st.oldestMs!).toBeLessThanOrEqual(T0 + 199 * S - 10 * 60_000);
    expect(st.oldestMs!).toBeGreaterThan(T0 + 199 * S - 10 * 60_000 - 8 * S);
    expect(store.select([{ name: '__name__', op: '=', value: 'old' }])).toEqual([]);
    expect(st.series).toBe(1);
    expect(st.samples).toBe(st.scrapes);
  });

  it('holds a day of 15 s scrapes of 300 series in about 14 MB of buffers', () => {
    const store = new SeriesStore();
    const labels = Array.from({ length: 300 }, (_, i) => ({ __name__: `m${i % 10}`, namespace: 'acme-prod', tenant: 'acme', pod: `p${i}` }));
    const started = performance.now();
    for (let i = 0; i <= 24 * 240; i++) store.append(T0 + i * S, labels.map((l, j) => ({ labels: l, value: i + j })));
    const ms = performance.now() - started;
    const st = store.stats();
    expect(st.series).toBe(300);
    expect(st.bufferBytes).toBeLessThan(16 * 2 ** 20);
    console.log(`a day of 300 series: ${(st.bufferBytes / 2 ** 20).toFixed(1)} MiB of buffers, ${st.samples} samples, appended in ${ms.toFixed(0)} ms`);
  });
});

describe('the sampler on the seed scenario', () => {
  async function run(minutes: number, act?: (s: Scenario, clock: VirtualClock) => Promise<void>) {
    const clock = new VirtualClock(T0);
    const s = buildScenario('jvm-heap-regression', clock);
    s.twin.start();
    const sampler = startSampler(s.twin);
    if (act) await act(s, clock);
    else await clock.advance(minutes * 60_000);
    return { clock, s, sampler, engine: new PromQLEngine(sampler.store) };
  }

  it('scrapes at start and every 15 s, with every family, every series labelled with namespace and tenant', async () => {
    const { clock, sampler } = await run(10);
    const st = sampler.store.stats();
    expect(st.scrapes).toBe(41);
    expect(st.oldestMs).toBe(T0);
    expect(st.newestMs).toBe(clock.now());
    const names = new Set(sampler.store.allSeries().map((r) => r.labels.__name__));
    for (const f of TWIN_METRIC_FAMILIES) expect(names, f.name).toContain(f.name);
    for (const r of sampler.store.allSeries()) {
      expect(r.labels.namespace, JSON.stringify(r.labels)).toMatch(/^(acme|globex)-prod$/);
      expect(r.labels.tenant).toBe(r.labels.namespace!.split('-')[0]);
    }
    sampler.stop();
    await clock.advance(60_000);
    expect(sampler.store.stats().scrapes).toBe(41);
  });

  it('records what the twin reports: latency, replicas, memory, GC time and request rates', async () => {
    const { clock, s, sampler, engine } = await run(4);
    const now = clock.now();
    const one = (q: string) => {
      const v = engine.instant(q, now);
      if (v.type !== 'vector' || v.samples.length !== 1) throw new Error(`${q}: ${JSON.stringify(v)}`);
      return v.samples[0]!.value;
    };
    const m = s.twin.serviceMetrics('acme-prod', 'checkout');
    expect(one('http_request_duration_seconds{namespace="acme-prod",deployment="checkout",quantile="0.99"}')).toBeCloseTo(m.p99_ms / 1000, 9);
    expect(one('http_request_duration_seconds{namespace="acme-prod",deployment="checkout",quantile="0.5"}')).toBeCloseTo(m.p50_ms / 1000, 9);
    expect(m.p99_ms).toBeGreaterThan(1000); // the incident is under way
    expect(one('kube_deployment_spec_replicas{deployment="checkout"}')).toBe(8);
    expect(one('kube_deployment_status_replicas_ready{deployment="checkout"}')).toBe(8);
    expect(one('rate(http_requests_total{deployment="checkout"}[1m])') / m.rps).toBeCloseTo(1, 1);
    const meanS = one('rate(http_request_duration_seconds_sum{deployment="checkout"}[1m]) / rate(http_request_duration_seconds_count{deployment="checkout"}[1m])');
    expect(meanS / meanLatencyS(m.p50_ms, m.p99_ms)).toBeCloseTo(1, 1);
    for (const p of s.twin.podMetrics('acme-prod', 'checkout')) {
      expect(one(`container_memory_working_set_bytes{pod="${p.pod}"}`)).toBe(p.memory_bytes);
      expect(one(`container_spec_memory_limit_bytes{pod="${p.pod}"}`)).toBe(p.memory_limit_bytes);
      // GC time per minute, read back from the counter, tracks the twin's figure (it moves within the window).
      const gc = one(`rate(jvm_gc_pause_seconds_total{pod="${p.pod}"}[30s]) * 60000`);
      expect(Math.abs(gc - p.gc_pause_ms_per_min) / p.gc_pause_ms_per_min).toBeLessThan(0.1);
    }
    // The three sick pods: GC time up ~340% on them, memory at 90%+.
    const sick = engine.instant('container_memory_working_set_bytes{deployment!="x",pod=~"checkout-.*"} / container_spec_memory_limit_bytes > 0.9', now);
    expect(sick.type === 'vector' && sick.samples.map((x) => x.labels.pod).sort()).toEqual([...s.sickPods['acme-prod/checkout']!].sort());
    expect(sampler.store.stats().scrapes).toBe(17);
  });

  it('follows scaling and rollback: new pods appear, replaced pods go stale at once', async () => {
    const { clock, s, engine } = await run(0, async (sc, c) => {
      await c.advance(90_000);
      sc.twin.scale('acme-prod', 'checkout', 12);
      await c.advance(60_000);
      sc.twin.applyTemplate('acme-prod', 'checkout', sc.twin.templateOfRevision('acme-prod', 'checkout', 1)!, 'rollback to revision 1');
      await c.advance(5 * 60_000);
    });
    const now = clock.now();
    const pods = (at: number) => {
      const v = engine.instant('container_memory_working_set_bytes{namespace="acme-prod",container="checkout"}', at);
      return v.type === 'vector' ? v.samples.map((x) => x.labels.pod).sort() : [];
    };
    expect(pods(T0 + 60_000)).toHaveLength(8);
    expect(pods(T0 + 150_000)).toHaveLength(12);
    expect(pods(now)).toEqual(s.twin.podMetrics('acme-prod', 'checkout').map((p) => p.pod).sort());
    expect(pods(now).some((p) => s.sickPods['acme-prod/checkout']!.includes(p!))).toBe(false);
    const spec = engine.range('kube_deployment_spec_replicas{deployment="checkout"}', T0, now, 60_000);
    expect(spec.series[0]!.vs.slice(0, 3)).toEqual([8, 8, 12]);
  });

  it('takes its interval and retention from the options', async () => {
    const clock = new VirtualClock(T0);
    const { twin } = buildScenario('jvm-heap-regression', clock);
    const sampler = startSampler(twin, { intervalMs: 60_000, retentionMs: 5 * 60_000, chunkSize: 2 });
    await clock.advance(30 * 60_000);
    const st = sampler.store.stats();
    expect(st.newestMs).toBe(T0 + 30 * 60_000);
    expect(st.scrapes).toBeLessThanOrEqual(8);
    expect(st.oldestMs!).toBeLessThanOrEqual(T0 + 25 * 60_000);
    sampler.stop();
  });
});
