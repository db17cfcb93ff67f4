// The pager as a bus consumer, in virtual time, over an in-memory audit log: what it sends for a
// supervised proposal (after the Slack message is recorded, or the grace period), for a critical
// incident, on expiry, on redelivery and after a restart — and that PagerDuty failing or hanging
// never makes a handler fail or wait, is retried with backoff, and is given up on in the end.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { STREAMS, type GovernorEvent } from '../../src/contracts/events.ts';
import type { AuditInput } from '../../src/audit/records.ts';
import type { BusMessage } from '../../src/bus/event-bus.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { MemoryPagingService } from '../../src/paging/memory-paging.ts';
import { Pager, type PagerDeps } from '../../src/paging/pager.ts';
import type { PageReceipt, PagingService, SendOptions, TriggerEvent } from '../../src/paging/paging-service.ts';
import { memoryAudit, type MemoryAudit } from '../configurer/memory-audit.ts';
import { T0, approvalRequested, askedDecision, decidedBy, escalationInput, expired, observation, observationInput, rollbackProposal, type ProposalScript } from './paging-records.ts';

/**
 * A paging service that fails as scripted: each call takes the next scripted outcome ('ok', an
 * error, or 'hang' until abandoned) and records what was asked; with no script left it throws.
 */
class ScriptedPaging implements PagingService {
  readonly target = 'scripted';
  readonly calls: { action: string; dedup_key: string }[] = [];
  readonly memory = new MemoryPagingService();
  constructor(private readonly script: ('ok' | 'hang' | GovernorError)[]) {}
  trigger(e: TriggerEvent, o?: SendOptions) {
    return this.next('trigger', e.dedup_key, o, () => this.memory.trigger(e));
  }
  acknowledge(k: string, o?: SendOptions) {
    return this.next('acknowledge', k, o, () => this.memory.acknowledge(k));
  }
  resolve(k: string, o?: SendOptions) {
    return this.next('resolve', k, o, () => this.memory.resolve(k));
  }
  private async next(action: string, key: string, o: SendOptions | undefined, ok: () => Promise<PageReceipt>): Promise<PageReceipt> {
    this.calls.push({ action, dedup_key: key });
    const step = this.script.shift();
    if (step === undefined) throw new Error(`ScriptedPaging: unscripted ${action} of ${key}`);
    if (step === 'ok') return ok();
    if (step === 'hang') {
      return new Promise((_, reject) => o?.signal?.addEventListener('abort', () => reject(new GovernorError('upstream_unavailable', 'abandoned', { retryable: true }))));
    }
    throw step;
  }
}

const http500 = () => new GovernorError('upstream_unavailable', 'PagerDuty answered HTTP 500', { retryable: true, details: { status: 500 } });
const timeout = () => new GovernorError('timeout', 'PagerDuty did not answer', { retryable: true });

interface Rig {
  pager: Pager;
  audit: MemoryAudit;
  clock: VirtualClock;
  record(...inputs: AuditInput[]): Promise<void>;
  deliver(event: GovernorEvent, deliveries?: number): Promise<void>;
  /** Moves the run's clock, letting sweeps and sends finish. */
  advance(ms: number): Promise<void>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  await Promise.all(rigs.splice(0).map((r) => r.pager.stop()));
});

async function flush(tracker: WorkTracker): Promise<void> {
  for (let i = 0; i < 50 || tracker.busy > 0; i++) await new Promise((r) => setImmediate(r));
}

function rig(paging: PagingService, over: Partial<PagerDeps> = {}, audit: MemoryAudit = memoryAudit()): Rig {
  const clock = new VirtualClock(T0);
  const tracker = new WorkTracker();
  const pager = new Pager({ paging, audit, clock, logger: silentLogger(), spawn: (fn, onError) => tracker.spawn(fn, onError), drainMs: 50, ...over });
  pager.start();
  const r: Rig = {
    pager,
    audit,
    clock,
    record: async (...inputs) => {
      for (const i of inputs) await audit.append(i);
    },
    deliver: async (event, deliveries = 1) => {
      const msg: BusMessage = { id: randomUUID(), stream: STREAMS[event.type], event, deliveries };
      await pager.onMessage(msg);
      await flush(tracker);
    },
    advance: async (ms) => {
      for (let left = ms; left > 0; left -= 1_000) {
        await clock.advance(Math.min(1_000, left));
        await flush(tracker);
      }
    },
  };
  rigs.push(r);
  return r;
}

const script = (): ProposalScript => ({ id: randomUUID(), incident_id: randomUUID() });
const decisionEvent = (s: ProposalScript) => {
  const input = askedDecision(s);
  return input.payload.decision;
};

describe('pager: a supervised proposal', () => {
  it('triggers once the Slack message is recorded, once however often the decision is redelivered, and resolves once on approval', async () => {
    const paging = new MemoryPagingService();
    const r = rig(paging);
    const s = script();
    const decision = askedDecision(s);
    await r.record(rollbackProposal(s), decision);
    await r.deliver(decision.payload.decision);
    expect(paging.pages()).toEqual([]); // waiting for the Slack message
    await r.record(approvalRequested(s));
    await r.advance(5_000);
    await r.deliver(decision.payload.decision, 2);
    await r.advance(20_000);
    expect(paging.pages().map((p) => [p.action, p.dedup_key])).toEqual([['trigger', s.id]]);
    expect(paging.pages()[0]!.event!.links?.[0]?.href).toBe('https://slack.com/archives/C0APPROVALS/p1764000090000100');

    const vote = decidedBy(s, 'approved');
    await r.record(vote);
    await r.deliver(vote.payload.approval);
    await r.deliver(vote.payload.approval, 2);
    await r.advance(30_000);
    expect(paging.pages().map((p) => [p.action, p.dedup_key])).toEqual([['trigger', s.id], ['resolve', s.id]]);
    expect(paging.openAlerts()).toEqual([]);
    expect(r.pager.tracked()).toEqual([]);
  });

  it('pages without the link once the grace period passes with no Slack message', async () => {
    const paging = new MemoryPagingService();
    const r = rig(paging, { graceMs: 30_000 });
    const s = script();
    await r.record(rollbackProposal(s), askedDecision(s));
    await r.deliver(decisionEvent(s));
    await r.advance(25_000);
    expect(paging.pages()).toEqual([]);
    await r.advance(10_000);
    expect(paging.pages()).toMatchObject([{ action: 'trigger', dedup_key: s.id }]);
    expect(paging.pages()[0]!.event!.links).toBeUndefined();
  });

  it('resolves at the sweep after the approval expires (no bus event says so)', async () => {
    const paging = new MemoryPagingService();
    const r = rig(paging);
    const s = script();
    await r.record(rollbackProposal(s), askedDecision(s), approvalRequested(s));
    await r.deliver(decisionEvent(s));
    expect(paging.openAlerts().map((a) => a.dedup_key)).toEqual([s.id]);
    await r.record(expired(s));
    await r.advance(5_000);
    expect(paging.pages().map((p) => p.action)).toEqual(['trigger', 'resolve']);
  });

  it('never pages a proposal the policy allowed', async () => {
    const paging = new ScriptedPaging([]);
    const r = rig(paging);
    const s = script();
    const allowed = askedDecision(s, { verdict: 'allow' });
    await r.record(rollbackProposal(s), allowed);
    await r.deliver(allowed.payload.decision);
    await r.advance(60_000);
    expect(paging.calls).toEqual([]);
    expect(r.pager.tracked()).toEqual([]);
  });

  it('after a restart, resolves a page an earlier process may have sent', async () => {
    const paging = new MemoryPagingService();
    const s = script();
    const first = rig(paging);
    await first.record(rollbackProposal(s), askedDecision(s), approvalRequested(s));
    await first.deliver(decisionEvent(s));
    await first.pager.stop();
    const vote = decidedBy(s, 'rejected');
    await first.record(vote);
    const second = rig(paging, {}, first.audit);
    await second.deliver(vote.payload.approval);
    expect(paging.pages().map((p) => p.action)).toEqual(['trigger', 'resolve']);
  });
});

describe('pager: a critical incident', () => {
  it('triggers under the incident id and resolves when the incident does; warnings page nothing', async () => {
    const paging = new MemoryPagingService();
    const r = rig(paging);
    const id = randomUUID();
    const critical = observation(id, 'critical');
    await r.record(observationInput(critical));
    await r.deliver(critical);
    await r.deliver(critical, 2);
    const resolved = observation(id, 'info', 120);
    await r.record(observationInput(resolved));
    await r.deliver(resolved);
    await r.deliver(resolved, 2);
    const other = randomUUID();
    const warning = observation(other, 'warning');
    await r.record(observationInput(warning));
    await r.deliver(warning);
    expect(paging.pages().map((p) => [p.action, p.dedup_key, p.event?.severity])).toEqual([['trigger', id, 'critical'], ['resolve', id, undefined]]);
  });
});

describe('pager: an escalation', () => {
  it('pages a warning incident once it is escalated (found at the next sweep), with what blocks it, and resolves with the incident', async () => {
    const paging = new MemoryPagingService();
    const r = rig(paging);
    const id = randomUUID();
    const warning = observation(id, 'warning');
    await r.record(observationInput(warning));
    await r.deliver(warning);
    await r.advance(10_000);
    expect(paging.pages()).toEqual([]);
    await r.record(escalationInput(id), escalationInput(id, 320, 'enough:9'));
    await r.advance(10_000);
    const [trigger, ...rest] = paging.pages();
    expect(rest).toEqual([]);
    expect(trigger).toMatchObject({ action: 'trigger', dedup_key: `${id}:escalation`, event: { severity: 'critical', class: 'escalation' } });
    expect(trigger!.event!.summary).toMatch(/Needs a human: checkout cannot be scaled further/);
    expect(trigger!.event!.custom_details).toMatchObject({ blocked: [{ reason: 'entitlement' }], options: [expect.stringMatching(/max_replicas/)] });
    const resolved = observation(id, 'info', 600);
    await r.record(observationInput(resolved));
    await r.deliver(resolved);
    await r.advance(10_000);
    expect(paging.pages().map((p) => [p.action, p.dedup_key])).toEqual([['trigger', `${id}:escalation`], ['resolve', `${id}:escalation`]]);
  });

  it('after a restart, pages an escalation of an incident still open and leaves a resolved one alone', async () => {
    const audit = memoryAudit();
    const open = randomUUID();
    const over = randomUUID();
    for (const i of [observationInput(observation(over, 'warning')), escalationInput(over), observationInput(observation(over, 'info', 400)), observationInput(observation(open, 'warning', 500)), escalationInput(open, 600)]) await audit.append(i);
    const paging = new MemoryPagingService();
    const r = rig(paging, {}, audit);
    await r.advance(10_000);
    expect(paging.pages().map((p) => [p.action, p.dedup_key])).toEqual([['trigger', `${open}:escalation`]]);
  });
});

describe('pager: a page a person asked for', () => {
  it('resolves it when the incident resolves, and only one that went out', async () => {
    const paging = new MemoryPagingService();
    const r = rig(paging);
    const [asked, notSent] = [randomUUID(), randomUUID()];
    for (const [id, status] of [[asked, 'paged'], [notSent, 'recorded']] as const) {
      const warning = observation(id, 'warning');
      await r.record(observationInput(warning), {
        kind: 'observation_feedback', actor: 'U0ONCALL1', at: warning.ts, incident_id: id, tenant: 'acme',
        payload: { answer: 'page_on_call', by: { id: 'U0ONCALL1' }, observation_id: warning.id, source: 'slack', page: { status, detail: 'x' } },
      });
      await r.deliver(warning);
      const resolved = observation(id, 'info', 300);
      await r.record(observationInput(resolved));
      await r.deliver(resolved);
      await r.deliver(resolved, 2);
    }
    expect(paging.pages().map((p) => [p.action, p.dedup_key])).toEqual([['resolve', `${asked}:requested`]]);
  });
});

describe('pager: PagerDuty down', () => {
  it('never fails a handler; retries with backoff at later sweeps; a trigger refused every time is not resolved', async () => {
    const paging = new ScriptedPaging([http500(), http500(), 'ok']);
    const r = rig(paging, { retry: { firstMs: 15_000, maxMs: 60_000, attempts: 5 } });
    const s = script();
    await r.record(rollbackProposal(s), askedDecision(s), approvalRequested(s));
    await r.deliver(decisionEvent(s));
    expect(paging.calls).toHaveLength(1);
    await r.advance(10_000);
    expect(paging.calls).toHaveLength(1); // backing off: 15 s after the first failure
    await r.advance(10_000);
    expect(paging.calls).toHaveLength(2);
    await r.advance(30_000); // 30 s after the second
    expect(paging.calls.map((c) => c.action)).toEqual(['trigger', 'trigger', 'trigger']);
    expect(paging.memory.openAlerts().map((a) => a.dedup_key)).toEqual([s.id]);

    const t = script();
    const down = new ScriptedPaging([http500(), http500()]);
    const r2 = rig(down, { retry: { firstMs: 15_000, maxMs: 60_000, attempts: 5 } });
    await r2.record(rollbackProposal(t), askedDecision(t), approvalRequested(t));
    await r2.deliver(decisionEvent(t));
    await r2.advance(20_000);
    const vote = decidedBy(t, 'approved');
    await r2.record(vote);
    await r2.deliver(vote.payload.approval);
    await r2.advance(120_000);
    // Refused each time (an HTTP answer): nothing reached PagerDuty, so nothing to resolve.
    expect(down.calls.map((c) => c.action)).toEqual(['trigger', 'trigger']);
    expect(r2.pager.tracked()).toEqual([]);
  });

  it('resolves a trigger that may have arrived (a timeout), and gives up after its attempts', async () => {
    const paging = new ScriptedPaging([timeout(), 'ok']);
    const r = rig(paging, { retry: { firstMs: 15_000, maxMs: 15_000, attempts: 3 } });
    const s = script();
    await r.record(rollbackProposal(s), askedDecision(s), approvalRequested(s));
    await r.deliver(decisionEvent(s));
    const vote = decidedBy(s, 'approved');
    await r.record(vote);
    await r.deliver(vote.payload.approval);
    expect(paging.calls.map((c) => c.action)).toEqual(['trigger', 'resolve']);

    const never = new ScriptedPaging([http500(), http500(), http500()]);
    const r2 = rig(never, { retry: { firstMs: 15_000, maxMs: 15_000, attempts: 3 } });
    const t = script();
    await r2.record(rollbackProposal(t), askedDecision(t), approvalRequested(t));
    await r2.deliver(decisionEvent(t));
    await r2.advance(120_000);
    expect(never.calls).toHaveLength(3);
    expect(r2.pager.tracked()).toEqual([{ dedup_key: t.id, want: 'open', delivered: 'nothing', failures: 3, gave_up: true }]);
  });

  it('a hanging PagerDuty holds up no handler, and stop abandons the call', async () => {
    const paging = new ScriptedPaging(['hang']);
    const r = rig(paging);
    const s = script();
    await r.record(rollbackProposal(s), askedDecision(s), approvalRequested(s));
    const started = Date.now();
    await r.deliver(decisionEvent(s));
    const vote = decidedBy(s, 'approved');
    await r.record(vote);
    await r.deliver(vote.payload.approval);
    expect(Date.now() - started).toBeLessThan(1_000);
    await r.pager.stop();
    expect(paging.calls.map((c) => c.action)).toEqual(['trigger']);
  });

  it('an audit log that cannot be read fails the handler as retryable, so the message stays pending', async () => {
    const audit = memoryAudit();
    audit.list = async () => {
      throw new GovernorError('audit_unavailable', 'database down', { retryable: true });
    };
    const r = rig(new ScriptedPaging([]), {}, audit);
    await expect(r.pager.onMessage({ id: '1', stream: STREAMS.decision, event: decisionEvent(script()), deliveries: 1 })).rejects.toMatchObject({ code: 'audit_unavailable', retryable: true });
  });
});
