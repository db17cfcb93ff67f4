// Agent rollback: more than 10% failed actions in a sliding hour of the run's clock demotes an agent
// to level 1, announced and recorded, until a human sets its level again.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_VERSION, STREAMS, type AgentName, type ExecutionResult, type GovernorEvent, type Rollback, type Verification } from '../../src/contracts/events.ts';
import type { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { AgentHealth, ErrorWindow, outcomeOf } from '../../src/governance/agent-health.ts';
import { autonomyWorld, T0, waitFor, type Process } from './helpers.ts';

const MIN = 60_000;

class RecordingNotifier {
  texts: string[] = [];
  async notify(text: string) {
    this.texts.push(text);
  }
}

let world: Awaited<ReturnType<typeof autonomyWorld>>;
let clock: VirtualClock;
let proc: Process;
let notifier: RecordingNotifier;
let health: AgentHealth;

beforeEach(async () => {
  world = await autonomyWorld();
  clock = world.clock as VirtualClock;
  proc = await world.startProcess();
  notifier = new RecordingNotifier();
  health = new AgentHealth({ autonomy: proc.manager, notifier, clock, logger: silentLogger() });
});
afterEach(async () => {
  await world.close();
});

const ts = () => new Date(clock.now()).toISOString();
const base = (agent: AgentName, proposal_id: string) => ({ id: randomUUID(), v: EVENT_VERSION, ts: ts(), proposal_id, agent, tenant: 'acme' });

function executed(agent: AgentName, status: ExecutionResult['status'] = 'succeeded', over: Partial<ExecutionResult> = {}): ExecutionResult {
  return { ...base(agent, randomUUID()), type: 'execution_result', grant_id: randomUUID(), tool: 'scale_deployment', args: {}, status, response: {}, ...(status === 'succeeded' ? {} : { error: 'safety_violation: cooldown' }), ...over };
}
function verified(agent: AgentName, proposal_id: string, outcome: Verification['outcome']): Verification {
  return { ...base(agent, proposal_id), type: 'verification', outcome, metric: 'p99_ms', before: 1200, after: 1180, slo_threshold: 500 };
}
function rolledBack(agent: AgentName, proposal_id: string): Rollback {
  return { ...base(agent, proposal_id), type: 'rollback', reason: 'p99 not restored', compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: {} } };
}

async function feed(...events: GovernorEvent[]) {
  for (const e of events) await health.onEvent(e);
}
const successes = (agent: AgentName, n: number) => Array.from({ length: n }, () => executed(agent));

describe('the window (pure)', () => {
  it('counts errors per action, and lets an error slide out an hour after it was seen', () => {
    const w = new ErrorWindow(60 * MIN);
    const at = (min: number) => T0 + min * MIN;
    w.observe({ event_id: 'e1', agent: 'elastik', proposal_id: 'p1', at: at(0) });
    w.observe({ event_id: 'e2', agent: 'elastik', proposal_id: 'p1', at: at(10), error: 'verification: not helped' });
    w.observe({ event_id: 'e3', agent: 'elastik', proposal_id: 'p1', at: at(11), error: 'rolled back' });
    w.observe({ event_id: 'e3', agent: 'elastik', proposal_id: 'p1', at: at(11), error: 'rolled back' });
    w.observe({ event_id: 'e4', agent: 'elastik', proposal_id: 'p2', at: at(30) });
    expect(w.stats('elastik', at(30))).toMatchObject({ actions: 2, errors: 1, rate: 0.5 });
    expect(w.stats('elastik', at(69))).toMatchObject({ actions: 2, errors: 1 });
    expect(w.stats('elastik', at(71))).toMatchObject({ actions: 1, errors: 0, rate: 0 });
    expect(w.stats('configurer', at(30))).toMatchObject({ actions: 0, errors: 0 });
  });

  it('classifies events: failures, refusals, not-helped and rollbacks are errors; a pause revocation is nothing', () => {
    expect(outcomeOf(executed('elastik'))?.error).toBeUndefined();
    expect(outcomeOf(executed('elastik', 'refused'))?.error).toMatch(/refused/);
    expect(outcomeOf(executed('elastik', 'failed'))?.error).toMatch(/failed/);
    expect(outcomeOf(verified('elastik', 'p', 'restored'))?.error).toBeUndefined();
    expect(outcomeOf(verified('elastik', 'p', 'not_helped'))?.error).toMatch(/not helped/);
    expect(outcomeOf(rolledBack('elastik', 'p'))?.error).toMatch(/rolled back/);
    expect(outcomeOf(executed('elastik', 'refused', { response: { code: 'grant_invalid', revoked_by: 'pause' } }))).toBeUndefined();
    expect(outcomeOf(executed('elastik', 'succeeded', { compensation_for: 'p' }))).toBeUndefined();
  });

  it('does not hold the infrastructure against the agent: an unreachable cluster or server, a timeout, an unknown outcome, an expired grant', () => {
    for (const code of ['upstream_unavailable', 'timeout', 'outcome_unknown']) {
      expect(outcomeOf(executed('elastik', 'failed', { response: { code, message: 'deployment acme-prod/checkout: fetch failed' }, error: `${code}: fetch failed` }))).toBeUndefined();
    }
    expect(outcomeOf(executed('elastik', 'refused', { response: { code: 'grant_expired', message: 'expired' }, error: 'grant_expired: expired' }))).toBeUndefined();
    // Read from the error when the response carries no code (a record written without one).
    expect(outcomeOf(executed('elastik', 'failed', { response: null, error: 'upstream_unavailable: fetch failed' }))).toBeUndefined();
    // What the agent asked for still counts: a refused change, a conflict, an invalid call.
    expect(outcomeOf(executed('elastik', 'refused', { response: { code: 'safety_violation', message: 'cooldown' } }))?.error).toMatch(/refused/);
    expect(outcomeOf(executed('elastik', 'failed', { response: { code: 'conflict', message: 'modified' }, error: 'conflict: modified' }))?.error).toMatch(/conflict/);
    expect(outcomeOf(executed('elastik', 'failed', { response: { code: 'input_invalid', message: '422' }, error: 'input_invalid: 422' }))?.error).toMatch(/input_invalid/);
  });
});

describe('AgentHealth', () => {
  it('1 error in 20 actions is not a demotion', async () => {
    await feed(...successes('elastik', 19), executed('elastik', 'failed'));
    expect(proc.manager.level('elastik')).toBe(3);
    expect(health.stats('elastik')).toMatchObject({ actions: 20, errors: 1 });
    expect(notifier.texts).toEqual([]);
  });

  it('crossing 10% demotes to level 1, announced and recorded, once; it stays demoted until a human promotes it', async () => {
    const ok = successes('elastik', 9);
    await feed(...ok);
    await feed(verified('elastik', ok[0]!.proposal_id, 'not_helped'), rolledBack('elastik', ok[0]!.proposal_id));
    // 1 of 9: 11% — the not-helped and its rollback are one failed action.
    expect(proc.manager.level('elastik')).toBe(1);
    expect(notifier.texts).toHaveLength(1);
    expect(notifier.texts[0]).toMatch(/elastik demoted to level 1 \(advisory only\): 1 of 9 actions failed in the last hour \(11.1% > 10%\)/);
    expect(notifier.texts[0]).toMatch(/\/agents-level elastik/);
    const [demotion] = (await proc.store.list()).filter((c) => c.kind === 'demotion');
    expect(demotion).toMatchObject({ agent: 'elastik', actor: 'agent-health', reason: expect.stringMatching(/1 of 9 actions failed/) });
    const control = await proc.audit.list({ kind: 'control' });
    expect(control.at(-1)).toMatchObject({ actor: 'agent-health', payload: { change: { kind: 'demotion', agent: 'elastik' } } });
    expect(proc.manager.level('configurer')).toBe(2);

    // More errors, and hours later good work: still demoted, and not announced again.
    await feed(executed('elastik', 'failed'));
    await clock.advance(3 * 60 * MIN);
    await feed(...successes('elastik', 30));
    expect(proc.manager.level('elastik')).toBe(1);
    expect(notifier.texts).toHaveLength(1);

    // A human promotes it; it is judged afresh from then on.
    await proc.manager.setLevel('elastik', 3, { id: 'U0ONCALL01' }, 'reviewed');
    await clock.advance(MIN);
    await feed(...successes('elastik', 9), executed('elastik', 'refused'));
    expect(proc.manager.level('elastik')).toBe(3);
    await feed(executed('elastik', 'failed'));
    expect(proc.manager.level('elastik')).toBe(1);
    expect(notifier.texts).toHaveLength(2);
  });

  it('old errors slide out of the window', async () => {
    // Elastik and configurer do the same work; configurer's second error comes after its first slid out.
    await feed(...successes('elastik', 9), ...successes('configurer', 9));
    await clock.advance(30 * MIN);
    await feed(executed('elastik', 'failed'), executed('configurer', 'failed'));
    expect(proc.manager.level('elastik')).toBe(3);
    expect(proc.manager.level('configurer')).toBe(2);

    await clock.advance(45 * MIN); // 45 min after the first errors: they are still in the window
    await feed(...successes('elastik', 9), executed('elastik', 'failed'));
    expect(proc.manager.level('elastik')).toBe(1);

    await clock.advance(16 * MIN); // 61 min after the first errors: they have slid out
    await feed(...successes('configurer', 9), executed('configurer', 'failed'));
    expect(health.stats('configurer')).toMatchObject({ actions: 10, errors: 1 });
    expect(proc.manager.level('configurer')).toBe(2);
  });

  it('counts a redelivered event once, and ignores grants voided by a pause', async () => {
    const failed = executed('elastik', 'failed');
    await feed(...successes('elastik', 9), failed, failed, failed);
    expect(health.stats('elastik')).toMatchObject({ actions: 10, errors: 1 });
    expect(proc.manager.level('elastik')).toBe(3);
    await feed(...Array.from({ length: 5 }, () => executed('elastik', 'refused', { response: { code: 'grant_invalid', message: 'revoked', revoked_by: 'pause' } })));
    expect(proc.manager.level('elastik')).toBe(3);
  });

  it('consumes the bus with a group of its own', async () => {
    for (const stream of [STREAMS.execution_result, STREAMS.verification, STREAMS.rollback]) {
      proc.bus.subscribe(stream, { group: 'agent-health', consumer: 'test' }, (m) => health.onMessage(m));
    }
    const e = executed('configurer');
    await proc.bus.publish(STREAMS.execution_result, e);
    await proc.bus.publish(STREAMS.verification, verified('configurer', e.proposal_id, 'not_helped'));
    await waitFor(() => notifier.texts.length > 0, 'the announcement');
    expect(proc.manager.level('configurer')).toBe(1);
    expect(notifier.texts[0]).toMatch(/configurer demoted.*1 of 1 actions/);
  });
});
