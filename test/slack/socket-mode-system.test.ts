// The whole system with SLACK_BOT_TOKEN and SLACK_APP_TOKEN: Socket Mode chosen by configuration, no
// interactions endpoint, and an approver's click — an envelope down the app's own WebSocket — becomes
// a grant, the same as over HTTP.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { recordOfEvent } from '../../src/audit/records.ts';
import { loadConfig } from '../../src/config.ts';
import { STREAMS } from '../../src/contracts/events.ts';
import { RealClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { DEFAULT_TENANTS_FILE } from '../../src/governance/tenants.ts';
import { startSystem } from '../../src/runtime/system.ts';
import { startSlackWebApiFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/proposal-message.ts';
import { proposalFixture } from './fixtures.ts';
import { ALICE, APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, waitFor } from './slack-harness.ts';
import { startSocketModeFake } from './socket-mode-fake.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('the system in Socket Mode', () => {
  it('connects with the app-level token, opens no endpoint, and an approval clicked over the socket becomes a grant', async () => {
    const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: APP_TOKEN });
    cleanups.push(() => fake.close());
    const socket = await startSocketModeFake(fake);
    cleanups.push(() => socket.close());
    const dir = await mkdtemp(join(tmpdir(), 'governor-socket-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const tenants = JSON.parse(await readFile(DEFAULT_TENANTS_FILE, 'utf8')) as { tenants: Record<string, { approvers: string[] }> };
    tenants.tenants['acme']!.approvers = [ALICE];
    const file = join(dir, 'tenants.json');
    await writeFile(file, JSON.stringify(tenants));
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: fake.apiUrl, GOVERNOR_TENANTS_FILE: file, LOG_LEVEL: 'silent' });
    const sys = await startSystem({ config, clock: new RealClock(), logger: silentLogger(), scenario: 'jvm-heap-regression', runId: `socket-${Date.now()}` });
    cleanups.push(() => sys.stop());
    expect(sys.report.join('\n')).toMatch(/slack: workspace via the Web API at http:\/\/127\.0\.0\.1:\d+\/api\/, channel #governor-approvals, Socket Mode \(SLACK_APP_TOKEN\) connected to ws:\/\/127\.0\.0\.1:\d+\/link\//);
    expect(sys.report.join('\n')).not.toMatch(/interactions at/);
    expect(socket.connections()).toBe(1);

    const p = proposalFixture({ id: crypto.randomUUID(), ts: new Date().toISOString() });
    await sys.audit.append(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
    await sys.bus.publish(STREAMS.proposal, p);
    const m = await waitFor(() => fake.messages().find((x) => JSON.stringify(x.blocks).includes(p.id)), 'the approval message', 15_000);
    expect((await fake.clickButton({ ts: m.ts, actionId: APPROVE_ACTION_ID, userId: ALICE })).status).toBe(200);
    const kinds = async () => (await sys.audit.list({ proposal_id: p.id })).map((r) => r.kind);
    const until = Date.now() + 15_000;
    while (!(await kinds()).includes('grant') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await kinds()).toEqual(expect.arrayContaining(['approval', 'grant']));
    expect(socket.problems()).toEqual([]);
  }, 60_000);
});
