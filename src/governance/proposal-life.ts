// One read model of a proposal's life, folded from its audit records: the proposal, its decisions
// (the first and every re-evaluation), the approval it asked for and the votes on it, its grants,
// the compensating action recorded before execution, what the executions did, how it was verified
// and whether it was rolled back. The gateway, the executor, the demo summary and the incident
// commands all read a proposal through this, so they can never disagree about what happened.
// It must never read anything but the records: no clock, no I/O. A question the records cannot
// answer is answered with `undefined`, not a guess.
import type { Approval, Decision, ExecutionResult, Grant, Proposal, Rollback, ToolCall, Verification } from '../contracts/events.ts';
import type { ApprovalRequirement, AuditRecord, Person, RefusalCode } from '../audit/records.ts';

export type ApprovalOutcome = 'approved' | 'rejected' | 'expired';

/** Where a proposal stands, in the operator's words. */
export type ProposalStage =
  | 'deciding'
  | 'denied'
  | 'awaiting_approval'
  | 'rejected'
  | 'expired'
  | 'granted'
  | 'executed'
  | 'failed'
  | 'verified'
  | 'rolled_back';

export interface Vote {
  approval: Approval;
  at: string;
}

export interface ProposalLife {
  proposal: Proposal;
  /** The first decision and every re-evaluation after it, in order. */
  decisions: Decision[];
  /** The approval asked for, with who may give it and until when. */
  request: { at: string; requirement: ApprovalRequirement; channel: Record<string, unknown> | undefined } | undefined;
  /** Approve and reject votes, in order (freeze overrides are not votes). */
  votes: Vote[];
  /** Freeze overrides, in order. */
  overrides: Vote[];
  /** How the approval ended, once it has. */
  outcome: { outcome: ApprovalOutcome; at: string; approvers: Person[] } | undefined;
  refusals: { at: string; by: Person; code: RefusalCode; request: string }[];
  grants: Grant[];
  /** The compensating action recorded before the action executed. */
  compensatingAction: ToolCall | undefined;
  executions: ExecutionResult[];
  /** How the action was judged. */
  verification: Verification | undefined;
  /** How the compensating action that undid it was judged, when one ran. */
  compensationVerification: Verification | undefined;
  rollback: Rollback | undefined;
}

/** Folds a proposal's records (in chain order) into its life; undefined without the proposal record. */
export function lifeOf(records: readonly AuditRecord[]): ProposalLife | undefined {
  let proposal: Proposal | undefined;
  const life: Omit<ProposalLife, 'proposal'> = {
    decisions: [],
    request: undefined,
    votes: [],
    overrides: [],
    outcome: undefined,
    refusals: [],
    grants: [],
    compensatingAction: undefined,
    executions: [],
    verification: undefined,
    compensationVerification: undefined,
    rollback: undefined,
  };
  for (const r of records) {
    switch (r.kind) {
      case 'proposal':
        proposal ??= r.payload.proposal;
        break;
      case 'decision':
        life.decisions.push(r.payload.decision);
        break;
      case 'approval_requested':
        life.request ??= { at: r.at, requirement: r.payload.requirement, channel: r.payload.channel };
        break;
      case 'approval': {
        const vote = { approval: r.payload.approval, at: r.at };
        if (r.payload.approval.override) life.overrides.push(vote);
        else life.votes.push(vote);
        if (r.payload.outcome && !life.outcome) {
          const approvers = r.payload.outcome === 'approved'
            ? life.votes.filter((v) => v.approval.approved).map((v) => person(v.approval))
            : [person(r.payload.approval)];
          life.outcome = { outcome: r.payload.outcome, at: r.at, approvers };
        }
        break;
      }
      case 'approval_expired':
        life.outcome ??= { outcome: 'expired', at: r.at, approvers: [] };
        break;
      case 'refusal':
        life.refusals.push({ at: r.at, by: r.payload.by, code: r.payload.code, request: r.payload.request });
        break;
      case 'grant':
        life.grants.push(r.payload.grant);
        break;
      case 'compensating_action':
        life.compensatingAction ??= r.payload.compensating_action;
        break;
      case 'execution_result':
        life.executions.push(r.payload.result);
        break;
      case 'verification':
        if (r.payload.verification.of === 'compensation') life.compensationVerification ??= r.payload.verification;
        else life.verification ??= r.payload.verification;
        break;
      case 'rollback':
        life.rollback ??= r.payload.rollback;
        break;
      default:
        break;
    }
  }
  return proposal ? { proposal, ...life } : undefined;
}

const person = (a: Approval): Person => ({ id: a.approver.id, ...(a.approver.name ? { name: a.approver.name } : {}) });

/** The first decision: what the policy said when the proposal arrived. */
export const firstDecision = (l: ProposalLife): Decision | undefined => l.decisions[0];
/** The latest decision: the first, or the newest re-evaluation. */
export const latestDecision = (l: ProposalLife): Decision | undefined => l.decisions[l.decisions.length - 1];

/** The grant for the proposal's own action (not its compensation). */
export const actionGrant = (l: ProposalLife): Grant | undefined => l.grants.find((g) => g.basis !== 'compensation');
export const compensationGrant = (l: ProposalLife): Grant | undefined => l.grants.find((g) => g.basis === 'compensation');

/** What became of a grant, when something did. */
export const executionOf = (l: ProposalLife, g: Grant | undefined): ExecutionResult | undefined =>
  g ? l.executions.find((e) => e.grant_id === g.id) : undefined;

/** The action's own execution. */
export const actionExecution = (l: ProposalLife): ExecutionResult | undefined => executionOf(l, actionGrant(l));
/** The compensating action's execution. */
export const compensationExecution = (l: ProposalLife): ExecutionResult | undefined => executionOf(l, compensationGrant(l));

/** Distinct people who approved so far. */
export function approvalsSoFar(l: ProposalLife): Person[] {
  const seen = new Map<string, Person>();
  for (const v of l.votes) if (v.approval.approved && !seen.has(v.approval.approver.id)) seen.set(v.approval.approver.id, person(v.approval));
  return [...seen.values()];
}

/** Where the proposal stands now, by its records alone. */
export function stageOf(l: ProposalLife): ProposalStage {
  const decision = latestDecision(l);
  if (!decision) return 'deciding';
  if (l.rollback || compensationExecution(l)?.status === 'succeeded') return 'rolled_back';
  const exec = actionExecution(l);
  if (exec) {
    if (exec.status !== 'succeeded') return 'failed';
    return l.verification ? 'verified' : 'executed';
  }
  if (actionGrant(l)) return 'granted';
  if (l.outcome?.outcome === 'rejected') return 'rejected';
  if (l.outcome?.outcome === 'expired') return 'expired';
  if (l.request) return 'awaiting_approval';
  if (decision.verdict === 'deny') return 'denied';
  return 'deciding';
}
