// The real Bolt app against the Slack fake and a real approval desk on PostgreSQL: messages go over
// the Web API wire protocol, clicks arrive as signed HTTP requests through Bolt's own receiver, and
// every vote is decided against the proposal's records. Each refusal says why, to that person only,
// and leaves nothing granted.
import { afterEach, describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { SANDBOX_CHANNEL, startSlackWebApiFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../src/slack/proposal-message.ts';
import { createSlackApp, type Approvals, type GovernorSlackApp, type SlackAppOptions } from '../../src/slack/slack-app.ts';
import { httpTransport, socketModeTransport } from '../../src/slack/slack-transport.ts';
import { decisionFixture, proposalFixture } from './fixtures.ts';
import {
  ALICE,
  BOB,
  BOT_TOKEN,
  CAROL,
  SIGNING_SECRET,
  approvalWorld,
  hasButtons,
  settle,
  waitFor,
  type ApprovalWorld,
  type ApprovalWorldOptions,
} from './slack-harness.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function world(opts: ApprovalWorldOptions = {}): Promise<ApprovalWorld> {
  const w = await approvalWorld(opts);
  cleanups.push(() => w.close());
  return w;
}

/** The exact bytes of a signed click, for sending again (a replay) or signed at a chosen time. */
function signedClick(payload: unknown, timestampSec = Math.floor(Date.now() / 1000)) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, body, timestampSec) } };
}

const refusalsOf = async (w: ApprovalWorld, proposalId: string) =>
  (await w.h.audit.list({ proposal_id: proposalId, kind: 'refusal' })).map((r) => (r.kind === 'refusal' ? r.payload.code : undefined));

describe('Slack approval flow (Bolt against the Slack fake, decided by the approval desk)', () => {
  it('posts a proposal with its buttons, who may approve and until when, once', async () => {
    const w = await world();
    const { p, channel, ts } = await w.requestOne();
    expect(channel).toBe(SANDBOX_CHANNEL.id);
    const m = w.message(ts);
    expect(m.text).toContain('Approval needed');
    const actions = (m.blocks as Array<{ type: string; block_id: string; elements: Array<{ action_id: string; value: string }> }>).find(
      (b) => b.type === 'actions',
    )!;
    expect(actions.block_id).toBe(`proposal:${p.id}`);
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      [APPROVE_ACTION_ID, p.id],
      [REJECT_ACTION_ID, p.id],
    ]);
    expect(JSON.stringify(m.blocks)).toMatch(/Awaiting approval\* from one of <@U0ONCALL01>, <@U0ONCALL02> · expires <!date\^/);
    // A redelivered proposal does not post a second message.
    await w.gateway.onProposal(p);
    expect(w.fake.messages()).toHaveLength(1);
    // Liveness for the load balancer / kubelet, next to the interactions endpoint.
    expect((await fetch(w.url.replace('/slack/events', '/healthz'))).status).toBe(200);
  });

  it('refuses to put buttons on a proposal that policy denied or allowed', async () => {
    const w = await world();
    const p = proposalFixture({ id: 'prop-denied' });
    await expect(w.app.requestApproval(p, decisionFixture(p, { verdict: 'deny' }))).rejects.toMatchObject({ code: 'conflict' });
    await expect(w.app.requestApproval(p, decisionFixture(p, { verdict: 'allow' }))).rejects.toMatchObject({ code: 'conflict' });
    await expect(w.app.requestApproval(p, decisionFixture(proposalFixture({ id: 'other' })))).rejects.toMatchObject({ code: 'event_invalid' });
    expect(w.fake.messages()).toHaveLength(0);
  });

  it('a signed click by an approver decides once, resolves the message, and becomes one grant', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const { status } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    expect(status).toBe(200);
    await waitFor(() => w.message(ts).updates > 0, 'message update');
    const m = w.message(ts);
    expect(hasButtons(m)).toBe(false);
    expect(JSON.stringify(m.blocks)).toContain(`Approved* by <@${ALICE}> at`);
    // The rest of the proposal is still there for the record.
    expect(JSON.stringify(m.blocks)).toContain('GC pause +340%');
    await w.deliver(p.id);
    const grants = await w.grants(p.id);
    expect(grants).toHaveLength(1);
    expect(grants[0]!.payload).toMatchObject({ grant: { basis: 'approval' }, approvers: [{ id: ALICE, name: 'alice' }] });
  });

  it('a Reject is final: a later Approve is refused with its reason, and nothing is granted', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const click = await w.fake.clickButton({ ts, actionId: REJECT_ACTION_ID, userId: BOB });
    await waitFor(() => w.message(ts).updates > 0, 'message update');
    expect(JSON.stringify(w.message(ts).blocks)).toContain(`Rejected* by <@${BOB}>`);
    // Alice still sees the buttons (a stale view) and clicks Approve.
    const stale = structuredClone(click.payload) as Record<string, any>;
    stale.user = { id: ALICE, username: 'alice', name: 'alice', team_id: 'T0SANDBOX' };
    stale.actions[0].action_id = APPROVE_ACTION_ID;
    stale.actions[0].action_ts = String(Date.now() / 1000);
    expect((await w.fake.postInteraction(stale)).status).toBe(200);
    const told = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE), "Alice's ephemeral");
    expect(told.text).toMatch(/already rejected by bob/);
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toEqual([]);
    expect(w.message(ts).updates).toBe(1);
    expect(await refusalsOf(w, p.id)).toEqual(['already_decided']);
  });

  it('two people clicking at the same moment produce one decision', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const results = await Promise.all([
      w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE }),
      w.fake.clickButton({ ts, actionId: REJECT_ACTION_ID, userId: BOB }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    await waitFor(() => w.message(ts).updates > 0, 'message update');
    await waitFor(() => w.fake.ephemerals().length === 1, 'the loser is told');
    expect(w.fake.ephemerals()[0]!.text).toMatch(/already (approv|reject)ed/);
    expect((await w.kinds(p.id)).filter((k) => k === 'approval')).toHaveLength(1);
  });

  it('a concurrent double Approve from two processes is decided once, by PostgreSQL', async () => {
    const w = await world();
    const second = await w.instance();
    const { p, ts } = await w.requestOne();
    // One click reaches each process at the same moment (Slack load-balances across replicas).
    const first = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, signingSecret: 'just-to-capture-the-payload' });
    const asBob = structuredClone(first.payload) as Record<string, any>;
    asBob.user = { id: BOB, username: 'bob', name: 'bob', team_id: 'T0SANDBOX' };
    const [a, b] = [signedClick(first.payload), signedClick(asBob)];
    const statuses = await Promise.all([
      fetch(w.url, { method: 'POST', headers: a.headers, body: a.body }).then((r) => r.status),
      fetch(second.url, { method: 'POST', headers: b.headers, body: b.body }).then((r) => r.status),
    ]);
    expect(statuses).toEqual([200, 200]);
    const loser = await waitFor(() => w.fake.ephemerals()[0], 'the second click is told');
    expect(loser.text).toMatch(/already approved by (alice|bob)/);
    await w.deliver(p.id);
    const approvals = (await w.h.audit.list({ proposal_id: p.id, kind: 'approval' }));
    expect(approvals).toHaveLength(1);
    expect(await w.grants(p.id)).toHaveLength(1);
    expect(await refusalsOf(w, p.id)).toEqual(['already_decided']);
  });

  it('a two-person rule needs two different people: the same person twice does not count', async () => {
    const w = await world({ defaults: { rules: [{ name: 'rollbacks take two', actions: ['rollback_deployment'], required: 2 }] } });
    const { p, ts } = await w.requestOne();
    expect(JSON.stringify(w.message(ts).blocks)).toContain('Awaiting approval* from 2 different approvers among <@U0ONCALL01>, <@U0ONCALL02>');
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    await waitFor(() => w.message(ts).updates === 1, 'the first vote shown');
    expect(hasButtons(w.message(ts))).toBe(true);
    expect(JSON.stringify(w.message(ts).blocks)).toContain('approved so far by <@U0ONCALL01> (1 of 2)');
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toEqual([]);

    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const again = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE && /already voted/.test(e.text)), 'the refusal');
    expect(again.text).toContain('needs 2 different approvers');
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toEqual([]);

    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: BOB });
    await waitFor(() => !hasButtons(w.message(ts)), 'the decision');
    expect(JSON.stringify(w.message(ts).blocks)).toContain(`Approved* by <@${ALICE}>, <@${BOB}>`);
    await w.deliver(p.id);
    expect((await w.grants(p.id))[0]!.payload).toMatchObject({ approvers: [{ id: ALICE }, { id: BOB }] });
  });

  it('whoever breaks a freeze cannot also approve it: the override by Slack command, the self-approval refused, another approver grants', async () => {
    const autonomy = {
      phase: 'govern' as const,
      statuses: () => [],
      setLevel: async () => { throw new Error('unexpected level change'); },
      pause: async () => { throw new Error('unexpected pause'); },
    };
    const w = await world({ app: { autonomy } });
    await w.h.clock.advance(4 * 24 * 3600_000); // Saturday 28 Nov 2026, inside initech's weekend freeze
    const at = new Date(w.h.clock.now()).toISOString();
    const args = (replicas: number) => ({ namespace: 'initech-prod', deployment: 'api', replicas });
    const { p } = await w.requestOneDenied({
      ts: at, tenant: 'initech', namespace: 'initech-prod', target: { kind: 'Deployment', name: 'api' }, action: 'scale_deployment',
      params: { from_replicas: 4, to_replicas: 5 }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 5 },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: args(5) },
      compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: args(4) },
    });
    await w.fake.slashCommand({ command: '/agents-override-freeze', text: `${p.id} checkout outage, CHG-1234 approved by the CAB`, userId: ALICE });
    await waitFor(() => w.fake.messages().find((m) => m.text.includes('overrode the change freeze')), 'the announcement');
    await w.deliver(p.id);
    const m = await waitFor(() => w.fake.messages().find((x) => JSON.stringify(x.blocks).includes(`proposal:${p.id}`)), 'the approval request');
    expect(JSON.stringify(m.blocks)).toContain(`(not <@${ALICE}>, who asked for it)`);

    await w.fake.clickButton({ ts: m.ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE && /You asked for this change/.test(e.text)), 'the refusal');
    expect(told.text).toContain('another approver must approve');
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toEqual([]);

    await w.fake.clickButton({ ts: m.ts, actionId: APPROVE_ACTION_ID, userId: BOB });
    await waitFor(() => !hasButtons(w.message(m.ts)), 'the decision');
    await w.deliver(p.id);
    const grants = await w.grants(p.id);
    expect(grants).toHaveLength(1);
    expect(grants[0]!.payload).toMatchObject({ approvers: [{ id: BOB }] });
    expect(await refusalsOf(w, p.id)).toEqual(['self_approval']);
  });

  it('someone who is not an approver is refused and recorded, and the buttons stay for an approver', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: CAROL });
    const refusal = await waitFor(() => w.fake.ephemerals().find((e) => e.user === CAROL), 'refusal');
    expect(refusal.text).toMatch(/You are not an approver for rollback_deployment of checkout/);
    await settle();
    expect(hasButtons(w.message(ts))).toBe(true);
    expect(w.message(ts).updates).toBe(0);
    expect(await refusalsOf(w, p.id)).toEqual(['not_approver']);
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toEqual([]);

    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: BOB });
    await waitFor(() => w.message(ts).updates > 0, 'decision');
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toHaveLength(1);
  });

  it('approvers can be named by Slack user group: its members approve, others do not', async () => {
    const w = await world({ defaults: { approvers: ['S0ONCALL'] } });
    const { p, ts } = await w.requestOne();
    expect(JSON.stringify(w.message(ts).blocks)).toContain('one of <!subteam^S0ONCALL>');
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: CAROL });
    await waitFor(() => w.fake.ephemerals().find((e) => e.user === CAROL), 'refusal');
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: BOB });
    await waitFor(() => w.message(ts).updates > 0, 'decision');
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toHaveLength(1);
    expect(w.fake.apiCalls().filter((c) => c.method === 'usergroups.users.list')).not.toHaveLength(0);
  });

  it('with no approvers configured, nobody can approve, and the message says so', async () => {
    const w = await world({ defaults: { approvers: [] } });
    const { p, ts } = await w.requestOne();
    expect(JSON.stringify(w.message(ts).blocks)).toContain('Nobody can approve this');
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE), 'refusal');
    expect(told.text).toMatch(/Nobody is configured to approve/);
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toEqual([]);
    expect(await refusalsOf(w, p.id)).toEqual(['no_approvers_configured']);
  });

  it('an approval after the request expired is refused; the expiry is recorded once', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    await w.h.clock.advance(5 * 60_000);
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE), 'refusal');
    expect(told.text).toMatch(/expired at 2026-11-24T10:05:00.000Z/);
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toEqual([]);
    expect(await w.kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'approval_expired', 'refusal']);
  });

  it('a click on a proposal that does not exist is refused, and rewrites nothing', async () => {
    const w = await world();
    const { ts } = await w.requestOne();
    const { payload } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, signingSecret: 'capture-only' });
    const ghost = structuredClone(payload) as Record<string, any>;
    ghost.actions[0].value = 'b3c9e2d0-0000-4000-8000-000000000000';
    ghost.actions[0].block_id = 'proposal:b3c9e2d0-0000-4000-8000-000000000000';
    expect((await w.fake.postInteraction(ghost)).status).toBe(200);
    const told = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE), 'refusal');
    expect(told.text).toMatch(/There is no such proposal/);
    await settle();
    expect(w.message(ts).updates).toBe(0);
    expect(await w.h.audit.list({ proposal_id: 'b3c9e2d0-0000-4000-8000-000000000000' })).toEqual([
      expect.objectContaining({ kind: 'refusal', payload: expect.objectContaining({ code: 'unknown_proposal' }) }),
    ]);
  });

  it('a replayed signed request is refused, even within Slack\'s five minutes', async () => {
    const w = await world({ defaults: { rules: [{ name: 'rollbacks take two', actions: ['rollback_deployment'], required: 2 }] } });
    const { p, ts } = await w.requestOne();
    const { payload } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, signingSecret: 'capture-only' });
    const bytes = signedClick(payload);
    for (let i = 0; i < 3; i++) expect((await fetch(w.url, { method: 'POST', headers: bytes.headers, body: bytes.body })).status).toBe(200);
    await waitFor(() => w.message(ts).updates > 0, 'the first one counted');
    await settle(300);
    expect((await w.kinds(p.id)).filter((k) => k === 'approval')).toHaveLength(1);
    const refused = await w.h.audit.list({ kind: 'refusal' });
    expect(refused.map((r) => r.kind === 'refusal' && r.payload.code)).toEqual(['replayed_request', 'replayed_request']);
  });

  it('a request signed with a timestamp in the future is refused like a stale one', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const { status } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, timestampSec: Math.floor(Date.now() / 1000) + 3600 });
    expect(status).toBe(200);
    await settle(300);
    expect(await w.kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested']);
    expect(hasButtons(w.message(ts))).toBe(true);
    const refused = await w.h.audit.list({ kind: 'refusal' });
    expect(refused.map((r) => r.kind === 'refusal' && r.payload.code)).toEqual(['future_timestamp']);
  });

  it('a forged signature is refused with 401 and decides nothing', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const { status } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, signingSecret: 'not-the-secret' });
    expect(status).toBe(401);
    await settle();
    expect(await w.kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested']);
    expect(hasButtons(w.message(ts))).toBe(true);
    expect(w.fake.ephemerals()).toHaveLength(0);
  });

  it('a request signed more than five minutes ago is refused', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const { status } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, timestampSec: sixMinutesAgo });
    expect(status).toBe(401);
    await settle();
    expect(await w.kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested']);
  });

  it('an unsigned request is refused', async () => {
    const w = await world();
    const res = await fetch(w.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payload: '{"type":"block_actions"}' }).toString(),
    });
    expect(res.status).toBe(401);
  });

  it('malformed payloads are answered 4xx or refused, and nothing is lost', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const raw = 'payload=%7Bnot-json';
    const bad = await fetch(w.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(SIGNING_SECRET, raw, Math.floor(Date.now() / 1000)) },
      body: raw,
    });
    expect(bad.status).toBe(400);

    // A button payload whose value and block id disagree: not a message this app built.
    const { payload } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, signingSecret: 'x' });
    const mismatched = structuredClone(payload) as Record<string, any>;
    mismatched.actions[0].value = 'some-other-proposal';
    expect((await w.fake.postInteraction(mismatched)).status).toBe(200);
    const missing = structuredClone(payload) as Record<string, any>;
    delete missing.actions[0].value;
    missing.actions[0].action_ts = 'x';
    expect((await w.fake.postInteraction(missing)).status).toBe(200);
    await waitFor(() => w.fake.ephemerals().length === 2, 'both refusals');
    expect(w.fake.ephemerals()[0]!.text).toContain('not attached to a Governor proposal');
    expect(await w.kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested']);

    // The real click still works afterwards.
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    await waitFor(() => w.message(ts).updates > 0, 'message update');
    expect((await w.kinds(p.id)).filter((k) => k === 'approval')).toHaveLength(1);
  });

  it('if the vote cannot be recorded, the user is told and the buttons stay for a retry', async () => {
    const w = await world();
    let failuresLeft = 1;
    const flaky: Approvals = {
      vote: async (v) => {
        if (failuresLeft-- > 0) throw new GovernorError('audit_unavailable', 'audit store unreachable', { retryable: true });
        return w.desk.vote(v);
      },
      overrideFreeze: (r) => w.desk.overrideFreeze(r),
      may: (u, l) => w.desk.may(u, l),
      refuse: (r) => w.desk.refuse(r),
    };
    const other = await w.instance({ approvals: flaky });
    w.fake.setInteractionsUrl(other.url);
    const { p, ts } = await w.requestOne();
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE), 'failure notice');
    expect(told.text).toContain('could not be recorded');
    expect(told.text).toContain('audit_unavailable');
    expect(hasButtons(w.message(ts))).toBe(true);
    expect(w.message(ts).updates).toBe(0);

    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    await waitFor(() => w.message(ts).updates > 0, 'message update');
    expect((await w.kinds(p.id)).filter((k) => k === 'approval')).toHaveLength(1);
    expect(hasButtons(w.message(ts))).toBe(false);
  });

  it('if the message cannot be updated, the decision still stands and is not repeated', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    w.fake.failNext('chat.update', 'ratelimited');
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => w.fake.ephemerals().find((e) => e.user === ALICE), 'notice');
    expect(told.text).toContain('recorded');
    // The buttons are still on screen; another click is answered, not decided again.
    await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: BOB });
    await waitFor(() => w.fake.ephemerals().some((e) => e.user === BOB), "Bob's notice");
    expect((await w.kinds(p.id)).filter((k) => k === 'approval')).toHaveLength(1);
  });

  it('notify posts to the channel', async () => {
    const w = await world();
    await w.app.notify('Elastik scaled checkout 8 → 12', [{ type: 'section', text: { type: 'mrkdwn', text: '*scaled*' } }]);
    expect(w.fake.messages()).toEqual([expect.objectContaining({ channel: SANDBOX_CHANNEL.id, text: 'Elastik scaled checkout 8 → 12' })]);
  });
});

/** An approval desk that must never be asked anything: the tests below never click. */
const NO_APPROVALS: Approvals = {
  vote: async () => { throw new Error('unexpected vote'); },
  overrideFreeze: async () => { throw new Error('unexpected override'); },
  may: async () => { throw new Error('unexpected rights check'); },
  refuse: async () => { throw new Error('unexpected refusal'); },
};

describe('Slack Web API failures reach the caller fast', () => {
  async function appWith(over: Partial<SlackAppOptions>): Promise<GovernorSlackApp> {
    const app = await createSlackApp({
      transport: httpTransport({ signingSecret: SIGNING_SECRET, port: 0, logger: silentLogger() }),
      botToken: BOT_TOKEN,
      channel: SANDBOX_CHANNEL.name,
      logger: silentLogger(),
      approvals: NO_APPROVALS,
      ...over,
    });
    cleanups.push(() => app.stop());
    return app;
  }

  it('invalid_auth: start and requestApproval reject at once, without retrying', async () => {
    const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
    cleanups.push(() => fake.close());
    const app = await appWith({ botToken: 'xoxb-wrong', slackApiUrl: fake.apiUrl });

    const t0 = Date.now();
    const started = app.start();
    await expect(started).rejects.toBeInstanceOf(GovernorError);
    await expect(started).rejects.toMatchObject({ code: 'unauthenticated', retryable: false });

    const p = proposalFixture();
    await expect(app.requestApproval(p, decisionFixture(p))).rejects.toMatchObject({
      code: 'unauthenticated',
      details: { slack_error: 'invalid_auth' },
    });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(fake.apiCalls().filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    expect(fake.messages()).toHaveLength(0);
  });

  it('a platform error is terminal and the next attempt can succeed', async () => {
    const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
    cleanups.push(() => fake.close());
    const app = await appWith({ slackApiUrl: fake.apiUrl });
    fake.failNext('chat.postMessage', 'channel_not_found');
    const p = proposalFixture();
    await expect(app.requestApproval(p, decisionFixture(p))).rejects.toMatchObject({ code: 'not_found', retryable: false });
    // The failed post is not remembered as posted.
    await expect(app.requestApproval(p, decisionFixture(p))).resolves.toMatchObject({ channel: SANDBOX_CHANNEL.id });
  });

  it('an unreachable Web API fails fast and retryable', async () => {
    const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
    const deadUrl = fake.apiUrl;
    await fake.close();
    const app = await appWith({ slackApiUrl: deadUrl });
    const t0 = Date.now();
    const p = proposalFixture();
    await expect(app.requestApproval(p, decisionFixture(p))).rejects.toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('a Web API that does not answer times out', async () => {
    const { createServer } = await import('node:http');
    const sockets = new Set<import('node:net').Socket>();
    const silent = createServer(() => {});
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const app = await appWith({ slackApiUrl: `http://127.0.0.1:${port}/api/`, requestTimeoutMs: 300 });
    const t0 = Date.now();
    await expect(app.notify('hello')).rejects.toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('refuses to start without its secrets', async () => {
    expect(() => httpTransport({ signingSecret: '', port: 0, logger: silentLogger() })).toThrow(/SLACK_SIGNING_SECRET/);
    expect(() => socketModeTransport({ appToken: 'xoxb-not-an-app-token', logger: silentLogger() })).toThrow(/SLACK_APP_TOKEN/);
    await expect(
      createSlackApp({ transport: httpTransport({ signingSecret: 's', port: 0, logger: silentLogger() }), botToken: '', channel: 'x', approvals: NO_APPROVALS, logger: silentLogger() }),
    ).rejects.toMatchObject({ code: 'config_invalid' });
  });
});

describe('sandbox console', () => {
  it('serves a self-contained page and approves through the signed path', async () => {
    const w = await world();
    const { p, ts } = await w.requestOne();
    const h = w;

    const page = await fetch(h.fake.consoleUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('<html');
    expect(html).toContain('console/state');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);

    const state = (await (await fetch(new URL('console/state', h.fake.consoleUrl))).json()) as { messages: Array<{ ts: string }> };
    expect(state.messages.map((m) => m.ts)).toEqual([ts]);

    // A cross-site form post cannot click.
    const forged = await fetch(new URL('console/click', h.fake.consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `ts=${ts}&actionId=${APPROVE_ACTION_ID}&userId=${ALICE}`,
    });
    expect(forged.status).toBe(403);

    const click = await fetch(new URL('console/click', h.fake.consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE }),
    });
    expect(await click.json()).toEqual({ ok: true, status: 200 });
    await waitFor(() => h.message(ts).updates > 0, 'message update');
    expect((await w.kinds(p.id)).filter((k) => k === 'approval')).toHaveLength(1);

    // The resolved message has no buttons left to click.
    const again = await fetch(new URL('console/click', h.fake.consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE }),
    });
    expect(again.status).toBe(409);
  });
});
