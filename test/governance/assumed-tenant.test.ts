// A tenant the tenants file does not name gets the most restrictive tier: the entry Governor assumes
// for it (never looser than any known tenant's), the record the agents and the gateway share, and
// the policy input that carries the tier to OPA — decided by the real bundle.
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_VERSION, type Proposal } from '../../src/contracts/events.ts';
import { RESTRICTED_TIER, adoptAssumedTenants, assumedTenant, isAssumed } from '../../src/governance/assumed-tenant.ts';
import { buildPolicyInput } from '../../src/governance/policy-input.ts';
import { loadTenants, type Tenants } from '../../src/governance/tenants.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const target = { tenant: 'zeta', namespace: 'zeta-prod', environment: 'production' as const, sloP99Ms: 400, assumedTier: RESTRICTED_TIER };

function proposal(over: Partial<Proposal> = {}): Proposal {
  return {
    id: '7d0c5e2a-0000-4000-8000-0000000000aa',
    v: EVENT_VERSION,
    ts: new Date(T0).toISOString(),
    type: 'proposal',
    agent: 'elastik',
    tenant: 'zeta',
    namespace: 'zeta-prod',
    action: 'scale_deployment',
    target: { kind: 'Deployment', name: 'api' },
    params: { from_replicas: 4, to_replicas: 5 },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'zeta-prod', deployment: 'api', replicas: 5 } },
    reasoning: ['p99 above SLO'],
    llm: 'unavailable',
    ...over,
  } as Proposal;
}

describe('assumedTenant', () => {
  it('takes the tightest figures the file uses, the most restrictive tier, and says why', () => {
    const known = loadTenants();
    const t = assumedTenant('zeta', { namespaces: ['zeta-prod'], environment: 'production', sloP99Ms: 400 }, known);
    const specs = Object.values(known);
    expect(t.tier).toBe('restricted');
    expect(t.max_replicas).toBe(Math.min(...specs.map((s) => s.max_replicas)));
    expect(t.monthly_budget_usd).toBe(Math.min(...specs.map((s) => s.monthly_budget_usd)));
    expect(t.pod_monthly_cost_usd).toBe(Math.max(...specs.map((s) => s.pod_monthly_cost_usd)));
    expect(t.slo.p99_latency_ms).toBe(400);
    expect(t.namespaces).toEqual(['zeta-prod']);
    expect(t.reserved_instances).toBeUndefined();
    // Company-wide freezes hold for it too.
    expect(t.global_freezes).toEqual(specs[0]!.global_freezes);
    expect(t.assumed.reason).toBe("tenant zeta is not in the tenants file: the most restrictive tier 'restricted' is assumed (every action needs a human approval)");
  });
});

describe('adoptAssumedTenants', () => {
  it('adds an entry for each unknown tenant watched, widens it by namespace, and never touches a known tenant', () => {
    const tenants: Tenants = loadTenants();
    const acmeBefore = JSON.stringify(tenants['acme']);
    const added = adoptAssumedTenants(tenants, [
      target,
      { tenant: 'acme', namespace: 'acme-prod', environment: 'production', sloP99Ms: 500 },
      // A target of a known tenant marked as assumed by mistake is no reason to replace its entry.
      { tenant: 'acme', namespace: 'acme-other', environment: 'production', sloP99Ms: 100, assumedTier: RESTRICTED_TIER },
    ]);
    expect(added).toEqual(['zeta']);
    expect(JSON.stringify(tenants['acme'])).toBe(acmeBefore);
    expect(isAssumed(tenants['zeta'])).toBe(true);
    expect(adoptAssumedTenants(tenants, [target])).toEqual([]);
    expect(adoptAssumedTenants(tenants, [{ ...target, namespace: 'zeta-batch', sloP99Ms: 300 }])).toEqual(['zeta']);
    expect(tenants['zeta']!.namespaces).toEqual(['zeta-prod', 'zeta-batch']);
    expect(tenants['zeta']!.slo.p99_latency_ms).toBe(300);
  });
});

describe('the policy input carries the assumed tier, and OPA decides on it', () => {
  let engine: WasmPolicyEngine;
  beforeAll(async () => {
    engine = await WasmPolicyEngine.fromBundle();
  });
  const tenants: Tenants = loadTenants();
  adoptAssumedTenants(tenants, [target]);
  const facts = { nowMs: T0, agentLevel: 3 as const, tenant: tenants['zeta']!, changeFreeze: false, secondsSinceLastScale: 900, inFlightActions: 0 };

  it('says the tenant is unknown and which tier was assumed', () => {
    const input = buildPolicyInput(proposal(), facts);
    expect(input.context.tenant).toMatchObject({ tier: 'restricted', known: false, assumed_reason: expect.stringContaining("tier 'restricted' is assumed") });
    // A known tenant's input says nothing of the kind.
    expect(buildPolicyInput(proposal({ tenant: 'acme' }), { ...facts, tenant: tenants['acme']! }).context.tenant).not.toHaveProperty('known');
  });

  it('a level-3 scale that a known tenant would run at once waits for a human', async () => {
    const d = await engine.evaluate(buildPolicyInput(proposal(), facts));
    expect(d.verdict).toBe('require_approval');
    expect(d.violations.map((v) => v.rule).sort()).toEqual(['tier_supervised_action', 'unknown_tenant']);
    expect(d.violations.find((v) => v.rule === 'unknown_tenant')!.message).toMatch(/^tenant zeta is not in the tenants file: the most restrictive tier 'restricted' is assumed .*: scale_deployment of api needs a human approval$/);
    const known = await engine.evaluate(buildPolicyInput(proposal({ tenant: 'acme', namespace: 'acme-prod' }), { ...facts, tenant: tenants['acme']! }));
    expect(known.verdict).toBe('allow');
  });

  it('a vertical change too, and nothing beyond the level-3 capacity change even with approval', async () => {
    const limits = proposal({ action: 'patch_resource_limits', params: { container: 'app' }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 } });
    expect((await engine.evaluate(buildPolicyInput(limits, facts))).verdict).toBe('require_approval');
    const big = await engine.evaluate(buildPolicyInput(proposal({ params: { from_replicas: 4, to_replicas: 6 }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 40 } }), { ...facts, agentLevel: 2 }));
    expect(big.verdict).toBe('deny');
    expect(big.violations.map((v) => v.rule)).toContain('tier_capacity_change');
  });

  it('one action in flight at a time', async () => {
    const d = await engine.evaluate(buildPolicyInput(proposal(), { ...facts, inFlightActions: 1 }));
    expect(d.violations.map((v) => v.rule)).toContain('concurrent_actions');
  });
});
