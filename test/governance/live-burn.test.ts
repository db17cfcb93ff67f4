// Live burn rates from the tenant's SLIs: the slow share from the latency distribution, the burn as
// the bad share over the p99 objective's 1% budget, both windows required; read from the twin's
// Prometheus API on a real surge; the configured figure stands whenever the SLIs cannot be read.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { LiveBurnRates, burnOf, slowShare, type SliSample } from '../../src/governance/live-burn.ts';
import { PrometheusSliSource } from '../../src/runtime/prometheus-sli.ts';
import { DEFAULT_SIGNALS } from '../../mcp-servers/prometheus/signals.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startSampler } from '../../src/twin/metrics/sampler.ts';
import { startQueryApiServer } from '../../src/twin/metrics/query-api.ts';
import type { TenantSpec } from '../../src/governance/tenants.ts';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);

describe('burn rate arithmetic', () => {
  it('reads the slow share off the latency distribution through p50 and p99', () => {
    expect(slowShare(100, 400, 400)).toBeCloseTo(0.01, 3);
    expect(slowShare(100, 400, 100)).toBeCloseTo(0.5, 3);
    expect(slowShare(100, 400, 10_000)).toBeLessThan(1e-4);
    expect(slowShare(300, 300, 200)).toBe(1);
  });

  it('weights samples by the requests they served, counts failures as bad, and needs traffic', () => {
    const at = (t: number, p99: number, rps: number, error_ratio = 0): SliSample => ({ t, p50_ms: 100, p99_ms: p99, rps, error_ratio });
    // p99 exactly at the objective: 1% slow, on track.
    expect(burnOf([[at(0, 500, 100)]], 500, 0)).toBeCloseTo(1, 1);
    // 10% failed on top: 11% bad of a 1% budget.
    expect(burnOf([[at(0, 500, 100, 0.1)]], 500, 0)).toBeCloseTo(10.9, 0);
    // A quiet deployment's bad second weighs little beside a busy one's good second.
    const mixed = burnOf([[at(0, 5_000, 1)], [at(0, 200, 99)]], 500, 0)!;
    expect(mixed).toBeLessThan(1);
    expect(burnOf([[at(0, 5_000, 0)]], 500, 0)).toBeUndefined();
    expect(burnOf([[at(0, 5_000, 10)]], 500, 1)).toBeUndefined();
  });
});

describe('live burn rates on the twin', () => {
  it('reads the SLIs with the signals file\'s sli templates, not built-in queries', async () => {
    const clock = new VirtualClock(T0);
    const s = buildScenario('launch-surge', clock);
    s.twin.start();
    const sampler = startSampler(s.twin);
    const api = await startQueryApiServer(sampler.store, { now: () => clock.now() });
    try {
      await clock.advance(5 * 60_000);
      const ns = s.tenants['initech']!.namespaces[0]!;
      const endS = clock.now() / 1000;
      const plain = await new PrometheusSliSource(api.url).samples(ns, endS - 120, endS, 30);
      // A team whose latency metric is in milliseconds already, say: its own p99 template.
      const mine = { ...DEFAULT_SIGNALS, sli: { ...DEFAULT_SIGNALS.sli, p99_ms: 'http_request_duration_seconds{namespace="{{namespace}}",quantile="0.99"} * 2000' } };
      const doubled = await new PrometheusSliSource(api.url, mine).samples(ns, endS - 120, endS, 30);
      expect(plain.flat().length).toBeGreaterThan(0);
      expect(doubled.flat().map((x) => x.p99_ms)).toEqual(plain.flat().map((x) => x.p99_ms * 2));
    } finally {
      await api.close();
      sampler.stop();
      s.twin.stop();
    }
  });

  it('a 6x launch surge burns its tenant fast in both windows; the policy sees it; a quiet tenant stays on track', async () => {
    const clock = new VirtualClock(T0);
    const s = buildScenario('launch-surge', clock);
    s.twin.start();
    const sampler = startSampler(s.twin);
    const api = await startQueryApiServer(sampler.store, { now: () => clock.now() });
    const live = new LiveBurnRates({ source: new PrometheusSliSource(api.url), tenants: s.tenants, clock, logger: silentLogger() });
    try {
      await clock.advance(3 * 60_000);
      await live.refresh();
      const before = live.of('initech');
      expect(before?.burn_rate ?? 0).toBeLessThan(1);
      await clock.advance(12 * 60_000);
      await live.refresh();
      const during = live.of('initech')!;
      expect(during.long).toBeGreaterThan(6);
      expect(during.short).toBeGreaterThan(during.long);
      expect(during.burn_rate).toBe(Math.min(during.long, during.short));
      const spec = s.tenants['initech']!;
      expect(live.apply('initech', spec).burn_rate).toBe(during.burn_rate);
      for (const [name] of Object.entries(s.tenants).filter(([n]) => n !== 'initech')) {
        expect(live.of(name)?.burn_rate ?? 0, name).toBeLessThan(1);
      }
      // Ten minutes without a refresh: the figure is stale and the configured one stands again.
      await clock.advance(10 * 60_000);
      expect(live.of('initech')).toBeUndefined();
      expect(live.apply('initech', spec)).toBe(spec);
    } finally {
      await api.close();
      sampler.stop();
      s.twin.stop();
    }
  }, 60_000);

  it('keeps the configured figure when Prometheus cannot be reached', async () => {
    const clock = new VirtualClock(T0);
    const spec = { burn_rate: 2.1, namespaces: ['acme-prod'], slo: { p99_latency_ms: 500 } } as unknown as TenantSpec;
    const live = new LiveBurnRates({ source: new PrometheusSliSource('http://127.0.0.1:9/', DEFAULT_SIGNALS, 500), tenants: { acme: spec }, clock, logger: silentLogger() });
    await live.refresh();
    expect(live.of('acme')).toBeUndefined();
    expect(live.apply('acme', spec).burn_rate).toBe(2.1);
  });
});
