// The pager: a bus consumer (its own consumer group) that keeps PagerDuty in step with the paging
// policy (paging-policy.ts). On each decision, approval and observation it reads the proposal's or
// incident's records from the audit log, works out what PagerDuty should show for that dedup key,
// and sends what is missing — a trigger, or the resolve that ends it. A sweep in the run's clock
// does the same for the pages still open or waiting: it notices an approval that expired (no bus
// event says so), a Slack message recorded after the decision, and the retries that are due; and
// it looks for escalations recorded since the last sweep (an escalation is a record, not an event).
//
// PagerDuty down never blocks or fails anything. A handler awaits only its audit reads; sends run
// in the background and are never counted as work the demo's clock waits for. A failed send is
// logged and tried again at a later sweep or state change, backing off, up to a limit. There is no
// queue of its own: the audit log is the durable record of what ought to be paged, so after a
// restart the next state change or sweep finds what is owed (a resolve of a page that may have been
// sent before is sent; PagerDuty drops a resolve of an unknown key).
//
// Idempotent: a redelivered message never sends twice — what was delivered is remembered per dedup
// key, and PagerDuty's dedup key makes a repeat after a restart harmless. It must never throw from a
// handler because PagerDuty failed, never edit what it reads, and never page what the policy does not.
import { STREAMS } from '../contracts/events.ts';
import type { AuditStore } from '../audit/audit-store.ts';
import type { BusMessage } from '../bus/event-bus.ts';
import type { Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { escalationKey, escalationPageState, incidentPageState, proposalPageState, requestedKey, requestedPageState, type PageState } from './paging-policy.ts';
import type { PageAction, PagingService, TriggerEvent } from './paging-service.ts';
import { startSweeps, type Sweeps } from '../core/sweeps.ts';

/** The streams whose events can change what is paged. */
export const PAGER_STREAMS = [STREAMS.decision, STREAMS.approval, STREAMS.observation] as const;

export interface PagerDeps {
  paging: PagingService;
  audit: Pick<AuditStore, 'list'>;
  clock: Clock;
  logger: Logger;
  /** Counts a sweep's audit reads as work in progress (never its sends). */
  spawn: (fn: () => Promise<unknown>, onError: (err: unknown) => void) => void;
  /** How often open and waiting pages are looked at again, in the run's clock. Default 5 s. */
  sweepMs?: number;
  /** How long a proposal's page waits for its Slack message, in the run's clock. Default 30 s. */
  graceMs?: number;
  /** Backoff between failed attempts (run's clock) and the attempts per event before giving up. */
  retry?: { firstMs?: number; maxMs?: number; attempts?: number };
  /** Real ms that `stop` lets sends in flight finish before abandoning them. Default 2 s. */
  drainMs?: number;
}

type Ref = { kind: 'proposal' | 'incident'; id: string } | { kind: 'escalation' | 'requested'; id: string; incident_id: string };
/** What PagerDuty was told about a key, as far as this process knows; undefined: it does not know. */
type Delivered = 'nothing' | 'triggered' | 'resolved' | undefined;

interface Page {
  ref: Ref;
  want: PageState;
  delivered: Delivered;
  /** A trigger may have reached PagerDuty without an answer (a timeout, a dropped connection). */
  uncertain: boolean;
  sending: Promise<void> | undefined;
  /** The event being tried, its failed attempts, when the next is due, and whether it was given up on. */
  trying: PageAction | undefined;
  failures: number;
  nextAttemptMs: number;
  gaveUp: boolean;
}

/** Keys finished with, remembered so that a redelivery sends nothing (oldest forgotten first). */
const DONE_KEPT = 10_000;

export class Pager {
  private readonly pages = new Map<string, Page>();
  private readonly done = new Set<string>();
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private sweeps: Sweeps | undefined;
  private stopped = false;
  /** The newest escalation record looked at; undefined until the first sweep. */
  private escalationsSeen: number | undefined;
  private readonly sweepMs: number;
  private readonly graceMs: number;
  private readonly retry: { firstMs: number; maxMs: number; attempts: number };

  constructor(private readonly deps: PagerDeps) {
    this.sweepMs = deps.sweepMs ?? 5_000;
    this.graceMs = deps.graceMs ?? 30_000;
    this.retry = { firstMs: 15_000, maxMs: 300_000, attempts: 12, ...deps.retry };
  }

  async onMessage(msg: BusMessage): Promise<void> {
    const e = msg.event;
    if (e.type === 'decision' || e.type === 'approval') await this.check({ kind: 'proposal', id: e.proposal_id });
    else if (e.type === 'observation' && e.incident_id && (e.severity === 'critical' || e.severity === 'info')) {
      await this.check({ kind: 'incident', id: e.incident_id });
      // The incident's end also ends its escalation page, if one is open here.
      const escalated = this.pages.get(escalationKey(e.incident_id));
      if (e.severity === 'info' && escalated) await this.check(escalated.ref);
      // A page a person asked for (sent by the Slack desk) ends with the incident too.
      if (e.severity === 'info') await this.check({ kind: 'requested', id: requestedKey(e.incident_id), incident_id: e.incident_id });
    }
  }

  start(): void {
    this.stopped = false;
    this.sweeps = startSweeps({
      clock: this.deps.clock, everyMs: this.sweepMs, spawn: this.deps.spawn, sweep: () => this.sweep(),
      onError: (err) => this.deps.logger.warn({ err: describeError(err) }, 'paging sweep failed; trying again at the next one'),
    });
  }

  /** Stops sweeping, lets sends in flight finish for a moment, then abandons them. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sweeps?.stop();
    const all = () => Promise.allSettled([...this.inFlight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all(), new Promise<void>((r) => (timer = setTimeout(r, this.deps.drainMs ?? 2_000)))]);
    clearTimeout(timer);
    this.abort.abort();
    await all();
  }

  /** Looks at every open or waiting page again: expiries, late Slack messages, due retries. */
  async sweep(): Promise<void> {
    for (const page of [...this.pages.values()]) {
      if (page.sending) continue;
      await this.check(page.ref);
    }
    await this.newEscalations();
  }

  /**
   * Escalations recorded since the last look page at once. At the first look (a start) only those
   * of incidents still open count: an old escalation of a resolved incident owes nothing.
   */
  private async newEscalations(): Promise<void> {
    const recent = await this.deps.audit.list({ kind: 'escalation', newest_first: true, limit: 50 });
    const first = this.escalationsSeen === undefined;
    const since = this.escalationsSeen ?? 0;
    this.escalationsSeen = Math.max(since, recent[0]?.seq ?? 0);
    for (const r of recent.reverse()) {
      if (r.seq <= since || !r.incident_id) continue;
      const ref: Ref = { kind: 'escalation', id: escalationKey(r.incident_id), incident_id: r.incident_id };
      if (first && (await this.stateOf(ref)).state !== 'open') continue;
      await this.check(ref);
    }
  }

  /** Pages still tracked: open, waiting, or owed a resolve (for tests and the start report). */
  tracked(): { dedup_key: string; want: PageState['state']; delivered: Delivered; failures: number; gave_up: boolean }[] {
    return [...this.pages.entries()].map(([k, p]) => ({ dedup_key: k, want: p.want.state, delivered: p.delivered, failures: p.failures, gave_up: p.gaveUp }));
  }

  private async check(ref: Ref): Promise<void> {
    const want = await this.stateOf(ref);
    let page = this.pages.get(ref.id);
    if (!page) {
      // Finished with, or never anything to page: nothing to remember.
      if (this.done.has(ref.id) || want.state === 'none') return;
      page = { ref, want, delivered: undefined, uncertain: false, sending: undefined, trying: undefined, failures: 0, nextAttemptMs: 0, gaveUp: false };
      this.pages.set(ref.id, page);
    }
    page.want = want;
    this.pump(page);
  }

  private async stateOf(ref: Ref): Promise<PageState> {
    if (ref.kind === 'proposal') return proposalPageState(await this.deps.audit.list({ proposal_id: ref.id }), this.deps.clock.now(), { graceMs: this.graceMs });
    if (ref.kind === 'requested') return requestedPageState(await this.deps.audit.list({ incident_id: ref.incident_id }));
    if (ref.kind === 'escalation') {
      const records = await this.deps.audit.list({ incident_id: ref.incident_id });
      return escalationPageState(records.filter((r) => r.kind === 'escalation' || r.kind === 'observation' || r.kind === 'decision'));
    }
    const records = await this.deps.audit.list({ incident_id: ref.id, kind: 'observation' });
    return incidentPageState(records.flatMap((r) => (r.kind === 'observation' ? [r.payload.observation] : [])));
  }

  /** Sends the next event the key needs, if any and if due; one send per key at a time. */
  private pump(page: Page): void {
    if (page.sending || this.stopped) return;
    const key = page.ref.id;
    const next = this.nextAction(page);
    if (next === 'finished') {
      this.finish(key);
      return;
    }
    if (next === undefined) return;
    if (next !== page.trying) Object.assign(page, { trying: next, failures: 0, nextAttemptMs: 0, gaveUp: false });
    if (page.gaveUp) {
      // A resolve given up on has nothing left to wait for; a trigger given up on waits for its end.
      if (page.want.state === 'closed') this.finish(key);
      return;
    }
    if (this.deps.clock.now() < page.nextAttemptMs) return;
    const opts = { signal: this.abort.signal };
    const send = next === 'trigger' ? this.deps.paging.trigger((page.want as { trigger: TriggerEvent }).trigger, opts) : this.deps.paging.resolve(key, opts);
    const sending: Promise<void> = send
      .then(
        () => {
          page.delivered = next === 'trigger' ? 'triggered' : 'resolved';
          page.failures = 0;
          page.nextAttemptMs = 0;
          this.deps.logger.info({ ...this.ids(page), dedup_key: key, action: next, paging: this.deps.paging.target }, `paged: ${next} of ${key}`);
        },
        (err: unknown) => this.failed(page, next, err),
      )
      .finally(() => {
        page.sending = undefined;
        this.inFlight.delete(sending);
        // What is wanted may have moved on while this was in flight (a resolve owed after a trigger).
        this.pump(page);
      });
    page.sending = sending;
    this.inFlight.add(sending);
  }

  /** The event a key needs next: undefined when nothing (yet), 'finished' when nothing ever again. */
  private nextAction(page: Page): PageAction | 'finished' | undefined {
    const { want, delivered } = page;
    switch (want.state) {
      case 'none':
      case 'pending':
        return undefined;
      case 'open':
        return delivered === 'triggered' ? undefined : 'trigger';
      case 'closed':
        // Triggered here, perhaps triggered (an attempt without an answer), or perhaps triggered by a
        // process before this one: the resolve is owed. Refused each time it was tried: nothing to take back.
        if (delivered === 'resolved') return 'finished';
        if (delivered === 'triggered' || page.uncertain || (delivered === undefined && want.paged)) return 'resolve';
        return 'finished';
    }
  }

  private failed(page: Page, action: PageAction, err: unknown): void {
    const key = page.ref.id;
    if (action === 'trigger') {
      // PagerDuty answered (an HTTP status) or refused the event: it was not delivered. Anything
      // else (a timeout, a dropped connection) may have been.
      const answered = err instanceof GovernorError && (typeof err.details?.['status'] === 'number' || err.code === 'input_invalid' || err.code === 'unauthenticated');
      if (!answered) page.uncertain = true;
      if (page.delivered === undefined) page.delivered = 'nothing';
    }
    page.failures++;
    if (this.stopped) return;
    const retryable = !(err instanceof GovernorError) || err.retryable;
    const log = { ...this.ids(page), dedup_key: key, action, failures: page.failures, err: describeError(err) };
    if (!retryable || page.failures >= this.retry.attempts) {
      page.gaveUp = true;
      this.deps.logger.error(log, `could not page (${action} of ${key}); giving up after ${page.failures} attempt(s): Slack still has it`);
      return;
    }
    const backoff = Math.min(this.retry.maxMs, this.retry.firstMs * 2 ** (page.failures - 1));
    page.nextAttemptMs = this.deps.clock.now() + backoff;
    this.deps.logger.warn(log, `could not page (${action} of ${key}); trying again in ${Math.round(backoff / 1000)} s`);
  }

  private finish(key: string): void {
    this.pages.delete(key);
    this.done.add(key);
    if (this.done.size > DONE_KEPT) this.done.delete(this.done.values().next().value!);
  }

  private ids(page: Page): Record<string, string> {
    return page.ref.kind === 'proposal' ? { proposal_id: page.ref.id } : { incident_id: page.ref.kind === 'escalation' || page.ref.kind === 'requested' ? page.ref.incident_id : page.ref.id };
  }
}
