// The whole system in real Slack mode, pointed by SLACK_API_URL at a Slack-compatible Web API (the
// fake) and bound by SLACK_HOST / SLACK_PORT: with no approvers in its configuration, nobody can
// approve — it says so at start, on the message, and to whoever clicks — and nothing executes. With
// approvers configured in the tenants file, the same click is honoured.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordOfEvent } from '../../src/audit/records.ts';
import { loadConfig } from '../../src/config.ts';
import { STREAMS } from '../../src/contracts/events.ts';
import { RealClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { startSlackWebApiFake, type SlackFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/proposal-message.ts';
import { startSystem, type System } from '../../src/runtime/system.ts';
import { DEFAULT_TENANTS_FILE } from '../../src/governance/tenants.ts';
import { proposalFixture } from '../slack/fixtures.ts';
import { waitFor } from '../slack/slack-harness.ts';

const BOT_TOKEN = 'xoxb-real-mode-test';
const SIGNING_SECRET = 'real-mode-signing-secret';
const ALICE = 'U0ONCALL01';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function realMode(tenantsFile: string): Promise<{ sys: System; fake: SlackFake }> {
  const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET });
  cleanups.push(() => fake.close());
  const config = loadConfig({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.apiUrl,
    SLACK_HOST: '127.0.0.1',
    SLACK_PORT: '0',
    GOVERNOR_TENANTS_FILE: tenantsFile,
    LOG_LEVEL: 'silent',
  });
  const sys = await startSystem({ config, clock: new RealClock(), logger: silentLogger(), scenario: 'jvm-heap-regression', runId: `real-${Date.now()}` });
  cleanups.push(() => sys.stop());
  const url = /interactions at (http:\/\/\S+)/.exec(sys.report.join('\n'))?.[1];
  if (!url) throw new Error(`no interactions URL in the report:\n${sys.report.join('\n')}`);
  fake.setInteractionsUrl(url);
  return { sys, fake };
}

/** A supervised rollback on the bus, recorded first as an agent does. */
async function propose(sys: System) {
  const p = proposalFixture({ id: crypto.randomUUID(), ts: new Date().toISOString() });
  await sys.audit.append(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
  await sys.bus.publish(STREAMS.proposal, p);
  return p;
}

describe('real Slack mode', () => {
  it('with no approvers configured, says so at start, and nobody can approve', async () => {
    const { sys, fake } = await realMode(DEFAULT_TENANTS_FILE);
    expect(sys.report.join('\n')).toMatch(/approvals: nobody can approve supervised actions \(no approvers in the tenants file\)/);
    expect(sys.report.join('\n')).toMatch(/slack: workspace via the Web API at http:\/\/127\.0\.0\.1:\d+\/api\/, channel #governor-approvals, interactions at http:\/\/127\.0\.0\.1:\d+\/slack\/events/);
    const p = await propose(sys);
    const m = await waitFor(() => fake.messages().find((x) => JSON.stringify(x.blocks).includes(p.id)), 'the approval message', 15_000);
    expect(JSON.stringify(m.blocks)).toContain('Nobody can approve this');
    await fake.clickButton({ ts: m.ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const told = await waitFor(() => fake.ephemerals().find((e) => e.user === ALICE), 'the refusal');
    expect(told.text).toMatch(/Nobody is configured to approve rollback_deployment of checkout \(acme\)/);
    await new Promise((r) => setTimeout(r, 500));
    const kinds = (await sys.audit.list({ proposal_id: p.id })).map((r) => r.kind);
    expect(kinds).toEqual(['proposal', 'decision', 'approval_requested', 'refusal']);
  }, 60_000);

  it('with approvers in the tenants file, an approver\'s click becomes a grant', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'governor-real-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tenants = JSON.parse(await readFile(DEFAULT_TENANTS_FILE, 'utf8')) as { tenants: Record<string, { approvers: string[] }> };
    tenants.tenants['acme']!.approvers = [ALICE];
    const file = join(dir, 'tenants.json');
    await writeFile(file, JSON.stringify(tenants));
    const { sys, fake } = await realMode(file);
    expect(sys.report.join('\n')).not.toMatch(/nobody can approve/);
    const p = await propose(sys);
    const m = await waitFor(() => fake.messages().find((x) => JSON.stringify(x.blocks).includes(p.id)), 'the approval message', 15_000);
    expect(JSON.stringify(m.blocks)).toContain(`one of <@${ALICE}>`);
    await fake.clickButton({ ts: m.ts, actionId: APPROVE_ACTION_ID, userId: ALICE });
    const kinds = async () => (await sys.audit.list({ proposal_id: p.id })).map((r) => r.kind);
    const until = Date.now() + 15_000;
    while (!(await kinds()).includes('grant') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await kinds()).toEqual(expect.arrayContaining(['approval', 'grant']));
  }, 60_000);
});
