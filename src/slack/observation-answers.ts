// The observation desk: what people answer on an incident's parent message. Confirm and False alarm
// are recorded as `observation_feedback` (the latest of them is the incident's verdict, from which
// Watchtower's precision is computed: src/governance/phase-evidence.ts); Page on-call calls the
// injected pager (PagerDuty at the composition root; in the sandbox one that only records) and
// records the request with what the pager said. Each answer is told in the incident's thread.
// It must never record an answer on an incident the log does not know, record the same verdict by
// the same hand twice (a redelivered click), or page twice for one incident; and it never pages
// without leaving the page, and its outcome, on record.
import type { AuditRecord } from '../audit/records.ts';
import { ofKind, type Person } from '../audit/records.ts';
import type { AuditStore } from '../audit/audit-store.ts';
import type { Recorder } from '../audit/recorder.ts';
import type { Observation } from '../contracts/events.ts';
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { SharedState } from '../bus/shared-state.ts';
import { MemorySharedState } from '../bus/memory-shared-state.ts';
import { escapeMrkdwn, principal } from './mrkdwn.ts';
import type { AnswerResult, ObservationAnswer, ObservationDesk } from './observation-actions.ts';

/** The incident, as a pager needs it. */
export interface PageRequest {
  incident_id: string;
  tenant: string;
  /** `namespace/deployment`. */
  service: string;
  severity: Observation['severity'];
  summary: string;
  requested_by: Person;
}

export interface PageOutcome {
  /** `paged`: the on-call was reached; `recorded`: no pager is configured, the request is on record only. */
  status: 'paged' | 'recorded';
  detail: string;
}

export type PageOnCall = (incident: PageRequest) => Promise<PageOutcome>;

/** The sandbox's pager (and real mode's without PAGERDUTY_ROUTING_KEY): nobody is paged, and it says so. */
export const recordOnlyPager: PageOnCall = async () => ({
  status: 'recorded',
  detail: 'no pager is configured (PAGERDUTY_ROUTING_KEY is not set), so nobody was paged; the request is in the audit log',
});

export interface ObservationAnswersDeps {
  audit: Pick<AuditStore, 'list'>;
  recorder: Recorder;
  clock: Clock;
  pageOnCall: PageOnCall;
  /** Called after an answer is recorded: the projector shows it on the parent. */
  onAnswered?: (incidentId: string) => void;
  /**
   * One page per incident among concurrent clicks (and gateway replicas): the shared state's window
   * claim (Redis with REDIS_URL). Without it, pages are serialised in this process only.
   */
  claims?: Pick<SharedState, 'claimWindow' | 'releaseWindow'>;
}

/** Long enough for any page to be sent and recorded; a failed page gives the claim back. */
const PAGE_CLAIM_MS = 10 * 60_000;

const VERDICT_WORDS = { confirmed: 'confirmed', false_alarm: 'marked a false alarm' } as const;

export class ObservationAnswers implements ObservationDesk {
  private readonly claims: Pick<SharedState, 'claimWindow' | 'releaseWindow'>;

  constructor(private readonly deps: ObservationAnswersDeps) {
    this.claims = deps.claims ?? new MemorySharedState();
  }

  async answer(a: { incident_id: string; answer: ObservationAnswer; by: Person }): Promise<AnswerResult> {
    const records = await this.deps.audit.list({ incident_id: a.incident_id });
    const opened = ofKind(records, 'observation')[0];
    if (!opened) return { status: 'unchanged', message: `Governor has no incident ${a.incident_id} on record; nothing was recorded.` };
    const o = opened.payload.observation;
    const answers = ofKind(records, 'observation_feedback');
    if (a.answer === 'page_on_call') return this.page(a, o, answers);

    const result = await this.deps.recorder.recordChecked<AnswerResult>(async (read) => {
      // Decided under the chain lock: two clicks at once record one verdict.
      const latest = ofKind(await read.list({ incident_id: a.incident_id, kind: 'observation_feedback' }), 'observation_feedback')
        .filter((r) => r.payload.answer !== 'page_on_call')
        .at(-1);
      if (latest?.payload.answer === a.answer) {
        const who = latest.payload.by.id === a.by.id ? 'You' : principal(latest.payload.by.id);
        return { entries: [], result: { status: 'unchanged', message: `${who} already ${VERDICT_WORDS[a.answer as 'confirmed' | 'false_alarm']} this incident; nothing changed.` } };
      }
      const changed = latest ? ` (it was ${VERDICT_WORDS[latest.payload.answer as 'confirmed' | 'false_alarm']} by ${principal(latest.payload.by.id)})` : '';
      return {
        entries: [{ input: this.input(a, o, {}) }],
        result: {
          status: 'recorded',
          text: a.answer === 'confirmed'
            ? `✅ ${principal(a.by.id)} confirmed this incident${changed}. Recorded for Watchtower's precision.`
            : `🙅 ${principal(a.by.id)} marked this incident a false alarm${changed}. Recorded for Watchtower's precision.`,
        },
      };
    });
    if (result.status === 'recorded') this.deps.onAnswered?.(a.incident_id);
    return result;
  }

  private async page(a: { incident_id: string; by: Person }, o: Observation, answers: AuditRecord<'observation_feedback'>[]): Promise<AnswerResult> {
    const earlier = answers.find((r) => r.payload.answer === 'page_on_call' && r.payload.page?.status !== 'failed');
    if (earlier) {
      return { status: 'unchanged', message: `On-call was already paged for this incident by ${principal(earlier.payload.by.id)}; not paged again.` };
    }
    // Two clicks at once both find no page on record: the first to claim the incident's page sends it.
    const key = `page:${a.incident_id}`;
    const at = this.deps.clock.now();
    const claim = await this.claims.claimWindow(key, at, PAGE_CLAIM_MS);
    if (!claim.acquired) {
      return { status: 'unchanged', message: 'On-call was already paged for this incident (a page is being sent); not paged again.' };
    }
    let page: { status: 'paged' | 'recorded' | 'failed'; detail: string };
    try {
      page = await this.deps.pageOnCall({
        incident_id: a.incident_id,
        tenant: o.tenant,
        service: `${o.namespace}/${o.target.name}`,
        severity: o.severity,
        summary: o.summary,
        requested_by: a.by,
      });
    } catch (err) {
      page = { status: 'failed', detail: describeError(err) };
    }
    try {
      await this.deps.recorder.record(this.input({ ...a, answer: 'page_on_call' }, o, { page }));
    } finally {
      // A failed page (or one that could not be recorded) may be asked for again.
      if (page.status === 'failed') await this.claims.releaseWindow(key, at).catch(() => undefined);
    }
    this.deps.onAnswered?.(a.incident_id);
    const text =
      page.status === 'paged'
        ? `📟 ${principal(a.by.id)} paged the on-call: ${escapeMrkdwn(page.detail)}.`
        : page.status === 'recorded'
          ? `📟 ${principal(a.by.id)} asked to page the on-call: ${escapeMrkdwn(page.detail)}.`
          : `⚠️ ${principal(a.by.id)} asked to page the on-call, and the page failed: ${escapeMrkdwn(page.detail)}. Try again, or call them.`;
    return { status: 'recorded', text };
  }

  private input(a: { incident_id: string; answer: ObservationAnswer; by: Person }, o: Observation, extra: { page?: { status: 'paged' | 'recorded' | 'failed'; detail: string } }) {
    return {
      kind: 'observation_feedback' as const,
      actor: a.by.id,
      at: new Date(this.deps.clock.now()).toISOString(),
      incident_id: a.incident_id,
      tenant: o.tenant,
      payload: { answer: a.answer, by: a.by, observation_id: o.id, source: 'slack' as const, ...extra },
    };
  }
}
