// `/agents-pause`, `/agents-level` and `/agents-override-freeze` through Bolt's real receiver, typed in
// the Slack fake and signed as Slack signs them, against a real autonomy manager and approval desk on
// PostgreSQL. Who may pull which lever comes from the operators' configuration.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { AGENTS } from '../../src/governance/autonomy.ts';
import { SANDBOX_CHANNEL, startSlackWebApiFake, type SlackFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { createSlackApp } from '../../src/slack/slack-app.ts';
import { httpTransport } from '../../src/slack/slack-transport.ts';
import { levelsTable, parseLevelCommand, parseOverrideCommand } from '../../src/slack/slash-commands.ts';
import { ApprovalDesk, NO_GROUPS } from '../../src/governance/approvals.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import { autonomyWorld, waitFor, type Process } from '../governance/helpers.ts';

const BOT_TOKEN = 'xoxb-sandbox-test-token';
const SIGNING_SECRET = 'sandbox-signing-secret-for-tests';
const ALICE = 'U0ONCALL01';
const CAROL = 'U0VIEWER03';

let world: Awaited<ReturnType<typeof autonomyWorld>>;
let proc: Process;
let fake: SlackFake;
let desk: ApprovalDesk;
const cleanups: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  world = await autonomyWorld();
  proc = await world.startProcess();
  fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  cleanups.push(() => fake.close());
  desk = new ApprovalDesk({
    audit: proc.audit, recorder: proc.recorder, tenants: loadTenants(), defaults: { approvers: [ALICE], rules: [] },
    operators: { pause: ['*'], set_level: [ALICE], override_freeze: [ALICE] }, directory: NO_GROUPS, clock: world.clock, logger: silentLogger(),
  });
  const app = await createSlackApp({
    transport: httpTransport({ signingSecret: SIGNING_SECRET, port: 0, logger: silentLogger() }),
    botToken: BOT_TOKEN,
    slackApiUrl: fake.apiUrl,
    channel: SANDBOX_CHANNEL.name,
    logger: silentLogger(),
    approvals: desk,
    autonomy: proc.manager,
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
const refusals = async () => (await proc.audit.list({ kind: 'refusal' })).map((r) => (r.kind === 'refusal' ? [r.actor, r.payload.request, r.payload.code] : []));

describe('/agents-pause', () => {
  it('an operator pauses every agent, with a reason, confirmed in the channel and audited', async () => {
    const { status } = await fake.slashCommand({ command: '/agents-pause', text: 'bad deploy in progress', userId: ALICE });
    expect(status).toBe(200);
    const confirmation = await waitFor(() => channelTexts().find((t) => t.includes('paused every agent')), 'the confirmation in the channel');
    expect(confirmation).toMatch(/<@U0ONCALL01> paused every agent at level 1 \(advisory only\): bad deploy in progress\. Grants issued before .* are void/);
    expect(allAt1()).toBe(true);
    const [rec] = await proc.audit.list({ kind: 'control' });
    expect(rec).toMatchObject({ actor: ALICE, payload: { change: { kind: 'pause', reason: 'bad deploy in progress' }, by: { id: ALICE, name: 'alice' } } });
    expect(await world.pauseEpoch.latestPauseMs()).not.toBeNull();
  });

  it('anyone may pause: stopping the agents never waits for the right person', async () => {
    const { status } = await fake.slashCommand({ command: '/agents-pause', userId: CAROL });
    expect(status).toBe(200);
    await waitFor(() => channelTexts().find((t) => t.includes('paused every agent')), 'the confirmation in the channel');
    expect(allAt1()).toBe(true);
  });

  it('refuses a pause from someone the operators configuration leaves out, telling only them, and records it', async () => {
    cleanups.push(async () => undefined);
    const strict = new ApprovalDesk({
      audit: proc.audit, recorder: proc.recorder, tenants: loadTenants(), defaults: { approvers: [ALICE], rules: [] },
      operators: { pause: [ALICE], set_level: [ALICE], override_freeze: [ALICE] }, directory: NO_GROUPS, clock: world.clock, logger: silentLogger(),
    });
    const app = await createSlackApp({
      transport: httpTransport({ signingSecret: SIGNING_SECRET, port: 0, logger: silentLogger() }), botToken: BOT_TOKEN, slackApiUrl: fake.apiUrl, channel: SANDBOX_CHANNEL.name,
      logger: silentLogger(), approvals: strict, autonomy: proc.manager,
    });
    const { url } = await app.start();
    cleanups.push(() => app.stop());
    fake.setInteractionsUrl(url);
    await fake.slashCommand({ command: '/agents-pause', userId: CAROL });
    expect(ephemeralFor(CAROL).join('\n')).toMatch(/You may not pause the agents \(operators.pause in the tenants file\), so nothing was paused/);
    expect(proc.manager.level('elastik')).toBe(3);
    expect(channelTexts()).toEqual([]);
    expect(await waitFor(async () => (await refusals()).length > 0 && refusals(), 'the refusal on record')).toEqual([[CAROL, '/agents-pause', 'not_permitted']]);
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

  it('after a pause, an operator raises one agent again; the others stay at level 1', async () => {
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

  it('answers an unknown agent, a bad level, and a raise without the right with a clear message and changes nothing', async () => {
    await proc.manager.setLevel('configurer', 1, { id: ALICE });
    const before = (await proc.store.list()).length;
    await fake.slashCommand({ command: '/agents-level', text: 'skynet 3', userId: ALICE });
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 5', userId: ALICE });
    await fake.slashCommand({ command: '/agents-level', text: 'configurer 2', userId: CAROL });
    expect(ephemeralFor(ALICE)).toEqual([
      expect.stringMatching(/There is no agent named `skynet`\. Agents: watchtower, elastik, configurer, arbitrator, strategist\./),
      expect.stringMatching(/`5` is not a level: use 1 \(advisory\), 2 \(supervised\) or 3 \(autonomous\)/),
    ]);
    expect(ephemeralFor(CAROL)).toEqual([expect.stringMatching(/You may not raise an agent's level \(operators.set_level in the tenants file\), so configurer's level was not changed/)]);
    expect(await proc.store.list()).toHaveLength(before);
    expect(await waitFor(async () => (await refusals()).length > 0 && refusals(), 'the refusal on record')).toEqual([[CAROL, '/agents-level', 'not_permitted']]);
  });

  it('lowering a level is as safe as a pause: anyone who may pause may lower one', async () => {
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 1 watching a risky release', userId: CAROL });
    await waitFor(() => channelTexts().find((t) => t.includes('set *elastik*')), 'the confirmation');
    expect(proc.manager.level('elastik')).toBe(1);
  });

  it('one signed request changes a level once, however often it is replayed', async () => {
    await proc.manager.setLevel('elastik', 1, { id: ALICE });
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 2', userId: ALICE });
    await waitFor(() => channelTexts().find((t) => t.includes('set *elastik*')), 'the confirmation');
    const changes = (await proc.store.list()).length;
    for (let i = 0; i < 3; i++) expect((await fake.replayLast()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(await proc.store.list()).toHaveLength(changes);
    expect(channelTexts().filter((t) => t.includes('set *elastik*'))).toHaveLength(1);
    expect((await refusals()).map((r) => r[2])).toEqual(['replayed_request', 'replayed_request', 'replayed_request']);
  });

  it('a confirmation that cannot be posted never reports a change that was made as not made', async () => {
    await proc.manager.setLevel('elastik', 1, { id: ALICE });
    // Only the confirmation fails: a reply sent after it would reach Alice.
    fake.failNext('response_url', 'internal_error');
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 3', userId: ALICE });
    await waitFor(() => proc.manager.level('elastik') === 3, 'the change');
    await new Promise((r) => setTimeout(r, 200));
    expect(ephemeralFor(ALICE).join('\n')).not.toMatch(/not changed|was not made/);
  });

  it('a change made but not audited says exactly that', async () => {
    await proc.manager.setLevel('elastik', 1, { id: ALICE });
    await proc.audit.close(); // the audit log is gone; the autonomy store is not
    await fake.slashCommand({ command: '/agents-level', text: 'elastik 3', userId: ALICE });
    const said = await waitFor(() => ephemeralFor(ALICE).find((t) => t.includes('elastik')), 'the answer');
    expect(said).toMatch(/was made and is in force, but it could not be audited or broadcast yet/);
    expect(proc.manager.level('elastik')).toBe(3);
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

  it('an override of a proposal that does not exist is refused and recorded, and nothing is announced', async () => {
    await fake.slashCommand({ command: '/agents-override-freeze', text: `${PROPOSAL} Sev1: checkout is down for every acme user`, userId: ALICE });
    expect(await waitFor(() => ephemeralFor(ALICE).find((t) => t.includes('There is no proposal')), 'the refusal')).toContain('nothing was overridden');
    expect(channelTexts().some((t) => t.includes('overrode'))).toBe(false);
    expect((await proc.audit.list({ proposal_id: PROPOSAL })).map((r) => r.kind)).toEqual(['refusal']);
  });

  it('refuses someone without the right, and a request without a reason, and records the refusal', async () => {
    await fake.slashCommand({ command: '/agents-override-freeze', text: `${PROPOSAL} Sev1: checkout is down for every acme user`, userId: CAROL });
    await fake.slashCommand({ command: '/agents-override-freeze', text: PROPOSAL, userId: ALICE });
    expect(await waitFor(() => ephemeralFor(CAROL).find((t) => t.includes('may not break a change freeze')), 'the refusal')).toContain('nothing was overridden');
    expect(await waitFor(() => ephemeralFor(ALICE).find((t) => t.includes('Say why')), 'the usage hint')).toBeTruthy();
    expect(channelTexts().some((t) => t.includes('overrode'))).toBe(false);
    expect(await waitFor(async () => (await refusals()).length > 0 && refusals(), 'the refusal on record')).toEqual([[CAROL, 'override_freeze', 'not_permitted']]);
  });
});
