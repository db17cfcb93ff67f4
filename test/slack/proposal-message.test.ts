import { describe, expect, it } from 'vitest';
import {
  APPROVE_ACTION_ID,
  awaitingText,
  REJECT_ACTION_ID,
  actionsBlockId,
  noticeMessage,
  proposalAwaitingApproval,
  proposalIdFromBlockId,
  proposalResolved,
  resolveProposalBlocks,
} from '../../src/slack/proposal-message.ts';
import { decisionFixture, proposalFixture } from './fixtures.ts';

const AT = Date.UTC(2026, 10, 24, 10, 3, 7);

type AnyBlock = { type: string; block_id?: string; elements?: Array<Record<string, unknown>>; text?: { text: string }; fields?: Array<{ text: string }> };
const allText = (blocks: unknown[]): string => JSON.stringify(blocks);

describe('proposal message', () => {
  it('carries everything needed to decide, and two buttons bound to the proposal', () => {
    const p = proposalFixture();
    const { text, blocks } = proposalAwaitingApproval(p, decisionFixture(p));
    const s = allText(blocks);
    for (const needle of ['Elastik', 'rollback_deployment', 'Deployment/checkout', 'acme', 'acme-prod', '1 tenant', '1 service', '0% capacity', 'GC pause +340%', 'supervised_action', 'approval required', 'kubernetes.rollback_deployment', 'to_revision=14']) {
      expect(s).toContain(needle);
    }
    const actions = (blocks as AnyBlock[]).find((b) => b.type === 'actions')!;
    expect(actions.block_id).toBe(actionsBlockId(p.id));
    expect(proposalIdFromBlockId(actions.block_id!)).toBe(p.id);
    expect(actions.elements).toEqual([
      expect.objectContaining({ type: 'button', action_id: APPROVE_ACTION_ID, value: p.id, style: 'primary' }),
      expect.objectContaining({ type: 'button', action_id: REJECT_ACTION_ID, value: p.id }),
    ]);
    expect(text).toContain('Approval needed');
    expect(text).toContain('rollback_deployment Deployment/checkout');
  });

  it('escapes agent text so reasoning cannot ping a channel or hide a link', () => {
    const p = proposalFixture({ reasoning: ['<!channel> look at <https://evil.example|the dashboard> & act'] });
    const s = allText(proposalAwaitingApproval(p, decisionFixture(p)).blocks);
    expect(s).not.toContain('<!channel>');
    expect(s).not.toContain('<https://evil');
    expect(s).toContain('&lt;!channel&gt; look at &lt;https://evil.example|the dashboard&gt; &amp; act');
  });

  it('stays within Slack limits when the reasoning is very long', () => {
    const p = proposalFixture({ reasoning: Array.from({ length: 200 }, (_, i) => `step ${i} & more ${'x'.repeat(40)}`) });
    for (const b of proposalAwaitingApproval(p, decisionFixture(p)).blocks as AnyBlock[]) {
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
    }
  });

  it('resolves to "Approved by" with the buttons gone, from the blocks alone', () => {
    const p = proposalFixture();
    const d = decisionFixture(p);
    const r = { outcome: 'approved' as const, user_ids: ['U123'], at_ms: AT };
    const resolved = proposalResolved(p, d, r);
    expect((resolved.blocks as AnyBlock[]).some((b) => b.type === 'actions')).toBe(false);
    expect(allText(resolved.blocks)).toContain('Approved* by <@U123> at <!date^');
    expect(allText(resolved.blocks)).toContain('2026-11-24 10:03:07 UTC');
    expect(resolved.text).toContain('Approved by <@U123>');
    // The same result from the blocks Slack sends back with a click.
    expect(resolveProposalBlocks(proposalAwaitingApproval(p, d).blocks, p.id, r)).toEqual(resolved.blocks);

    const rejected = proposalResolved(p, d, { outcome: 'rejected', user_ids: ['U999'], at_ms: AT });
    expect(allText(rejected.blocks)).toContain('Rejected* by <@U999>');
    const two = proposalResolved(p, d, { outcome: 'approved', user_ids: ['U1AA', 'U2BB'], at_ms: AT });
    expect(allText(two.blocks)).toContain('Approved* by <@U1AA>, <@U2BB>');
    const expired = proposalResolved(p, d, { outcome: 'expired', user_ids: [], at_ms: AT });
    expect(allText(expired.blocks)).toContain('Expired* at');
    expect((expired.blocks as AnyBlock[]).some((b) => b.type === 'actions')).toBe(false);
  });

  it('says who must approve, how many, until when, and what was given so far; user ids only as mentions', () => {
    const req = { approvers: ['S0ONCALL', 'U0ONCALL01', '<!channel>'], required: 2, excluded: ['U0ONCALL02'], expires_at: '2026-11-24T10:15:00.000Z', rule: 'two for cordons' };
    const text = awaitingText(req, ['U0ONCALL01']);
    expect(text).toContain('2 different approvers among <!subteam^S0ONCALL>, <@U0ONCALL01>, &lt;!channel&gt;');
    expect(text).toContain('(not <@U0ONCALL02>, who asked for it)');
    expect(text).toContain('approved so far by <@U0ONCALL01> (1 of 2)');
    expect(text).toContain('expires <!date^');
    expect(awaitingText({ ...req, approvers: [] })).toMatch(/Nobody can approve this/);
  });

  it('builds notices for execution, verification and rollback', () => {
    const p = proposalFixture();
    const base = { v: 1 as const, ts: '2026-11-24T10:05:00.000Z', proposal_id: p.id, agent: p.agent, tenant: p.tenant };
    const executed = noticeMessage(p, {
      ...base, id: 'x1', type: 'execution_result', grant_id: 'g1', tool: 'rollback_deployment',
      args: { to_revision: 13 }, status: 'succeeded', response: {},
    });
    expect(executed.text).toContain('Executed');
    const verified = noticeMessage(p, {
      ...base, id: 'v1', type: 'verification', outcome: 'restored', metric: 'p99_latency_ms', before: 1240, after: 190, slo_threshold: 300,
    });
    expect(verified.text).toContain('SLO restored');
    expect(allText(verified.blocks)).toContain('1240 → 190');
    const rolled = noticeMessage(p, {
      ...base, id: 'r1', type: 'rollback', reason: 'p99 still 900 ms after 15 min', compensating_action: p.compensating_action!,
    });
    expect(rolled.text).toContain('Rolled back');
    expect(allText(rolled.blocks)).toContain('p99 still 900 ms');
  });
});
