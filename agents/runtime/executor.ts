// The executor of one agent: acts only on a grant addressed to that agent, through the agent's MCP
// session, which checks the grant again. Exactly-once where it matters: before acting it claims the
// grant in PostgreSQL, so a redelivered grant (a consumer that died after acting but before
// acknowledging) never executes twice. The compensating action is recorded before the action runs.
// A grant issued at or before the latest `/agents-pause` is not acted on: it is recorded as refused.
import { EVENT_VERSION, judgedService, type AgentName, type ExecutionResult, type Grant } from '../../src/contracts/events.ts';
import { entryOfEvent, type VerificationPlan } from '../../src/audit/records.ts';
import type { AuditReader, AuditStore } from '../../src/audit/audit-store.ts';
import type { BusMessage } from '../../src/bus/event-bus.ts';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Notifier } from '../../src/governance/channels.ts';
import { actionExecution, firstDecision, lifeOf, type ProposalLife } from '../../src/governance/proposal-life.ts';
import { PAUSE_REVOCATION, assertIssuedAfterPause, isPauseRevocation, type PauseEpochReader } from '../../src/governance/pause-epoch.ts';
import { readToolError } from '../../src/mcp/tool-error.ts';
import { DeploymentMetrics, readTool } from './cluster-views.ts';
import { toolsOfTenant } from './tenant-sessions.ts';
import { capacitySample } from './capacity.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { ToolClient, ToolOutcome } from './tool-client.ts';
import { PODS_NOT_READY, judgedValue, verificationPlan, type Verifier } from './verifier.ts';

export interface ExecutorDeps {
  agent: AgentName;
  consumer: string;
  /**
   * The agent's tools: those its grants name, and get_pod_metrics for the judged service's
   * before-metrics (one session for Elastik; a routed client over two for the others, tool-router.ts).
   */
  tools: ToolClient;
  audit: AuditStore;
  recorder: Recorder;
  verifier: Verifier;
  notifier: Notifier;
  clock: Clock;
  logger: Logger;
  /** The latest pause (SharedStatePauseEpoch over the shared state the MCP servers read). */
  pauseEpoch?: PauseEpochReader;
}

/** How long past a grant's expiry a consumer waits for the outcome of a call still under way elsewhere. */
const IN_DOUBT_AFTER_MS = 60_000;

export class Executor {
  constructor(private readonly deps: ExecutorDeps) {}

  async onMessage(msg: BusMessage): Promise<void> {
    if (msg.event.type !== 'grant' || msg.event.agent !== this.deps.agent) return;
    await this.onGrant(msg.event);
  }

  async onGrant(g: Grant): Promise<void> {
    const { audit, recorder, clock } = this.deps;
    const life = lifeOf(await audit.list({ proposal_id: g.proposal_id }));
    const proposal = life?.proposal;
    if (!life || !proposal) throw new GovernorError('not_found', `grant ${g.id} for unknown proposal ${g.proposal_id}`);
    // Read before the claim: not knowing of a pause is a retryable failure that leaves the grant unclaimed.
    const pausedAtMs = this.deps.pauseEpoch ? await this.latestPause(g) : null;
    const at = new Date(clock.now()).toISOString();
    const claimed = await audit.claimExecution({ grant_id: g.id, proposal_id: g.proposal_id, consumer: this.deps.consumer, at });
    if (!claimed) {
      await this.reconcile(g, life);
      return;
    }
    try {
      assertIssuedAfterPause(g, pausedAtMs);
    } catch (err) {
      if (!(err instanceof GovernorError)) throw err;
      await this.refuse(g, err);
      return;
    }

    if (g.basis !== 'compensation' && proposal.compensating_action) {
      await recorder.record({
        kind: 'compensating_action',
        actor: g.agent,
        at,
        incident_id: g.incident_id,
        proposal_id: g.proposal_id,
        tenant: g.tenant,
        payload: { compensating_action: proposal.compensating_action, for_tool: g.tool, for_args: g.args },
      });
    }

    const target = judgedService(proposal);
    // The judged service is read through the session of its own tenant (a throttle is judged by the
    // victim's latency); the action goes through the session of the grant's tenant, so a grant whose
    // arguments name another tenant's namespace is refused by the server.
    const before = await readTool(this.deps.tools, 'get_pod_metrics', target, DeploymentMetrics);
    const outcome = await toolsOfTenant(this.deps.tools, g.tenant).callTool<Record<string, unknown>>(g.tool, { ...g.args, grant: g });
    this.unlessUnanswered(g, outcome);
    await this.conclude(g, life, before, outcome);
  }

  /**
   * A call whose answer never came (the MCP server unreachable, or its answer later than the
   * client's timeout) may or may not have acted: it is not recorded as failed. The grant stays
   * claimed and the message is delivered again; the next delivery asks the server again with the
   * same grant (reconcile), and the server either carries it out then or answers from its ledger.
   */
  private unlessUnanswered(g: Grant, outcome: ToolOutcome<Record<string, unknown>>): void {
    if (outcome.ok || !outcome.unanswered) return;
    this.deps.logger.warn({ proposal_id: g.proposal_id, agent: g.agent, code: outcome.code }, `${g.tool} for grant ${g.id} got no answer (${outcome.message}); asking the server again later`);
    throw new GovernorError('upstream_unavailable', `${g.tool} for grant ${g.id} got no answer from its MCP server (${outcome.code}: ${outcome.message}); its outcome is asked for again`, { retryable: true });
  }

  /**
   * A grant claimed before, by a consumer that died or is still at work (its message came back to
   * another). Recorded already: nothing to do. Otherwise the server is asked again with the same
   * grant: it answers a grant it carried out from its ledger (mcp-servers/shared/grant-ledger.ts)
   * and does nothing again, and the answer is recorded — once, whoever records first. While the
   * first call is still under way (`grant_used` with no outcome yet), it is asked again later; once
   * the grant is long expired with no outcome known, the record says so.
   */
  private async reconcile(g: Grant, life: ProposalLife): Promise<void> {
    const { audit, logger, clock } = this.deps;
    if (await this.recorded(g, audit)) {
      logger.warn({ proposal_id: g.proposal_id, agent: g.agent }, `grant ${g.id} was already carried out and recorded; not executing again`);
      return;
    }
    logger.warn({ proposal_id: g.proposal_id, agent: g.agent }, `grant ${g.id} was claimed by a consumer that has not recorded its outcome; asking the server what became of it`);
    const before = await readTool(this.deps.tools, 'get_pod_metrics', judgedService(life.proposal!), DeploymentMetrics);
    const outcome = await toolsOfTenant(this.deps.tools, g.tenant).callTool<Record<string, unknown>>(g.tool, { ...g.args, grant: g });
    this.unlessUnanswered(g, outcome);
    if (!outcome.ok && outcome.code === 'grant_used') {
      if (clock.now() < Date.parse(g.expires_at) + IN_DOUBT_AFTER_MS) {
        throw new GovernorError('upstream_unavailable', `grant ${g.id} is being carried out elsewhere and its outcome is not known yet; asking again later`, { retryable: true });
      }
      await this.report(g, { status: 'failed', response: { code: 'outcome_unknown', message: outcome.message }, error: `outcome_unknown: grant ${g.id} was used and no outcome was kept; look at the cluster` }, outcome.raw);
      return;
    }
    await this.conclude(g, life, before, outcome, true);
  }

  private async recorded(g: Grant, audit: AuditReader): Promise<boolean> {
    return (await audit.list({ proposal_id: g.proposal_id, kind: 'execution_result' })).some((r) => r.kind === 'execution_result' && r.payload.result.grant_id === g.id);
  }

  private async conclude(g: Grant, life: ProposalLife, before: DeploymentMetrics, outcome: ToolOutcome<Record<string, unknown>>, recovered = false): Promise<void> {
    const proposal = life.proposal!;
    // The verification plan goes into the same record as the result: a process that dies before
    // verifying leaves it for the next one (verifier.ts: resume).
    let plan: VerificationPlan | undefined;
    if (outcome.ok) plan = this.planVerification(g, life, before);
    const written = await this.report(g, {
      status: outcome.ok ? 'succeeded' : outcome.code.startsWith('grant_') || outcome.code === 'safety_violation' || outcome.code === 'tenant_forbidden' ? 'refused' : 'failed',
      response: outcome.ok ? outcome.data : { code: outcome.code, message: outcome.message, ...(revokedByPause(outcome.raw) ? { revoked_by: PAUSE_REVOCATION } : {}) },
      ...(outcome.ok ? {} : { error: `${outcome.code}: ${outcome.message}` }),
      before: { p99_ms: before.service.p99_ms, replicas: before.deployment.replicas },
    }, outcome.raw, plan, recovered);
    if (!written) return;

    const verb = g.basis === 'compensation' ? 'Rolled back' : 'Executed';
    await this.deps.notifier.notify(
      outcome.ok
        ? `${verb} ${g.tool} on ${proposal.target.name} (${g.tenant}) for ${g.agent} — ${g.basis === 'approval' ? 'approved by a human' : g.basis === 'policy' ? 'within guardrails' : 'compensating a failed action'}`
        : `${g.tool} on ${proposal.target.name} (${g.tenant}) was not executed: ${outcome.code}: ${outcome.message}`,
      { incident_id: proposal.incident_id ?? g.incident_id },
    );
    if (plan) this.deps.verifier.watch(proposal, plan);
  }

  /**
   * How the executed call will be judged: an action by its SLO (and, when it adds capacity, by
   * throughput and saturation too); a compensation by whether it brought the service back to where
   * it was before the action.
   */
  private planVerification(g: Grant, life: ProposalLife, before: DeploymentMetrics): VerificationPlan {
    const level: 2 | 3 = g.basis === 'policy' && (firstDecision(life)?.agent_level ?? 3) === 3 ? 3 : 2;
    const now = this.deps.clock.now();
    if (g.basis === 'compensation') {
      const action = actionExecution(life);
      const atAction = action?.before?.['p99_ms'];
      return verificationPlan(now, level, typeof atAction === 'number' && life.proposal.verification.metric !== PODS_NOT_READY ? atAction : judgedValue(life.proposal.verification, before), { of: 'compensation' });
    }
    return verificationPlan(now, level, judgedValue(life.proposal.verification, before), life.proposal.verification.capacity ? { beforeCapacity: capacitySample(before) } : {});
  }

  private async latestPause(g: Grant): Promise<number | null> {
    try {
      return await this.deps.pauseEpoch!.latestPauseMs();
    } catch (err) {
      throw new GovernorError('upstream_unavailable', `cannot check grant ${g.id} against the latest pause: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
    }
  }

  /** A grant voided by a pause: recorded as refused (so it is no longer in flight), never sent to the server. */
  private async refuse(g: Grant, err: GovernorError): Promise<void> {
    await this.report(g, { status: 'refused', response: { code: err.code, message: err.message, ...err.details }, error: `${err.code}: ${err.message}` }, null);
    this.deps.logger.warn({ proposal_id: g.proposal_id, agent: g.agent, tenant: g.tenant }, err.message);
    await this.deps.notifier.notify(`${g.tool} for ${g.agent} (${g.tenant}) not executed: ${err.message}`, { incident_id: g.incident_id });
  }

  /**
   * Records what became of a grant, with the exact tool call and response, and publishes it — unless
   * its outcome is recorded already (two consumers that both carried a redelivered grant to its
   * end): one result per grant, decided under the chain lock. False when it was not written.
   */
  private async report(
    g: Grant,
    outcome: Pick<ExecutionResult, 'status' | 'response'> & Partial<Pick<ExecutionResult, 'error' | 'before'>>,
    raw: unknown,
    plan?: VerificationPlan,
    recovered = false,
  ): Promise<boolean> {
    const done = new Date(this.deps.clock.now()).toISOString();
    const result: ExecutionResult = {
      id: newId(),
      v: EVENT_VERSION,
      ts: done,
      ...(g.incident_id ? { incident_id: g.incident_id } : {}),
      type: 'execution_result',
      proposal_id: g.proposal_id,
      grant_id: g.id,
      agent: g.agent,
      tenant: g.tenant,
      tool: g.tool,
      args: g.args,
      ...outcome,
      ...(g.basis === 'compensation' ? { compensation_for: g.proposal_id } : {}),
    };
    const entry = entryOfEvent<'execution_result'>(result, {
      grant_id: g.id,
      basis: g.basis,
      tool_call: { server: g.server, tool: g.tool, args: g.args, grant_id: g.id, response: raw },
      ...(plan ? { verification: plan } : {}),
      ...(recovered ? { recovered: 'the consumer that claimed the grant died before recording, or its call got no answer; the server was asked again with the same grant (a grant it had carried out is answered from its ledger), and `before` was read then, after the action may have run' } : {}),
    });
    return this.deps.recorder.recordChecked(async (read) =>
      (await this.recorded(g, read)) ? { entries: [], result: false } : { entries: [entry], result: true },
    );
  }
}

/** The MCP server refused the call because the grant predates a pause. */
function revokedByPause(raw: unknown): boolean {
  const response = (raw as { response?: unknown } | undefined)?.response;
  if (!response || typeof response !== 'object') return false;
  return isPauseRevocation(readToolError(response as { content?: unknown; _meta?: unknown }).details);
}
