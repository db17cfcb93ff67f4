// One line of plain language per audit record, as an operator reads an incident's timeline: the
// demo's summary, `governor incident show`, Slack's `/incident timeline`. Pure; undefined for the
// records a timeline leaves out (notes, refusals, controls).
import type { AuditRecord } from '../audit/records.ts';

const params = (p: Record<string, unknown>): string =>
  p['from_replicas'] !== undefined && p['to_replicas'] !== undefined
    ? `${String(p['from_replicas'])} → ${String(p['to_replicas'])}`
    : p['from_revision'] !== undefined && p['to_revision'] !== undefined
      ? `revision ${String(p['from_revision'])} → ${String(p['to_revision'])}`
      : JSON.stringify(p);

export function describeRecord(r: AuditRecord): string | undefined {
  switch (r.kind) {
    case 'observation':
      return `observation (${r.payload.observation.severity}): ${r.payload.observation.summary}`;
    case 'proposal':
      return `proposal by ${r.actor}: ${r.payload.proposal.action} ${r.payload.proposal.target.name} ${params(r.payload.proposal.params)}`;
    case 'decision':
      return `decision: ${r.payload.decision.action} → ${r.payload.decision.verdict} (level ${r.payload.decision.agent_level})` +
        (r.payload.decision.violations.length ? `: ${r.payload.decision.violations.map((v) => v.rule).join(', ')}` : '');
    case 'approval_requested':
      return `approval requested in Slack (${r.payload.requirement.required} of ${r.payload.requirement.approvers.join(', ') || 'nobody'})`;
    case 'approval':
      return `${r.payload.approval.override ? 'freeze overridden' : r.payload.approval.approved ? 'approved' : 'rejected'} by ${r.payload.approval.approver.name ?? r.actor}` +
        (r.payload.outcome ? ` (${r.payload.outcome})` : r.payload.required ? ` (${r.payload.approvals} of ${r.payload.required})` : '');
    case 'approval_expired':
      return 'approval expired unanswered';
    case 'execution_result':
      return `executed ${r.payload.result.tool}${r.payload.result.compensation_for ? ' (compensating)' : ''}: ${r.payload.result.status}`;
    case 'verification':
      return `verification${r.payload.verification.of === 'compensation' ? ' of the compensation' : ''}: ${r.payload.verification.outcome} (${Math.round(r.payload.verification.before)} → ${Math.round(r.payload.verification.after)} ${r.payload.verification.metric === 'pods_not_ready' ? 'pods not ready' : 'ms'})`;
    case 'rollback':
      return `rollback: ${r.payload.rollback.reason}`;
    case 'priority_raised':
      return `priority raised for ${r.tenant}: burn ${r.payload.windows.long}x over 1 h, ${r.payload.windows.short}x over 5 min (≥ ${r.payload.threshold}x)`;
    case 'priority_lowered':
      return `priority lowered for ${r.tenant}: ${r.payload.reason}`;
    case 'preempted':
      return `preempted by ${r.payload.by.tenant}'s priority (burn ${r.payload.by.burn_rate}x) on ${r.payload.nodes.join(', ')}`;
    case 'preemption_ended':
      return `preemption ended: ${r.payload.outcome} (${r.payload.reason})`;
    case 'arbitration_check':
      return `arbitrator check ${r.payload.passed ? 'passed' : 'failed'}: ${r.payload.checks.map((c) => `${c.name} ${c.passed ? 'ok' : 'failed'} (${c.detail})`).join('; ')}`;
    case 'escalation':
      return `escalated to a human: ${r.payload.summary}`;
    default:
      return undefined;
  }
}
