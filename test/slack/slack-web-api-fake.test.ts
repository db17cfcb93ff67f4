// The Slack fake must be as strict as Slack on the wire, or it would hide the app's bugs.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySlackRequest } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_CHANNEL, startSlackWebApiFake, type SlackFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { signSlackRequest } from '../../src/sandbox/slack-signing.ts';

const BOT_TOKEN = 'xoxb-fake-test';
const SIGNING_SECRET = 'fake-signing-secret';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function fake(): Promise<SlackFake> {
  const f = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  cleanups.push(() => f.close());
  return f;
}

async function api(f: SlackFake, method: string, body: string | Record<string, unknown>, headers: Record<string, string> = {}) {
  const isJson = typeof body !== 'string';
  const res = await fetch(`${f.apiUrl}${method}`, {
    method: 'POST',
    headers: {
      'content-type': isJson ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded',
      authorization: `Bearer ${BOT_TOKEN}`,
      ...headers,
    },
    body: isJson ? JSON.stringify(body) : body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

describe('slack signing', () => {
  it("matches Slack's documented example", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'x-slack-request-timestamp': '1531420618',
    });
  });

  it("passes Bolt's own verification", () => {
    const now = Math.floor(Date.now() / 1000);
    const h = signSlackRequest('s3cret', 'payload=%7B%7D', now);
    expect(() =>
      verifySlackRequest({
        signingSecret: 's3cret',
        body: 'payload=%7B%7D',
        headers: { 'x-slack-signature': h['x-slack-signature'], 'x-slack-request-timestamp': now },
      }),
    ).not.toThrow();
  });
});

describe('Slack Web API fake: wire protocol', () => {
  it('checks the bearer token and answers errors with HTTP 200 like Slack', async () => {
    const f = await fake();
    expect(await api(f, 'auth.test', '', { authorization: '' })).toEqual({ status: 200, body: { ok: false, error: 'not_authed' } });
    expect(await api(f, 'auth.test', '', { authorization: 'Bearer xoxb-nope' })).toEqual({ status: 200, body: { ok: false, error: 'invalid_auth' } });
    const ok = await api(f, 'auth.test', '');
    expect(ok.body).toMatchObject({ ok: true, team_id: 'T0SANDBOX', user_id: expect.any(String), bot_id: expect.any(String) });
    // A form body may carry the token instead of the header, as Slack allows.
    const form = await api(f, 'auth.test', `token=${BOT_TOKEN}`, { authorization: '' });
    expect(form.body.ok).toBe(true);
    // A JSON body may not.
    expect((await api(f, 'auth.test', { token: BOT_TOKEN }, { authorization: '' })).body.error).toBe('not_authed');
  });

  it('answers unknown methods and malformed bodies the way Slack does', async () => {
    const f = await fake();
    expect((await api(f, 'chat.frobnicate', {})).body).toMatchObject({ ok: false, error: 'unknown_method' });
    const res = await fetch(`${f.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BOT_TOKEN}` },
      body: '{"channel":',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: false, error: 'invalid_arguments' });
    expect((await api(f, 'chat.postMessage', `channel=${SANDBOX_CHANNEL.id}&blocks=%5Bnope`)).body.error).toBe('invalid_blocks_format');
  });

  it('posts, updates and reads back messages with Slack-shaped answers', async () => {
    const f = await fake();
    const posted = await api(f, 'chat.postMessage', { channel: `#${SANDBOX_CHANNEL.name}`, text: 'hello' });
    expect(posted.body).toMatchObject({
      ok: true,
      channel: SANDBOX_CHANNEL.id,
      ts: expect.stringMatching(/^\d+\.\d{6}$/),
      message: { type: 'message', text: 'hello', bot_id: expect.any(String) },
    });
    const ts = posted.body.ts as string;
    // chat.update takes a channel id only, like Slack.
    expect((await api(f, 'chat.update', { channel: SANDBOX_CHANNEL.name, ts, text: 'x' })).body.error).toBe('channel_not_found');
    expect((await api(f, 'chat.update', { channel: SANDBOX_CHANNEL.id, ts: '1.000001', text: 'x' })).body.error).toBe('message_not_found');
    const updated = await api(f, 'chat.update', { channel: SANDBOX_CHANNEL.id, ts, text: 'edited' });
    expect(updated.body).toMatchObject({ ok: true, channel: SANDBOX_CHANNEL.id, ts, text: 'edited' });
    expect(f.messages()).toEqual([expect.objectContaining({ ts, text: 'edited', updates: 1, edited: expect.any(Object) })]);

    expect((await api(f, 'chat.postMessage', { channel: 'C0NOPE', text: 'x' })).body.error).toBe('channel_not_found');
    expect((await api(f, 'chat.postMessage', { channel: SANDBOX_CHANNEL.id })).body.error).toBe('no_text');
    expect((await api(f, 'conversations.info', { channel: SANDBOX_CHANNEL.id })).body.channel).toMatchObject({
      id: SANDBOX_CHANNEL.id,
      name: SANDBOX_CHANNEL.name,
      is_member: true,
    });
    expect((await api(f, 'users.info', { user: 'U0ONCALL01' })).body.user).toMatchObject({ id: 'U0ONCALL01', name: 'alice' });
    expect((await api(f, 'users.info', { user: 'U0NOBODY' })).body.error).toBe('user_not_found');
    const eph = await api(f, 'chat.postEphemeral', { channel: SANDBOX_CHANNEL.id, user: 'U0ONCALL01', text: 'psst' });
    expect(eph.body).toMatchObject({ ok: true, message_ts: expect.any(String) });
    expect(f.ephemerals()).toEqual([expect.objectContaining({ user: 'U0ONCALL01', text: 'psst', via: 'chat.postEphemeral' })]);
  });

  it('refuses blocks Slack would refuse', async () => {
    const f = await fake();
    const button = (id: string) => ({ type: 'button', action_id: id, text: { type: 'plain_text', text: 'Go' } });
    const dup = await api(f, 'chat.postMessage', {
      channel: SANDBOX_CHANNEL.id,
      text: 'x',
      blocks: [{ type: 'actions', elements: [button('a'), button('a')] }],
    });
    expect(dup.body).toMatchObject({ ok: false, error: 'invalid_blocks' });
    const long = await api(f, 'chat.postMessage', {
      channel: SANDBOX_CHANNEL.id,
      text: 'x',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3001) } }],
    });
    expect(long.body.error).toBe('invalid_blocks');
    expect(f.messages()).toHaveLength(0);
  });
});

describe('Slack Web API fake: interactions', () => {
  it('delivers a signed block_actions payload shaped like Slack, and serves its response_url', async () => {
    const received: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
    const app = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200);
        res.end();
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => app.close(() => r())));
    const f = await fake();
    f.setInteractionsUrl(`http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/events`);

    const posted = await api(f, 'chat.postMessage', {
      channel: SANDBOX_CHANNEL.id,
      text: 'decide',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'decide' } },
        { type: 'actions', block_id: 'proposal:p1', elements: [{ type: 'button', action_id: 'proposal_approve', value: 'p1', style: 'primary', text: { type: 'plain_text', text: 'Approve' } }] },
      ],
    });
    const ts = posted.body.ts as string;
    await expect(f.clickButton({ ts, actionId: 'no_such_button', userId: 'U0ONCALL01' })).rejects.toThrow(/no button/);
    const { status } = await f.clickButton({ ts, actionId: 'proposal_approve', userId: 'U0ONCALL01' });
    expect(status).toBe(200);

    const req = received[0]!;
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const now = Math.floor(Date.now() / 1000);
    expect(() =>
      verifySlackRequest({
        signingSecret: SIGNING_SECRET,
        body: req.body,
        headers: {
          'x-slack-signature': String(req.headers['x-slack-signature']),
          'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
        },
        nowMilliseconds: now * 1000,
      }),
    ).not.toThrow();
    const payload = JSON.parse(new URLSearchParams(req.body).get('payload')!);
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ONCALL01', username: 'alice', team_id: 'T0SANDBOX' },
      team: { id: 'T0SANDBOX' },
      channel: { id: SANDBOX_CHANNEL.id, name: SANDBOX_CHANNEL.name },
      container: { type: 'message', message_ts: ts, channel_id: SANDBOX_CHANNEL.id },
      message: { ts, text: 'decide', blocks: expect.any(Array) },
      actions: [{ action_id: 'proposal_approve', block_id: 'proposal:p1', value: 'p1', type: 'button', action_ts: expect.any(String) }],
      response_url: expect.stringMatching(/\/response\//),
      trigger_id: expect.any(String),
    });

    const reply = await fetch(payload.response_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'noted' }),
    });
    expect(reply.status).toBe(200);
    expect(f.ephemerals()).toEqual([expect.objectContaining({ user: 'U0ONCALL01', text: 'noted', via: 'response_url' })]);
    await fetch(payload.response_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'done', blocks: [] }),
    });
    expect(f.messages()[0]).toMatchObject({ text: 'done', blocks: [], updates: 1 });
    expect(f.responseUrlPosts()).toHaveLength(2);
  });

  it('says clearly when no app is connected', async () => {
    const f = await fake();
    await expect(f.postInteraction({ type: 'block_actions' })).rejects.toThrow(/interactions URL/);
  });
});
