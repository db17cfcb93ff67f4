// The paging policy as data: which proposals and incidents page, when, with what, and when the page
// is over — judged from records written as the gateway, the desk and Watchtower write them.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditInput, AuditRecord } from '../../src/audit/records.ts';
import { fitSummary } from '../../src/paging/paging-service.ts';
import { incidentPageState, pageSeverity, proposalPageState, slackMessageLink } from '../../src/paging/paging-policy.ts';
import { memoryAudit } from '../configurer/memory-audit.ts';
import { T0, approvalRequested, askedDecision, decidedBy, expired, observation, rollbackProposal, type ProposalScript } from './paging-records.ts';

const GRACE = { graceMs: 30_000 };

/** The inputs as the store gives them back: each checked against its kind's schema on the way in. */
async function stored(inputs: AuditInput[]): Promise<AuditRecord[]> {
  const audit = memoryAudit();
  for (const i of inputs) await audit.append(i);
  return audit.list();
}

const script = (over: Partial<ProposalScript> = {}): ProposalScript => ({ id: randomUUID(), incident_id: randomUUID(), ...over });

describe('severity from the tenant tier and burn rate', () => {
  it.each([
    [{ tier: 'enterprise', burn_rate: 0.2 }, 'critical'],
    [{ tier: 'standard', burn_rate: 1.6 }, 'critical'],
    [{ tier: 'free', burn_rate: 1.51 }, 'critical'],
    [{ tier: 'premium', burn_rate: 0.4 }, 'error'],
    [{ tier: 'standard', burn_rate: 1.2 }, 'error'],
    [{ tier: 'standard', burn_rate: 1.5 }, 'error'],
    [{ tier: 'standard', burn_rate: 0.6 }, 'warning'],
    [{ tier: 'free', burn_rate: 0 }, 'warning'],
    [undefined, 'critical'],
    // A tenant the tenants file does not name: its tier was assumed, nobody agreed its terms.
    [{ tier: 'restricted', burn_rate: 0, known: false }, 'critical'],
  ] as const)('%j → %s', (tenant, severity) => {
    expect(pageSeverity(tenant)).toBe(severity);
  });
});

describe('a supervised proposal pages the on-call', () => {
  it('pages once the approval request is recorded: the proposal as dedup key, who proposes what for whom, the Slack message, severity by tier', async () => {
    const s = script();
    const state = proposalPageState(await stored([rollbackProposal(s), askedDecision(s), approvalRequested(s)]), T0 + 1_000, GRACE);
    expect(state.state).toBe('open');
    const t = (state as Extract<typeof state, { state: 'open' }>).trigger;
    expect(t).toMatchObject({
      dedup_key: s.id,
      summary: 'Approval needed: elastik proposes rollback_deployment of Deployment acme-prod/checkout for tenant acme (enterprise, burn rate 2.1)',
      source: 'acme-prod/checkout',
      severity: 'critical',
      component: 'checkout',
      group: 'acme',
      class: 'rollback_deployment',
      links: [{ href: 'https://slack.com/archives/C0APPROVALS/p1764000090000100', text: expect.stringMatching(/Slack/) }],
    });
    expect(t.custom_details).toMatchObject({
      proposal_id: s.id, incident_id: s.incident_id, agent: 'elastik', action: 'rollback_deployment', params: { from_revision: 2, to_revision: 1 },
      tenant: 'acme', tier: 'enterprise', burn_rate: 2.1, why_supervised: ['rollback_deployment is always supervised'], approvals_required: 1, approvers: ['S0ONCALL'],
    });
  });

  it('takes severity from what the gateway decided with: a standard tenant burning slowly pages as a warning', async () => {
    const s = script({ tenant: 'initech', tier: 'standard', burn_rate: 0.6 });
    const state = proposalPageState(await stored([rollbackProposal(s), askedDecision(s), approvalRequested(s)]), T0, GRACE);
    expect(state).toMatchObject({ state: 'open', trigger: { severity: 'warning', summary: expect.stringContaining('tenant initech (standard, burn rate 0.6)') } });
  });

  it("uses Slack's permalink when the request recorded one", async () => {
    const s = script();
    const permalink = 'https://acme.slack.com/archives/C0APPROVALS/p1764000090000100';
    const state = proposalPageState(await stored([rollbackProposal(s), askedDecision(s), approvalRequested(s, { channel: 'C0APPROVALS', ts: '1764000090.000100', permalink })]), T0, GRACE);
    expect(state).toMatchObject({ state: 'open', trigger: { links: [{ href: permalink }] } });
    expect(slackMessageLink({ channel: 'not a channel', ts: 'x' })).toBeUndefined();
    expect(slackMessageLink(undefined)).toBeUndefined();
  });

  it('waits for the Slack message, but never beyond the grace period: Slack down must not keep the on-call unpaged', async () => {
    const s = script();
    const records = await stored([rollbackProposal(s), askedDecision(s)]);
    expect(proposalPageState(records, T0 + 29_999, GRACE)).toEqual({ state: 'pending', untilMs: T0 + 30_000 });
    const late = proposalPageState(records, T0 + 30_000, GRACE);
    expect(late).toMatchObject({ state: 'open', trigger: { dedup_key: s.id, severity: 'critical' } });
    const t = (late as Extract<typeof late, { state: 'open' }>).trigger;
    expect(t.links).toBeUndefined();
    expect(t.custom_details?.['how_to_decide']).toMatch(/not known yet/);
  });

  it('is over when the proposal is approved, rejected, or its approval expires', async () => {
    for (const end of ['approved', 'rejected', 'expired'] as const) {
      const s = script();
      const last = end === 'expired' ? expired(s) : decidedBy(s, end);
      expect(proposalPageState(await stored([rollbackProposal(s), askedDecision(s), approvalRequested(s), last]), T0 + 61_000, GRACE), end).toEqual({ state: 'closed', paged: true });
    }
  });

  it('pages nothing for a proposal no human is asked about (allowed, denied)', async () => {
    for (const verdict of ['allow', 'deny'] as const) {
      const s = script();
      expect(proposalPageState(await stored([rollbackProposal(s), askedDecision(s, { verdict })]), T0 + 120_000, GRACE), verdict).toEqual({ state: 'none' });
    }
    expect(proposalPageState([], T0, GRACE)).toEqual({ state: 'none' });
  });

  it('pages as critical when the decision carries no tenant facts (when in doubt, wake someone)', async () => {
    const s = script();
    const state = proposalPageState(await stored([rollbackProposal(s), askedDecision(s, { policyInput: null }), approvalRequested(s)]), T0, GRACE);
    expect(state).toMatchObject({ state: 'open', trigger: { severity: 'critical', summary: expect.stringMatching(/for tenant acme$/) } });
  });

  it('keeps a summary within the Events API limit', () => {
    const long = fitSummary(`Approval needed: ${'x'.repeat(2_000)}`);
    expect(long).toHaveLength(1024);
    expect(long.endsWith('…')).toBe(true);
    expect(fitSummary('  two\n lines ')).toBe('two lines');
  });
});

describe('a critical observation pages as an incident', () => {
  it('pages the incident under its own id, critical, with the signals', () => {
    const id = randomUUID();
    const state = incidentPageState([observation(id, 'critical')]);
    expect(state).toMatchObject({
      state: 'open',
      trigger: {
        dedup_key: id, severity: 'critical', source: 'acme-prod/checkout', group: 'acme', class: 'http_request_duration_p99_ms',
        summary: expect.stringMatching(/^Incident on acme-prod\/checkout \(tenant acme\): checkout: p99 1028 ms/),
        custom_details: { incident_id: id, tenant: 'acme', signals: [expect.objectContaining({ value: 1028 })] },
      },
    });
  });

  it('is over when the same incident resolves; a warning, or a resolution alone, pages nothing', () => {
    const id = randomUUID();
    expect(incidentPageState([observation(id, 'critical'), observation(id, 'info', 120)])).toEqual({ state: 'closed', paged: true });
    expect(incidentPageState([observation(id, 'warning')])).toEqual({ state: 'none' });
    expect(incidentPageState([observation(id, 'warning'), observation(id, 'info', 60)])).toEqual({ state: 'none' });
  });
});
