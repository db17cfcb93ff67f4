// The governance gateway: the only place a proposal becomes permission. For each proposal it builds
// the policy input, asks the policy engine, records the decision, and then issues a signed grant
// (allow), asks a human (require_approval), or stops (deny). A human approval becomes a grant; a
// failed verification's recorded compensating action becomes a compensation grant. Fail closed: no
// policy answer, no audit write or no signing key means no grant. Every handler is idempotent — what
// the audit log already shows done is not done again.
import { ActionName, EVENT_VERSION, type Approval, type BlastRadius, type Decision, type Proposal, type Rollback, type ToolCall } from '../contracts/events.ts';
import type { AuditRecord, AuditStore, DecisionContext } from '../audit/audit-store.ts';
import { entryOfEvent, type Person } from '../audit/records.ts';
import type { BusMessage } from '../bus/event-bus.ts';
import type { SharedState } from '../bus/shared-state.ts';
import type { Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import { newId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { PolicyDecision, PolicyEngine } from '../policy/policy-engine.ts';
import type { Recorder } from '../audit/recorder.ts';
import type { ApprovalDesk } from './approvals.ts';
import type { AutonomyLevels } from './autonomy.ts';
import type { ApprovalChannel, Notifier } from './channels.ts';
import { issueGrant, type GrantKeys } from './grants.ts';
import { humanCommand } from './human-command.ts';
import { buildPolicyInput } from './policy-input.ts';
import { computeBlastRadius, effectiveBlastRadius, factsNeeded, understated, type BlastRadiusFacts, type ComputedBlastRadius, type ReadFacts } from './blast-radius.ts';
import { actionGrant, approvalsSoFar, compensationGrant, firstDecision, lifeOf, type ProposalLife } from './proposal-life.ts';
import type { Tenants } from './tenants.ts';
import type { LiveBurnRates } from './live-burn.ts';
import type { LiveSpend } from './live-spend.ts';
import type { ArbitrationGate, Preempted } from './arbitration-gate.ts';

export type { ApprovalChannel, Notifier } from './channels.ts';

export interface GatewayDeps {
  audit: AuditStore;
  recorder: Recorder;
  policy: PolicyEngine;
  autonomy: AutonomyLevels;
  tenants: Tenants;
  keys: GrantKeys;
  clock: Clock;
  logger: Logger;
  approvals: ApprovalChannel;
  /** Who must approve, and the one decision on it (src/governance/approvals.ts). */
  desk: ApprovalDesk;
  notifier: Notifier;
  /** Where the per-target leases live (Redis across processes, memory in one). */
  sharedState: SharedState;
  grantTtlMs?: number;
  /** Real milliseconds a proposal waits for a busy target before it is retried later. */
  conflictWaitMs?: number;
  /**
   * The cluster, read to compute each proposal's blast radius from its target instead of trusting
   * the agent's figure; absent (benchmarks, unit tests without a cluster): the declared figure.
   */
  blastRadius?: BlastRadiusFacts;
  /** The tenant's live burn rate in place of the configured one, when its SLIs are readable (live-burn.ts). */
  liveBurn?: Pick<LiveBurnRates, 'apply'>;
  /** The tenant's metered month-to-date spend in place of the configured one, when Prometheus can be read (live-spend.ts). */
  liveSpend?: Pick<LiveSpend, 'apply'>;
  /**
   * The Arbitrator's step before every grant but a compensation's: priority and preemption, and the
   * pre-execution check (arbitration-gate.ts). Absent (unit tests, benchmarks): the decision alone.
   */
  arbitration?: ArbitrationGate;
}

const GRANT_TTL_MS = 120_000;
/** How long a gateway may hold a target's lease before another may take it (a crashed holder). */
const LEASE_MS = 30_000;
/** How far back the audit log is read for facts (cooldowns, last scale). */
const RECENT_MS = 60 * 60_000;

export class Gateway {
  /** Proposals denied only for their agent's level 1, between their decision and its announcement. */
  private readonly advisable = new Set<string>();

  constructor(private readonly deps: GatewayDeps) {}

  async onMessage(msg: BusMessage): Promise<void> {
    const e = msg.event;
    if (e.type === 'proposal') {
      await this.onProposal(e);
      return;
    }
    if (e.type === 'approval') return this.onApproval(e);
    if (e.type === 'rollback') return this.onRollback(e);
  }

  async onProposal(p: Proposal): Promise<Decision> {
    let records: AuditRecord[] = [];
    // A fresh allow is granted (or held back by the Arbitrator) with its decision.
    let handled = false;
    // Conflicting proposals on one target are decided one at a time, each against the state the
    // previous one left (its grant executed, its cooldown started). Under the lease, the audit log
    // says whether this proposal was already decided (a redelivery).
    const decision = await this.serialised(p, async (ctx) => {
      records = ctx.own;
      const known = lifeOf(records)?.decisions[0];
      if (known) return known;
      const fresh = await this.decide(p, { grantIfAllowed: true, context: ctx });
      handled = fresh.verdict === 'allow';
      return fresh;
    });
    if (!handled) await this.act(p, decision, records);
    return decision;
  }

  private async act(p: Proposal, decision: Decision, records: AuditRecord[]): Promise<void> {
    if (decision.verdict === 'allow' && !records.some((r) => r.kind === 'grant' || r.kind === 'arbitration_check' || r.kind === 'preempted')) {
      await this.grant(p, p.tool_call, 'policy', decision.agent_level);
    } else if (decision.verdict === 'require_approval' && !records.some((r) => r.kind === 'approval_requested')) {
      await this.askForApproval(p, decision);
    } else if (decision.violations.some((v) => v.rule === PHASE_OBSERVE)) {
      // Recorded; said nowhere: in Observe nobody is asked to act.
    } else if (decision.verdict === 'deny' && (p.action === 'recommendation' || this.advisable.delete(p.id))) {
      // Advice from a level-1 agent is never executed by Governor (the policy's autonomy layer says
      // so); it is put in front of the humans as advice, not announced as a refused action. An
      // action a person can carry out comes with the command that does exactly what was judged.
      const command = p.action === 'recommendation' ? undefined : humanCommand(p);
      await this.deps.notifier.notify(
        `Recommendation from ${p.agent} for ${p.target.name} (${p.tenant}), advisory — Governor executes nothing: ${p.reasoning.join(' ')}` +
          (command ? ` To carry it out yourself: \`${command}\`` : ''), { incident_id: p.incident_id },
      );
    } else if (decision.verdict === 'deny') {
      // A freeze is the one denial a human may lift, for one proposal, with a reason (safety still applies).
      const frozen = decision.violations.some((v) => /freeze/.test(v.rule)) && !decision.violations.some((v) => v.layer === 'safety');
      await this.deps.notifier.notify(
        `Denied ${p.action} of ${p.target.name} (${p.tenant}) proposed by ${p.agent}: ${decision.violations.map((v) => v.message).join('; ')}` +
          (frozen ? `. An approver can break the freeze for this proposal: /agents-override-freeze ${p.id} <reason>` : ''), { incident_id: p.incident_id },
      );
    }
  }

  /** Puts the proposal in front of its approvers and records who must approve, and until when. */
  private async askForApproval(p: Proposal, decision: Decision, excluded: readonly string[] = []): Promise<void> {
    const requirement = this.deps.desk.requirement(p, decision, excluded);
    const ref = await this.deps.approvals.requestApproval(p, decision, requirement);
    await this.deps.recorder.record({
      kind: 'approval_requested',
      actor: 'gateway',
      at: new Date(this.deps.clock.now()).toISOString(),
      incident_id: p.incident_id,
      proposal_id: p.id,
      tenant: p.tenant,
      payload: { channel: ref, violations: decision.violations, policy_version: decision.policy_version, requirement },
    });
  }

  /**
   * Runs `fn` holding the target's lease (shared state, so every gateway process agrees) and only
   * once no granted action on the target is still waiting to execute.
   */
  private async serialised<T>(p: Proposal, fn: (ctx: DecisionContext) => Promise<T>): Promise<T> {
    const key = `lease:target:${targetKey(p)}`;
    const deadline = Date.now() + (this.deps.conflictWaitMs ?? 30_000);
    for (;;) {
      const at = this.deps.clock.now();
      const claim = await this.deps.sharedState.claimWindow(key, at, LEASE_MS);
      if (claim.acquired) {
        try {
          // One read under the lease: in-flight grants, the proposal's own records, the target's recent results.
          const ctx = await this.context(p, at);
          // Its own grant (a redelivered proposal) does not make the target busy for it.
          if (!ctx.inFlight.some((g) => g.target === targetKey(p) && g.proposal_id !== p.id)) return await fn(ctx);
        } finally {
          await this.deps.sharedState.releaseWindow(key, at);
        }
      }
      if (Date.now() > deadline) {
        throw new GovernorError('conflict', `${targetKey(p)} is busy with another action; will retry`, { retryable: true });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** What deciding `p` needs from the audit log, read in one round trip. */
  private context(p: Proposal, nowMs: number): Promise<DecisionContext> {
    return this.deps.audit.decisionContext({
      proposal_id: p.id,
      tenant: p.tenant,
      grants_since: new Date(nowMs - (this.deps.grantTtlMs ?? GRANT_TTL_MS)).toISOString(),
      results_since: new Date(nowMs - RECENT_MS).toISOString(),
      target: { namespace: p.namespace, deployment: p.target.name },
      results_limit: 50,
    });
  }

  private async decide(
    p: Proposal,
    opts: { reevaluation?: boolean; freezeOverride?: { by: string; reason: string }; grantIfAllowed?: boolean; context?: DecisionContext; approvalId?: string } = {},
  ): Promise<Decision> {
    const nowMs = this.deps.clock.now();
    const configured = Object.hasOwn(this.deps.tenants, p.tenant) ? this.deps.tenants[p.tenant] : undefined;
    const burning = configured && this.deps.liveBurn ? this.deps.liveBurn.apply(p.tenant, configured) : configured;
    const tenant = burning && this.deps.liveSpend ? this.deps.liveSpend.apply(p.tenant, burning) : burning;
    const level = this.deps.autonomy.level(p.agent);
    let input: unknown = null;
    let result: PolicyDecision;
    const recent: Recent = tenant ? recentOf(opts.context ?? (await this.context(p, nowMs))) : { lastScale: undefined, lastByTool: new Map(), inFlight: 0 };
    const stale = staleness(p, recent);
    const radius = tenant ? await this.radius(p) : undefined;
    if (!tenant) {
      result = failClosed(this.deps.policy.version, 'unknown_tenant', `tenant '${p.tenant}' is not in the tenants configuration`);
    } else if (this.deps.autonomy.phase === 'observe') {
      // Observe (DESIGN §2): agents read and publish observations, nothing else. The agents hold
      // back their proposals in this phase; one that arrives anyway (made just before the phase
      // changed, or from a process that has not heard yet) is refused and recorded, not announced.
      result = { verdict: 'deny', violations: [{ layer: 'autonomy', rule: PHASE_OBSERVE, message: `phase observe: agents read and publish observations only; ${p.agent}'s ${p.action} is neither recommended nor executed` }], policy_version: this.deps.policy.version };
    } else if (stale) {
      result = { verdict: 'deny', violations: [{ layer: 'operational', rule: 'stale_proposal', message: stale }], policy_version: this.deps.policy.version };
    } else if (radius && 'unverified' in radius) {
      result = { verdict: 'deny', violations: [{ layer: 'blast_radius', rule: 'blast_radius_unverified', message: radius.unverified }], policy_version: this.deps.policy.version };
    } else {
      try {
        const facts = this.facts(nowMs, recent);
        const built = buildPolicyInput(p, {
          nowMs,
          agentLevel: level,
          tenant,
          changeFreeze: false,
          ...facts,
          ...(radius ? { blastRadius: radius.used } : {}),
          ...(opts.freezeOverride ? { freezeOverride: opts.freezeOverride } : {}),
        });
        input = built;
        result = await this.deps.policy.evaluate(built);
        if (!opts.reevaluation && result.verdict === 'deny' && level === 1 && p.action !== 'recommendation' && result.violations.some((v) => v.rule === 'level_1_advisory')) {
          // Denied at level 1: is the level all that stands against it? Then it is advice a person
          // may take (Advise: agents recommend, humans execute). Any other denial — a guardrail, a
          // freeze — is a refusal, announced as one.
          const supervised = await this.deps.policy.evaluate(buildPolicyInput(p, { nowMs, agentLevel: 2, tenant, changeFreeze: false, ...facts }));
          if (supervised.verdict !== 'deny') this.advisable.add(p.id);
        }
      } catch (err) {
        // A policy engine that cannot answer is a deny, recorded with the reason: never a guess.
        if (err instanceof GovernorError && err.retryable) throw err;
        result = failClosed(this.deps.policy.version, 'policy_unavailable', `policy evaluation failed: ${describeError(err)}`);
      }
    }
    const decision: Decision = {
      id: newId(),
      v: EVENT_VERSION,
      ts: new Date(nowMs).toISOString(),
      ...(p.incident_id ? { incident_id: p.incident_id } : {}),
      type: 'decision',
      proposal_id: p.id,
      agent: p.agent,
      tenant: p.tenant,
      action: p.action,
      verdict: result.verdict,
      violations: result.violations,
      policy_version: result.policy_version,
      agent_level: level,
    };
    const decisionEntry = entryOfEvent<'decision'>(decision, {
      policy_input: input,
      policy_version: result.policy_version,
      ...(opts.reevaluation ? { reevaluation: true } : {}),
      ...(opts.freezeOverride ? { freeze_override: opts.freezeOverride } : {}),
      ...(opts.approvalId ? { approval_id: opts.approvalId } : {}),
      ...(radius && !('unverified' in radius)
        ? { blast_radius: { declared: p.blast_radius, computed: radius.computed?.blast_radius ?? null, used: radius.used, basis: radius.computed?.basis ?? null, understated: radius.understated } }
        : {}),
      // Held back by the agent's level alone: advice a person may carry out (see act()).
      ...(this.advisable.has(p.id) ? { advice: true } : {}),
    });
    // An allowed proposal's grant is committed with its decision: one durable write, and never a
    // grant without the decision that justifies it.
    // The Arbitrator's step comes between the decision and the grant, in the same write.
    const granting = opts.grantIfAllowed === true && decision.verdict === 'allow';
    const arbitration = granting && this.deps.arbitration ? await this.deps.arbitration.judge(p, 'policy') : undefined;
    const grantEntry = granting && (arbitration?.proceed ?? true) ? this.grantEntry(p, p.tool_call, 'policy', level) : undefined;
    await this.deps.recorder.recordAllAndPublish([decisionEntry, ...(arbitration?.entries ?? []), ...(grantEntry ? [grantEntry] : [])]);
    for (const n of arbitration?.notices ?? []) await this.deps.notifier.notify(n.text, { incident_id: n.incident_id });
    this.deps.logger.info(
      { proposal_id: p.id, agent: p.agent, tenant: p.tenant, verdict: decision.verdict },
      `decision for ${p.action}: ${decision.verdict}`,
    );
    return decision;
  }

  /**
   * The blast radius to decide on: computed from the target when the gateway can read the cluster
   * and knows the action, never below the declared one. A read the cluster may answer later is
   * retried (the message stays pending); one it never will leaves the figure unverified: a deny.
   */
  private async radius(p: Proposal): Promise<{ used: BlastRadius; computed: ComputedBlastRadius | undefined; understated: string[] } | { unverified: string } | undefined> {
    const source = this.deps.blastRadius;
    const need = source ? factsNeeded(p) : undefined;
    if (!source || !need) return undefined;
    try {
      const read: ReadFacts = {};
      if (need.workloads) read.workloads = await source.workloads(need.workloads);
      if (need.node) read.nodePods = await source.podsOnNode(need.node);
      if (need.nodeGroup !== undefined) {
        if (!source.nodeGroup) throw new GovernorError('not_found', 'the gateway cannot read node groups from this cluster');
        read.nodeGroup = await source.nodeGroup(need.nodeGroup);
      }
      const computed = computeBlastRadius(p, read);
      const used = effectiveBlastRadius(p.blast_radius, computed?.blast_radius);
      const under = understated(p.blast_radius, used);
      if (under.length > 0) this.deps.logger.warn({ proposal_id: p.id, agent: p.agent, tenant: p.tenant }, `declared blast radius understated: ${under.join('; ')}`);
      return { used, computed, understated: under };
    } catch (err) {
      if (err instanceof GovernorError && err.retryable) throw err;
      return { unverified: `the blast radius of ${p.action} could not be computed from the target: ${describeError(err)}` };
    }
  }

  private facts(
    nowMs: number,
    recent: Recent,
  ): { secondsSinceLastScale: number | null; inFlightActions: number; secondsSinceLastAction: Partial<Record<ActionName, number | null>> } {
    const since = (r: AuditRecord | undefined) => (r ? Math.max(0, (nowMs - Date.parse(r.at)) / 1000) : null);
    const secondsSinceLastAction: Partial<Record<ActionName, number | null>> = {};
    // Tools and actions share names on the Kubernetes server; others map when their servers arrive.
    for (const [tool, r] of recent.lastByTool) {
      const action = ActionName.safeParse(tool);
      if (action.success) secondsSinceLastAction[action.data] = since(r);
    }
    return { secondsSinceLastScale: since(recent.lastScale), inFlightActions: recent.inFlight, secondsSinceLastAction };
  }

  /**
   * A human's word, once it decides something: a proposal approved (by as many distinct approvers
   * as its requirement asks) becomes a grant after re-evaluation against the state now; a freeze
   * override leads to a re-evaluation with the override and then to another human's approval.
   */
  async onApproval(a: Approval): Promise<void> {
    const life = lifeOf(await this.deps.audit.list({ proposal_id: a.proposal_id }));
    if (!life || life.decisions.length === 0) {
      throw new GovernorError('not_found', `approval for unknown proposal ${a.proposal_id}`, { retryable: false });
    }
    if (actionGrant(life)) return; // already granted: a redelivered approval
    if (a.override === 'change_freeze') return this.onFreezeOverride(life, a);
    const p = life.proposal;
    if (life.outcome?.outcome === 'rejected') {
      await this.deps.notifier.notify(`${p.action} of ${p.target.name} rejected by ${a.approver.name ?? a.approver.id}`, { incident_id: p.incident_id });
      return;
    }
    // The desk decided it under the chain lock; checked again here because a grant must never rest
    // on less than the requirement recorded when the humans were asked.
    const req = life.request?.requirement;
    const approvers = approvalsSoFar(life);
    if (life.outcome?.outcome !== 'approved' || !req || approvers.length < req.required || approvers.some((x) => req.excluded.includes(x.id))) {
      this.deps.logger.warn({ proposal_id: p.id }, 'approval event without a recorded decision that meets its requirement; ignored');
      return;
    }
    // A pause after the request outranks the approval: paused agents are advisory only.
    const level = this.deps.autonomy.level(p.agent);
    if (level < 2) {
      await this.deps.notifier.notify(`Approval of ${p.action} not honoured: ${p.agent} is at level 1 (paused or demoted)`, { incident_id: p.incident_id });
      return;
    }
    const override = life.overrides[0];
    const freezeOverride = override ? { by: override.approval.approver.id, reason: override.approval.reason ?? '' } : undefined;
    // Re-evaluated against the state now, not the state when the human was asked: another action
    // on the target may have executed since, and a cooldown or a freeze may have begun.
    await this.serialised(p, async (ctx) => {
      // Idempotent: a redelivered approval finds its grant (or the Arbitrator's hold on it). A
      // re-evaluation it already caused is not decided again; if the grant did not follow it (the
      // delivery failed in between: the cluster unreachable for the Arbitrator's check), it follows now.
      if (ctx.own.some((r) => r.kind === 'grant' || r.kind === 'arbitration_check' || r.kind === 'preempted')) return;
      const earlier = ctx.own.find((r) => r.kind === 'decision' && r.payload.approval_id === a.id);
      const again = earlier?.kind === 'decision' ? earlier.payload.decision : await this.decide(p, { reevaluation: true, approvalId: a.id, ...(freezeOverride ? { freezeOverride } : {}) });
      if (again.verdict === 'deny') {
        if (earlier) return; // said when it was decided
        await this.deps.notifier.notify(
          `Approval of ${p.action} on ${p.target.name} not honoured: re-evaluation denies it (${again.violations.map((v) => v.message).join('; ')})`, { incident_id: p.incident_id },
        );
        return;
      }
      await this.grant(p, p.tool_call, 'approval', again.agent_level, { approvers, approvalId: a.id });
    });
  }

  /**
   * A human broke a change freeze for one proposal, with a reason (the desk checked their right and
   * recorded it). Re-evaluated with the override — the safety layer still applies — and then put in
   * front of another approver: whoever asks for a change never also approves it.
   */
  private async onFreezeOverride(life: ProposalLife, a: Approval): Promise<void> {
    const p = life.proposal;
    // Idempotent: a redelivered override finds the re-evaluation it already caused.
    if (life.decisions.length > 1 || life.request) return;
    const d = await this.serialised(p, () =>
      this.decide(p, { reevaluation: true, freezeOverride: { by: a.approver.id, reason: a.reason ?? '' }, approvalId: a.id }),
    );
    if (d.verdict === 'deny') {
      await this.deps.notifier.notify(
        `Freeze override for ${p.action} of ${p.target.name} (${p.tenant}) by ${a.approver.name ?? a.approver.id}: still denied (${d.violations.map((v) => v.message).join('; ')})`, { incident_id: p.incident_id },
      );
      return;
    }
    await this.askForApproval(p, { ...d, verdict: 'require_approval' }, [a.approver.id]);
  }

  async onRollback(r: Rollback): Promise<void> {
    const life = lifeOf(await this.deps.audit.list({ proposal_id: r.proposal_id }));
    if (!life?.proposal.compensating_action) {
      throw new GovernorError('not_found', `rollback for a proposal without a recorded compensating action: ${r.proposal_id}`);
    }
    // Only the verifier's rollback, recorded in the audit log before it reached the bus, is acted on:
    // a rollback event published straight onto the bus (anyone with the bus's credentials) is not.
    if (life.rollback?.id !== r.id) {
      throw new GovernorError('grant_mismatch', `rollback ${r.id} of proposal ${r.proposal_id} is not the one the audit log holds${life.rollback ? ` (${life.rollback.id})` : ' (none)'}: not compensated`);
    }
    // Only the compensating action recorded before execution may run, exactly as recorded.
    const planned = life.compensatingAction ?? life.proposal.compensating_action;
    if (canonicalJson(planned) !== canonicalJson(r.compensating_action)) {
      throw new GovernorError('grant_mismatch', 'rollback asks for a different action than the one recorded before execution');
    }
    if (compensationGrant(life)) return;
    await this.grant(life.proposal, planned, 'compensation', this.deps.autonomy.level(life.proposal.agent));
  }

  private async grant(p: Proposal, call: ToolCall, basis: 'policy' | 'approval' | 'compensation', level: number, approval?: GrantApproval, resuming?: Preempted): Promise<void> {
    // A compensation restores what was there before the action: never held back.
    const arbitration = basis !== 'compensation' && this.deps.arbitration
      ? await this.deps.arbitration.judge(p, basis, { ...(approval ? { approvalId: approval.approvalId } : {}), ...(resuming ? { resuming: resuming.record } : {}) })
      : undefined;
    const proceed = arbitration?.proceed ?? true;
    await this.deps.recorder.recordAllAndPublish([...(arbitration?.entries ?? []), ...(proceed ? [this.grantEntry(p, call, basis, level, approval)] : [])]);
    for (const n of arbitration?.notices ?? []) await this.deps.notifier.notify(n.text, { incident_id: n.incident_id });
  }

  /**
   * Proposals the Arbitrator preempted, highest priority first: once the priority that held one back
   * has ended it is re-evaluated against the state now and, if still allowed (or approved), granted
   * after the Arbitrator's check; one that waited past its deadline expires unexecuted. A sweep in
   * the composition root runs this.
   */
  async resumePreempted(): Promise<void> {
    const arbitration = this.deps.arbitration;
    if (!arbitration) return;
    for (const w of await arbitration.waiting()) {
      if (!w.expired && w.held) continue;
      const life = lifeOf(await this.deps.audit.list({ proposal_id: w.record.proposal_id! }));
      if (!life) continue;
      const p = life.proposal;
      await this.serialised(p, async (ctx) => {
        // Idempotent: another gateway (or an earlier sweep) resumed or expired it already.
        if (ctx.own.some((r) => r.kind === 'grant' || (r.kind === 'preemption_ended' && r.payload.preempted_id === w.record.id))) return;
        if (w.expired) {
          await this.deps.recorder.recordAllAndPublish([arbitration.endedEntry(w, 'expired', `the priority of ${w.record.payload.by.tenant} outlasted the wait; nothing runs`)]);
          await this.deps.notifier.notify(`Preempted ${p.action} of ${p.target.name} (${p.tenant}) expired unexecuted: ${w.record.payload.by.tenant}'s priority outlasted its wait.`, { incident_id: p.incident_id });
          return;
        }
        const again = await this.decide(p, { reevaluation: true, ...(w.record.payload.approval_id ? { approvalId: w.record.payload.approval_id } : {}) });
        const approvers = approvalsSoFar(life);
        if (again.verdict === 'deny' || (w.record.payload.basis === 'policy' && again.verdict !== 'allow')) {
          const why = again.verdict === 'deny' ? `re-evaluation denies it: ${again.violations.map((v) => v.message).join('; ')}` : 'it now needs a human approval';
          await this.deps.recorder.recordAllAndPublish([arbitration.endedEntry(w, again.verdict === 'deny' ? 'denied' : 'resumed', why)]);
          if (again.verdict === 'deny') await this.deps.notifier.notify(`Preempted ${p.action} of ${p.target.name} (${p.tenant}) not resumed: ${why}`, { incident_id: p.incident_id });
          else await this.askForApproval(p, again);
          return;
        }
        const approval = w.record.payload.basis === 'approval' && w.record.payload.approval_id ? { approvers, approvalId: w.record.payload.approval_id } : undefined;
        await this.grant(p, p.tool_call, w.record.payload.basis, again.agent_level, approval, w);
      });
    }
  }

  private grantEntry(p: Proposal, call: ToolCall, basis: 'policy' | 'approval' | 'compensation', level: number, approval?: GrantApproval) {
    const grant = issueGrant(this.deps.keys, {
      proposal_id: p.id,
      incident_id: p.incident_id,
      agent: p.agent,
      tenant: p.tenant,
      namespace: p.namespace,
      server: call.server,
      tool: call.tool,
      args: call.args,
      basis,
      nowMs: this.deps.clock.now(),
      ttlMs: this.deps.grantTtlMs ?? GRANT_TTL_MS,
    });
    return entryOfEvent<'grant'>(grant, {
      target: targetKey(p),
      agent_level: level,
      policy_version: this.deps.policy.version,
      ...(approval ? { approvers: approval.approvers, approval_id: approval.approvalId } : {}),
    });
  }
}

/** The humans behind an approval grant, and the approval event that completed it. */
interface GrantApproval {
  approvers: Person[];
  approvalId: string;
}

interface Recent {
  lastScale: AuditRecord | undefined;
  lastByTool: Map<string, AuditRecord>;
  inFlight: number;
}

/** The target's last successful action per tool, and how many of the tenant's actions are in flight. */
function recentOf(ctx: DecisionContext): Recent {
  const lastByTool = new Map<string, AuditRecord>();
  for (const r of ctx.recentResults) {
    if (r.kind !== 'execution_result') continue;
    const tool = r.payload.result.tool;
    if (!lastByTool.has(tool)) lastByTool.set(tool, r);
  }
  // Moving an HPA's bounds scales the deployment as surely as scale_deployment: both count as its last scale.
  const lastScale = ctx.recentResults.find((r) => r.kind === 'execution_result' && SCALE_TOOLS.has(r.payload.result.tool));
  return { lastScale, lastByTool, inFlight: ctx.inFlight.length };
}

/** Tools whose execution scales a deployment. */
const SCALE_TOOLS = new Set(['scale_deployment', 'set_hpa_bounds']);

const targetKey = (p: Proposal): string => `${p.namespace}/${p.target.kind}/${p.target.name}`;

/**
 * A scale proposal made against a replica count the target no longer has (another action changed
 * it since) is stale: deciding it would act on a world that is gone. Returns why, or undefined.
 */
function staleness(p: Proposal, recent: Recent): string | undefined {
  if (p.action !== 'scale_deployment' || !recent.lastScale) return undefined;
  if (Date.parse(recent.lastScale.at) < Date.parse(p.ts)) return undefined;
  if (recent.lastScale.kind !== 'execution_result') return undefined;
  const res = recent.lastScale.payload.result;
  // After an HPA's bounds moved, the HPA sets the count: the proposal re-reads it, nothing to compare here.
  if (res.tool !== 'scale_deployment') return undefined;
  const replicas = Number(res.args['replicas']);
  const from = p.params['from_replicas'];
  if (replicas === from) return undefined;
  return `proposal assumed ${String(from)} replicas, but an action since left ${replicas}; propose again from the current state`;
}

const PHASE_OBSERVE = 'phase_observe';

function failClosed(version: string, rule: string, message: string): PolicyDecision {
  return { verdict: 'deny', violations: [{ layer: 'safety', rule, message }], policy_version: version };
}
