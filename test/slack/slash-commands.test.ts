// `/agents-pause` and `/agents-level` through Bolt's real receiver, typed in the Slack fake and signed
// as Slack signs them, against a real autonomy manager on PostgreSQL.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { AGENTS } from '../../src/governance/autonomy.ts';
import { SANDBOX_CHANNEL, startSlackWebApiFake, type SlackFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { createSlackApp } from '../../src/slack/slack-app.ts';
import { levelsTable, parseLevelCommand, parseOverrideCommand, type FreezeOverrideRequest } from '../../src/slack/slash-commands.ts';
import { autonomyWorld, waitFor, type Process } from '../governance/helpers.ts';

const BOT_TOKEN = 'xoxb-sandbox-test-token';
const SIGNING_SECRET = 'sandbox-signing-secret-for-tests';
const ALICE = 'U0ONCALL01';
const CAROL = 'U0VIEWER03';

let world: Awaited<ReturnType<typeof autonomyWorld>>;
let proc: Process;
let fake: SlackFake;
let overrides: FreezeOverrideRequest[];
let failOverride: Error | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  overrides = [];
  failOverride = undefined;
  world = await autonomyWorld();
  proc = await world.startProcess();
  fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  cleanups.push(() => fake.close());
  const app = await createSlackApp({
    signingSecret: SIGNING_SECRET,
    botToken: BOT_TOKEN,
    slackApiUrl: fake.apiUrl,
    channel: SANDBOX_CHANNEL.name,
    port: 0,
    approvers: [ALICE],
    logger: silentLogger(),
    onDecision: async () => {},
    autonomy: proc.manager,
    overrideFreeze: async (req) => {
      if (failOverride) throw failOverride;
      overrides.push(req);
    },
  });
  const { url } = await app.start();
  cleanups.push(() => app.stop());
  fake.setInteractionsUrl(url);
});
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  await world.close();
});

const ephemeralFor = (user: string) => fake.ephemerals().filter((e) => e.user === user).map((e) => e.text);
const channelTexts = () => fake.messages().map((m) => m.text);
const allAt1 = () => AGENTS.every((a) => proc.manager.level(a) === 1);

describe('/agents-pause', () => {
  it('an approver pauses every agent, with a reason, confirmed in the channel and audited', async () => {
    const { status } = await fake.slashCommand({ command: '/agents-pause', text: 'bad deploy in progress', userId: ALICE });
    expect(status).toBe(200);
    const confirmation = await waitFor(() => channelTexts().find((t) => t.includes('paused every agent')), 'the confirmation in the channel');
    expect(confirmation).toMatch(/<@U0ONCALL01> paused every agent at level 1 \(advisory only\): bad deploy in progress\. Grants issued before .* are void/);
    expect(allAt1()).toBe(true);
    const [rec] = await proc.audit.list({ kind: 'control' });
    expect(rec).toMatchObject({ actor: ALICE, payload: { change: { kind: 'pause', reason: 'bad deploy in progress' }, by: { id: ALICE, name: 'alice' } } });
    expect(await world.pauseEpoch.latestPauseMs()).not.toBeNull();
  });

  it('refuses someone who is not an approver, telling only them', async () => {
    const { status } = await fake.slashCommand({ command: '/agents-pause', userId: CAROL });
    expect(status).toBe(200);
    expect(ephemeralFor(CAROL).join('\n')).toMatch(/not on Governor's approver list, so nothing was paused/);
    expect(proc.manager.level('elastik')).toBe(3);
    expect(channelTexts()).toEqual([]);
  });

  it('refuses a forged or stale signature before anything runs', async () => {
    expect((await fake.slashCommand({ command: '/agents-pause', userId: ALICE, signingSecret: 'not-the-secret' })).status).toBe(401);
    expect((await fake.slashCommand({ command: '/agents-pause', userId: ALICE, timestampSec: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(proc.manager.level('elastik')).toBe(3);
    expect(await proc.store.list()).toEqual([]);
  });
});

describe('/agents-level', () => {
  it('without arguments shows every agent with its current and maximum level and why, to anyone', async () => {
    await proc.manager.demote('configurer', '2 of 5 actions failed in the last hour');
    await fake.slashCommand({ command: '/agents-level', userId: CAROL });
    const [table] = ephemeralFor(CAROL);
    expect(table).toMatch(/phase \*govern\*/);
    expect(table).toMatch(/elastik\s+3 autonomous\s+3\s+phase govern/);
    expect(table).toMatch(/configurer\s+1 advisory\s+2\s+demoted by agent-health .*2 of 5 actions failed/);
    expect(table).toMatch(/strategist\s+1 advisory\s+1\s+phase govern \(capped at its maximum 1\)/);
  });

  it('after a pause, an approver raises one agent again; the others stay at level 1', async () => {
    await fake.slashCommand({ command: '/agents-pause', userId: ALICE });
    await waitFor(() => allAt1(), 'the pause');
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 3 rollback verified', userId: ALICE });
    const msg = await waitFor(() => channelTexts().find((t) => t.includes('set *elastik*')), 'the confirmation');
    expect(msg).toMatch(/<@U0ONCALL01> set \*elastik\* to level 3 \(autonomous; maximum 3\): rollback verified\. This lifts its pause\./);
    expect(proc.manager.level('elastik')).toBe(3);
    expect(proc.manager.level('configurer')).toBe(1);
    expect((await proc.store.list()).at(-1)).toMatchObject({ kind: 'promotion', agent: 'elastik', level: 3, actor: ALICE });
  });

  it('caps a level above the maximum and says so', async () => {
    await fake.slashCommand({ command: '/agents-level', text: 'configurer 3', userId: ALICE });
    const msg = await waitFor(() => channelTexts().find((t) => t.includes('configurer')), 'the confirmation');
    expect(msg).toMatch(/set \*configurer\* to level 2 .* configurer's maximum is 2, so it was set to 2 instead of 3\./);
    expect(proc.manager.level('configurer')).toBe(2);
  });

  it('answers an unknown agent, a bad level, and a non-approver with a clear message and changes nothing', async () => {
    await fake.slashCommand({ command: '/agents-level', text: 'skynet 3', userId: ALICE });
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 5', userId: ALICE });
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 1', userId: CAROL });
    expect(ephemeralFor(ALICE)).toEqual([
      expect.stringMatching(/There is no agent named `skynet`\. Agents: watchtower, elastik, configurer, arbitrator, strategist\./),
      expect.stringMatching(/`5` is not a level: use 1 \(advisory\), 2 \(supervised\) or 3 \(autonomous\)/),
    ]);
    expect(ephemeralFor(CAROL)).toEqual([expect.stringMatching(/not on Governor's approver list, so elastik's level was not changed/)]);
    expect(await proc.store.list()).toEqual([]);
  });
});

describe('parsing and formatting', () => {
  it('parses the level command', () => {
    expect(parseLevelCommand('')).toEqual({ kind: 'show' });
    expect(parseLevelCommand('  Elastik  2  new release ')).toEqual({ kind: 'set', agent: 'elastik', level: 2, reason: 'new release' });
    expect(parseLevelCommand('elastik')).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/Which level/) });
  });
  it('marks a paused table', () => {
    expect(levelsTable('govern', proc.manager.statuses())).not.toMatch(/paused/);
  });
});

const PROPOSAL = '7d0c4a57-1b7e-4c59-9a51-3f3f1f7c0a11';

describe('/agents-override-freeze', () => {
  it('parses a proposal id and a reason, and refuses anything less', () => {
    expect(parseOverrideCommand(`${PROPOSAL} payments are down, the fix must ship now`)).toEqual({
      kind: 'override', proposal_id: PROPOSAL, reason: 'payments are down, the fix must ship now',
    });
    expect(parseOverrideCommand('')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('Usage') });
    expect(parseOverrideCommand('checkout because reasons')).toMatchObject({ kind: 'invalid', message: expect.stringContaining('not a proposal id') });
    expect(parseOverrideCommand(`${PROPOSAL} urgent`)).toMatchObject({ kind: 'invalid', message: expect.stringContaining('Say why') });
  });

  it('an approver overrides with a reason: handed on once, announced in the channel', async () => {
    await fake.slashCommand({ command: '/agents-override-freeze', text: `${PROPOSAL} Sev1: checkout is down for every acme user`, userId: ALICE });
    const said = await waitFor(() => channelTexts().find((t) => t.includes('overrode the change freeze')), 'the announcement');
    expect(said).toContain(PROPOSAL);
    expect(said).toContain('safety layer still applies');
    expect(overrides).toEqual([{ proposal_id: PROPOSAL, reason: 'Sev1: checkout is down for every acme user', user_id: ALICE, user_name: expect.any(String) }]);
  });

  it('refuses someone who is not an approver, and a request without a reason, without handing anything on', async () => {
    await fake.slashCommand({ command: '/agents-override-freeze', text: `${PROPOSAL} Sev1: checkout is down for every acme user`, userId: CAROL });
    await fake.slashCommand({ command: '/agents-override-freeze', text: PROPOSAL, userId: ALICE });
    expect(await waitFor(() => ephemeralFor(CAROL).find((t) => t.includes('not on Governor')), 'the refusal')).toContain('the freeze was not overridden');
    expect(await waitFor(() => ephemeralFor(ALICE).find((t) => t.includes('Say why')), 'the usage hint')).toBeTruthy();
    expect(overrides).toEqual([]);
    expect(channelTexts().some((t) => t.includes('overrode'))).toBe(false);
  });

  it('says so when the override could not be recorded, and announces nothing', async () => {
    failOverride = new Error('audit store unreachable');
    await fake.slashCommand({ command: '/agents-override-freeze', text: `${PROPOSAL} Sev1: checkout is down for every acme user`, userId: ALICE });
    expect(await waitFor(() => ephemeralFor(ALICE).find((t) => t.includes('not overridden')), 'the failure')).toContain('audit store unreachable');
    expect(channelTexts().some((t) => t.includes('overrode'))).toBe(false);
  });
});
