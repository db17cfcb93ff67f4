// The same Bolt app in Socket Mode: it opens its own WebSocket (apps.connections.open with the app-level
// token, against the Web API fake) to the Socket Mode fake, which sends Slack's real envelopes and
// checks each acknowledgement. Clicks and commands travel that way with every listener HTTP mode has;
// nothing is signed, so the replay guard is HTTP's alone.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { startSlackWebApiFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/proposal-message.ts';
import { createSlackApp } from '../../src/slack/slack-app.ts';
import { socketModeTransport } from '../../src/slack/slack-transport.ts';
import type { IncidentQueries } from '../../src/governance/incident-queries.ts';
import { ALICE, APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, approvalWorld, hasButtons, waitFor, type ApprovalWorld } from './slack-harness.ts';
import { startSocketModeFake } from './socket-mode-fake.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Answers only what a test scripts; anything else is a failure the test sees. */
const queries: IncidentQueries = {
  list: async () => { throw new Error('unscripted list'); },
  timeline: async () => { throw new Error('unscripted timeline'); },
  explain: async (id, question) => ({ incident_id: id === 'latest' ? 'inc-1' : id, answer: `asked: ${question}`, source: 'rules', llm: 'unavailable', cites: [{ seq: 7, kind: 'rollback', at: '2026-11-24T10:05:00.000Z' }] }),
};

async function world(): Promise<ApprovalWorld> {
  const w = await approvalWorld({ socketMode: true, app: { incidents: queries } });
  cleanups.push(() => w.close());
  return w;
}

/** The Web API fake, the Socket Mode fake, and an app (not started) connecting with `appToken`, answering /incident from the script. */
async function socketApp(appToken: string) {
  const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: APP_TOKEN });
  cleanups.push(() => fake.close());
  const socket = await startSocketModeFake(fake);
  cleanups.push(() => socket.close());
  const unexpected = async () => { throw new Error('unexpected'); };
  const app = await createSlackApp({
    transport: socketModeTransport({ appToken, slackApiUrl: fake.apiUrl, logger: silentLogger() }),
    botToken: BOT_TOKEN, slackApiUrl: fake.apiUrl, channel: 'governor-approvals', logger: silentLogger(),
    approvals: { vote: unexpected, overrideFreeze: unexpected, may: unexpected, refuse: unexpected },
    incidents: queries,
  });
  cleanups.push(() => app.stop());
  return { fake, socket, app };
}

const acks = (w: ApprovalWorld) => w.socket!.frames() as Array<{ envelope_id: string; payload?: Record<string, unknown> }>;

describe('Socket Mode (the Bolt app against the Socket Mode fake)', () => {
  it('connects with the app-level token, receives a click as an interactive envelope, acknowledges it, and decides once', async () => {
    const w = await world();
    expect(w.app.transport).toBe('socket');
    expect(w.socket!.connections()).toBe(1);
    // apps.connections.open was called with the app-level token: the bot token would be refused.
    expect(w.fake.apiCalls().filter((c) => c.method === 'apps.connections.open').map((c) => c.ok)).toEqual([true]);

    const { p, ts } = await w.requestOne();
    const { status } = await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    expect(status).toBe(200);
    // The acknowledgement is the envelope id alone (a click answers nothing in its ack).
    expect(acks(w)).toHaveLength(1);
    expect(Object.keys(acks(w)[0]!)).toContain('envelope_id');
    await waitFor(() => !hasButtons(w.message(ts)) && w.message(ts).updates > 0, 'the resolved message');
    await w.deliver(p.id);
    expect(await w.grants(p.id)).toHaveLength(1);
    expect((await w.kinds(p.id)).filter((k) => k === 'refusal')).toEqual([]);
    expect(w.socket!.problems()).toEqual([]);
  });

  it('a slash command travels as a slash_commands envelope; its answer rides on the acknowledgement', async () => {
    const w = await world();
    const { status, body } = await w.fake.slashCommand({ command: '/incident', text: 'frobnicate', userId: ALICE });
    expect(status).toBe(200);
    // Bad arguments are answered in the ack itself, as Socket Mode allows for commands.
    expect(body).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/There is no `frobnicate` subcommand\.\nUsage/) });
    expect(w.fake.ephemerals().map((e) => e.text).join('\n')).toMatch(/incident explain latest why did you roll back\?/);
    expect(w.socket!.problems()).toEqual([]);
  });

  it('after Slack recycles the connection (a disconnect envelope), the app reconnects and clicks still arrive', async () => {
    const w = await world();
    w.socket!.disconnect('refresh_requested');
    await waitFor(() => w.socket!.connections() === 2, 'the reconnect', 15_000);
    const { ts } = await w.requestOne();
    expect((await w.fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: ALICE })).status).toBe(200);
    await waitFor(() => !hasButtons(w.message(ts)), 'the resolved message');
    expect(w.socket!.problems()).toEqual([]);
  }, 30_000);

  it('/incident through Socket Mode: acknowledged at once, the answer through response_url', async () => {
    const { fake, app } = await socketApp(APP_TOKEN);
    await app.start();
    const { status, body } = await fake.slashCommand({ command: '/incident', text: 'explain latest why did you roll back?', userId: ALICE });
    expect(status).toBe(200);
    // An empty acknowledgement: `{ envelope_id, payload: {} }`; the answer comes later.
    expect(body).toEqual({});
    const answer = await waitFor(() => fake.ephemerals().find((e) => e.via === 'response_url'), 'the answer');
    expect(answer.text).toContain('asked: why did you roll back?');
    expect(answer.text).toMatch(/Source: rules over the records \(LLM unavailable\)\. Cites: #7 rollback/);
  });

  it('a wrong app-level token fails the start loudly, without retrying for ever', async () => {
    const { socket, app } = await socketApp('xapp-1-wrong');
    const t0 = Date.now();
    await expect(app.start()).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(socket.connections()).toBe(0);
  });
});
