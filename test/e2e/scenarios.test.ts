// The scenarios whose remedy is not one level-3 scale, end to end through `governor demo` on the
// embedded defaults: each must meet the outcome its file declares, and the action that fixes it must
// be the one an SRE would pick — a config revert for a bad push, a throttle of the neighbour, a
// rollback of the leaking release, a raised CPU limit for a throttled service, a drained node, advice (never an action) for over-provisioning —
// and an incident that one step cannot fix is worked, step after step, to its end.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { runDemo, type DemoAction, type DemoSummary } from '../../src/demo/run-demo.ts';

async function demo(scenario: string, check: (s: DemoSummary, find: (agent: string, action: string) => DemoAction | undefined) => void): Promise<void> {
  const s = await runDemo({ scenario, config: loadConfig({}), logger: silentLogger() });
  try {
    expect(s.outcome).toEqual({ met: true, failures: [] });
    expect(s.audit.chain_valid).toBe(true);
    check(s, (agent, action) => s.actions.find((a) => a.agent === agent && a.action === action));
  } catch (err) {
    (err as Error).message += `\n\ndemo summary:\n${JSON.stringify(s, null, 2)}`;
    throw err;
  }
}

describe('governor demo: every remedy through the governed flow', () => {
  it('bad-config-push: Configurer reverts the ConfigMap after a human approves, and the SLA comes back', async () => {
    await demo('bad-config-push', (s, find) => {
      expect(find('configurer', 'update_config')).toMatchObject({ verdict: 'require_approval', level: 2, executed: true, verified: true, rolled_back: false, approved_by: 'alice' });
      expect(s.actions.some((a) => a.action === 'rollback_deployment')).toBe(false);
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);

  it('flag-regression: Configurer turns the flipped feature flag back off through the Feature Flag server after a human approves, and the SLA comes back', async () => {
    await demo('flag-regression', (s, find) => {
      expect(find('configurer', 'set_feature_flag')).toMatchObject({ verdict: 'require_approval', level: 2, executed: true, verified: true, rolled_back: false, approved_by: 'alice' });
      // The flag is judged as a flag: its file is not reverted as a whole config map, nor the release rolled back.
      expect(s.actions.some((a) => a.action === 'update_config' || a.action === 'rollback_deployment')).toBe(false);
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);

  it("noisy-neighbor: Arbitrator throttles the other tenant's burster, judged by the victim's SLO", async () => {
    await demo('noisy-neighbor', (s, find) => {
      expect(find('arbitrator', 'throttle_tenant')).toMatchObject({ verdict: 'require_approval', level: 2, executed: true, verified: true, approved_by: 'alice' });
      expect(s.sla_restored).toBe(true);
      // The victim's burn passes 1.5x: its priority is raised; every grant passed the Arbitrator's check first.
      const events = s.timeline.map((e) => e.event).join('\n');
      expect(events).toMatch(/priority raised for acme: burn \S+x over 1 h, \S+x over 5 min/);
      expect(events).toMatch(/arbitrator check passed: entitlement ok \(a CPU limit of 500m keeps the 500m per pod globex requested/);
      expect(events).not.toMatch(/arbitrator check failed/);
    });
  }, 240_000);

  it('memory-leak: Elastik rolls back the leaking release (approved), not just more replicas', async () => {
    await demo('memory-leak', (s, find) => {
      expect(find('elastik', 'rollback_deployment')).toMatchObject({ verdict: 'require_approval', executed: true, verified: true });
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);

  it('pending-pods: Elastik adds a node to the full pool (approved: the node is shared capacity), the Pending pods run, and no replica is added meanwhile', async () => {
    await demo('pending-pods', (s, find) => {
      expect(find('elastik', 'scale_node_group')).toMatchObject({ verdict: 'require_approval', executed: true, verified: true, verification: 'restored', approved_by: 'alice' });
      expect(s.actions.some((a) => a.action === 'scale_deployment')).toBe(false);
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);

  it('cpu-throttling: Elastik raises the CPU limit one step (level 3) instead of adding pods, and the verifier sees throttling gone', async () => {
    await demo('cpu-throttling', (s, find) => {
      expect(find('elastik', 'patch_resource_limits')).toMatchObject({ verdict: 'allow', level: 3, executed: true, verified: true, rolled_back: false, verification: 'restored' });
      expect(s.actions.some((a) => a.action === 'scale_deployment')).toBe(false);
      const step = s.incidents[0]!.steps.find((x) => x.action === 'patch_resource_limits')!;
      expect(step.params).toMatchObject({ container: 'risk-scoring', resource: 'cpu', from_limit: '500m', to_limit: '1000m', cause: 'cpu_throttling' });
      expect((step.params['evidence'] as { throttled_ratio: number }).throttled_ratio).toBeGreaterThanOrEqual(0.15);
      expect(s.sla_restored).toBe(true);
      expect(s.mttr_s).toBeLessThanOrEqual(300);
    });
  }, 240_000);

  it('node-pressure: Elastik cordons and drains the sick node, always with a human', async () => {
    await demo('node-pressure', (s, find) => {
      expect(find('elastik', 'cordon_node')).toMatchObject({ verdict: 'require_approval', executed: true, verified: true, approved_by: 'alice, bob' }); // the sandbox's two-person rule for production cordons
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);

  it('cost-overprovisioned: Strategist recommends right-sizing; nothing is executed and nothing breaches', async () => {
    await demo('cost-overprovisioned', (s, find) => {
      expect(find('strategist', 'recommendation')).toMatchObject({ verdict: 'deny', level: 1, executed: false });
      expect(s.actions.every((a) => !a.executed)).toBe(true);
      expect(s.recommendations).toBe(1);
      expect(s.policy_denials).toBe(0);
      expect(s.slo_breached).toBe(false);
    });
  }, 240_000);

  it('launch-surge: a surge beyond 3x is restored within two cooldowns, step after step, no guardrail broken, no scale-down during the overload', async () => {
    await demo('launch-surge', (s) => {
      const [incident] = s.incidents;
      expect(s.incidents).toHaveLength(1);
      const steps = incident!.steps.filter((x) => x.action === 'scale_deployment');
      expect(steps.length).toBeGreaterThanOrEqual(2);
      // Each step scales up, never by more than 3x, and none is undone while demand exceeds capacity.
      for (const st of steps) {
        const from = Number(st.params['from_replicas']);
        const to = Number(st.params['to_replicas']);
        expect(to).toBeGreaterThan(from);
        expect(to).toBeLessThanOrEqual(3 * from);
        expect(st.executed).toBe(true);
        expect(st.compensation).toBeUndefined();
      }
      expect(steps[0]!.verification).toMatch(/partially_helped|improved/);
      expect(steps.at(-1)!.verification).toBe('restored');
      expect(steps[0]!.next).toMatch(/^scale_deployment/);
      expect(s.mttr_s).toBeLessThanOrEqual(600);
      expect(s.slo_violation_minutes).toBeLessThan(10);
    });
  }, 240_000);

  it('two-tenants: two incidents on two tenants, each worked within its own blast radius, both restored', async () => {
    await demo('two-tenants', (s) => {
      const byTarget = new Map(s.incidents.map((i) => [i.target, i]));
      const checkout = byTarget.get('acme-prod/checkout');
      const storefront = byTarget.get('globex-prod/storefront');
      expect(checkout?.closed_t_s).not.toBeNull();
      expect(storefront?.closed_t_s).not.toBeNull();
      expect(checkout!.steps.map((x) => x.action).sort()).toEqual(['rollback_deployment', 'scale_deployment']);
      // The storefront's steps belong to its own incident, and there are several of them.
      expect(storefront!.steps.length).toBeGreaterThanOrEqual(3);
      expect(storefront!.steps.every((x) => x.action === 'scale_deployment' && x.executed)).toBe(true);
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);

  it('rising-surge: the load keeps climbing; each breach is answered within minutes, and the SLA holds at the end', async () => {
    await demo('rising-surge', (s) => {
      const steps = s.incidents.flatMap((i) => i.steps);
      expect(steps.length).toBeGreaterThanOrEqual(3);
      expect(steps.every((x) => x.action === 'scale_deployment' && Number(x.params['to_replicas']) > Number(x.params['from_replicas']))).toBe(true);
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);
});
