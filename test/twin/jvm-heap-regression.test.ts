// The seed incident's numbers (DESIGN §6), which the demo depends on, read from its one definition,
// scenarios/jvm-heap-regression.json: when the SLO breaks if nothing is done, what scaling does
// (relief, not a cure) and what a rollback does (a cure). Virtual time; every run builds its own
// scenario from the same seed, so "undisturbed" is a real counterfactual.
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const S = 1000;
const MIN = 60 * S;

/** The seed incident, with what these tests ask of it by name: its target, the pods on the edge, revision 1's template. */
function seedIncident(clock: Clock, opts: { seed?: number } = {}) {
  const s = buildScenario('jvm-heap-regression', clock, opts);
  const target = s.targets[0]!;
  return {
    ...s,
    ...target,
    incidentStartMs: s.incidentStartMs!,
    sickPods: s.sickPods[`${target.namespace}/${target.deployment}`]!,
    goodTemplate: s.twin.templateOfRevision(target.namespace, target.deployment, 1)!,
  };
}
type SeedIncident = ReturnType<typeof seedIncident>;

type Action = { atMs: number; act: (s: SeedIncident) => void };
const scale = (atMs: number, replicas = 12): Action => ({ atMs, act: (s) => s.twin.scale(s.namespace, s.deployment, replicas) });
const rollback = (atMs: number): Action => ({ atMs, act: (s) => s.twin.applyTemplate(s.namespace, s.deployment, s.goodTemplate, 'rollback to revision 1') });

/** Runs the scenario for `untilMs` of simulated time, acting on the way; p99 every second. */
async function run(untilMs: number, actions: Action[] = [], seed?: number) {
  const clock = new VirtualClock(START);
  const s = seedIncident(clock, seed === undefined ? {} : { seed });
  s.twin.start();
  const p99 = new Map<number, number>();
  for (let t = 0; t <= untilMs; t += S) {
    for (const a of actions) if (a.atMs === t) a.act(s);
    p99.set(t, s.twin.serviceMetrics(s.namespace, s.deployment).p99_ms);
    if (t < untilMs) await clock.advance(S);
  }
  return { s, p99: (t: number) => p99.get(Math.round(t / S) * S)!, clock };
}

const undisturbed = await run(30 * MIN);
const breachAt = undisturbed.s.incidentStartMs - START;

describe('jvm-heap-regression, undisturbed', () => {
  it('is the story of DESIGN §6: tenant acme, 40 equal pods in acme-prod, checkout on revision 2 since 47 min', () => {
    const { s } = run0();
    expect([s.tenant, s.namespace, s.deployment, s.sloP99Ms]).toEqual(['acme', 'acme-prod', 'checkout', 500]);
    const ns = s.twin.getNamespace('acme-prod')!;
    expect(ns.metadata.labels).toMatchObject({ 'governor.io/tenant': 'acme', 'governor.io/environment': 'production' });
    const pods = s.twin.listPods('acme-prod');
    expect(pods).toHaveLength(40);
    expect(new Set(pods.map((p) => JSON.stringify(p.spec.containers[0]!.resources)))).toHaveProperty('size', 1);
    expect(s.twin.listPods('acme-prod', 'app=checkout')).toHaveLength(8);
    const rs = s.twin.listReplicaSets('acme-prod', 'app=checkout').sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
    expect(rs.map((r) => r.metadata.annotations!['deployment.kubernetes.io/revision'])).toEqual(['1', '2']);
    expect(Date.parse(rs[1]!.metadata.creationTimestamp)).toBe(START - 47 * MIN);
    expect(rs[1]!.metadata.annotations!['kubernetes.io/change-cause']).toMatch(/JVM heap/);
    expect(s.twin.getDeployment('acme-prod', 'checkout')!.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('2');
  });

  it('starts near the 180 ms baseline and breaches the 500 ms SLO 60-90 s in; incidentStartMs is that moment', () => {
    expect(undisturbed.p99(0)).toBeGreaterThan(180);
    expect(undisturbed.p99(0)).toBeLessThan(250);
    expect(breachAt).toBeGreaterThanOrEqual(60 * S);
    expect(breachAt).toBeLessThanOrEqual(90 * S);
    expect(undisturbed.p99(breachAt - S)).toBeLessThanOrEqual(500);
    expect(undisturbed.p99(breachAt)).toBeGreaterThan(500);
  });

  it('reaches ~1,240 ms by 3 min and stays there for half an hour', () => {
    expect(undisturbed.p99(3 * MIN)).toBeGreaterThan(1150);
    expect(undisturbed.p99(3 * MIN)).toBeLessThan(1350);
    for (let t = 3 * MIN; t <= 30 * MIN; t += 10 * S) expect(undisturbed.p99(t)).toBeGreaterThan(1100);
  });

  it('shows the signals on 3 of 8 pods: memory 71% → ~94%, GC pause time up ~340% over the fleet', () => {
    const { s } = run0();
    const at0 = s.twin.podMetrics(s.namespace, s.deployment);
    for (const p of at0.filter((p) => s.sickPods.includes(p.pod))) expect(p.memory_utilisation).toBeCloseTo(0.71, 2);
    const later = undisturbed.s.twin.podMetrics(s.namespace, s.deployment);
    const sick = later.filter((p) => undisturbed.s.sickPods.includes(p.pod));
    const healthy = later.filter((p) => !undisturbed.s.sickPods.includes(p.pod));
    expect(sick).toHaveLength(3);
    const sorted = later.map((p) => p.gc_pause_ms_per_min).sort((a, b) => a - b);
    const median = (sorted[3]! + sorted[4]!) / 2;
    for (const p of sick) {
      expect(p.memory_utilisation).toBeGreaterThan(0.92);
      expect(p.memory_utilisation).toBeLessThan(0.96);
      // +340% is 4.4x; the detector counts outliers from 2x.
      expect(p.gc_pause_ms_per_min / median).toBeGreaterThan(3.8);
      expect(p.gc_pause_ms_per_min / median).toBeLessThan(5);
    }
    for (const p of healthy) expect(p.memory_utilisation).toBeLessThan(0.75);
  });

  it('breaches within 60-90 s whatever the seed', async () => {
    for (const seed of [1, 2, 3, 42]) {
      const clock = new VirtualClock(START);
      const s = seedIncident(clock, { seed });
      expect(s.incidentStartMs - START, `seed ${seed}`).toBeGreaterThanOrEqual(55 * S);
      expect(s.incidentStartMs - START, `seed ${seed}`).toBeLessThanOrEqual(90 * S);
    }
  });
});

function run0() {
  const clock = new VirtualClock(START);
  return { s: seedIncident(clock), clock };
}

describe('jvm-heap-regression, scaling checkout 8 → 12', () => {
  for (const after of [0, 20, 30, 60, 120]) {
    it(`at breach + ${after} s: p99 at least 25% lower within 90 s, but still over the SLO`, async () => {
      const at = breachAt + after * S;
      const r = await run(at + 10 * MIN, [scale(at)]);
      const relieved = r.p99(at + 90 * S);
      expect(relieved).toBeLessThanOrEqual(0.75 * undisturbed.p99(at + 90 * S));
      // Once p99 is past the SLO by more than a little, the relief is visible against the moment of scaling too.
      if (after >= 20) expect(relieved).toBeLessThanOrEqual(0.75 * r.p99(at));
      for (let t = at + 60 * S; t <= at + 10 * MIN; t += 5 * S) expect(r.p99(t)).toBeGreaterThan(500);
      expect(r.s.twin.getDeployment(r.s.namespace, r.s.deployment)!.status.readyReplicas).toBe(12);
    });
  }
});

describe('jvm-heap-regression, rolling back to revision 1', () => {
  for (const after of [0, 30, 60, 180]) {
    it(`at breach + ${after} s: p99 under the SLO within 90 s, and it stays there`, async () => {
      const at = breachAt + after * S;
      const r = await run(at + 20 * MIN, [rollback(at)]);
      let restoredAt: number | undefined;
      for (let t = at; t <= at + 20 * MIN; t += S) if (restoredAt === undefined && r.p99(t) <= 500) restoredAt = t;
      expect(restoredAt).toBeDefined();
      expect(restoredAt! - at).toBeLessThanOrEqual(90 * S);
      for (let t = restoredAt!; t <= at + 20 * MIN; t += 5 * S) expect(r.p99(t)).toBeLessThanOrEqual(500);
      expect(r.p99(at + 20 * MIN)).toBeLessThan(250);
      const pods = r.s.twin.podMetrics(r.s.namespace, r.s.deployment);
      expect(pods.every((p) => p.revision === 3 && p.memory_utilisation < 0.75)).toBe(true);
    });
  }

  it('after a scale, as in the demo: scale at breach + 20 s, rollback approved 60 s later', async () => {
    const scaleAt = breachAt + 20 * S;
    const rollbackAt = scaleAt + 60 * S;
    const r = await run(rollbackAt + 10 * MIN, [scale(scaleAt), rollback(rollbackAt)]);
    expect(r.p99(rollbackAt + 90 * S)).toBeLessThanOrEqual(500);
    for (let t = rollbackAt + 90 * S; t <= rollbackAt + 10 * MIN; t += 5 * S) expect(r.p99(t)).toBeLessThanOrEqual(500);
    expect(r.s.twin.getDeployment(r.s.namespace, r.s.deployment)!.spec.replicas).toBe(12);
  });
});

describe('scenarios by name', () => {
  it('serves jvm-heap-regression with its watch target, and a steady state in which nothing breaks', async () => {
    const clock = new VirtualClock(START);
    const inc = buildScenario('jvm-heap-regression', clock);
    expect(inc.targets).toEqual([{ tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout', sloP99Ms: 500 }]);
    expect(inc.incidentStartMs).toBe(breachAt + START);
    expect(inc.spec.expect).toMatchObject({ incident: true, max_mttr_s: 300, sla_restored: true });

    const steady = buildScenario('steady-state', clock);
    steady.twin.start();
    for (let t = 0; t < 15 * MIN; t += 15 * S) {
      expect(steady.twin.serviceMetrics('acme-prod', 'checkout').p99_ms).toBeLessThan(250);
      await clock.advance(15 * S);
    }
    expect(steady.twin.listPods('acme-prod')).toHaveLength(40);
  });
});
