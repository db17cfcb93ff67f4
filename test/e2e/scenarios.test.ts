// The scenarios whose remedy is not Elastik's alone, end to end through `governor demo` on the
// embedded defaults: each must meet the outcome its file declares, and the action that fixes it must
// be the one an SRE would pick — a config revert for a bad push, a throttle of the neighbour, a
// rollback of the leaking release, a drained node, advice (never an action) for over-provisioning.
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

  it("noisy-neighbor: Arbitrator throttles the other tenant's burster, judged by the victim's SLO", async () => {
    await demo('noisy-neighbor', (s, find) => {
      expect(find('arbitrator', 'throttle_tenant')).toMatchObject({ verdict: 'require_approval', level: 2, executed: true, verified: true, approved_by: 'alice' });
      expect(s.sla_restored).toBe(true);
    });
  }, 240_000);

  it('memory-leak: Elastik rolls back the leaking release (approved), not just more replicas', async () => {
    await demo('memory-leak', (s, find) => {
      expect(find('elastik', 'rollback_deployment')).toMatchObject({ verdict: 'require_approval', executed: true, verified: true });
      expect(s.sla_restored).toBe(true);
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
});
