// The cockpit projector against the Slack Web API fake, the real Bolt app, gateway and approval desk
// on PostgreSQL: one thread per incident (the observation as the parent, the approval card asked
// into the thread, notices and the chart as replies), the card edited in place, the parent showing
// the incident's state — and redeliveries, bursts and a restart change nothing they should not.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { recordOfEvent } from '../../src/audit/records.ts';
import { EVENT_VERSION, STREAMS, type GovernorEvent, type Observation, type Verification } from '../../src/contracts/events.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { PgCockpitStore } from '../../src/slack/cockpit-store.ts';
import { CockpitProjector } from '../../src/slack/cockpit-projector.ts';
import type { MetricHistory, Point } from '../../src/slack/metric-history.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/proposal-message.ts';
import { CONFIRM_ACTION_ID, PAGE_ACTION_ID } from '../../src/slack/observation-actions.ts';
import { PG_URL, recordExecution } from '../integration/harness.ts';
import { ALICE, approvalWorld, hasButtons, waitFor, type ApprovalWorld } from './slack-harness.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const T0 = Date.parse('2026-11-24T10:00:00Z');

/** p99 around the seed incident; any other question is a failure the test sees. */
class ScriptedHistory implements MetricHistory {
  asked = 0;
  async p99(service: { namespace: string; deployment: string }, fromMs: number, toMs: number, stepMs: number): Promise<Point[]> {
    if (service.namespace !== 'acme-prod' || service.deployment !== 'checkout') throw new Error(`unscripted p99 of ${service.namespace}/${service.deployment}`);
    this.asked++;
    const out: Point[] = [];
    for (let t = fromMs; t <= toMs; t += stepMs) out.push({ t, v: t < T0 ? 180 : 1240 });
    return out;
  }
}

function observation(incidentId: string, over: Partial<Observation> = {}): Observation {
  return {
    id: randomUUID(), v: EVENT_VERSION, ts: new Date(T0).toISOString(), incident_id: incidentId, type: 'observation', agent: 'watchtower',
    tenant: 'acme', namespace: 'acme-prod', severity: 'critical',
    summary: 'checkout: p99 1240 ms over the 300 ms SLO <!channel> <https://evil.example|click me>',
    target: { kind: 'Deployment', name: 'checkout' },
    signals: [
      { metric: 'http_request_duration_p99_ms', target: 'checkout', value: 1240, baseline: 180, change_pct: 589, unit: 'ms' },
      { metric: 'jvm_gc_pause_ms_per_min', target: 'checkout-7d9f-<@U0ONCALL01>', value: 4400, baseline: 1000, change_pct: 340 },
    ],
    correlated_change: { kind: 'deployment', name: 'checkout', revision: 2, at: new Date(T0 - 47 * 60_000).toISOString(), minutes_before: 47, description: 'JVM heap -Xmx changed' },
    ...over,
  };
}

const bus = (event: GovernorEvent) => ({ id: randomUUID(), stream: STREAMS[event.type], event, deliveries: 1 });

async function cockpit() {
  const history = new ScriptedHistory();
  let projector: CockpitProjector | undefined;
  const w: ApprovalWorld = await approvalWorld({ app: { threadOf: (id) => projector!.threadFor(id) } });
  cleanups.push(() => w.close());
  const makeProjector = () => {
    const store = new PgCockpitStore({ connectionString: PG_URL, schema: w.h.schema, poolSize: 2 });
    cleanups.push(() => store.close());
    return new CockpitProjector({ audit: w.h.audit, store, slack: w.app, history, clock: w.h.clock, logger: silentLogger() });
  };
  projector = makeProjector();
  return { w, history, projector, makeProjector, calls: (method: string) => w.fake.apiCalls().filter((c) => c.method === method && c.ok).length };
}

describe('the incident thread', () => {
  it('posts the observation as the parent, asks approval in its thread, edits the card in place, and follows the incident to its end', async () => {
    const { w, projector, calls } = await cockpit();
    const incident = randomUUID();
    const o = observation(incident);
    await w.h.audit.append(recordOfEvent<'observation'>(o, { tool_calls: [] }));
    await projector.onMessage(bus(o));

    const [parent] = w.fake.messages();
    expect(w.fake.messages().filter((m) => !m.thread_ts)).toHaveLength(1);
    const blocks = JSON.stringify(parent!.blocks);
    expect(blocks).toContain('Correlated change');
    expect(blocks).toContain('JVM heap -Xmx changed');
    expect(blocks).toContain(CONFIRM_ACTION_ID);
    expect(blocks).toContain(PAGE_ACTION_ID);
    // Data from outside is shown, never obeyed: no channel ping, no disguised link, no forged mention.
    expect(blocks).not.toMatch(/<!channel>|<https:\/\/evil|<@U0ONCALL01>/);
    expect(blocks).toContain('&lt;!channel&gt;');
    // The chart: uploaded with Slack's three-step flow into the thread, a real PNG.
    const chart = w.fake.messages().find((m) => m.files);
    expect(chart?.thread_ts).toBe(parent!.ts);
    expect(['files.getUploadURLExternal', 'files.completeUploadExternal'].map(calls)).toEqual([1, 1]);
    const png = w.fake.fileBytes(String(chart!.files![0]!['id']))!;
    expect(png.subarray(1, 4).toString()).toBe('PNG');

    // The gateway asks for approval: the card goes into the incident's thread.
    const { p, ts: cardTs } = await w.requestOne({ incident_id: incident });
    const card = w.message(cardTs);
    expect(card.thread_ts).toBe(parent!.ts);
    const decision = (await w.h.audit.list({ proposal_id: p.id, kind: 'decision' }))[0]!;
    await projector.onMessage(bus(decision.kind === 'decision' ? decision.payload.decision : o));
    expect(JSON.stringify(w.message(parent!.ts).blocks)).toContain('1 awaiting approval');
    expect(hasButtons(w.message(cardTs))).toBe(true);

    await w.fake.clickButton({ ts: cardTs, actionId: APPROVE_ACTION_ID, userId: ALICE });
    await waitFor(() => !hasButtons(w.message(cardTs)), 'the resolved card');
    await w.deliver(p.id);
    const [grant] = await w.grants(p.id);
    await recordExecution(w.h, { proposal_id: p.id, grant_id: grant!.kind === 'grant' ? grant!.payload.grant.id : '', tool: 'rollback_deployment', args: p.tool_call.args, at: new Date(T0 + 120_000).toISOString(), incident_id: incident });
    const v: Verification = {
      id: randomUUID(), v: EVENT_VERSION, ts: new Date(T0 + 300_000).toISOString(), incident_id: incident, type: 'verification', proposal_id: p.id,
      agent: 'elastik', tenant: 'acme', outcome: 'restored', metric: 'p99_latency_ms', before: 1240, after: 190, slo_threshold: 300,
    };
    await w.h.audit.append(recordOfEvent<'verification'>(v, {}));
    await projector.onMessage(bus(v));

    // Edited in place, never reposted: one card, now saying who approved and that it restored the SLO.
    const cards = w.fake.messages().filter((m) => JSON.stringify(m.blocks).includes(`proposal_status:${p.id}`));
    expect(cards.map((m) => m.ts)).toEqual([cardTs]);
    const cardText = JSON.stringify(w.message(cardTs).blocks);
    expect(cardText).toContain('Approved* by <@U0ONCALL01>');
    expect(cardText).toContain('Verified: SLO restored');
    const replies = w.fake.messages().filter((m) => m.thread_ts === parent!.ts);
    expect(replies.map((m) => m.text).join('\n')).toMatch(/Executed.*\n?.*Verified: SLO restored/s);
    expect(w.fake.messages().filter((m) => !m.thread_ts)).toHaveLength(1);

    // Resolution: the parent says so, Page on-call is gone, and the whole incident's chart follows.
    const resolved = observation(incident, { ts: new Date(T0 + 360_000).toISOString(), severity: 'info', summary: 'checkout: p99 190 ms is back under the 300 ms SLO', signals: [] });
    w.h.clock.advance(360_000);
    await w.h.audit.append(recordOfEvent<'observation'>(resolved, { tool_calls: [] }));
    await projector.onMessage(bus(resolved));
    const shown = JSON.stringify(w.message(parent!.ts).blocks);
    expect(shown).toContain('Resolved');
    expect(shown).not.toContain(PAGE_ACTION_ID);
    expect(w.fake.messages().filter((m) => m.files)).toHaveLength(2);
  });

  it('redeliveries change nothing, a burst edits instead of posting, and a restarted projector posts nothing twice', async () => {
    const { w, projector, makeProjector, calls } = await cockpit();
    const incident = randomUUID();
    const o = observation(incident);
    await w.h.audit.append(recordOfEvent<'observation'>(o, { tool_calls: [] }));
    // A burst: twenty events of one incident at once.
    await Promise.all(Array.from({ length: 20 }, () => projector.onMessage(bus(o))));
    const posts = calls('chat.postMessage');
    expect(posts).toBe(1);
    expect(calls('chat.update')).toBe(0);
    // Watchtower worsens it several times: the parent is edited, nothing new is posted.
    for (let i = 0; i < 5; i++) {
      const worse = observation(incident, { ts: new Date(T0 + (i + 1) * 15_000).toISOString(), summary: `checkout: p99 ${1300 + i * 100} ms` });
      await w.h.audit.append(recordOfEvent<'observation'>(worse, { tool_calls: [] }));
    }
    await Promise.all(Array.from({ length: 5 }, () => projector.onMessage(bus(o))));
    expect(calls('chat.postMessage')).toBe(posts);
    // Five events at once: one pass edits, the coalesced pass after it finds nothing more to change.
    expect(calls('chat.update')).toBe(1);
    expect(JSON.stringify(w.fake.messages()[0]!.blocks)).toContain('checkout: p99 1700 ms');
    // The same records again: nothing to edit.
    await projector.onMessage(bus(o));
    expect(calls('chat.update')).toBe(1);
    // A restarted process (a new projector, the same store): the thread is found, not reposted.
    const again = makeProjector();
    await again.onMessage(bus(o));
    expect(calls('chat.postMessage')).toBe(posts);
    expect(w.fake.messages().filter((m) => m.files)).toHaveLength(1);
    // An observation without its incident (Watchtower restarted) joins the open incident's thread.
    const orphan = observation(incident, { incident_id: undefined, summary: 'checkout: still slow' });
    delete (orphan as { incident_id?: string }).incident_id;
    await w.h.audit.append(recordOfEvent<'observation'>(orphan, { tool_calls: [] }));
    await again.onMessage(bus(orphan));
    expect(calls('chat.postMessage')).toBe(posts);
  });

  it('Confirm and Page on-call are recorded, told in the thread, and shown on the parent; a second page is refused', async () => {
    const { w, projector } = await cockpit();
    const incident = randomUUID();
    const o = observation(incident);
    await w.h.audit.append(recordOfEvent<'observation'>(o, { tool_calls: [] }));
    await projector.onMessage(bus(o));
    const parent = w.fake.messages()[0]!;
    const { ObservationAnswers, recordOnlyPager } = await import('../../src/slack/observation-answers.ts');
    const pages: string[] = [];
    const desk = new ObservationAnswers({
      audit: w.h.audit, recorder: w.h.recorder, clock: w.h.clock,
      pageOnCall: async (i) => {
        pages.push(i.incident_id);
        return recordOnlyPager(i);
      },
      onAnswered: (id) => void projector.refresh(id),
    });
    const app = await w.instance({ observations: desk });
    w.fake.setInteractionsUrl(app.url);
    await w.fake.clickButton({ ts: parent.ts, actionId: CONFIRM_ACTION_ID, userId: ALICE });
    await waitFor(() => w.fake.messages().some((m) => m.thread_ts === parent.ts && m.text.includes('confirmed this incident')), 'the confirmation in the thread');
    await w.fake.clickButton({ ts: parent.ts, actionId: CONFIRM_ACTION_ID, userId: ALICE });
    await waitFor(() => w.fake.ephemerals().some((e) => e.text.includes('already confirmed')), 'the second confirmation refused');
    await w.fake.clickButton({ ts: parent.ts, actionId: PAGE_ACTION_ID, userId: ALICE });
    await w.fake.clickButton({ ts: parent.ts, actionId: PAGE_ACTION_ID, userId: 'U0ONCALL02' });
    await waitFor(() => w.fake.ephemerals().some((e) => e.text.includes('already paged')), 'the second page refused');
    expect(pages).toEqual([incident]);
    const answers = await w.h.audit.list({ incident_id: incident, kind: 'observation_feedback' });
    expect(answers.map((r) => (r.kind === 'observation_feedback' ? [r.payload.answer, r.payload.by.id, r.payload.page?.status] : []))).toEqual([
      ['confirmed', ALICE, undefined],
      ['page_on_call', ALICE, 'recorded'],
    ]);
    const shown = () => JSON.stringify(w.message(parent.ts).blocks);
    await waitFor(() => shown().includes('confirmed by <@U0ONCALL01>') && shown().includes('page requested by <@U0ONCALL01>'), 'the parent showing the answers');
  });
});
