// Every scenario, run in the twin with nobody acting (the counterfactual) and with the action the
// scenario expects of Governor: the incident must really breach the SLO left alone, the expected
// action must really restore it, and the scenarios without incident must stay quiet. Virtual time;
// each run builds its own cluster from the scenario's seed.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { buildScenario, loadScenarioSpec, type Scenario } from '../../src/twin/scenarios/index.ts';
import { runUndisturbed, targetsOf } from '../../src/twin/scenarios/scenario-builder.ts';
import { flipFlag } from '../../src/twin/scenarios/config-effects.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const S = 1000;
const MIN = 60 * S;

type Action = { atS: number | ((breachS: number) => number); act: (twin: ClusterTwin, s: Scenario) => void };

/** p99 of every target every 5 s for `untilS`, acting on the way; `breachS` is the look-ahead's incident start. */
async function run(name: string, untilS: number, actions: Action[] = []) {
  const clock = new VirtualClock(START);
  const s = buildScenario(name, clock);
  s.twin.start();
  const breachS = s.incidentStartMs === null ? 0 : (s.incidentStartMs - START) / 1000;
  const series = new Map<number, number[]>();
  for (let t = 0; t <= untilS; t += 5) {
    for (const a of actions) if ((typeof a.atS === 'number' ? a.atS : a.atS(breachS)) === t) a.act(s.twin, s);
    series.set(t, s.targets.map((x) => s.twin.serviceMetrics(x.namespace, x.deployment).p99_ms));
    if (t < untilS) await clock.advance(5 * S);
  }
  const p99 = (t: number, i = 0) => series.get(Math.round(t / 5) * 5)![i]!;
  return { s, breachS, p99, slo: (i = 0) => s.targets[i]!.sloP99Ms };
}

/** The first time from `fromS` on that the first target is under its SLO and stays there until `untilS`. */
function restoredAt(r: Awaited<ReturnType<typeof run>>, fromS: number, untilS: number): number | null {
  let since: number | null = null;
  for (let t = fromS; t <= untilS; t += 5) {
    if (r.p99(t) <= r.slo()) since ??= t;
    else since = null;
  }
  return since;
}

const at = (offsetS: number) => (breachS: number) => Math.ceil((breachS + offsetS) / 5) * 5;
const scaleBy = (factor: number): Action['act'] => (twin, s) => {
  const t = s.targets[0]!;
  twin.scale(t.namespace, t.deployment, Math.ceil(twin.getDeployment(t.namespace, t.deployment)!.spec.replicas * factor));
};

function expectSustainedBreach(r: Awaited<ReturnType<typeof run>>, forS: number, fromS = r.breachS) {
  let over = 0;
  for (let t = Math.ceil(fromS / 5) * 5; t <= fromS + forS; t += 5) if (r.p99(t) > r.slo()) over++;
  // Left alone, the service is out of its SLO for (nearly) the whole window.
  expect(over / (forS / 5 + 1)).toBeGreaterThan(0.9);
}

describe('incident scenarios, undisturbed', () => {
  const cases: [string, number, number, number][] = [
    // name, earliest and latest breach (s), how long it must stay breached (s)
    ['traffic-surge', 150, 300, 10 * 60],
    ['noisy-neighbor', 180, 240, 10 * 60],
    ['bad-config-push', 120, 180, 10 * 60],
    ['flag-regression', 120, 180, 10 * 60],
    ['memory-leak', 180, 600, 3 * 60],
    ['node-pressure', 300, 900, 90],
    ['launch-surge', 120, 300, 20 * 60],
    ['rising-surge', 240, 600, 20 * 60],
    ['pending-pods', 150, 240, 10 * 60],
    ['cpu-throttling', 120, 200, 10 * 60],
  ];
  for (const [name, earliest, latest, holdS] of cases) {
    it(`${name}: starts within its SLO, breaches ${earliest}-${latest} s in, and stays breached for ${holdS} s`, async () => {
      const r = await run(name, latest + holdS + 60);
      expect(r.s.incidentStartMs).not.toBeNull();
      expect(r.p99(0)).toBeLessThan(r.slo());
      expect(r.breachS).toBeGreaterThanOrEqual(earliest);
      expect(r.breachS).toBeLessThanOrEqual(latest);
      expect(r.p99(Math.ceil(r.breachS / 5) * 5 - 5)).toBeLessThanOrEqual(r.slo());
      expectSustainedBreach(r, holdS, Math.ceil(r.breachS / 5) * 5 + 30);
    });
  }
});

describe('incident scenarios, with the action the scenario expects', () => {
  it('traffic-surge: Elastik\'s +50% at breach + 30 s restores it within 90 s, for good', async () => {
    const r = await run('traffic-surge', 20 * 60, [{ atS: at(30), act: scaleBy(1.5) }]);
    const back = restoredAt(r, r.breachS, 20 * 60);
    expect(back).not.toBeNull();
    expect(back! - (r.breachS + 30)).toBeLessThanOrEqual(90);
  });

  const throttle: Action['act'] = (twin) => {
    const d = twin.getDeployment('globex-batch', 'etl-runner')!;
    const tpl = structuredClone(d.spec.template);
    tpl.spec.containers[0]!.resources!.limits!['cpu'] = '1';
    twin.applyTemplate('globex-batch', 'etl-runner', tpl, 'throttled by arbitrator');
  };
  it('noisy-neighbor: throttling the neighbour restores it; scaling the victim alone does not', async () => {
    const fixed = await run('noisy-neighbor', 20 * 60, [{ atS: at(60), act: throttle }]);
    const back = restoredAt(fixed, fixed.breachS, 20 * 60);
    expect(back).not.toBeNull();
    expect(back! - (fixed.breachS + 60)).toBeLessThanOrEqual(120);

    const scaled = await run('noisy-neighbor', 15 * 60, [{ atS: at(30), act: scaleBy(1.5) }]);
    expectSustainedBreach(scaled, 8 * 60, scaled.breachS + 90);
  });

  it('bad-config-push: reverting the config map restores it; scaling 8 -> 12 does not', async () => {
    const revert: Action['act'] = (twin) => {
      const cm = twin.getConfigMap('acme-prod', 'orders-config')!;
      twin.replaceConfigMap('acme-prod', 'orders-config', { metadata: { name: 'orders-config' }, data: { ...cm.data, DB_POOL_MAX_SIZE: '40' } });
    };
    const fixed = await run('bad-config-push', 15 * 60, [{ atS: at(60), act: revert }]);
    const back = restoredAt(fixed, fixed.breachS, 15 * 60);
    expect(back).not.toBeNull();
    expect(back! - (fixed.breachS + 60)).toBeLessThanOrEqual(30);

    const scaled = await run('bad-config-push', 15 * 60, [{ atS: at(30), act: scaleBy(1.5) }]);
    expectSustainedBreach(scaled, 8 * 60, scaled.breachS + 90);
  });

  it('flag-regression: turning the flag back off restores it; scaling 8 -> 12 does not', async () => {
    const off: Action['act'] = (twin) => {
      const cm = twin.getConfigMap('acme-prod', 'orders-flags')!;
      twin.replaceConfigMap('acme-prod', 'orders-flags', { metadata: { name: 'orders-flags' }, data: { 'flags.flagd.json': flipFlag(cm.data!['flags.flagd.json']!, 'dynamic-pricing', undefined, 'off') } });
    };
    const fixed = await run('flag-regression', 15 * 60, [{ atS: at(60), act: off }]);
    const back = restoredAt(fixed, fixed.breachS, 15 * 60);
    expect(back).not.toBeNull();
    expect(back! - (fixed.breachS + 60)).toBeLessThanOrEqual(30);

    const scaled = await run('flag-regression', 15 * 60, [{ atS: at(30), act: scaleBy(1.5) }]);
    expectSustainedBreach(scaled, 8 * 60, scaled.breachS + 90);
  });

  it('memory-leak: rolling back to the previous revision restores it', async () => {
    const rollback: Action['act'] = (twin) => twin.applyTemplate('acme-prod', 'cart', twin.templateOfRevision('acme-prod', 'cart', 1)!, 'rollback to revision 1');
    const r = await run('memory-leak', 25 * 60, [{ atS: at(60), act: rollback }]);
    const back = restoredAt(r, r.breachS, 25 * 60);
    expect(back).not.toBeNull();
    expect(back! - (r.breachS + 60)).toBeLessThanOrEqual(180);
  });

  it('pending-pods: a node added to the apps pool restores it; more replicas (Pending too) do not', async () => {
    const addNode: Action['act'] = (twin) => {
      twin.addNode({ name: 'apps-03', cpu: 4, memory: '16Gi', allocatable: { cpu: '3920m', memory: '14Gi' }, labels: { 'governor.io/node-pool': 'apps' } });
    };
    const r = await run('pending-pods', 15 * 60, [{ atS: at(30), act: addNode }]);
    const back = restoredAt(r, r.breachS, 15 * 60);
    expect(back).not.toBeNull();
    expect(back! - (r.breachS + 30)).toBeLessThanOrEqual(60);

    const scaled = await run('pending-pods', 15 * 60, [{ atS: at(30), act: scaleBy(1.5) }]);
    expectSustainedBreach(scaled, 8 * 60, scaled.breachS + 90);
  });

  it('cpu-throttling: one step of the CPU limit (500m -> 1) restores it, for good; twice the pods, or all the tenant is entitled to, do not', async () => {
    const raise: Action['act'] = (twin, s) => {
      const t = s.targets[0]!;
      const tpl = structuredClone(twin.getDeployment(t.namespace, t.deployment)!.spec.template);
      tpl.spec.containers[0]!.resources!.limits!['cpu'] = '1';
      twin.applyTemplate(t.namespace, t.deployment, tpl, 'limits.cpu 500m -> 1');
    };
    const fixed = await run('cpu-throttling', 20 * 60, [{ atS: at(30), act: raise }]);
    const back = restoredAt(fixed, fixed.breachS, 20 * 60);
    expect(back).not.toBeNull();
    expect(back! - (fixed.breachS + 30)).toBeLessThanOrEqual(90);
    // Well under the SLO once the pods have rolled: the freezes, not the load, were the latency.
    expect(fixed.p99(15 * 60)).toBeLessThan(0.6 * fixed.slo());
    const pods = fixed.s.twin.podMetrics(fixed.s.targets[0]!.namespace, fixed.s.targets[0]!.deployment);
    expect(Math.max(...pods.map((p) => p.cpu_throttled_ratio))).toBeLessThan(0.1);

    // More pods spread a load that is not the problem: twice as many, or all the tenant is entitled to, still breach.
    const twice = await run('cpu-throttling', 15 * 60, [{ atS: at(30), act: scaleBy(2) }]);
    expectSustainedBreach(twice, 8 * 60, twice.breachS + 120);
    const entitled = await run('cpu-throttling', 15 * 60, [{ atS: at(30), act: (twin, s) => twin.scale(s.targets[0]!.namespace, s.targets[0]!.deployment, s.tenants['globex']!.max_replicas) }]);
    expectSustainedBreach(entitled, 8 * 60, entitled.breachS + 120);
  });

  it('node-pressure: cordoning and draining the leaking node restores it', async () => {
    let node = '';
    const cordon: Action['act'] = (twin) => {
      // The node under pressure is the one whose daemon leaks: the most memory used.
      node = [...twin.nodeMetrics()].sort((a, b) => b.memory_bytes / b.allocatable_memory_bytes - a.memory_bytes / a.allocatable_memory_bytes)[0]!.node;
      twin.cordonNode(node);
      for (const p of twin.listPods('acme-prod')) if (p.spec.nodeName === node) twin.deletePod('acme-prod', p.metadata.name);
    };
    const r = await run('node-pressure', 20 * 60, [{ atS: at(10), act: cordon }]);
    expect(node).toBe('web-01');
    const back = restoredAt(r, r.breachS, 20 * 60);
    expect(back).not.toBeNull();
    expect(back! - (r.breachS + 10)).toBeLessThanOrEqual(60);
  });
});

describe('the cases that need an incident worked to its end', () => {
  const scaleTo = (n: number, i = 0): Action['act'] => (twin, s) => {
    const t = s.targets[i]!;
    twin.scale(t.namespace, t.deployment, n);
  };

  it('launch-surge: the one step the level-3 blast radius allows (3 → 5) does not restore it; what the demand needs (9) does', async () => {
    const oneStep = await run('launch-surge', 25 * 60, [{ atS: at(30), act: scaleTo(5) }]);
    expectSustainedBreach(oneStep, 15 * 60, oneStep.breachS + 120);
    const enough = await run('launch-surge', 25 * 60, [{ atS: at(30), act: scaleTo(5) }, { atS: at(330), act: scaleTo(9) }]);
    const back = restoredAt(enough, enough.breachS, 25 * 60);
    expect(back).not.toBeNull();
    expect(back! - (enough.breachS + 330)).toBeLessThanOrEqual(90);
  });

  it('rising-surge: a step that restores it is overtaken by the demand minutes later', async () => {
    const once = await run('rising-surge', 30 * 60, [{ atS: at(30), act: scaleBy(1.5) }]);
    const back = restoredAt(once, once.breachS, 12 * 60);
    expect(back).toBeNull();
    let relapsed = false;
    for (let t = once.breachS + 120; t <= 30 * 60; t += 5) if (once.p99(t) > once.slo()) relapsed = true;
    expect(relapsed).toBe(true);
  });

  it('two-tenants: both breach left alone; the seed incident\'s rollback and the storefront sized from its healthy load restore both', async () => {
    const alone = await run('two-tenants', 20 * 60);
    expect(alone.p99(10 * 60, 0)).toBeGreaterThan(alone.slo(0));
    expect(alone.p99(10 * 60, 1)).toBeGreaterThan(alone.slo(1));
    const rollback: Action['act'] = (twin) => twin.applyTemplate('acme-prod', 'checkout', twin.templateOfRevision('acme-prod', 'checkout', 1)!, 'rollback to revision 1');
    const fixed = await run('two-tenants', 35 * 60, [{ atS: 150, act: rollback }, { atS: 300, act: scaleTo(9, 1) }, { atS: 600, act: scaleTo(15, 1) }, { atS: 900, act: scaleTo(24, 1) }, { atS: 1200, act: scaleTo(30, 1) }]);
    for (let t = 25 * 60; t <= 35 * 60; t += 60) {
      expect(fixed.p99(t, 0)).toBeLessThanOrEqual(fixed.slo(0));
      expect(fixed.p99(t, 1)).toBeLessThanOrEqual(fixed.slo(1));
    }
  });
});

describe('scenarios without incident, undisturbed for their whole duration', () => {
  for (const name of ['quiet-day', 'cost-overprovisioned', 'steady-state']) {
    it(`${name}: no watched service comes near its SLO or triples its own latency`, () => {
      const spec = loadScenarioSpec(name);
      expect(spec.expect.incident).toBe(false);
      const slos = targetsOf(spec).map((t) => t.sloP99Ms);
      let first: number[] | undefined;
      let worst = 0;
      runUndisturbed(spec, START, spec.duration_min * MIN, (s) => {
        first ??= s.p99;
        s.p99.forEach((p, i) => {
          worst = Math.max(worst, p / slos[i]!);
          // Watchtower's detector also opens an incident at 3x the service's own baseline.
          expect(p).toBeLessThan(2 * first![i]!);
        });
      }, { everyMs: 15 * S });
      expect(worst).toBeLessThan(0.6);
    });
  }

  it('quiet-day: the load really moves (a real trace and day-shaped sines, with noise)', () => {
    const spec = loadScenarioSpec('quiet-day');
    const clock = new VirtualClock(START);
    const s = buildScenario('quiet-day', clock);
    expect(s.incidentStartMs).toBeNull();
    const rps = (ns: string, d: string) => s.twin.serviceMetrics(ns, d).rps;
    const first = rps('acme-prod', 'storefront');
    const samples: number[] = [];
    const step = async () => {
      for (let t = 0; t < spec.duration_min; t += 5) {
        samples.push(rps('acme-prod', 'checkout'));
        await clock.advance(5 * MIN);
      }
    };
    return step().then(() => {
      expect(Math.abs(rps('acme-prod', 'storefront') - first) / first).toBeGreaterThan(0.05);
      expect(new Set(samples.map((x) => Math.round(x))).size).toBeGreaterThan(5);
    });
  });

  it('cost-overprovisioned: reports runs 3x the replicas it needs: a third of them holds the SLO all day', async () => {
    const r = await run('cost-overprovisioned', 60 * 60, [{ atS: 0, act: (twin) => twin.scale('initech-prod', 'reports', 4) }]);
    expect(r.s.twin.getDeployment('initech-prod', 'reports')!.spec.replicas).toBe(4);
    for (let t = 60; t <= 60 * 60; t += 60) expect(r.p99(t)).toBeLessThan(0.8 * r.slo());
    // …while at a quarter it would not: the recommendation must not be over-eager either.
    const tight = await run('cost-overprovisioned', 20 * 60, [{ atS: 0, act: (twin) => twin.scale('initech-prod', 'reports', 2) }]);
    expect(Math.max(...Array.from({ length: 20 }, (_, i) => tight.p99((i + 1) * 60)))).toBeGreaterThan(tight.slo());
  });
});
