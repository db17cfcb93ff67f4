// The governance gateway: the only place a proposal becomes permission. For each proposal it builds
// the policy input, asks the policy engine, records the decision, and then issues a signed grant
// (allow), asks a human (require_approval), or stops (deny). A human approval becomes a grant; a
// failed verification's recorded compensating action becomes a compensation grant. Fail closed: no
// policy answer, no audit write or no signing key means no grant. Every handler is idempotent — what
// the audit log already shows done is not done again.
import {
  EVENT_VERSION,
  STREAMS,
  type Approval,
  type Decision,
  type Proposal,
  type Rollback,
  type ToolCall,
} from '../contracts/events.ts';
import type { AuditRecord, AuditStore } from '../audit/audit-store.ts';
import type { BusMessage } from '../bus/event-bus.ts';
import type { Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import { newId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import type { PolicyDecision, PolicyEngine } from '../policy/policy-engine.ts';
import type { Recorder } from '../../agents/runtime/recorder.ts';
import type { AutonomyLevels } from './autonomy.ts';
import { issueGrant, type GrantKeys } from './grants.ts';
import { buildPolicyInput } from './policy-input.ts';
import type { Tenants } from './tenants.ts';

export interface ApprovalChannel {
  /** Puts the proposal in front of the humans who may approve it (Slack buttons, a page). */
  requestApproval(p: Proposal, d: Decision): Promise<Record<string, unknown>>;
}

export interface Notifier {
  notify(text: string): Promise<void>;
}

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
  notifier: Notifier;
  grantTtlMs?: number;
}

const GRANT_TTL_MS = 120_000;

export class Gateway {
  constructor(private readonly deps: GatewayDeps) {}

  async onMessage(msg: BusMessage): Promise<void> {
    const e = msg.event;
    if (e.type === 'proposal') return this.onProposal(e);
    if (e.type === 'approval') return this.onApproval(e);
    if (e.type === 'rollback') return this.onRollback(e);
  }

  async onProposal(p: Proposal): Promise<void> {
    const records = await this.deps.audit.list({ proposal_id: p.id });
    let decision = findDecision(records);
    if (!decision) decision = await this.decide(p);

    if (decision.verdict === 'allow' && !records.some((r) => r.kind === 'grant')) {
      await this.grant(p, p.tool_call, 'policy', decision.agent_level);
    } else if (decision.verdict === 'require_approval' && !records.some((r) => r.kind === 'approval_requested')) {
      const ref = await this.deps.approvals.requestApproval(p, decision);
      await this.deps.recorder.record({
        kind: 'approval_requested',
        actor: 'gateway',
        at: new Date(this.deps.clock.now()).toISOString(),
        incident_id: p.incident_id,
        proposal_id: p.id,
        tenant: p.tenant,
        payload: { channel: ref, violations: decision.violations },
      });
    } else if (decision.verdict === 'deny') {
      await this.deps.notifier.notify(
        `Denied ${p.action} of ${p.target.name} (${p.tenant}) proposed by ${p.agent}: ${decision.violations.map((v) => v.message).join('; ')}`,
      );
    }
  }

  private async decide(p: Proposal): Promise<Decision> {
    const nowMs = this.deps.clock.now();
    const tenant = this.deps.tenants[p.tenant];
    const level = this.deps.autonomy.level(p.agent);
    let input: unknown = null;
    let result: PolicyDecision;
    if (!tenant) {
      result = failClosed(this.deps.policy.version, 'unknown_tenant', `tenant '${p.tenant}' is not in the tenants configuration`);
    } else {
      try {
        const facts = await this.facts(p, nowMs);
        const built = buildPolicyInput(p, { nowMs, agentLevel: level, tenant, changeFreeze: false, ...facts });
        input = built;
        result = await this.deps.policy.evaluate(built);
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
    await this.deps.recorder.recordAndPublish(
      {
        kind: 'decision',
        actor: 'gateway',
        at: decision.ts,
        incident_id: p.incident_id,
        proposal_id: p.id,
        tenant: p.tenant,
        payload: { decision, policy_input: input, policy_version: result.policy_version },
      },
      { stream: STREAMS.decision, event: decision },
    );
    this.deps.logger.info(
      { proposal_id: p.id, agent: p.agent, tenant: p.tenant, verdict: decision.verdict },
      `decision for ${p.action}: ${decision.verdict}`,
    );
    return decision;
  }

  /** Facts the policy needs that only the audit log knows: recent scaling and actions in flight. */
  private async facts(p: Proposal, nowMs: number): Promise<{ secondsSinceLastScale: number | null; inFlightActions: number }> {
    const results = await this.deps.audit.list({ kind: 'execution_result' });
    const grants = await this.deps.audit.list({ kind: 'grant' });
    let last: number | null = null;
    for (const r of results) {
      const res = r.payload['result'] as { tool?: string; status?: string; args?: Record<string, unknown> } | undefined;
      if (res?.tool === 'scale_deployment' && res.status === 'succeeded' && res.args?.['namespace'] === p.namespace && res.args?.['deployment'] === p.target.name) {
        const at = Date.parse(r.at);
        if (last === null || at > last) last = at;
      }
    }
    const finished = new Set(results.map((r) => r.payload['grant_id']));
    const inFlight = grants.filter((g) => g.tenant === p.tenant && !finished.has((g.payload['grant'] as { id?: string } | undefined)?.id)).length;
    return { secondsSinceLastScale: last === null ? null : Math.max(0, (nowMs - last) / 1000), inFlightActions: inFlight };
  }

  async onApproval(a: Approval): Promise<void> {
    const records = await this.deps.audit.list({ proposal_id: a.proposal_id });
    const proposal = findProposal(records);
    const decision = findDecision(records);
    if (!proposal || !decision) {
      throw new GovernorError('not_found', `approval for unknown proposal ${a.proposal_id}`, { retryable: false });
    }
    if (records.some((r) => r.kind === 'grant')) return; // already granted: a redelivered approval
    if (decision.verdict !== 'require_approval') {
      this.deps.logger.warn({ proposal_id: a.proposal_id }, `approval ignored: the verdict was ${decision.verdict}`);
      return;
    }
    if (!a.approved) {
      await this.deps.notifier.notify(`${proposal.action} of ${proposal.target.name} rejected by ${a.approver.name ?? a.approver.id}`);
      return;
    }
    // A pause after the request outranks the approval: paused agents are advisory only.
    const level = this.deps.autonomy.level(proposal.agent);
    if (level < 2) {
      await this.deps.notifier.notify(`Approval of ${proposal.action} not honoured: ${proposal.agent} is at level 1 (paused or demoted)`);
      return;
    }
    await this.grant(proposal, proposal.tool_call, 'approval', level, a);
  }

  async onRollback(r: Rollback): Promise<void> {
    const records = await this.deps.audit.list({ proposal_id: r.proposal_id });
    const proposal = findProposal(records);
    if (!proposal?.compensating_action) {
      throw new GovernorError('not_found', `rollback for a proposal without a recorded compensating action: ${r.proposal_id}`);
    }
    // Only the compensating action recorded before execution may run, exactly as recorded.
    const recorded = records.find((x) => x.kind === 'compensating_action');
    const planned = (recorded?.payload['compensating_action'] ?? proposal.compensating_action) as ToolCall;
    if (canonicalJson(planned) !== canonicalJson(r.compensating_action)) {
      throw new GovernorError('grant_mismatch', 'rollback asks for a different action than the one recorded before execution');
    }
    const already = records.filter((x) => x.kind === 'grant' && (x.payload['grant'] as { basis?: string })?.basis === 'compensation');
    if (already.length > 0) return;
    await this.grant(proposal, planned, 'compensation', this.deps.autonomy.level(proposal.agent));
  }

  private async grant(p: Proposal, call: ToolCall, basis: 'policy' | 'approval' | 'compensation', level: number, approval?: Approval): Promise<void> {
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
    await this.deps.recorder.recordAndPublish(
      {
        kind: 'grant',
        actor: 'gateway',
        at: grant.ts,
        incident_id: p.incident_id,
        proposal_id: p.id,
        tenant: p.tenant,
        payload: {
          grant,
          agent_level: level,
          ...(approval ? { approver: approval.approver, approval_id: approval.id } : {}),
        },
      },
      { stream: STREAMS.grant, event: grant },
    );
  }
}

function failClosed(version: string, rule: string, message: string): PolicyDecision {
  return { verdict: 'deny', violations: [{ layer: 'safety', rule, message }], policy_version: version };
}

export function findProposal(records: AuditRecord[]): Proposal | undefined {
  return records.find((r) => r.kind === 'proposal')?.payload['proposal'] as Proposal | undefined;
}

export function findDecision(records: AuditRecord[]): Decision | undefined {
  return records.find((r) => r.kind === 'decision')?.payload['decision'] as Decision | undefined;
}
