// Month-to-date spend metered from Prometheus (src/governance/live-spend.ts): the replica-time of a
// tenant's namespaces, read from the twin's Prometheus-compatible API over the month so far, priced at
// the tenant's per-pod monthly cost. A month Prometheus covers from its start is metered alone; one it
// covers only in part never reads below the billed figure; an unreadable Prometheus leaves the
// configured figure in force.
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { LiveSpend, type ReplicaTimeSource } from '../../src/governance/live-spend.ts';
import { startQueryApiServer } from '../../src/twin/metrics/query-api.ts';
import { startSampler } from '../../src/twin/metrics/sampler.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { PrometheusReplicaTime } from '../../src/runtime/prometheus-sli.ts';
import { monthOf } from '../../mcp-servers/finops/cost-model.ts';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function twinAt(startMs: number) {
  const clock = new VirtualClock(startMs);
  const s = buildScenario('jvm-heap-regression', clock);
  s.twin.start();
  const sampler = startSampler(s.twin);
  const api = await startQueryApiServer(sampler.store, { now: () => clock.now() });
  closers.push(() => api.close(), async () => sampler.stop(), async () => s.twin.stop());
  return { clock, twin: s.twin, tenants: s.tenants, url: api.url };
}

const replicasOf = (twin: Awaited<ReturnType<typeof twinAt>>['twin'], ns: string) =>
  twin.listDeployments(ns).reduce((a, d) => a + (d.status?.replicas ?? d.spec.replicas ?? 0), 0);

describe('live month-to-date spend', () => {
  it('meters a month Prometheus covers from its start: replica-time × the per-pod price, alone', async () => {
    const monthStart = Date.UTC(2026, 11, 1);
    const { clock, twin, tenants, url } = await twinAt(monthStart);
    await clock.advance(20 * 60_000);
    const source = new PrometheusReplicaTime(url);
    const read = await source.replicaSeconds('acme-prod', monthStart / 1000, clock.now() / 1000);
    // The seed scenario holds checkout at its replicas for these 20 minutes (no agent runs here).
    const replicas = replicasOf(twin, 'acme-prod');
    expect(read.seconds / (20 * 60)).toBeGreaterThan(replicas * 0.9);
    expect(read.seconds / (20 * 60)).toBeLessThan(replicas * 1.1);

    const spend = new LiveSpend({ source, tenants, clock, logger: silentLogger() });
    await spend.refresh();
    const acme = spend.of('acme')!;
    const month = monthOf(clock.now());
    const expected = (read.seconds * 1000 * tenants['acme']!.pod_monthly_cost_usd) / (month.endMs - month.startMs);
    expect(acme.month_to_date_usd).toBeCloseTo(expected, 1);
    expect(acme.month_to_date_usd).toBeLessThan(tenants['acme']!.month_to_date_usd); // not the typed-in figure
    expect(acme.basis).toMatch(/^metered: replica-time in Prometheus since the month began/);
    expect(spend.apply('acme', tenants['acme']!).month_to_date_usd).toBe(acme.month_to_date_usd);
  });

  it('never reads below the billed figure while Prometheus misses the head of the month, and says so', async () => {
    const { clock, tenants, url } = await twinAt(Date.UTC(2026, 11, 4, 10));
    await clock.advance(10 * 60_000);
    const spend = new LiveSpend({ source: new PrometheusReplicaTime(url), tenants, clock, logger: silentLogger() });
    await spend.refresh();
    const acme = spend.of('acme')!;
    expect(acme.metered_usd).toBeGreaterThan(0);
    expect(acme.metered_usd).toBeLessThan(tenants['acme']!.month_to_date_usd);
    expect(acme.month_to_date_usd).toBe(tenants['acme']!.month_to_date_usd);
    expect(acme.basis).toMatch(/samples only from 2026-12-04 10:0\d UTC this month: the larger of the metered \$[\d.,]+ and the billed \$9,000/);
  });

  it('metered spend above the billed figure wins: spend the bill has not caught up with still counts', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 11, 20));
    const { tenants } = buildScenario('jvm-heap-regression', clock);
    // 80 pods for 18 days, at the tenant's price, is beyond the $9,000 billed.
    const source: ReplicaTimeSource = { replicaSeconds: async (_ns, startS, endS) => ({ seconds: 80 * (endS - startS - 86_400), firstS: startS + 86_400, stepS: 300 }) };
    const spend = new LiveSpend({ source, tenants, clock, logger: silentLogger() });
    await spend.refresh();
    const acme = spend.of('acme')!;
    expect(acme.metered_usd).toBeGreaterThan(9000);
    expect(acme.month_to_date_usd).toBe(acme.metered_usd);
  });

  it('leaves the configured figure in force when Prometheus cannot be read, and goes stale on its own', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 11, 20));
    const { tenants } = buildScenario('jvm-heap-regression', clock);
    let fail = false;
    const source: ReplicaTimeSource = {
      replicaSeconds: async (_ns, startS, endS) => {
        if (fail) throw new Error('connection refused');
        return { seconds: 3 * (endS - startS), firstS: startS, stepS: 300 };
      },
    };
    const spend = new LiveSpend({ source, tenants, clock, logger: silentLogger() });
    await spend.refresh();
    expect(spend.of('acme')).toBeDefined();
    fail = true;
    await spend.refresh();
    expect(spend.of('acme')).toBeUndefined();
    expect(spend.apply('acme', tenants['acme']!)).toEqual(tenants['acme']);
    fail = false;
    await spend.refresh();
    await clock.advance(16 * 60_000);
    expect(spend.of('acme')).toBeUndefined();
  });
});
