// The policy input the gateway builds from a proposal, the tenants configuration and what it knows,
// and the configuration it is built from. The last block runs the built inputs through the real
// bundle: the configured tenants decide as the seed demo and the freeze rules expect.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_VERSION, type Proposal } from '../../src/contracts/events.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { buildPolicyInput, type PolicyFacts } from '../../src/governance/policy-input.ts';
import { DEFAULT_TENANTS_FILE, loadTenants, parseTenants, type Tenants } from '../../src/governance/tenants.ts';
import { PolicyInput } from '../../src/policy/policy-engine.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
/** Saturday 28 Nov 2026, 12:00 UTC: inside initech's weekend freeze. */
const SATURDAY = Date.parse('2026-11-28T12:00:00Z');

const tenants: Tenants = loadTenants();
const acme = tenants['acme']!;
const initech = tenants['initech']!;

function proposal(over: Partial<Proposal> = {}): Proposal {
  return {
    id: '7d0c5e2a-0000-4000-8000-000000000001',
    v: EVENT_VERSION,
    ts: new Date(T0).toISOString(),
    type: 'proposal',
    agent: 'elastik',
    tenant: 'acme',
    namespace: 'acme-prod',
    action: 'scale_deployment',
    target: { kind: 'Deployment', name: 'checkout' },
    params: { from_replicas: 8, to_replicas: 12 },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 } },
    reasoning: ['p99 above SLO'],
    llm: 'unavailable',
    ...over,
  } as Proposal;
}

const rollback = (over: Partial<Proposal> = {}) =>
  proposal({
    action: 'rollback_deployment',
    params: { from_revision: 42, to_revision: 41 },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
    tool_call: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', to_revision: 41 } },
    ...over,
  });

const initechProposal = (over: Partial<Proposal> = {}) =>
  proposal({
    tenant: 'initech',
    namespace: 'initech-prod',
    action: 'patch_resource_limits',
    target: { kind: 'Deployment', name: 'billing' },
    params: { container: 'billing', memory_limit: '2Gi' },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 5 },
    ...over,
  });

const facts = (over: Partial<PolicyFacts> = {}): PolicyFacts => ({
  nowMs: T0,
  agentLevel: 3,
  tenant: acme,
  changeFreeze: false,
  secondsSinceLastScale: 900,
  inFlightActions: 0,
  ...over,
});

describe('buildPolicyInput', () => {
  it('gives the DESIGN §5 example for the seed scale-up of acme, plus the fields the layers read', () => {
    expect(buildPolicyInput(proposal(), facts())).toEqual({
      proposal: {
        id: '7d0c5e2a-0000-4000-8000-000000000001',
        agent: 'elastik',
        tenant: 'acme',
        namespace: 'acme-prod',
        action: 'scale_deployment',
        target: { kind: 'Deployment', name: 'checkout' },
        params: { from_replicas: 8, to_replicas: 12 },
        blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
      },
      context: {
        now: '2026-11-24T10:00:00.000Z',
        agent_level: 3,
        environment: 'production',
        change_freeze: false,
        active_freezes: [],
        seconds_since_last_scale: 900,
        seconds_since_last_action: {},
        in_flight_actions: 0,
        tenant: {
          tier: 'enterprise',
          burn_rate: 2.1,
          max_replicas: 40,
          monthly_budget_usd: 20000,
          month_to_date_usd: 9000,
          reserved_instances: { coverage_pct: 80, utilization_target_pct: 90 },
        },
        estimated_monthly_cost_delta_usd: 1200,
      },
    });
  });

  it('is a valid policy input, and the same facts always give the same input', () => {
    const a = buildPolicyInput(proposal(), facts());
    expect(PolicyInput.safeParse(a).success).toBe(true);
    expect(buildPolicyInput(proposal(), facts())).toEqual(a);
  });

  it("names the tenant's freezes and the global ones in force, and sets change_freeze", () => {
    const weekend = buildPolicyInput(initechProposal(), facts({ tenant: initech, nowMs: SATURDAY }));
    expect(weekend.context).toMatchObject({
      change_freeze: true,
      active_freezes: [{ name: 'initech-weekend', until: '2026-11-30T07:00:00.000Z', scope: 'tenant' }],
    });
    const newYear = buildPolicyInput(proposal(), facts({ nowMs: Date.parse('2026-12-31T20:00:00Z') }));
    expect(newYear.context['active_freezes']).toEqual([
      { name: 'acme-year-end-close', until: '2027-01-05T14:00:00.000Z', scope: 'tenant' },
      { name: 'new-year', until: '2027-01-02T08:00:00.000Z', scope: 'global' },
    ]);
  });

  it('keeps a freeze the caller knows of even when no window is in force', () => {
    const input = buildPolicyInput(proposal(), facts({ changeFreeze: true }));
    expect(input.context).toMatchObject({ change_freeze: true, active_freezes: [] });
  });

  it('carries a human freeze override only when there is one', () => {
    expect(buildPolicyInput(proposal(), facts()).context).not.toHaveProperty('freeze_override');
    const input = buildPolicyInput(proposal(), facts({ freezeOverride: { by: 'alice', reason: 'INC-42' } }));
    expect(input.context['freeze_override']).toEqual({ by: 'alice', reason: 'INC-42' });
  });

  it('carries the cooldown facts per action, and reservations only for a tenant that has them', () => {
    const input = buildPolicyInput(rollback(), facts({ secondsSinceLastAction: { rollback_deployment: 600, update_config: null } }));
    expect(input.context['seconds_since_last_action']).toEqual({ rollback_deployment: 600, update_config: null });
    const { reserved_instances: _dropped, ...withoutRi } = acme;
    expect(buildPolicyInput(proposal(), facts({ tenant: withoutRi })).context.tenant).not.toHaveProperty('reserved_instances');
  });

  it('estimates the monthly cost of a scaling from the pod cost, and nothing for other actions', () => {
    expect(buildPolicyInput(proposal({ params: { from_replicas: 12, to_replicas: 8 } }), facts()).context.estimated_monthly_cost_delta_usd).toBe(-1200);
    expect(buildPolicyInput(rollback(), facts()).context.estimated_monthly_cost_delta_usd).toBe(0);
  });

  it('does not change the tenant or the proposal it is given', () => {
    const before = JSON.stringify({ acme, p: proposal() });
    buildPolicyInput(proposal(), facts({ nowMs: Date.parse('2026-12-31T20:00:00Z') }));
    expect(JSON.stringify({ acme, p: proposal() })).toBe(before);
  });
});

describe('the tenants configuration', () => {
  const raw = () => JSON.parse(readFileSync(DEFAULT_TENANTS_FILE, 'utf8')) as { freezes: unknown[]; tenants: Record<string, Record<string, unknown>> };
  const refusal = (file: unknown): GovernorError => {
    try {
      parseTenants(file, 'test file');
    } catch (err) {
      expect(err).toBeInstanceOf(GovernorError);
      return err as GovernorError;
    }
    throw new Error('parseTenants accepted a bad file');
  };

  it('holds acme as the seed demo needs it and a second tenant, both with the global freezes', () => {
    expect(acme).toMatchObject({ tier: 'enterprise', max_replicas: 40, monthly_budget_usd: 20000, month_to_date_usd: 9000, burn_rate: 2.1, slo: { p99_latency_ms: 500 } });
    expect(initech).toMatchObject({ tier: 'standard', namespaces: ['initech-prod'] });
    for (const t of [acme, initech]) expect(t.global_freezes?.map((f) => f.name)).toEqual(['new-year']);
  });

  it('names every problem of a bad file at once', () => {
    const file = raw();
    file.tenants['acme']!['tier'] = 'gold';
    file.tenants['acme']!['monthly_budget_usd'] = -1;
    file.tenants['acme']!['reserved_instances'] = { coverage_pct: 80, utilization_target_pct: 120 };
    file.tenants['initech']!['freezes'] = [{ name: 'weekend', cron: '0 18 * * FRI', duration_minutes: 3720 }];
    file.tenants['initech']!['budget'] = 5000;
    file.freezes = [{ name: 'new-year', from: '2026-12-31', to: '2027-01-02T08:00:00Z' }];
    const err = refusal(file);
    expect(err.code).toBe('config_invalid');
    expect(err.details?.['problems']).toEqual([
      'freezes.0.from: must be an ISO 8601 date-time with a time zone offset, e.g. 2026-11-27T00:00:00-05:00',
      'tenants.acme.tier: Invalid option: expected one of "free"|"standard"|"premium"|"enterprise"|"restricted"',
      'tenants.acme.monthly_budget_usd: Too small: expected number to be >=0',
      'tenants.acme.reserved_instances.utilization_target_pct: Too big: expected number to be <=100',
      'tenants.initech.freezes.0.timezone: a recurring freeze needs timezone (an IANA name such as Europe/Berlin), so that its hours mean local time',
      'tenants.initech: Unrecognized key: "budget"',
    ]);
    expect(err.message).toMatch(/^test file is invalid:\n {2}- freezes\.0\.from: /);
  });

  it('refuses a namespace claimed by two tenants, together with the other problems', () => {
    const file = raw();
    file.tenants['initech']!['namespaces'] = ['initech-prod', 'acme-prod'];
    file.tenants['initech']!['tier'] = 'gold';
    expect(refusal(file).details?.['problems']).toEqual([
      'tenants.initech.tier: Invalid option: expected one of "free"|"standard"|"premium"|"enterprise"|"restricted"',
      "tenants.initech.namespaces: namespace 'acme-prod' already belongs to tenant 'acme'",
    ]);
  });

  it('reads a missing or unreadable file as config_invalid', () => {
    expect(() => loadTenants('/nonexistent/tenants.json')).toThrow(/cannot read tenants file \/nonexistent\/tenants\.json/);
  });
});

describe('configured tenants through the real bundle', () => {
  let engine: WasmPolicyEngine;
  beforeAll(async () => {
    engine = await WasmPolicyEngine.fromBundle();
  });
  const decide = async (p: Proposal, f: Partial<PolicyFacts> = {}) => engine.evaluate(buildPolicyInput(p, facts(f)));

  it('seed demo: the scale 8 → 12 at level 3 is allowed, the rollback needs an approval', async () => {
    expect(await decide(proposal())).toMatchObject({ verdict: 'allow', violations: [] });
    const d = await decide(rollback());
    expect(d.verdict).toBe('require_approval');
    expect(d.violations.map((v) => v.rule).sort()).toEqual(['supervised_action', 'tier_supervised_action']);
    // With the scale-up granted and still in flight, as in the demo.
    expect((await decide(rollback(), { inFlightActions: 1 })).verdict).toBe('require_approval');
  });

  it("initech's weekend freeze denies, a human override turns it into an approval, safety still denies", async () => {
    const frozen = await decide(initechProposal(), { tenant: initech, nowMs: SATURDAY });
    expect(frozen.verdict).toBe('deny');
    expect(frozen.violations.map((v) => v.message)).toEqual([
      "change freeze 'initech-weekend' (until 2026-11-30T07:00:00.000Z) is in force: patch_resource_limits of billing is blocked; only a human override with a reason can let it through",
    ]);
    const override = { by: 'alice', reason: 'INC-7: billing OOM-killed' };
    const overridden = await decide(initechProposal(), { tenant: initech, nowMs: SATURDAY, freezeOverride: override });
    expect(overridden.verdict).toBe('require_approval');
    expect(overridden.violations.map((v) => v.rule)).toEqual(['change_freeze_override']);
    const unsafe = await decide(
      initechProposal({ action: 'scale_deployment', params: { from_replicas: 2, to_replicas: 8 } }),
      { tenant: initech, nowMs: SATURDAY, freezeOverride: override },
    );
    expect(unsafe.verdict).toBe('deny');
    expect(unsafe.violations.map((v) => v.rule)).toContain('max_scale_up_factor');
    // On a Tuesday there is no freeze.
    expect((await decide(initechProposal(), { tenant: initech })).verdict).toBe('allow');
  });

  it('the global New Year freeze reaches every tenant', async () => {
    for (const [p, tenant] of [[proposal(), acme], [initechProposal(), initech]] as const) {
      const d = await decide(p, { tenant, nowMs: Date.parse('2027-01-01T12:00:00Z') });
      expect(d.verdict).toBe('deny');
      expect(d.violations.map((v) => v.message).join('\n')).toMatch(/global change freeze 'new-year'/);
    }
  });

  it("initech is close to its budget: a scale-up that takes it over needs an approval, far over is denied", async () => {
    const scale = (to: number) => initechProposal({ action: 'scale_deployment', params: { from_replicas: 4, to_replicas: to }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 } });
    expect((await decide(scale(6), { tenant: initech })).verdict).toBe('allow'); // +$300: $5,000
    expect((await decide(scale(8), { tenant: initech })).violations.map((v) => v.rule)).toEqual(['budget_ceiling']); // +$600: $5,300
    expect((await decide(scale(10), { tenant: initech })).violations.map((v) => v.rule)).toEqual(['budget_hard_ceiling']); // +$900: $5,600
  });

  it('a repeated rollback within its cooldown says so', async () => {
    const d = await decide(rollback(), { secondsSinceLastAction: { rollback_deployment: 600 } });
    expect(d.violations.map((v) => v.rule)).toContain('action_cooldown');
  });
});
