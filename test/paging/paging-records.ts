// The records of a supervised proposal's life and of an incident, as the gateway, the approval desk
// and Watchtower write them, for the paging policy and pager tests: the seed incident's rollback by
// default (acme, enterprise, burn rate 2.1), each step a valid record of its kind.
import { randomUUID } from 'node:crypto';
import { EVENT_VERSION, type Decision, type Observation } from '../../src/contracts/events.ts';
import { recordOfEvent, type AuditInput } from '../../src/audit/records.ts';
import { proposalEvent, voteInput } from '../fixtures/records.ts';

export const T0 = Date.parse('2026-11-24T10:01:30.000Z');
export const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

export interface ProposalScript {
  id: string;
  incident_id: string;
  tenant?: string;
  tier?: string;
  burn_rate?: number;
}

export const rollbackProposal = (s: ProposalScript): AuditInput<'proposal'> =>
  recordOfEvent<'proposal'>(
    proposalEvent({
      id: s.id, ts: at(0), incident_id: s.incident_id, tenant: s.tenant ?? 'acme', action: 'rollback_deployment', params: { from_revision: 2, to_revision: 1 },
      tool_call: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 } },
      reasoning: ['revision 2 changed the JVM heap 47 min before the GC pauses began'],
    }),
    { reasoning_mode: 'rule-based', tool_calls: [] },
  );

export function askedDecision(s: ProposalScript, opts: { atS?: number; verdict?: Decision['verdict']; policyInput?: unknown } = {}): AuditInput<'decision'> {
  const d: Decision = {
    id: randomUUID(), v: EVENT_VERSION, ts: at(opts.atS ?? 0), incident_id: s.incident_id, type: 'decision', proposal_id: s.id, agent: 'elastik', tenant: s.tenant ?? 'acme',
    action: 'rollback_deployment', verdict: opts.verdict ?? 'require_approval',
    violations: [{ layer: 'autonomy', rule: 'supervised_action', message: 'rollback_deployment is always supervised' }], policy_version: 'test', agent_level: 3,
  };
  const policyInput = opts.policyInput === undefined ? { context: { tenant: { tier: s.tier ?? 'enterprise', burn_rate: s.burn_rate ?? 2.1 } } } : opts.policyInput;
  return recordOfEvent<'decision'>(d, { policy_input: policyInput, policy_version: 'test' });
}

export const approvalRequested = (s: ProposalScript, channel: Record<string, unknown> | undefined = { channel: 'C0APPROVALS', ts: '1764000090.000100' }, atS = 1): AuditInput<'approval_requested'> => ({
  kind: 'approval_requested', actor: 'gateway', at: at(atS), incident_id: s.incident_id, proposal_id: s.id, tenant: s.tenant ?? 'acme',
  payload: {
    ...(channel ? { channel } : {}),
    violations: [], policy_version: 'test',
    requirement: { approvers: ['S0ONCALL'], required: 1, excluded: [], expires_at: at(900), rule: 'default' },
  },
});

export const decidedBy = (s: ProposalScript, outcome: 'approved' | 'rejected', atS = 60): AuditInput<'approval'> => ({
  ...voteInput({ proposal_id: s.id, voter: 'U0ONCALL1', approved: outcome === 'approved', at: at(atS), outcome }),
  proposal_id: s.id,
});

export const expired = (s: ProposalScript, atS = 900): AuditInput<'approval_expired'> => ({
  kind: 'approval_expired', actor: 'gateway', at: at(atS), incident_id: s.incident_id, proposal_id: s.id, tenant: s.tenant ?? 'acme',
  payload: { expires_at: at(900), approvals: 0, required: 1 },
});

export function observation(incidentId: string, severity: Observation['severity'], atS = 0): Observation {
  return {
    id: randomUUID(), v: EVENT_VERSION, ts: at(atS), incident_id: incidentId, type: 'observation', agent: 'watchtower', tenant: 'acme', namespace: 'acme-prod', severity,
    summary: severity === 'info' ? 'checkout: p99 154 ms is back under the 500 ms SLO' : 'checkout: p99 1028 ms (baseline 239 ms, SLO 500 ms); GC pause up on 3 of 8 pods',
    target: { kind: 'Deployment', name: 'checkout' },
    signals: [{ metric: 'http_request_duration_p99_ms', target: 'checkout', value: severity === 'info' ? 154 : 1028, baseline: 239, change_pct: 330, unit: 'ms' }],
  };
}

export const observationInput = (o: Observation): AuditInput<'observation'> => recordOfEvent<'observation'>(o, { tool_calls: [] });

/** Elastik's escalation of an incident it cannot move further (the blast radius blocks the next step). */
export const escalationInput = (incidentId: string, atS = 300, key = 'blocked:blast_radius:9'): AuditInput<'escalation'> => ({
  kind: 'escalation', actor: 'elastik', at: at(atS), incident_id: incidentId, tenant: 'acme',
  payload: {
    key, target: { namespace: 'acme-prod', deployment: 'checkout' }, summary: 'checkout cannot be scaled further by an agent',
    tried: ['scale_deployment {"from_replicas":6,"to_replicas":9}: verified (partially_helped)'],
    blocked: [{ reason: 'entitlement', detail: 'max_replicas 9 reached' }],
    options: ['raise acme\'s max_replicas to 20 and approve a scale to 20'],
  },
});
