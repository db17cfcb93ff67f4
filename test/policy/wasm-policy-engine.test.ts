// The compiled bundle, evaluated the way the gateway evaluates it: every fixture, the DESIGN §5
// semantics that must hold for any input, and every way the engine must fail closed.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import type { PolicyInput } from '../../src/policy/policy-engine.ts';
import { DEFAULT_BUNDLE_PATH, WasmPolicyEngine, bundleVersion } from '../../src/policy/wasm-policy-engine.ts';
import { extractBundle, loadFixtures, tempDir, writeBundle, type Fixture } from './helpers.ts';

const fixtures = await loadFixtures();
const byName = (name: string): Fixture => {
  const f = fixtures.find((x) => x.file === `${name}.json`);
  if (!f) throw new Error(`no fixture ${name}.json`);
  return f;
};
/** A fixture's input with some of its fields replaced (one level deep per section). */
const variant = (name: string, change: { proposal?: Record<string, unknown>; context?: Record<string, unknown> }): PolicyInput => {
  const input = structuredClone(byName(name).input) as unknown as PolicyInput;
  return {
    proposal: { ...input.proposal, ...change.proposal },
    context: { ...input.context, ...change.context },
  } as PolicyInput;
};

let engine: WasmPolicyEngine;
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  engine = await WasmPolicyEngine.fromBundle();
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp?.remove();
});

async function rejection(p: Promise<unknown>): Promise<GovernorError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GovernorError);
  return err as GovernorError;
}

describe('fixtures (policies/fixtures/*.json)', () => {
  it('covers the cases the design names', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(35);
    expect(new Set(fixtures.map((f) => f.expected.verdict))).toEqual(new Set(['allow', 'require_approval', 'deny']));
  });

  it('has a fixture where each rule of the four layers fires, and one where it does not', () => {
    const fired = new Set(fixtures.flatMap((f) => f.expected.rules));
    const layerRules = [
      'max_scale_up_factor', 'min_replicas_production', 'scale_cooldown', 'invalid_params',
      'max_replicas_entitlement', 'fast_burn_capacity_reduction', 'fast_burn_throttle', 'tier_supervised_action', 'unknown_tier',
      'change_freeze', 'change_freeze_override', 'concurrent_actions', 'action_cooldown',
      'budget_ceiling', 'budget_hard_ceiling', 'ri_utilization_target',
    ];
    for (const rule of layerRules) {
      expect(fired.has(rule), `a fixture where ${rule} fires`).toBe(true);
      expect(fixtures.some((f) => !f.expected.rules.includes(rule)), `a fixture where ${rule} does not fire`).toBe(true);
    }
  });

  // Exactly the rules listed, in any order: a fixture also proves which rules stay silent.
  it.each(fixtures.map((f) => [f.file, f] as const))('%s', async (_file, f) => {
    const d = await engine.evaluate(f.input as unknown as PolicyInput);
    const rules = d.violations.map((v) => v.rule).sort();
    expect({ verdict: d.verdict, rules }).toEqual({ verdict: f.expected.verdict, rules: [...f.expected.rules].sort() });
    if (d.verdict === 'allow') expect(d.violations).toEqual([]);
    expect(d.policy_version).toBe(engine.version);
    for (const v of d.violations) expect(v.message.length).toBeGreaterThan(10);
  });
});

describe('DESIGN §5 semantics on every fixture', () => {
  it('level 1 never allows', async () => {
    for (const f of fixtures) {
      const input = variant(f.file.replace(/\.json$/, ''), { context: { agent_level: 1 } });
      const d = await engine.evaluate(input);
      expect(d.verdict, f.file).toBe('deny');
      expect(d.violations.map((v) => v.rule), f.file).toContain('level_1_advisory');
    }
  });

  it('a supervised action is at most require_approval, at any level', async () => {
    for (const f of fixtures) {
      for (const action of ['rollback_deployment', 'cordon_node'] as const) {
        const d = await engine.evaluate(variant(f.file.replace(/\.json$/, ''), { proposal: { action } }));
        expect(d.verdict, `${f.file} as ${action}`).not.toBe('allow');
      }
    }
  });

  it('a change freeze denies everything', async () => {
    for (const f of fixtures) {
      const d = await engine.evaluate(variant(f.file.replace(/\.json$/, ''), { context: { change_freeze: true, freeze_override: undefined } }));
      expect(d.verdict, f.file).toBe('deny');
    }
  });

  it('a freeze overridden by a human with a reason is at most require_approval, and safety still denies', async () => {
    const override = { by: 'alice', reason: 'INC-42' };
    for (const f of fixtures) {
      const d = await engine.evaluate(variant(f.file.replace(/\.json$/, ''), { context: { change_freeze: true, freeze_override: override } }));
      expect(d.verdict, f.file).not.toBe('allow');
      expect(d.violations.map((v) => v.rule), f.file).toContain('change_freeze_override');
      if (d.violations.some((v) => v.layer === 'safety')) expect(d.verdict, f.file).toBe('deny');
    }
  });

  it('lists the reason that decided the verdict first', async () => {
    const d = await engine.evaluate(
      variant('blast-radius-level-3-capacity-40', { context: { change_freeze: true } }),
    );
    expect(d.violations.map((v) => [v.layer, v.rule])).toEqual([
      ['operational', 'change_freeze'],
      ['blast_radius', 'blast_radius_level_3'],
    ]);
  });

  it('returns exactly layer, rule and message per violation', async () => {
    const d = await engine.evaluate(byName('safety-scale-up-4x').input as unknown as PolicyInput);
    for (const v of d.violations) expect(Object.keys(v).sort()).toEqual(['layer', 'message', 'rule']);
  });
});

describe('messages an operator can act on (same strings as the Rego tests: Go and Wasm format alike)', () => {
  const cases: Array<[string, PolicyInput, string]> = [
    ['factor', variant('safety-scale-up-4x', {}), '4.0x > 3x per invocation (checkout from 3 to 12 replicas)'],
    ['factor just over', variant('safety-scale-up-4x', { proposal: { params: { from_replicas: 100, to_replicas: 301 } } }), '3.01x > 3x per invocation (checkout from 100 to 301 replicas)'],
    ['min replicas', variant('safety-scale-to-1-production', {}), 'scale checkout to 1 replica(s) < 2 minimum for a production deployment'],
    ['cooldown', variant('safety-scale-cooldown', {}), 'checkout was last scaled 120s ago < 300s cooldown between scaling actions on the same deployment (wait 180s more)'],
    ['cooldown fraction', variant('safety-scale-cooldown', { context: { seconds_since_last_scale: 299.5 } }), 'checkout was last scaled 299.5s ago < 300s cooldown between scaling actions on the same deployment (wait 0.5s more)'],
    ['level 3 capacity', variant('blast-radius-level-3-capacity-40', {}), 'capacity change 40% > ±30% per action at level 3 (autonomous): needs a human approval (within ±50% at level 2)'],
    ['scale-down', variant('blast-radius-level-3-scale-down-40', {}), 'capacity change -40% > ±30% per action at level 3 (autonomous): needs a human approval (within ±50% at level 2)'],
    ['level 2 capacity fraction', variant('blast-radius-level-3-capacity-60', { proposal: { blast_radius: { tenants: 1, services: 1, capacity_change_pct: -50.5 } } }), 'capacity change -50.5% > ±50% per action at level 2 (supervised): too wide even with approval'],
    ['tenants', variant('blast-radius-level-2-four-tenants', {}), '4 tenants affected > 3 per action at level 2 (supervised): too wide even with approval'],
    ['entitlement', variant('sla-entitlement-beyond-max-replicas', {}), 'scale checkout to 44 replicas > 40 replicas acme is entitled to (enterprise tier): exceeding the entitlement needs a human approval'],
    ['fast burn', variant('sla-fast-burn-scale-down', {}), 'acme is burning its error budget at 2.1x >= 2x (fast burn for the enterprise tier): scale_deployment of checkout would remove capacity while its SLA is at risk'],
    ['tier supervision', variant('seed-rollback-level-3', {}), 'rollback_deployment is supervised by contract for enterprise tier tenants: a human approves it for acme before it runs'],
    ['named freeze', variant('operational-change-freeze-named', {}), "change freeze 'acme-black-friday' (until 2026-11-30T23:00:00.000Z) is in force: scale_deployment of checkout is blocked; only a human override with a reason can let it through"],
    ['override', variant('operational-freeze-override', {}), "change freeze 'acme-black-friday' (until 2026-11-30T23:00:00.000Z) is overridden by U0ONCALL01 (alice) (reason: INC-4711: checkout p99 at 1240 ms, SLA breach in progress): scale_deployment of checkout still needs a human approval, and every safety limit still applies"],
    ['concurrency', variant('operational-concurrent-actions-at-limit', {}), 'acme already has 4 action(s) in flight >= 4 concurrent actions for the enterprise tier: one more needs a human approval'],
    ['cooldown', variant('operational-rollback-cooldown', {}), 'the last rollback_deployment of checkout was 10 min ago < 30 min cooldown for the same target: repeating it so soon needs a human approval'],
    ['budget', variant('cost-over-budget', {}), "scale_deployment of checkout adds an estimated $1,200/month: month-to-date $19,500 + $1,200 = $20,700, 103.5% of acme's $20,000 monthly budget: over budget, a human approves the extra spend"],
    ['hard ceiling', variant('cost-far-over-budget', {}), "scale_deployment of checkout adds an estimated $1,200/month: month-to-date $21,000 + $1,200 = $22,200, 111% of acme's $20,000 monthly budget > 110% hard ceiling: the budget has to be raised before this spend"],
    ['reserved instances', variant('cost-ri-below-target', {}), "capacity change -30% takes acme's reserved-instance utilisation from 100% to 87.5% < 90% target (reservations cover 80% of its capacity): paid-for reservations would sit idle, a human approves"],
  ];
  it.each(cases)('%s', async (_name, input, message) => {
    const d = await engine.evaluate(input);
    expect(d.violations.map((v) => v.message)).toContain(message);
  });
});

describe('bad input is rejected, never evaluated', () => {
  it('names every problem', async () => {
    const input = variant('design-example-allow', { context: { agent_level: 4 }, proposal: { action: 'delete_namespace' } });
    const err = await rejection(engine.evaluate(input));
    expect(err.code).toBe('policy_invalid');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/proposal\.action/);
    expect(err.message).toMatch(/context\.agent_level/);
    expect(err.details?.['problems']).toHaveLength(2);
  });

  it('rejects a missing section and a non-object', async () => {
    const { context: _dropped, ...noContext } = byName('design-example-allow').input;
    expect((await rejection(engine.evaluate(noContext as unknown as PolicyInput))).message).toMatch(/context/);
    expect((await rejection(engine.evaluate('scale everything' as unknown as PolicyInput))).code).toBe('policy_invalid');
    expect((await rejection(engine.evaluate(null as unknown as PolicyInput))).code).toBe('policy_invalid');
  });

  it('rejects a blast radius that is not numbers', async () => {
    const input = variant('design-example-allow', { proposal: { blast_radius: { tenants: 'one', services: 1, capacity_change_pct: 10 } } });
    expect((await rejection(engine.evaluate(input))).message).toMatch(/proposal\.blast_radius\.tenants/);
  });

  it('passes fields added to the contract through to the policy', async () => {
    const input = variant('design-example-allow', { proposal: { extra: { note: 'added later' } } as Record<string, unknown> });
    expect((await engine.evaluate(input)).verdict).toBe('allow');
  });
});

describe('version', () => {
  it('is the sha256 of policy.wasm and data.json, stable across loads', async () => {
    const again = await WasmPolicyEngine.fromBundle(DEFAULT_BUNDLE_PATH);
    expect(again.version).toBe(engine.version);
    expect(engine.version).toMatch(/^[0-9a-f]{64}$/);
    const { wasm, data } = await extractBundle(tmp.dir);
    expect(bundleVersion(wasm, data)).toBe(engine.version);
  });

  it('changes with the data, and the data alone changes the semantics', async () => {
    const { wasm, data } = await extractBundle(tmp.dir);
    const table = JSON.parse(data.toString('utf8')) as { autonomy: { blast_radius: Record<string, Record<string, number>> } };
    table.autonomy.blast_radius['3']!['max_capacity_change_pct'] = 5;
    const path = await writeBundle(tmp.dir, 'tighter', { 'policy.wasm': wasm, 'data.json': JSON.stringify(table) });
    const tighter = await WasmPolicyEngine.fromBundle(path);
    expect(tighter.version).not.toBe(engine.version);
    const d = await tighter.evaluate(byName('design-example-allow').input as unknown as PolicyInput);
    expect(d.verdict).toBe('require_approval');
    expect(d.violations[0]?.message).toBe('capacity change 10% > ±5% per action at level 3 (autonomous): needs a human approval (within ±50% at level 2)');
  });

  it('fails closed when the data lacks the blast-radius table', async () => {
    const { wasm } = await extractBundle(tmp.dir);
    const path = await writeBundle(tmp.dir, 'no-table', { 'policy.wasm': wasm, 'data.json': '{}' });
    const bare = await WasmPolicyEngine.fromBundle(path);
    const d = await bare.evaluate(byName('design-example-allow').input as unknown as PolicyInput);
    expect(d.verdict).toBe('deny');
    expect(d.violations.map((v) => v.rule)).toEqual(expect.arrayContaining(['blast_radius_limits_missing', 'supervised_actions_missing', 'unknown_agent']));
  });
});

describe('a broken bundle is refused on load, clearly', () => {
  it.each([
    ['garbage', Buffer.from('this is not a bundle')],
    ['empty', Buffer.alloc(0)],
  ])('%s file', async (name, bytes) => {
    const path = `${tmp.dir}/${name}.tar.gz`;
    await writeFile(path, bytes);
    const err = await rejection(WasmPolicyEngine.fromBundle(path));
    expect(err.code).toBe('policy_unavailable');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/not a readable tar\.gz/);
  });

  it('truncated archive', async () => {
    const path = `${tmp.dir}/truncated.tar.gz`;
    const bytes = await readFile(DEFAULT_BUNDLE_PATH);
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await rejection(WasmPolicyEngine.fromBundle(path));
    expect(err.code).toBe('policy_unavailable');
    expect(err.message).toMatch(/not a readable tar\.gz/);
  });

  it('missing file', async () => {
    const err = await rejection(WasmPolicyEngine.fromBundle(`${tmp.dir}/nowhere.tar.gz`));
    expect(err.code).toBe('policy_unavailable');
    expect(err.message).toMatch(/cannot read the policy bundle .*nowhere\.tar\.gz/);
  });

  it('bundle without policy.wasm', async () => {
    const path = await writeBundle(tmp.dir, 'no-wasm', { 'data.json': '{}' });
    const err = await rejection(WasmPolicyEngine.fromBundle(path));
    expect(err.code).toBe('policy_unavailable');
    expect(err.message).toMatch(/has no policy\.wasm: rebuild it with npm run policy:build/);
  });

  it('corrupt policy.wasm', async () => {
    const { wasm } = await extractBundle(tmp.dir);
    const broken = Buffer.from(wasm);
    broken.fill(0xff, 8, 4096);
    const path = await writeBundle(tmp.dir, 'bad-wasm', { 'policy.wasm': broken, 'data.json': '{}' });
    const err = await rejection(WasmPolicyEngine.fromBundle(path));
    expect(err.code).toBe('policy_unavailable');
    expect(err.message).toMatch(/policy\.wasm that does not load/);
  });

  it('unreadable data.json', async () => {
    const { wasm } = await extractBundle(tmp.dir);
    const path = await writeBundle(tmp.dir, 'bad-data', { 'policy.wasm': wasm, 'data.json': '{"autonomy": ' });
    const err = await rejection(WasmPolicyEngine.fromBundle(path));
    // opa could not have signed it either: the signature check refuses it first, naming the file.
    expect(err.message).toMatch(/holds data\.json, which cannot be hashed as OPA does: not valid JSON/);
  });
});
