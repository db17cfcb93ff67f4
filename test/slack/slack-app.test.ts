// The real Bolt app against the Slack fake: messages go over the Web API wire protocol, clicks arrive
// as signed HTTP requests through Bolt's own receiver.
import { afterEach, describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import {
  SANDBOX_CHANNEL,
  startSlackWebApiFake,
  type FakeMessage,
  type SlackFake,
} from '../../src/sandbox/slack-web-api-fake.ts';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../../src/slack/proposal-message.ts';
import { createSlackApp, type GovernorSlackApp, type SlackAppOptions, type SlackDecision } from '../../src/slack/slack-app.ts';
import { decisionFixture, proposalFixture } from './fixtures.ts';

const BOT_TOKEN = 'xoxb-sandbox-test-token';
const SIGNING_SECRET = 'sandbox-signing-secret-for-tests';
const ALICE = 'U0ONCALL01';
const BOB = 'U0ONCALL02';
const CAROL = 'U0VIEWER03';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Harness {
  fake: SlackFake;
  app: GovernorSlackApp;
  url: string;
  decisions: SlackDecision[];
  message(ts: string): FakeMessage;
}

async function harness(over: Partial<SlackAppOptions> = {}): Promise<Harness> {
  const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  cleanups.push(() => fake.close());
  const decisions: SlackDecision[] = [];
  const app = await createSlackApp({
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    slackApiUrl: fake.apiUrl,
    channel: SANDBOX_CHANNEL.name,
    port: 0,
    logger: silentLogger(),
    onDecision: async (d) => {
      decisions.push(d);
    },
    ...over,
  });
  const { url } = await app.start();
  cleanups.push(() => app.stop());
  fake.setInteractionsUrl(url);
  return {
    fake,
    app,
    url,
    decisions,
    message: (ts) => {
      const m = fake.messages().find((x) => x.ts === ts);
      if (!m) throw new Error(`no message ${ts}`);
      return m;
    },
  };
}

const hasButtons = (m: FakeMessage): boolean => JSON.stringify(m.blocks).includes(APPROVE_ACTION_ID);

async function requestOne(h: Harness) {
  const p = proposalFixture();
  const posted = await h.app.requestApproval(p, decisionFixture(p));
  return { p, ...posted };
}

describe('Slack approval flow (Bolt against the Slack fake)', () => {
  it('posts a proposal whose blocks carry the buttons and the proposal id, once', async () => {
    const h = await harness();
    const { p, channel, ts } = await requestOne(h);
    expect(channel).toBe(SANDBOX_CHANNEL.id);
    const m = h.message(ts);
    expect(m.text).toContain('Approval needed');
    const actions = (m.blocks as Array<{ type: string; block_id: string; elements: Array<{ action_id: string; value: string }> }>).find(
      (b) => b.type === 'actions',
    )!;
    expect(actions.block_id).toBe(`proposal:${p.id}`);
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      [APPROVE_ACTION_ID, p.id],
      [REJECT_ACTION_ID, p.id],
    ]);
    // A redelivered proposal does not post a second message.
    expect(await h.app.requestApproval(p, decisionFixture(p))).toEqual({ channel, ts });
    expect(h.fake.messages()).toHaveLength(1);
    // Liveness for the load balancer / kubelet, next to the interactions endpoint.
    expect((await fetch(h.url.replace('/slack/events', '/healthz'))).status).toBe(200);
  });

  it('refuses to put buttons on a proposal that policy denied or allowed', async () => {
    const h = await harness();
    const p = proposalFixture({ id: 'prop-denied' });
    await expect(h.app.requestApproval(p, decisionFixture(p, { verdict: 'deny' }))).rejects.toMatchObject({ code: 'conflict' });
    await expect(h.app.requestApproval(p, decisionFixture(p, { verdict: 'allow' }))).rejects.toMatchObject({ code: 'conflict' });
    await expect(h.app.requestApproval(p, decisionFixture(proposalFixture({ id: 'other' })))).rejects.toMatchObject({
      code: 'event_invalid',
    });
    expect(h.fake.messages()).toHaveLength(0);
  });

  it('a signed click records the decision once and resolves the message', async () => {
    const h = await harness();
    const { p, ts } = await requestOne(h);
    const { status } = await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    expect(status).toBe(200);
    await waitFor(() => h.message(ts).updates > 0, 'message update');
    expect(h.decisions).toEqual([{ proposal_id: p.id, approved: true, user_id: ALICE, user_name: 'alice' }]);
    const m = h.message(ts);
    expect(hasButtons(m)).toBe(false);
    expect(JSON.stringify(m.blocks)).toContain(`Approved* by <@${ALICE}> at`);
    expect(m.text).toContain(`Approved by <@${ALICE}>`);
    // The rest of the proposal is still there for the record.
    expect(JSON.stringify(m.blocks)).toContain('GC pause +340%');
  });

  it('a reject click records approved: false', async () => {
    const h = await harness();
    const { p, ts } = await requestOne(h);
    await h.fake.clickButton({ ts, actionId: REJECT_ACTION_ID, userId: BOB });
    await waitFor(() => h.message(ts).updates > 0, 'message update');
    expect(h.decisions).toEqual([{ proposal_id: p.id, approved: false, user_id: BOB, user_name: 'bob' }]);
    expect(JSON.stringify(h.message(ts).blocks)).toContain(`Rejected* by <@${BOB}>`);
  });

  it('a second click (stale view, or Slack re-sending) never decides twice', async () => {
    const h = await harness();
    const { ts } = await requestOne(h);
    const first = await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    await waitFor(() => h.message(ts).updates > 0, 'message update');

    // Bob still sees the old message with its buttons and clicks Reject.
    const stale = structuredClone(first.payload) as Record<string, any>;
    stale.user = { id: BOB, username: 'bob', name: 'bob', team_id: 'T0SANDBOX' };
    stale.actions[0].action_id = REJECT_ACTION_ID;
    expect((await h.fake.postInteraction(stale)).status).toBe(200);
    // Slack re-sends Alice's request.
    expect((await h.fake.postInteraction(first.payload, { retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);

    const bobSees = await waitFor(() => h.fake.ephemerals().find((e) => e.user === BOB), "Bob's ephemeral");
    expect(bobSees.text).toContain(`already approved by <@${ALICE}>`);
    await waitFor(() => h.fake.ephemerals().some((e) => e.user === ALICE), "Alice's ephemeral");
    await settle();
    expect(h.decisions).toHaveLength(1);
    expect(h.message(ts).updates).toBe(1);
  });

  it('two people clicking at the same moment produce one decision', async () => {
    const h = await harness();
    const { ts } = await requestOne(h);
    const results = await Promise.all([
      h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE }),
      h.fake.clickButton({ ts, actionId: REJECT_ACTION_ID, userId: BOB }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    await waitFor(() => h.message(ts).updates > 0, 'message update');
    await waitFor(() => h.fake.ephemerals().length === 1, 'the loser is told');
    await settle();
    expect(h.decisions).toHaveLength(1);
    const loser = h.decisions[0]!.user_id === ALICE ? BOB : ALICE;
    expect(h.fake.ephemerals()[0]!.user).toBe(loser);
    expect(h.fake.ephemerals()[0]!.text).toMatch(/already (approv|reject)/);
  });

  it('a forged signature is refused with 401 and decides nothing', async () => {
    const h = await harness();
    const { ts } = await requestOne(h);
    const { status } = await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, signingSecret: 'not-the-secret' });
    expect(status).toBe(401);
    await settle();
    expect(h.decisions).toHaveLength(0);
    expect(hasButtons(h.message(ts))).toBe(true);
    expect(h.fake.ephemerals()).toHaveLength(0);
  });

  it('a request signed more than five minutes ago is refused (replay protection)', async () => {
    const h = await harness();
    const { ts } = await requestOne(h);
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const { status } = await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, timestampSec: sixMinutesAgo });
    expect(status).toBe(401);
    await settle();
    expect(h.decisions).toHaveLength(0);
    expect(hasButtons(h.message(ts))).toBe(true);
  });

  it('an unsigned request is refused', async () => {
    const h = await harness();
    const res = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ payload: '{"type":"block_actions"}' }).toString(),
    });
    expect(res.status).toBe(401);
  });

  it('someone who is not an approver is refused, and the buttons stay for an approver', async () => {
    const h = await harness({ approvers: [ALICE, BOB] });
    const { p, ts } = await requestOne(h);
    await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: CAROL });
    const refusal = await waitFor(() => h.fake.ephemerals().find((e) => e.user === CAROL), 'refusal');
    expect(refusal.text).toContain('not on Governor');
    await settle();
    expect(h.decisions).toHaveLength(0);
    expect(hasButtons(h.message(ts))).toBe(true);

    await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: BOB });
    await waitFor(() => h.decisions.length === 1, 'decision');
    expect(h.decisions[0]).toMatchObject({ proposal_id: p.id, user_id: BOB });
  });

  it('malformed payloads are answered 4xx or refused, and nothing is lost', async () => {
    const h = await harness();
    const { p, ts } = await requestOne(h);

    // Not JSON at all, correctly signed.
    const raw = 'payload=%7Bnot-json';
    const bad = await fetch(h.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...signSlackRequest(SIGNING_SECRET, raw, Math.floor(Date.now() / 1000)),
      },
      body: raw,
    });
    expect(bad.status).toBe(400);

    // A button payload whose value and block id disagree: not a message this app built. (The first
    // click is signed with a wrong secret, so it is refused and only its payload is kept.)
    const { payload } = await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE, signingSecret: 'x' });
    const mismatched = structuredClone(payload) as Record<string, any>;
    mismatched.actions[0].value = 'some-other-proposal';
    expect((await h.fake.postInteraction(mismatched)).status).toBe(200);
    const missing = structuredClone(payload) as Record<string, any>;
    delete missing.actions[0].value;
    expect((await h.fake.postInteraction(missing)).status).toBe(200);
    await waitFor(() => h.fake.ephemerals().length === 2, 'both refusals');
    expect(h.fake.ephemerals()[0]!.text).toContain('not attached to a Governor proposal');
    expect(h.decisions).toHaveLength(0);

    // The real click still works afterwards.
    await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    await waitFor(() => h.message(ts).updates > 0, 'message update');
    expect(h.decisions).toEqual([expect.objectContaining({ proposal_id: p.id, approved: true })]);
  });

  it('if recording the decision fails, the user is told and the buttons stay for a retry', async () => {
    let failuresLeft = 1;
    const recorded: SlackDecision[] = [];
    const h = await harness({
      onDecision: async (d) => {
        if (failuresLeft-- > 0) throw new GovernorError('audit_unavailable', 'audit store unreachable', { retryable: true });
        recorded.push(d);
      },
    });
    const { ts } = await requestOne(h);
    await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => h.fake.ephemerals().find((e) => e.user === ALICE), 'failure notice');
    expect(told.text).toContain('could not be recorded');
    expect(told.text).toContain('audit_unavailable');
    expect(hasButtons(h.message(ts))).toBe(true);
    expect(h.message(ts).updates).toBe(0);

    await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    await waitFor(() => h.message(ts).updates > 0, 'message update');
    expect(recorded).toHaveLength(1);
    expect(hasButtons(h.message(ts))).toBe(false);
  });

  it('if the message cannot be updated, the decision still stands and is not repeated', async () => {
    const h = await harness();
    const { ts } = await requestOne(h);
    h.fake.failNext('chat.update', 'ratelimited');
    await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => h.fake.ephemerals().find((e) => e.user === ALICE), 'notice');
    expect(told.text).toContain('recorded');
    expect(h.decisions).toHaveLength(1);
    // The buttons are still on screen; another click is answered, not decided again.
    await h.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: BOB });
    await waitFor(() => h.fake.ephemerals().some((e) => e.user === BOB), "Bob's notice");
    expect(h.decisions).toHaveLength(1);
  });

  it('notify posts to the channel', async () => {
    const h = await harness();
    await h.app.notify('Elastik scaled checkout 8 → 12', [{ type: 'section', text: { type: 'mrkdwn', text: '*scaled*' } }]);
    expect(h.fake.messages()).toEqual([expect.objectContaining({ channel: SANDBOX_CHANNEL.id, text: 'Elastik scaled checkout 8 → 12' })]);
  });
});

describe('Slack Web API failures reach the caller fast', () => {
  async function appWith(over: Partial<SlackAppOptions>): Promise<GovernorSlackApp> {
    const app = await createSlackApp({
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      channel: SANDBOX_CHANNEL.name,
      port: 0,
      logger: silentLogger(),
      onDecision: async () => {},
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
    await expect(
      createSlackApp({ signingSecret: '', botToken: '', channel: 'x', port: 0, onDecision: async () => {}, logger: silentLogger() }),
    ).rejects.toMatchObject({ code: 'config_invalid' });
  });
});

describe('sandbox console', () => {
  it('serves a self-contained page and approves through the signed path', async () => {
    const h = await harness({ approvers: [ALICE] });
    const { p, ts } = await requestOne(h);

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
    expect(h.decisions).toEqual([{ proposal_id: p.id, approved: true, user_id: ALICE, user_name: 'alice' }]);

    // The resolved message has no buttons left to click.
    const again = await fetch(new URL('console/click', h.fake.consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE }),
    });
    expect(again.status).toBe(409);
  });
});
