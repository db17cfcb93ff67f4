// Phase evidence from records alone: Watchtower's precision from people's answers (the latest
// verdict per incident), recommendation accuracy from approval outcomes, agent-caused SLA violations
// from verifications and rollbacks, MTTR from observation to resolution, cost from the decisions'
// estimates — and "not enough evidence" below the minimum sample, never a pass.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkRecord, type AuditInput, type AuditRecord } from '../../src/audit/records.ts';
import { EVENT_VERSION, type Observation } from '../../src/contracts/events.ts';
import { MIN_SAMPLE, exitChecksOf, phaseEvidence } from '../../src/governance/phase-evidence.ts';
import { homeView } from '../../src/slack/app-home.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

let seq = 0;
// Typed loosely: checkRecord validates each record against its kind's schema, which is the point.
const rec = (input: unknown): AuditRecord => ({ ...checkRecord(input as AuditInput), seq: ++seq, id: randomUUID(), prev_hash: '', hash: '' }) as AuditRecord;

function observation(incident: string, s: number, severity: Observation['severity'] = 'critical'): AuditRecord {
  const o: Observation = {
    id: randomUUID(), v: EVENT_VERSION, ts: at(s), incident_id: incident, type: 'observation', agent: 'watchtower', tenant: 'acme', namespace: 'acme-prod',
    severity, summary: 's', target: { kind: 'Deployment', name: 'checkout' }, signals: [],
  };
  return rec({ kind: 'observation', actor: 'watchtower', at: at(s), incident_id: incident, tenant: 'acme', payload: { observation: o, tool_calls: [] } });
}

const answer = (incident: string, a: 'confirmed' | 'false_alarm' | 'page_on_call', by = 'U1') =>
  rec({ kind: 'observation_feedback', actor: by, at: at(1), incident_id: incident, payload: { answer: a, by: { id: by }, observation_id: 'o', source: 'slack' } });

/** A proposal's records: the proposal, its decision (with a cost estimate), and what became of it. */
function proposalLife(outcome: 'approved' | 'rejected' | 'expired' | 'allowed', after: 'restored' | 'not_helped' | 'rolled_back' | 'none' = 'none', cost = 100): AuditRecord[] {
  const pid = randomUUID();
  const base = { v: EVENT_VERSION, ts: at(0), proposal_id: pid, tenant: 'acme' } as const;
  const proposal = {
    id: pid, v: EVENT_VERSION, ts: at(0), type: 'proposal', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', action: 'scale_deployment',
    target: { kind: 'Deployment', name: 'checkout' }, params: {}, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: {} }, verification: { metric: 'p99', slo_threshold: 300, min_improvement_pct: 20, window_s: 60 },
    reasoning: ['r'], llm: 'unavailable',
  } as const;
  const out: AuditRecord[] = [
    rec({ kind: 'proposal', actor: 'elastik', at: at(0), proposal_id: pid, payload: { proposal, reasoning_mode: 'rule-based', tool_calls: [] } }),
    rec({ kind: 'decision', actor: 'gateway', at: at(1), proposal_id: pid, payload: {
      decision: { ...base, id: randomUUID(), type: 'decision', agent: 'elastik', action: 'scale_deployment', verdict: outcome === 'allowed' ? 'allow' : 'require_approval', violations: [], policy_version: 'p', agent_level: 2 },
      policy_input: { context: { estimated_monthly_cost_delta_usd: cost } }, policy_version: 'p' } }),
  ];
  const approval = (approved: boolean) => ({ ...base, id: randomUUID(), type: 'approval' as const, approved, approver: { id: 'U1', source: 'slack' as const } });
  if (outcome === 'approved' || outcome === 'rejected') {
    out.push(rec({ kind: 'approval', actor: 'U1', at: at(2), proposal_id: pid, payload: { approval: approval(outcome === 'approved'), outcome } }));
  }
  if (outcome === 'expired') out.push(rec({ kind: 'approval_expired', actor: 'gateway', at: at(2), proposal_id: pid, payload: { expires_at: at(2), approvals: 0, required: 1 } }));
  if (outcome === 'approved' || outcome === 'allowed') {
    const grantId = randomUUID();
    out.push(rec({ kind: 'grant', actor: 'gateway', at: at(3), proposal_id: pid, payload: {
      grant: { ...base, id: grantId, type: 'grant', agent: 'elastik', namespace: 'acme-prod', server: 'kubernetes', tool: 'scale_deployment', args: {}, args_hash: 'h', expires_at: at(100), key_id: 'k', signature: 's', basis: outcome === 'approved' ? 'approval' : 'policy' },
      target: 'acme-prod/Deployment/checkout', agent_level: 2, policy_version: 'p' } }));
    out.push(rec({ kind: 'execution_result', actor: 'elastik', at: at(4), proposal_id: pid, payload: {
      result: { ...base, id: randomUUID(), type: 'execution_result', grant_id: grantId, agent: 'elastik', tool: 'scale_deployment', args: {}, status: 'succeeded', response: {} },
      grant_id: grantId, basis: 'policy', tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: {}, grant_id: grantId, response: {} } } }));
    if (after === 'restored' || after === 'not_helped') {
      out.push(rec({ kind: 'verification', actor: 'elastik', at: at(5), proposal_id: pid, payload: {
        verification: { ...base, id: randomUUID(), type: 'verification', agent: 'elastik', outcome: after, metric: 'p99', before: 900, after: after === 'restored' ? 200 : 950, slo_threshold: 300 } } }));
    }
    if (after === 'rolled_back') {
      out.push(rec({ kind: 'rollback', actor: 'elastik', at: at(6), proposal_id: pid, payload: {
        rollback: { ...base, id: randomUUID(), type: 'rollback', agent: 'elastik', reason: 'not restored', compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: {} } } } }));
    }
  }
  return out;
}

const coverage = { watched: ['acme-prod/checkout', 'acme-prod/cart'], reporting: ['acme-prod/checkout', 'acme-prod/cart'] };

describe('phase evidence', () => {
  it('precision counts the latest verdict per incident, and a page is no verdict', () => {
    const records = [
      ...['a', 'b', 'c', 'd', 'e', 'f'].map((i) => observation(i, 0)),
      answer('a', 'confirmed'), answer('b', 'confirmed'), answer('c', 'confirmed'), answer('d', 'confirmed'),
      answer('e', 'confirmed'), answer('e', 'false_alarm'), answer('f', 'page_on_call'),
    ];
    const e = phaseEvidence(records, coverage);
    expect(e.precision).toEqual({ confirmed: 4, false_alarms: 1, unjudged: 1, ratio: 0.8 });
    expect(exitChecksOf(e, 'observe').map((c) => c.met)).toEqual([true, true]);
  });

  it('recommendation accuracy: approved vs rejected and expired, the seed 80% needing at least five decisions', () => {
    const four = [...proposalLife('approved'), ...proposalLife('approved'), ...proposalLife('approved'), ...proposalLife('rejected')];
    const few = phaseEvidence(four, coverage);
    expect(few.acceptance).toEqual({ approved: 3, rejected: 1, expired: 0, ratio: 0.75 });
    expect(exitChecksOf(few, 'advise')[0]!.met).toBeNull();
    const more = phaseEvidence([...four, ...proposalLife('approved'), ...proposalLife('approved'), ...proposalLife('expired')], coverage);
    expect(more.acceptance.ratio).toBeCloseTo(5 / 7);
    expect(exitChecksOf(more, 'advise')[0]).toMatchObject({ met: false, value: '71% (5 approved, 1 rejected, 1 expired)' });
    // Allowed actions asked nobody: they are no human decision.
    expect(phaseEvidence(proposalLife('allowed'), coverage).acceptance.ratio).toBeNull();
  });

  it('SLA violations caused by agent actions: not helped and rolled back, over enough executions; cost of what stayed done', () => {
    const records = [
      ...proposalLife('allowed', 'restored', 400), ...proposalLife('allowed', 'restored', 400), ...proposalLife('approved', 'restored', 200),
      ...proposalLife('allowed', 'not_helped', 50), ...proposalLife('allowed', 'rolled_back', 999),
    ];
    const e = phaseEvidence(records, coverage);
    expect(e.agentCausedViolations).toEqual({ not_helped: 1, rollbacks: 1, total: 2, executed: 5 });
    expect(exitChecksOf(e, 'assist')[0]!.met).toBe(false);
    expect(e.costChange).toEqual({ monthly_usd: 1050, actions: 4 });
    expect(exitChecksOf(phaseEvidence(proposalLife('allowed', 'restored'), coverage), 'assist')[0]!.met).toBeNull();
  });

  it('MTTR from the first observation to the resolution, the median over resolved incidents; coverage names the silent services', () => {
    const records = [observation('a', 0), observation('a', 60), observation('a', 240, 'info'), observation('b', 0), observation('b', 600, 'info'), observation('c', 0)];
    const e = phaseEvidence(records, { watched: coverage.watched, reporting: ['acme-prod/checkout'] });
    expect(e.mttr).toEqual({ resolved: 2, open: 1, median_s: 420 });
    expect(exitChecksOf(e, 'govern')[0]).toMatchObject({ met: false, value: '420 s over 2 resolved (1 open)' });
    expect(exitChecksOf(e, 'observe')[0]).toMatchObject({ met: false, value: '50% (1 of 2); silent: acme-prod/cart' });
  });

  it('the App Home shows the phase, its checks and a verdict, with the evidence escaped', () => {
    const e = phaseEvidence([observation('a', 0)], { watched: ['acme-prod/<!channel>'], reporting: [] });
    const view = homeView({
      phase: 'observe', agents: [{ agent: 'elastik', level: 1, max: 3, base: 1, override: null, hold: null, judgedSince: null, why: 'phase observe <!here>' }],
      pending: [], tenants: [{ name: 'acme', tier: 'enterprise', burn_rate: 2.1, monthly_budget_usd: 20000, month_to_date_usd: 9000 }],
      evidence: e, windowDays: 30, atMs: T0,
    });
    const json = JSON.stringify(view);
    expect(view.type).toBe('home');
    expect(json).toContain('Phase: observe');
    expect(json).toContain('Not ready for *advise*: a check below fails.');
    expect(json).toContain('burn rate ⚠️ 2.1x — $9,000 of $20,000 this month (45%)');
    expect(json).not.toMatch(/<!channel>|<!here>/);
    expect(MIN_SAMPLE).toBe(5);
  });
});
