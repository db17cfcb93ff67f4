// Human approvals, in one place: who must approve a proposal (from the tenants file, per tenant and
// per level or action class, M of N for high-risk actions), how long the request stays open, and the
// one decision on it. A vote is judged against the proposal's records while the audit chain's lock
// is held, so two clicks in two processes can never both decide; PostgreSQL's own constraints
// (migrations/…_approvals.sql) refuse a second decision even if this code were wrong.
// It must never count a vote from someone outside the requirement, a second vote from one person,
// the requester's own vote on a change they asked for, or any vote after a rejection or expiry; and
// every refusal is recorded and explained to the person in words.
import type { Approval, Decision, Proposal } from '../contracts/events.ts';
import { EVENT_VERSION } from '../contracts/events.ts';
import type { AuditReader, AuditStore } from '../audit/audit-store.ts';
import { entryOfEvent, type ApprovalRequirement, type AuditEntry, type Person, type RefusalCode } from '../audit/records.ts';
import type { Recorder } from '../audit/recorder.ts';
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { approvalsSoFar, firstDecision, lifeOf, type ProposalLife } from './proposal-life.ts';
import { rollbackBudgetMs } from './rollback-budget.ts';
import type { ApprovalDefaults, ApprovalRule, Operators, TenantSpec } from './tenants.ts';

/** Resolves Slack user groups (S…) to their members; Slack's `usergroups.users.list` in practice. */
export interface Directory {
  membersOf(groupId: string): Promise<readonly string[]>;
}

/** A directory that knows no groups: only user ids named directly count. */
export const NO_GROUPS: Directory = { membersOf: async () => [] };

export type Lever = 'pause' | 'set_level' | 'override_freeze';

// ---- who must approve (pure) ----

export interface RequirementInput {
  proposal: Proposal;
  decision: Decision;
  tenant: TenantSpec | undefined;
  defaults: ApprovalDefaults;
  nowMs: number;
  /** People who may not approve this one: the requester of a human-originated change. */
  excluded?: readonly string[];
}

const holds = (rule: ApprovalRule, p: Proposal, d: Decision, t: TenantSpec | undefined): boolean =>
  (!rule.actions || rule.actions.includes(p.action)) &&
  (!rule.levels || rule.levels.includes(d.agent_level as 1 | 2 | 3)) &&
  (!rule.environments || (t !== undefined && rule.environments.includes(t.environment)));

export function requirementFor(i: RequirementInput): ApprovalRequirement {
  const tenantApprovers = i.tenant && i.tenant.approvers.length > 0 ? i.tenant.approvers : i.defaults.approvers;
  const rules = i.tenant?.approval_rules ?? i.defaults.rules;
  const rule = rules.find((r) => holds(r, i.proposal, i.decision, i.tenant));
  const expiresAfterMs = (i.tenant?.approval_expires_after_s ?? i.defaults.expires_after_s) !== undefined
    ? (i.tenant?.approval_expires_after_s ?? i.defaults.expires_after_s)! * 1000
    : rollbackBudgetMs(i.decision.agent_level);
  return {
    approvers: [...(rule?.approvers ?? tenantApprovers)],
    required: rule?.required ?? 1,
    excluded: [...(i.excluded ?? [])],
    expires_at: new Date(i.nowMs + expiresAfterMs).toISOString(),
    rule: rule ? rule.name : i.tenant && i.tenant.approvers.length > 0 ? `${i.proposal.tenant}'s approvers` : 'default approvers',
  };
}

/** Whether `user` is one of `principals` (user ids, user groups, or `*` for anyone). */
export async function isOneOf(user: string, principals: readonly string[], directory: Directory): Promise<boolean> {
  if (principals.includes('*') || principals.includes(user)) return true;
  for (const p of principals) {
    if (!p.startsWith('S')) continue;
    if ((await directory.membersOf(p)).includes(user)) return true;
  }
  return false;
}

// ---- one vote, judged against the proposal's life (pure) ----

export type Judgement =
  | { kind: 'refused'; code: RefusalCode; message: string; expired?: boolean }
  | { kind: 'accepted'; outcome: 'approved' | 'rejected' | undefined; approvals: number; required: number };

/** `eligible`: the voter is one of the requirement's approvers (resolved beforehand, groups included). */
export function judgeVote(life: ProposalLife | undefined, vote: { approved: boolean; by: Person; eligible: boolean }, nowMs: number): Judgement {
  const refused = (code: RefusalCode, message: string, expired = false): Judgement => ({ kind: 'refused', code, message, ...(expired ? { expired } : {}) });
  if (!life) return refused('unknown_proposal', 'There is no such proposal; nothing was decided.');
  const what = `${life.proposal.action} of ${life.proposal.target.name} (${life.proposal.tenant})`;
  if (life.outcome) {
    const who = life.outcome.approvers.map((p) => p.name ?? p.id).join(', ');
    return refused(
      life.outcome.outcome === 'expired' ? 'expired' : 'already_decided',
      life.outcome.outcome === 'expired'
        ? `The approval of ${what} expired at ${life.outcome.at} and can no longer be given; the agent proposes again if it is still needed.`
        : `${what} was already ${life.outcome.outcome}${who ? ` by ${who}` : ''} at ${life.outcome.at}; your click changed nothing.`,
    );
  }
  const req = life.request?.requirement;
  if (!life.request || !req) return refused('not_awaiting_approval', `${what} is not waiting for an approval (its verdict was ${firstDecision(life)?.verdict ?? 'not yet given'}).`);
  if (nowMs >= Date.parse(req.expires_at)) {
    return refused('expired', `The approval of ${what} expired at ${req.expires_at}; nothing was decided. The agent proposes again if it is still needed.`, true);
  }
  if (req.approvers.length === 0) {
    return refused('no_approvers_configured', `Nobody is configured to approve ${what} (no approvers for tenant ${life.proposal.tenant} in the tenants file), so nobody can approve it.`);
  }
  if (req.excluded.includes(vote.by.id)) {
    return refused('self_approval', `You asked for this change, so your approval cannot count: another approver must approve ${what}.`);
  }
  if (!vote.eligible) return refused('not_approver', `You are not an approver for ${what} (rule: ${req.rule}), so nothing was recorded. Ask an on-call approver.`);
  if (life.votes.some((v) => v.approval.approver.id === vote.by.id)) {
    return refused('already_voted', `You already voted on ${what}; it needs ${req.required} different approvers.`);
  }
  const approvals = approvalsSoFar(life).length + (vote.approved ? 1 : 0);
  const outcome = !vote.approved ? 'rejected' : approvals >= req.required ? 'approved' : undefined;
  return { kind: 'accepted', outcome, approvals, required: req.required };
}

// ---- the desk: votes, overrides, expiry, operators' rights ----

/** The approval event of one person's word on `p`. */
function approvalEvent(
  p: Proposal,
  at: string,
  by: Person,
  source: Approval['approver']['source'],
  word: Pick<Approval, 'approved'> & Partial<Pick<Approval, 'reason' | 'override'>>,
): Approval {
  return {
    id: newId(),
    v: EVENT_VERSION,
    ts: at,
    ...(p.incident_id ? { incident_id: p.incident_id } : {}),
    type: 'approval',
    proposal_id: p.id,
    approver: { id: by.id, ...(by.name ? { name: by.name } : {}), source },
    ...word,
  };
}

export type VoteResult =
  | { status: 'refused'; code: RefusalCode; message: string }
  | {
      status: 'recorded';
      outcome: 'approved' | 'rejected' | undefined;
      approvals: number;
      required: number;
      /** Who approved so far (this vote included), or who rejected. */
      deciders: string[];
      proposal: Proposal;
      decision: Decision | undefined;
      requirement: ApprovalRequirement | undefined;
    };

export interface ApprovalDeskDeps {
  audit: AuditStore;
  recorder: Recorder;
  tenants: Readonly<Record<string, TenantSpec>>;
  defaults: ApprovalDefaults;
  operators: Operators;
  directory: Directory;
  clock: Clock;
  logger: Logger;
}

export interface VoteRequest {
  proposal_id: string;
  approved: boolean;
  by: Person;
  source: 'slack' | 'cli' | 'scripted';
}

export class ApprovalDesk {
  constructor(private readonly deps: ApprovalDeskDeps) {}

  /** Who must approve `p` now that the policy said so (for the gateway's approval request). */
  requirement(p: Proposal, d: Decision, excluded: readonly string[] = []): ApprovalRequirement {
    return requirementFor({ proposal: p, decision: d, tenant: this.deps.tenants[p.tenant], defaults: this.deps.defaults, nowMs: this.deps.clock.now(), excluded });
  }

  /** Whether anyone at all can approve in this configuration (said at start when not). */
  get anyApprover(): boolean {
    return this.deps.defaults.approvers.length > 0 || Object.values(this.deps.tenants).some((t) => t.approvers.length > 0) ||
      this.deps.defaults.rules.some((r) => (r.approvers ?? []).length > 0);
  }

  /** Whether `user` may pull `lever` (operators in the tenants file; groups resolved). */
  may(user: string, lever: Lever): Promise<boolean> {
    return isOneOf(user, this.deps.operators[lever], this.deps.directory);
  }

  /**
   * One human's approve or reject. Decided under the audit chain's lock: the vote is recorded, and
   * when it decides the proposal, the approval event goes on the outbox in the same transaction.
   */
  async vote(v: VoteRequest): Promise<VoteResult> {
    const nowMs = this.deps.clock.now();
    const at = new Date(nowMs).toISOString();
    // Group membership is I/O (Slack): resolved before the lock, against the requirement as recorded.
    const before = lifeOf(await this.deps.audit.list({ proposal_id: v.proposal_id }));
    const eligible = before?.request?.requirement ? await this.eligible(v.by.id, before.request.requirement) : false;
    const result = await this.deps.recorder.recordChecked(async (read) => {
      const life = lifeOf(await read.list({ proposal_id: v.proposal_id }));
      const j = judgeVote(life, { approved: v.approved, by: v.by, eligible }, nowMs);
      if (j.kind === 'refused') {
        const entries: AuditEntry[] = [];
        if (j.expired && life) entries.push(this.expiryEntry(life, at));
        entries.push(this.refusalEntry(v.proposal_id, life?.proposal.tenant, life?.proposal.incident_id, v.by, j.code, j.message, v.approved ? 'approve' : 'reject', v.source, at));
        return { entries, result: { status: 'refused', code: j.code, message: j.message } as VoteResult };
      }
      const p = life!.proposal;
      const approval = approvalEvent(p, at, v.by, v.source, { approved: v.approved });
      const extras = { ...(j.outcome ? { outcome: j.outcome } : {}), approvals: j.approvals, required: j.required };
      const entry = entryOfEvent<'approval'>(approval, extras, { tenant: p.tenant });
      // Only the deciding vote is news for the gateway; the others are evidence.
      return {
        entries: [j.outcome ? entry : { input: entry.input }],
        result: {
          status: 'recorded',
          outcome: j.outcome,
          approvals: j.approvals,
          required: j.required,
          deciders: v.approved ? [...approvalsSoFar(life!).map((x) => x.id), v.by.id] : [v.by.id],
          proposal: p,
          decision: firstDecision(life!),
          requirement: life!.request?.requirement,
        } as VoteResult,
      };
    });
    this.deps.logger.info(
      { proposal_id: v.proposal_id, user_id: v.by.id, status: result.status, ...(result.status === 'refused' ? { code: result.code } : { outcome: result.outcome }) },
      `approval vote: ${result.status}`,
    );
    return result;
  }

  /**
   * A human breaking a change freeze for one denied proposal, with a reason. Recorded as an approval
   * carrying the override; the gateway re-evaluates the proposal with it and asks another approver
   * (the requester never approves their own override).
   */
  async overrideFreeze(r: { proposal_id: string; reason: string; by: Person; source: 'slack' | 'cli' }): Promise<VoteResult> {
    const nowMs = this.deps.clock.now();
    const at = new Date(nowMs).toISOString();
    if (!(await this.may(r.by.id, 'override_freeze'))) {
      const message = 'You may not break a change freeze (operators.override_freeze in the tenants file), so nothing was overridden.';
      await this.refuse({ proposal_id: r.proposal_id, by: r.by, code: 'not_permitted', message, request: 'override_freeze', source: r.source });
      return { status: 'refused', code: 'not_permitted', message };
    }
    const result = await this.deps.recorder.recordChecked(async (read) => {
      const life = lifeOf(await read.list({ proposal_id: r.proposal_id }));
      const refuse = (code: RefusalCode, message: string) => ({
        entries: [this.refusalEntry(r.proposal_id, life?.proposal.tenant, life?.proposal.incident_id, r.by, code, message, 'override_freeze', r.source, at)],
        result: { status: 'refused', code, message } as VoteResult,
      });
      if (!life) return refuse('unknown_proposal', `There is no proposal ${r.proposal_id}; nothing was overridden.`);
      const first = firstDecision(life);
      if (!first || !first.violations.some((x) => /freeze/.test(x.rule))) {
        return refuse('not_permitted', `Proposal ${r.proposal_id} was not stopped by a change freeze; there is nothing to override.`);
      }
      if (first.violations.some((x) => x.layer === 'safety')) {
        return refuse('not_permitted', `Proposal ${r.proposal_id} also breaks a safety limit, which no override lifts.`);
      }
      if (life.overrides.length > 0) {
        const o = life.overrides[0]!;
        return refuse('already_decided', `The freeze was already overridden for this proposal by ${o.approval.approver.name ?? o.approval.approver.id} at ${o.at}.`);
      }
      if (life.grants.length > 0) return refuse('already_decided', 'This proposal was already granted.');
      const p = life.proposal;
      const approval = approvalEvent(p, at, r.by, r.source, { approved: true, reason: r.reason, override: 'change_freeze' });
      return {
        entries: [entryOfEvent<'approval'>(approval, { freeze_override: { by: r.by.id, reason: r.reason } }, { tenant: p.tenant })],
        result: { status: 'recorded', outcome: undefined, approvals: 0, required: 1, deciders: [], proposal: p, decision: first, requirement: undefined } as VoteResult,
      };
    });
    return result;
  }

  /**
   * Records the end of every approval request whose time ran out (the expiry sweep); returns the
   * proposals that expired now, for the channel to update their messages.
   */
  async expireDue(): Promise<ProposalLife[]> {
    const at = new Date(this.deps.clock.now()).toISOString();
    const due = await this.deps.audit.expiredApprovals(at);
    const expired: ProposalLife[] = [];
    for (const d of due) {
      try {
        const result = await this.deps.recorder.recordChecked(async (read: AuditReader) => {
          const life = lifeOf(await read.list({ proposal_id: d.proposal_id }));
          if (!life || life.outcome) return { entries: [], result: undefined };
          return { entries: [this.expiryEntry(life, at)], result: life };
        });
        if (result) expired.push(result);
      } catch (err) {
        this.deps.logger.warn({ proposal_id: d.proposal_id, err: describeError(err) }, 'approval expiry could not be recorded; retrying at the next sweep');
      }
    }
    return expired;
  }

  /** Records a refused request (a lever pulled by someone without the right, a replayed request). */
  async refuse(r: { proposal_id?: string; by: Person; code: RefusalCode; message: string; request: string; source: 'slack' | 'cli' }): Promise<void> {
    const at = new Date(this.deps.clock.now()).toISOString();
    await this.deps.recorder.record(this.refusalEntry(r.proposal_id, undefined, undefined, r.by, r.code, r.message, r.request, r.source, at).input);
  }

  private async eligible(user: string, req: ApprovalRequirement): Promise<boolean> {
    try {
      return await isOneOf(user, req.approvers.filter((a) => a !== '*'), this.deps.directory);
    } catch (err) {
      // Not knowing a group's members is not knowing who may approve: fail closed.
      this.deps.logger.warn({ user_id: user, err: describeError(err) }, 'approver groups could not be resolved; treating the user as not an approver');
      return false;
    }
  }

  private expiryEntry(life: ProposalLife, at: string): AuditEntry {
    const req = life.request!.requirement;
    return {
      input: {
        kind: 'approval_expired',
        actor: 'gateway',
        at,
        incident_id: life.proposal.incident_id,
        proposal_id: life.proposal.id,
        tenant: life.proposal.tenant,
        payload: { expires_at: req.expires_at, approvals: approvalsSoFar(life).length, required: req.required },
      },
    };
  }

  private refusalEntry(
    proposalId: string | undefined,
    tenant: string | undefined,
    incidentId: string | undefined,
    by: Person,
    code: RefusalCode,
    message: string,
    request: string,
    source: 'slack' | 'cli' | 'scripted',
    at: string,
  ): AuditEntry {
    return {
      input: {
        kind: 'refusal',
        actor: by.id,
        at,
        proposal_id: proposalId,
        tenant,
        incident_id: incidentId,
        payload: { by, code, message, request, source: source === 'cli' ? 'cli' : 'slack' },
      },
    };
  }
}
