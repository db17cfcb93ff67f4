// Elastik: turns observations into scaling, rollback, node (cordon and drain) and limits (vertical.ts) proposals (one per action, each recorded and
// published through the outbox), and then works each incident to its end (incident-work.ts): the
// next scaling step after each verification, cooldown, approval or denial, or an escalation.
// Consumes observations with its own consumer group; idempotent: an observation it has already
// answered is skipped, so a redelivery proposes nothing twice. With a language model, the model may
// choose among the planner's candidates (never beyond them); the rules propose them all otherwise.
import { proposalOf, recordProposal } from '../runtime/propose.ts';
import { chooseAmong, withModelReason } from '../runtime/candidate-choice.ts';
import { recordExchange, type Reasoner } from '../../src/llm/reasoner.ts';
import type { Observation, Proposal } from '../../src/contracts/events.ts';
import type { BusMessage } from '../../src/bus/event-bus.ts';
import { DeploymentMetrics, NamespaceCapacity, NodesStatus, RolloutHistory, readTool } from '../runtime/cluster-views.ts';
import { IncidentWork, type IncidentWorkDeps } from './incident-work.ts';
import { plan, type ElastikAction } from './planner.ts';
import { verticalStep } from './vertical.ts';
import { limitsProposed } from './limits-work.ts';
import type { PlannedAction } from '../runtime/planned-action.ts';
import type { AuditRecord } from '../../src/audit/audit-store.ts';
import type { TenantSpec } from '../../src/governance/tenants.ts';

/**
 * The session is the Elastik's own; see agents/runtime/agent-deps.ts. With a reasoner, a language
 * model may choose among the planner's candidates (runtime/candidate-choice.ts).
 */
export type ElastikDeps = IncidentWorkDeps & { reasoner?: Reasoner };

export class Elastik {
  readonly work: IncidentWork;

  constructor(private readonly deps: ElastikDeps) {
    this.work = new IncidentWork(deps);
  }

  start(): void {
    this.work.start();
  }

  stop(): void {
    this.work.stop();
  }

  /** Observations, and what becomes of the proposals of the incidents it works. */
  async onMessage(msg: BusMessage): Promise<void> {
    const e = msg.event;
    if (e.type === 'observation') {
      this.work.onObservation(e);
      if (e.severity !== 'info') await this.work.enqueue(e.incident_id ?? e.id, () => this.onObservation(e));
      return;
    }
    if ((e.type === 'verification' || e.type === 'decision' || e.type === 'approval' || e.type === 'execution_result') && e.incident_id) {
      this.work.prompt(e.incident_id);
    }
  }

  async onObservation(obs: Observation): Promise<void> {
    if (obs.severity === 'info') return;
    const tenant = this.deps.tenants[obs.tenant];
    if (!tenant) {
      this.deps.logger.warn({ agent: 'elastik', tenant: obs.tenant }, 'observation for an unknown tenant; no proposal');
      return;
    }
    const already = await this.deps.audit.list({ incident_id: obs.incident_id ?? obs.id, kind: 'proposal' });
    if (already.some((r) => (r.payload as { proposal?: Proposal }).proposal?.observation_id === obs.id)) return;

    const args = { namespace: obs.namespace, deployment: obs.target.name };
    const metrics = await readTool(this.deps.tools, 'get_pod_metrics', args, DeploymentMetrics);
    const history = await readTool(this.deps.tools, 'get_rollout_history', args, RolloutHistory);
    const capacity = await readTool(this.deps.tools, 'get_namespace_capacity', { namespace: obs.namespace }, NamespaceCapacity);
    // The nodes are context, not a precondition: without them Elastik still scales and rolls back.
    let nodes: NodesStatus | undefined;
    try {
      nodes = await readTool(this.deps.tools, 'get_node_status', args, NodesStatus);
    } catch (err) {
      this.deps.logger.warn({ agent: 'elastik', tenant: obs.tenant, err }, 'get_node_status failed; planning without node health');
    }
    const causes = plan({
      observation: obs,
      metrics,
      history,
      capacity,
      maxReplicas: tenant.max_replicas,
      sloP99Ms: tenant.slo.p99_latency_ms,
      ...(nodes ? { nodes: nodes.nodes } : {}),
    });
    const planned: PlannedAction[] = [...causes, ...this.vertical(obs, metrics, tenant, causes, already)];

    // The rules propose every candidate; a model may choose among them (never beyond them).
    const choice = await chooseAmong(this.deps.reasoner, { purpose: 'elastik_choice', agent: 'Elastik', observation: obs, candidates: planned, rules: 'all', facts: { pods: metrics.pods, service: metrics.service, nodes: nodes?.nodes ?? null } });
    const proposals = choice.chosen.map((p) => ({
      p,
      proposal: proposalOf(withModelReason(p, choice), {
        agent: 'elastik', tenant: obs.tenant, namespace: obs.namespace, target: obs.target, nowMs: this.deps.clock.now(),
        incident_id: obs.incident_id ?? obs.id, observation_id: obs.id, llm: choice.llm,
      }),
    }));
    await recordExchange(this.deps.recorder, choice.exchange, {
      actor: 'elastik', at: new Date(this.deps.clock.now()).toISOString(), incident_id: obs.incident_id ?? obs.id, proposal_id: proposals[0]?.proposal.id, tenant: obs.tenant,
    });
    for (const { p, proposal } of proposals) {
      await recordProposal(this.deps.recorder, proposal, {
        tool_calls: [
          { server: 'kubernetes', tool: 'get_pod_metrics', args, response: metrics },
          { server: 'kubernetes', tool: 'get_rollout_history', args, response: history },
          { server: 'kubernetes', tool: 'get_namespace_capacity', args: { namespace: obs.namespace }, response: capacity },
          ...(nodes ? [{ server: 'kubernetes', tool: 'get_node_status', args, response: nodes }] : []),
        ],
      });
      this.deps.logger.info({ agent: 'elastik', proposal_id: proposal.id, tenant: proposal.tenant }, `proposed ${p.action}`);
    }
    // Capacity: the incident's first scaling step, sized from demand (incident-work.ts).
    await this.work.stepWithin(obs.incident_id ?? obs.id);
  }

  /**
   * A limit that binds (throttling at the CPU limit, OOM kills with no release to blame) is raised by
   * one step (vertical.ts) — once per incident, and not when a cause is being removed (a rollback, a
   * node cordoned): the limit is then not what is wrong.
   */
  private vertical(obs: Observation, metrics: DeploymentMetrics, tenant: TenantSpec, causes: ElastikAction[], earlier: AuditRecord[]): PlannedAction[] {
    if (causes.some((a) => a.action === 'rollback_deployment' || a.action === 'cordon_node')) return [];
    if (limitsProposed(earlier, obs.target.name)) return [];
    const step = verticalStep({
      namespace: obs.namespace,
      deployment: obs.target.name,
      metrics,
      sloP99Ms: tenant.slo.p99_latency_ms,
      maxReplicas: tenant.max_replicas,
      correlatedChange: obs.correlated_change !== undefined,
    });
    if (step.kind === 'none') {
      this.deps.logger.debug({ agent: 'elastik', tenant: obs.tenant, incident_id: obs.incident_id ?? obs.id }, `no vertical change: ${step.why}`);
      return [];
    }
    return [step.action];
  }
}
