import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { startSlackSandbox, type SlackSandbox } from '../../src/sandbox/slack-sandbox.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/proposal-message.ts';
import type { Approvals } from '../../src/slack/slack-app.ts';
import { decisionFixture, proposalFixture } from './fixtures.ts';

let sandbox: SlackSandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

describe('slack sandbox wiring', () => {
  it('connects the real app to the fake, so a console click reaches the approval desk as a signed vote', async () => {
    const votes: Parameters<Approvals['vote']>[0][] = [];
    sandbox = await startSlackSandbox({
      channel: 'ops-approvals',
      consolePort: 0,
      logger: silentLogger(),
      approvals: {
        vote: async (v) => {
          votes.push(v);
          return { status: 'refused', code: 'not_approver', message: 'recorded by the test' };
        },
        overrideFreeze: async () => { throw new Error('unexpected override'); },
        may: async () => { throw new Error('unexpected rights check'); },
        refuse: async () => { throw new Error('unexpected refusal'); },
      },
    });
    const p = proposalFixture();
    const { ts } = await sandbox.app.requestApproval(p, decisionFixture(p));
    const res = await fetch(new URL('console/click', sandbox.consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ts, actionId: APPROVE_ACTION_ID, userId: 'U0ONCALL01' }),
    });
    expect(await res.json()).toEqual({ ok: true, status: 200 });
    for (let i = 0; i < 200 && votes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(votes).toEqual([{ proposal_id: p.id, approved: true, by: { id: 'U0ONCALL01', name: 'alice' }, source: 'slack' }]);
    const state = (await (await fetch(new URL('console/state', sandbox.consoleUrl))).json()) as { channels: Array<{ name: string }> };
    expect(state.channels[0]!.name).toBe('ops-approvals');
  });
});
