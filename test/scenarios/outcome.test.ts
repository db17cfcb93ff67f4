// The outcome checker (src/demo/outcome.ts): a pure judgement of a demo run against the outcome its
// scenario declares. Each failure must be a sentence an operator can act on.
import { describe, expect, it } from 'vitest';
import { checkOutcome, type OutcomeEvidence } from '../../src/demo/outcome.ts';
import { ExpectSpec } from '../../src/twin/scenarios/scenario-file.ts';

const run = (over: Partial<OutcomeEvidence> = {}): OutcomeEvidence => ({
  detected: true,
  mttd_s: 20,
  mttr_s: 180,
  sla_restored: true,
  slo_violation_minutes: 3,
  breached: true,
  observations: { count: 2, max_severity: 'critical' },
  actions: [
    { agent: 'elastik', action: 'scale_deployment', verdict: 'allow', executed: true, verified: true },
    { agent: 'elastik', action: 'rollback_deployment', verdict: 'require_approval', executed: true, verified: true },
  ],
  audit: { chain_valid: true },
  ...over,
});

const seed = ExpectSpec.parse({
  incident: true,
  detected: true,
  max_mttd_s: 60,
  max_mttr_s: 300,
  sla_restored: true,
  required_actions: [
    { agent: 'elastik', action: 'scale_deployment', verdict: 'allow', executed: true, verified: true },
    { agent: 'elastik', action: 'rollback_deployment', executed: true },
  ],
  forbidden_actions: [{ action: 'cordon_node' }],
});

const quiet = ExpectSpec.parse({ incident: false, detected: false, max_observation_severity: 'info', no_actions: true, max_slo_violation_minutes: 0 });

describe('checkOutcome', () => {
  it('is met when every declared expectation holds', () => {
    expect(checkOutcome(seed, run())).toEqual({ met: true, failures: [] });
  });

  it('names slow detection and slow restoration with the numbers', () => {
    const o = checkOutcome(seed, run({ mttd_s: 75, mttr_s: 420 }));
    expect(o.met).toBe(false);
    expect(o.failures).toEqual([
      'detection took 75 s after the breach, more than the 60 s expected',
      'restoration took 420 s after the breach, more than the 300 s expected',
    ]);
  });

  it('fails when the SLA is never restored, saying so once per expectation', () => {
    const o = checkOutcome(seed, run({ sla_restored: false, mttr_s: null }));
    expect(o.failures).toContain('the SLA was not restored before the run ended');
    expect(o.failures).toContain('no time to restore (expected at most 300 s): the SLA was never restored');
  });

  it('fails on a missing required action, and shows what was seen instead', () => {
    const o = checkOutcome(seed, run({ actions: [{ agent: 'elastik', action: 'scale_deployment', verdict: 'allow', executed: true, verified: false }] }));
    expect(o.failures).toEqual([
      'expected elastik scale_deployment (verdict allow, executed, verified); seen: verdict allow, executed=true, verified=false',
      'expected elastik rollback_deployment (executed); it was never proposed',
    ]);
  });

  it('fails on a forbidden action', () => {
    const o = checkOutcome(seed, run({ actions: [...run().actions, { agent: 'elastik', action: 'cordon_node', verdict: 'require_approval', executed: false, verified: false }] }));
    expect(o.failures).toEqual(['cordon_node must not happen, but elastik proposed cordon_node (verdict require_approval)']);
  });

  it('fails an incident scenario whose fault never bit, and a quiet one that breached', () => {
    expect(checkOutcome(seed, run({ breached: false })).failures[0]).toMatch(/declares an incident, but no watched service ever breached/);
    const q = checkOutcome(quiet, run({ breached: true, detected: false, slo_violation_minutes: 0.5, observations: { count: 0, max_severity: null }, actions: [] }));
    expect(q.failures).toEqual([
      'the scenario declares no incident, but a watched service breached its SLO (0.5 min in violation)',
      'watched services were in SLO violation for 0.5 min, more than the 0 min allowed',
    ]);
  });

  it('holds a quiet day to no observation above info and no action at all', () => {
    const ok = run({ detected: false, mttd_s: null, mttr_s: null, sla_restored: false, breached: false, slo_violation_minutes: 0, observations: { count: 0, max_severity: null }, actions: [] });
    expect(checkOutcome(quiet, ok)).toEqual({ met: true, failures: [] });
    const noisy = checkOutcome(quiet, { ...ok, detected: true, observations: { count: 1, max_severity: 'warning' }, actions: [{ agent: 'elastik', action: 'scale_deployment', verdict: 'allow', executed: true, verified: false }] });
    expect(noisy.failures).toEqual([
      'Watchtower published an observation where none was expected',
      'Watchtower published a warning observation; at most info was expected',
      'no action was expected, but elastik proposed scale_deployment',
    ]);
  });

  it('fails when the audit chain does not verify', () => {
    expect(checkOutcome(seed, run({ audit: { chain_valid: false } })).failures).toEqual(['the audit hash chain does not verify']);
  });
});
