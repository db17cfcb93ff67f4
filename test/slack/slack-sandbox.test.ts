import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { startSlackSandbox, type SlackSandbox } from '../../src/sandbox/slack-sandbox.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/proposal-message.ts';
import type { SlackDecision } from '../../src/slack/slack-app.ts';
import { decisionFixture, proposalFixture } from './fixtures.ts';

let sandbox: SlackSandbox | undefined;
afterEach(async () => {
  await sandbox?.stop();
  sandbox = undefined;
});

describe('slack sandbox wiring', () => {
  it('connects the real app to the fake, so a console click reaches onDecision', async () => {
    const decisions: SlackDecision[] = [];
    sandbox = await startSlackSandbox({
      channel: 'ops-approvals',
      consolePort: 0,
      approvers: ['U0ONCALL01'],
      logger: silentLogger(),
      onDecision: async (d) => {
        decisions.push(d);
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
    for (let i = 0; i < 200 && decisions.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(decisions).toEqual([{ proposal_id: p.id, approved: true, user_id: 'U0ONCALL01', user_name: 'alice' }]);
    const state = (await (await fetch(new URL('console/state', sandbox.consoleUrl))).json()) as { channels: Array<{ name: string }> };
    expect(state.channels[0]!.name).toBe('ops-approvals');
  });
});
