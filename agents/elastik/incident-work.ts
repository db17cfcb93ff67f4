// Elastik works an incident to its end: while Watchtower says the SLO is still breached, after each
// verification, cooldown, approval or denial it re-plans from the state now — sizes the service from
// its own throughput per pod and the demand ahead, takes the next step the guardrails allow, and
// when no step is possible (entitlement, blast radius, a denial it cannot size around, capacity that
// is not the cause) escalates once, to a human, with what was tried, what blocks it and what they
// could approve. Incidents are worked one at a time each (a chain per incident), several at once.
// Pods Pending for lack of room come first: the node group they run on grows (node-capacity.ts)
// before any more replicas are asked for.
// It proposes; it never decides (the gateway does), never acts twice on one state (a step is
// re-planned only once the previous one is settled), and never scales down during an incident.
import type { AuditRecord } from '../../src/audit/audit-store.ts';
import { ofKind } from '../../src/audit/records.ts';
import type { Observation, Proposal } from '../../src/contracts/events.ts';
import { describeError } from '../../src/core/errors.ts';
import type { WorkTracker } from '../../src/core/work-tracker.ts';
import type { Notifier } from '../../src/governance/channels.ts';
import { latestDecision, lifeOf, stageOf, type ProposalLife } from '../../src/governance/proposal-life.ts';
import type { ObservationAgentDeps } from '../runtime/agent-deps.ts';
import { capacitySample, demandAhead, loadSample, podCapacityRps, podRpsWithinSlo, type LoadSample } from '../runtime/capacity.ts';
import { DeploymentMetrics, HpaStatus, NamespaceCapacity, NodesStatus, readTool } from '../runtime/cluster-views.ts';
import { NodeGroupsView, PodEvents, PodsWithoutMetrics, groupOf, nodeGroupStep, pendingForCapacity } from './node-capacity.ts';
import { proposalOf, recordProposal } from '../runtime/propose.ts';
import { proposeLimitsInstead } from './limits-work.ts';
import { hpaScaleAction, scaleAction, type OwningHpa } from './planner.ts';
import { nextStep, type StepDecision } from './sizing.ts';

/** DESIGN §4: between two scalings of one deployment (the MCP server enforces it too). */
export const SCALE_COOLDOWN_MS = 300_000;
/** How far ahead a step is sized: its cooldown, and the minute new pods take to serve. */
const HORIZON_MS = SCALE_COOLDOWN_MS + 60_000;
/** Samples of demand kept per incident, for the trend. */
const MAX_SAMPLES = 40;

export interface IncidentWorkDeps extends ObservationAgentDeps {
  tracker: WorkTracker;
  notifier: Notifier;
  /** How often every open incident is looked at again, besides the events that prompt it. */
  tickMs?: number;
}

interface OpenIncident {
  id: string;
  tenant: string;
  namespace: string;
  deployment: string;
  /** The deployment's load samples (shared by its incidents: a trend outlives the incident that saw it begin). */
  samples: LoadSample[];
  /** Requests per second a pod carried while the SLO held (Watchtower's evidence), when known. */
  knownGood: number | undefined;
  /** Steps of this incident run one after another. */
  chain: Promise<void>;
  cancelTimer?: () => void;
}

/** Stages in which a proposal is still on its way: nothing new is planned on top of it. */
const UNSETTLED = new Set(['deciding', 'awaiting_approval', 'granted', 'executed']);

export class IncidentWork {
  private readonly open = new Map<string, OpenIncident>();
  /** Load samples per deployment (`namespace/name`), across its incidents. */
  private readonly history = new Map<string, LoadSample[]>();
  private cancelTick: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly deps: IncidentWorkDeps) {}

  start(): void {
    this.stopped = false;
    const arm = () => {
      if (this.stopped) return;
      this.cancelTick = this.deps.clock.setTimer(this.deps.tickMs ?? 30_000, () => {
        for (const id of this.open.keys()) this.prompt(id);
        arm();
      });
    };
    arm();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTick?.();
    for (const inc of this.open.values()) inc.cancelTimer?.();
  }

  /** Incidents Elastik is working now. */
  get working(): string[] {
    return [...this.open.keys()];
  }

  /** An observation opens an incident (Elastik answered its first one) or closes it (the SLO holds again). */
  onObservation(obs: Observation): void {
    const id = obs.incident_id ?? obs.id;
    if (obs.severity === 'info') {
      const inc = this.open.get(id);
      if (inc) {
        inc.cancelTimer?.();
        this.open.delete(id);
        this.deps.logger.info({ agent: 'elastik', incident_id: id }, 'incident closed: the SLO holds again');
      }
      return;
    }
    if (!this.open.has(id)) {
      const key = `${obs.namespace}/${obs.target.name}`;
      const samples = this.history.get(key) ?? [];
      this.history.set(key, samples);
      const knownGood = obs.signals.find((x) => x.metric === 'served_rps_per_pod' && x.target === obs.target.name)?.baseline;
      this.open.set(id, { id, tenant: obs.tenant, namespace: obs.namespace, deployment: obs.target.name, samples, knownGood, chain: Promise.resolve() });
    }
  }

  /** Works the incident now, after whatever work of it is under way. */
  async stepNow(incidentId: string): Promise<void> {
    const inc = this.open.get(incidentId);
    if (inc) await this.enqueue(incidentId, () => this.step(inc));
  }

  /** Works the incident now, in the caller's turn: for a caller already in the incident's chain (enqueue). */
  async stepWithin(incidentId: string): Promise<void> {
    const inc = this.open.get(incidentId);
    if (inc) await this.step(inc);
  }

  /** Something happened to one of the incident's proposals (a verification, a decision, an approval): re-plan. */
  prompt(incidentId: string): void {
    const inc = this.open.get(incidentId);
    if (!inc || this.stopped) return;
    void this.enqueue(incidentId, () => this.step(inc)).catch((err) =>
      this.deps.logger.warn({ agent: 'elastik', incident_id: inc.id, err: describeError(err) }, 'incident step failed; trying again at the next one'),
    );
  }

  /** Runs `fn` after the incident's earlier work, never beside it; counted as work in progress. */
  enqueue<T>(incidentId: string, fn: () => Promise<T>): Promise<T> {
    const inc = this.open.get(incidentId);
    if (!inc) return fn();
    const run = inc.chain.then(() => this.deps.tracker.run(fn));
    inc.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** One look at the incident: the next step, a wait, or an escalation. */
  async step(inc: OpenIncident): Promise<void> {
    const { audit, clock, tools } = this.deps;
    const records = await audit.list({ incident_id: inc.id });
    const last = ofKind(records, 'observation').at(-1);
    if (last?.payload.observation.severity === 'info') {
      this.open.delete(inc.id);
      return;
    }
    const scales = lives(records).filter((l) => l.proposal.agent === 'elastik' && l.proposal.action === 'scale_deployment' && l.proposal.target.name === inc.deployment);
    // A step on its way (deciding, waiting for a human, granted, executed and being verified) comes first,
    // a change of limits included (vertical.ts): pods are added only once it has been judged.
    if (scales.some((l) => UNSETTLED.has(stageOf(l)))) return;
    if (lives(records).some((l) => l.proposal.agent === 'elastik' && l.proposal.action === 'patch_resource_limits' && l.proposal.target.name === inc.deployment && UNSETTLED.has(stageOf(l)))) return;

    const tenant = this.deps.tenants[inc.tenant];
    if (!tenant) return;
    const args = { namespace: inc.namespace, deployment: inc.deployment };
    const metrics = await readTool(tools, 'get_pod_metrics', args, DeploymentMetrics);
    const nowMs = clock.now();
    inc.samples.push(loadSample(nowMs, metrics));
    if (inc.samples.length > MAX_SAMPLES) inc.samples.shift();
    const slo = tenant.slo.p99_latency_ms;
    if (metrics.service.p99_ms <= slo) return; // recovering: Watchtower closes the incident once it holds
    // Pods the scheduler cannot place: the node group grows first (more replicas would wait beside them).
    if (await this.nodeCapacity(inc, records, metrics, slo)) return;
    // The limit, not the number of pods, may be what binds by now: that one step instead (limits-work.ts).
    if (await proposeLimitsInstead(this.deps, inc, records, metrics, tenant, last?.payload.observation.correlated_change !== undefined)) return;

    // An HPA that owns the replica count is scaled through its bounds, never fought.
    const hpa = await this.owningHpa(inc);
    // Cooldown: the next scaling of this deployment no earlier than five minutes after the last.
    const lastScale = await this.lastScaleAt(inc);
    if (lastScale !== undefined && nowMs < lastScale + SCALE_COOLDOWN_MS) {
      this.wakeAt(inc, lastScale + SCALE_COOLDOWN_MS + 1_000);
      return;
    }

    const capacity = await readTool(tools, 'get_namespace_capacity', { namespace: inc.namespace }, NamespaceCapacity);
    const podRps = podCapacityRps(metrics);
    const perPod = podRpsWithinSlo(podRps, inc.samples, slo, inc.knownGood);
    const demand = demandAhead(inc.samples, HORIZON_MS);
    const needed = perPod === undefined ? undefined : Math.max(1, Math.ceil(demand / perPod));
    const current = metrics.deployment.replicas;
    // Advice (Elastik at level 1, phase Advise: the gateway held the step back for the level alone
    // and put it to the humans with its command) is neither declined nor refused: the humans have
    // it. The next advice comes after a cooldown, and only when it says something new.
    const advised = new Set(records.flatMap((r) => (r.kind === 'decision' && (r.payload as { advice?: unknown }).advice === true && r.proposal_id ? [r.proposal_id] : [])));
    const isAdvice = (l: ProposalLife) => stageOf(l) === 'denied' && advised.has(l.proposal.id);
    const lastAdvice = scales.at(-1) && isAdvice(scales.at(-1)!) ? scales.at(-1) : undefined;
    if (lastAdvice && nowMs < Date.parse(lastAdvice.proposal.ts) + SCALE_COOLDOWN_MS) {
      this.wakeAt(inc, Date.parse(lastAdvice.proposal.ts) + SCALE_COOLDOWN_MS + 1_000);
      return;
    }
    const declined = scales.filter((l) => !isAdvice(l) && (['expired', 'rejected'].includes(stageOf(l)) || (stageOf(l) === 'denied' && deniedFor(l, ['blast_radius']))));
    // A denial for timing (a cooldown, a stale size) is waited out: the next step comes after it.
    const denied = scales.filter((l) => !isAdvice(l) && stageOf(l) === 'denied' && !deniedFor(l, ['blast_radius']) && !deniedForTiming(l));
    const lastDenied = denied.at(-1);
    // A denial for anything but size (a budget, an entitlement, a freeze) is not sized around: a human decides.
    if (lastDenied && lastDenied === scales.at(-1)) {
      const v = latestDecision(lastDenied)!.violations;
      await this.escalate(inc, records, `denied:${lastDenied.proposal.id}`, `the gateway denied the next scale of ${inc.deployment}`, v.map((x) => ({ reason: x.layer, detail: x.message })), [
        `approve the scale to ${String(lastDenied.proposal.params['to_replicas'])} replicas once what blocks it is lifted (${v.map((x) => x.rule).join(', ')})`,
      ]);
      return;
    }
    // The incident's first step relieves at once, by at least half as many again: when the estimate
    // says the pods suffice (latency from GC or a release, not from load) that still spreads each
    // pod's load while the cause is dealt with.
    const first = scales.length === 0;
    const relief = Math.ceil(current * 1.5);
    const decision = nextStep({
      deployment: inc.deployment,
      current,
      needed: first ? Math.max(needed ?? 0, relief) : needed,
      maxReplicas: tenant.max_replicas,
      capacity,
      supervisedAllowed: declined.length === 0,
      first,
    });
    const sizing = sizingNote(metrics, podRps, perPod, demand, needed);
    if (first && (needed === undefined || needed < relief)) {
      sizing.push(`the first step adds at least half as many pods again (${relief}), relieving each pod while the cause is dealt with`);
    }
    if (decision.kind === 'scale') {
      // Advice no larger than the last, from the same size, says nothing new: the humans still have it
      // (it is repeated once they act on it, or when the need grows).
      if (lastAdvice && lastAdvice.proposal.params['from_replicas'] === current && decision.to <= Number(lastAdvice.proposal.params['to_replicas'])) {
        this.wakeAt(inc, nowMs + SCALE_COOLDOWN_MS);
        return;
      }
      // The same size declined before is not proposed again: the level-3 step instead, or a human.
      if (declined.some((l) => l.proposal.params['to_replicas'] === decision.to && l.proposal.params['from_replicas'] === current)) {
        await this.escalate(inc, records, `declined:${current}->${decision.to}`, `the step ${current} → ${decision.to} was declined and no smaller one helps`, [{ reason: 'approval', detail: 'declined or expired' }], [`approve a scale of ${inc.deployment} to ${decision.to}`]);
        return;
      }
      await this.propose(inc, current, decision, capacity, slo, metrics, sizing, scales.at(-1), hpa);
    } else if (decision.kind === 'blocked') {
      await this.escalate(inc, records, `blocked:${decision.reason}:${current}`, `${inc.deployment} cannot be scaled further by an agent`, [{ reason: decision.reason, detail: decision.detail }], optionsFor(decision, tenant.max_replicas, inc.deployment));
    } else {
      await this.escalate(inc, records, `enough:${current}`, `${inc.deployment} has the capacity its demand needs (${decision.needed} replicas, ${current} running) and still breaches its SLO: more pods are not the answer`, [{ reason: 'not_capacity', detail: sizing.join('; ') }], [
        'look for a cause other than load: a release, a dependency, a noisy neighbour',
        'roll back the latest release if one lines up with the incident',
      ]);
    }
  }

  private async propose(
    inc: OpenIncident,
    current: number,
    step: Extract<StepDecision, { kind: 'scale' }>,
    capacity: NamespaceCapacity,
    slo: number,
    metrics: DeploymentMetrics,
    sizing: string[],
    previous: ProposalLife | undefined,
    hpa: { view: OwningHpa; response: unknown } | undefined,
  ): Promise<void> {
    const plan = (hpa ? (a: Parameters<typeof scaleAction>[0]) => hpaScaleAction({ ...a, hpa: hpa.view }) : scaleAction)({
      namespace: inc.namespace,
      deployment: inc.deployment,
      tenant: inc.tenant,
      from: current,
      to: step.to,
      capacity,
      sloP99Ms: slo,
      reasoning: [
        `p99 latency of ${inc.deployment} is still ${Math.round(metrics.service.p99_ms)} ms against a ${slo} ms SLO` +
          (previous ? `, after the step ${String(previous.proposal.params['from_replicas'])} → ${String(previous.proposal.params['to_replicas'])} (${previous.verification?.outcome ?? stageOf(previous)})` : ''),
        ...sizing,
        ...step.reasons,
      ],
    });
    const proposal: Proposal = proposalOf(plan, {
      agent: 'elastik',
      tenant: inc.tenant,
      namespace: inc.namespace,
      target: { kind: 'Deployment', name: inc.deployment },
      nowMs: this.deps.clock.now(),
      incident_id: inc.id,
    });
    await recordProposal(this.deps.recorder, proposal, {
      tool_calls: [
        { server: 'kubernetes', tool: 'get_pod_metrics', args: { namespace: inc.namespace, deployment: inc.deployment }, response: metrics },
        { server: 'kubernetes', tool: 'get_namespace_capacity', args: { namespace: inc.namespace }, response: capacity },
        ...(hpa ? [{ server: 'kubernetes', tool: 'get_hpa_status', args: { namespace: inc.namespace, deployment: inc.deployment }, response: hpa.response }] : []),
      ],
      step: { follows: previous?.proposal.id ?? null, needed: step.needed, supervised: step.supervised },
    });
    this.deps.logger.info({ agent: 'elastik', incident_id: inc.id, proposal_id: proposal.id }, `next step: scale ${inc.deployment} ${current} → ${step.to}`);
  }

  /**
   * When pods of the deployment are Pending for lack of room: a step of its node group (once at a
   * time), a wait while one is on its way, or an escalation when the group cannot grow. True when it
   * took the incident's turn (no replica step now); false when nothing is Pending for capacity, or
   * the cloud provider cannot be read (the replica steps go on as before).
   */
  private async nodeCapacity(inc: OpenIncident, records: AuditRecord[], metrics: DeploymentMetrics, slo: number): Promise<boolean> {
    const { tools } = this.deps;
    // A node step on its way (deciding, awaiting a human, its nodes joining and its pods starting) comes first.
    const steps = lives(records).filter((l) => l.proposal.agent === 'elastik' && l.proposal.action === 'scale_node_group' && l.proposal.verification.target?.deployment === inc.deployment);
    if (steps.some((l) => UNSETTLED.has(stageOf(l)))) return true;
    const waiting = PodsWithoutMetrics.safeParse(metrics);
    if (!waiting.success || !waiting.data.pods_without_metrics.some((p) => !p.ready)) return false;
    // What cannot be read leaves the replica steps to go on as before: never a stalled incident.
    let events, groups, nodes;
    try {
      events = await readTool(tools, 'get_events', { namespace: inc.namespace, kind: 'Pod', limit: 500 }, PodEvents);
      if (pendingForCapacity(waiting.data, events.events).pods.length === 0) return false;
      groups = await readTool(tools, 'list_node_groups', {}, NodeGroupsView);
      nodes = await readTool(tools, 'get_node_status', { namespace: inc.namespace, deployment: inc.deployment }, NodesStatus);
    } catch (err) {
      this.deps.logger.warn({ agent: 'elastik', incident_id: inc.id, err: describeError(err) }, 'pods are waiting, but the events, node groups or nodes cannot be read; planning replicas as before');
      return false;
    }
    const pending = pendingForCapacity(waiting.data, events.events);
    const group = groupOf(groups.groups, nodes.nodes.map((n) => n.name));
    if (!group) return false;
    const last = steps.at(-1);
    if (last && ['denied', 'rejected', 'expired'].includes(stageOf(last))) {
      await this.escalate(inc, records, `nodes:${stageOf(last)}:${last.proposal.id}`, `${pending.pods.length} pod(s) of ${inc.deployment} are Pending for lack of room and adding nodes to ${group.name} was ${stageOf(last)}`, [{ reason: 'capacity', detail: pending.message }], [
        `approve adding nodes to node group ${group.name}`,
        'free room on its nodes (a lower-priority workload), or shed load at the edge',
      ]);
      return true;
    }
    const capacity = await readTool(tools, 'get_namespace_capacity', { namespace: inc.namespace }, NamespaceCapacity);
    const mine = capacity.deployments.find((d) => d.name === inc.deployment);
    const step = nodeGroupStep({
      namespace: inc.namespace,
      deployment: inc.deployment,
      pending,
      podRequests: { cpu: (mine?.cpu_request_millicores ?? 0) / 1000, memory: mine?.memory_request_bytes ?? 0 },
      group,
      sloP99Ms: slo,
    });
    if (step.kind === 'blocked') {
      await this.escalate(inc, records, `nodes:max:${group.name}:${group.current_nodes}`, step.reason, [{ reason: 'node_group_bounds', detail: pending.message }], [
        `raise node group ${group.name}'s max_nodes (config/node-groups.json), then approve adding nodes`,
        'free room on its nodes, or shed load at the edge',
      ]);
      return true;
    }
    const proposal: Proposal = proposalOf(step.action, {
      agent: 'elastik',
      tenant: inc.tenant,
      namespace: inc.namespace,
      target: { kind: 'NodeGroup', name: group.name },
      nowMs: this.deps.clock.now(),
      incident_id: inc.id,
    });
    await recordProposal(this.deps.recorder, proposal, {
      tool_calls: [
        { server: 'kubernetes', tool: 'get_pod_metrics', args: { namespace: inc.namespace, deployment: inc.deployment }, response: metrics },
        { server: 'kubernetes', tool: 'get_events', args: { namespace: inc.namespace, kind: 'Pod', limit: 500 }, response: events },
        { server: 'kubernetes', tool: 'get_node_status', args: { namespace: inc.namespace, deployment: inc.deployment }, response: nodes },
        { server: 'kubernetes', tool: 'get_namespace_capacity', args: { namespace: inc.namespace }, response: capacity },
        { server: 'cloud', tool: 'list_node_groups', args: {}, response: groups },
      ],
      pending_pods: pending.pods,
    });
    this.deps.logger.info({ agent: 'elastik', incident_id: inc.id, proposal_id: proposal.id }, `pods Pending for capacity: scale node group ${group.name} ${group.current_nodes} → ${String(step.action.params['to_nodes'])}`);
    return true;
  }

  /** Escalates once per blockage: recorded, and told to the channel. */
  private async escalate(
    inc: OpenIncident,
    records: AuditRecord[],
    key: string,
    summary: string,
    blocked: { reason: string; detail: string }[],
    options: string[],
  ): Promise<void> {
    if (ofKind(records, 'escalation').some((r) => r.payload.key === key)) return;
    const tried = lives(records)
      .filter((l) => l.proposal.target.name === inc.deployment)
      .map((l) => `${l.proposal.action} ${JSON.stringify(l.proposal.params)}: ${stageOf(l)}${l.verification ? ` (${l.verification.outcome})` : ''}`);
    await this.deps.recorder.record({
      kind: 'escalation',
      actor: 'elastik',
      at: new Date(this.deps.clock.now()).toISOString(),
      incident_id: inc.id,
      tenant: inc.tenant,
      payload: { key, target: { namespace: inc.namespace, deployment: inc.deployment }, summary, tried, blocked, options },
    });
    this.deps.logger.warn({ agent: 'elastik', incident_id: inc.id, key }, `escalated: ${summary}`);
    await this.deps.notifier.notify(
      `:rotating_light: Incident ${inc.id} (${inc.tenant}, ${inc.namespace}/${inc.deployment}) needs a human: ${summary}. ` +
        `Tried: ${tried.join('; ') || 'nothing yet'}. Blocked by: ${blocked.map((b) => `${b.reason} (${b.detail})`).join('; ')}. ` +
        `Options: ${options.join('; ')}.`,
      { incident_id: inc.id },
    );
  }

  /** When the deployment was last scaled (any proposal, any incident; itself or through its HPA's bounds), from the log. */
  private async lastScaleAt(inc: OpenIncident): Promise<number | undefined> {
    const lasts = await Promise.all(
      ['scale_deployment', 'set_hpa_bounds'].map((tool) =>
        this.deps.audit.list({
          kind: 'execution_result',
          tenant: inc.tenant,
          payload_contains: { result: { tool, status: 'succeeded', args: { namespace: inc.namespace, deployment: inc.deployment } } },
          newest_first: true,
          limit: 1,
        }),
      ),
    );
    const times = lasts.flat().map((r) => Date.parse(r.at));
    return times.length ? Math.max(...times) : undefined;
  }

  /**
   * The HPA that owns the deployment's replica count, if any. When the server cannot say (an older
   * server without the tool, a failure), the plain scale is proposed: the server refuses
   * scale_deployment for a deployment an HPA owns, so nothing fights the HPA either way.
   */
  private async owningHpa(inc: OpenIncident): Promise<{ view: OwningHpa; response: unknown } | undefined> {
    try {
      const status = await readTool(this.deps.tools, 'get_hpa_status', { namespace: inc.namespace, deployment: inc.deployment }, HpaStatus);
      return status.hpa ? { view: status.hpa, response: status } : undefined;
    } catch (err) {
      this.deps.logger.warn({ agent: 'elastik', incident_id: inc.id, err: describeError(err) }, 'get_hpa_status failed; planning without the HPA');
      return undefined;
    }
  }

  /** Looks at the incident again at `atMs` (the end of a cooldown). */
  private wakeAt(inc: OpenIncident, atMs: number): void {
    inc.cancelTimer?.();
    inc.cancelTimer = this.deps.clock.setTimer(Math.max(0, atMs - this.deps.clock.now()), () => this.prompt(inc.id));
  }
}

/** The lives of the proposals in an incident's records, in the order they were made. */
function lives(records: AuditRecord[]): ProposalLife[] {
  const by = new Map<string, AuditRecord[]>();
  for (const r of records) if (r.proposal_id) by.set(r.proposal_id, [...(by.get(r.proposal_id) ?? []), r]);
  return [...by.values()].flatMap((rs) => {
    const l = lifeOf(rs);
    return l ? [l] : [];
  });
}

/** Denied for these layers only (with the autonomy layer's note that comes along). */
const deniedFor = (l: ProposalLife, layers: string[]): boolean => {
  const v = latestDecision(l)?.violations ?? [];
  return v.length > 0 && v.every((x) => layers.includes(x.layer) || x.layer === 'autonomy');
};

/** Rules that say "not now" rather than "not this": a cooldown, a size that changed meanwhile. */
const TIMING_RULES = new Set(['scale_cooldown', 'action_cooldown', 'stale_proposal']);
const deniedForTiming = (l: ProposalLife): boolean => {
  const v = (latestDecision(l)?.violations ?? []).filter((x) => x.layer !== 'autonomy');
  return v.length > 0 && v.every((x) => TIMING_RULES.has(x.rule));
};

function sizingNote(m: DeploymentMetrics, podRps: number | undefined, perPod: number | undefined, demand: number, needed: number | undefined): string[] {
  const s = capacitySample(m);
  if (podRps === undefined || perPod === undefined || needed === undefined) return [`no capacity estimate (served ${Math.round(s.served_rps)} of ${Math.round(s.offered_rps)} requests/s): sized by rule`];
  return [
    `${Math.round(s.offered_rps)} requests/s offered, ${Math.round(s.served_rps)} served${s.error_ratio > 0 ? ` (${Math.round(s.error_ratio * 100)}% shed)` : ''}; ${Math.round(demand)}/s expected over the next ${HORIZON_MS / 60_000} min`,
    `one pod serves ~${Math.round(podRps)}/s at its CPU limit, ~${Math.round(perPod)}/s within the SLO as this service has shown it: ${needed} pods serve the demand`,
  ];
}

function optionsFor(d: Extract<StepDecision, { kind: 'blocked' }>, maxReplicas: number, deployment: string): string[] {
  if (d.reason === 'entitlement') {
    return [`raise the tenant's entitlement (max_replicas ${maxReplicas}) to at least ${d.needed}, then approve the scale of ${deployment}`, 'shed or throttle the excess load at the edge'];
  }
  return [`approve a scale of ${deployment} beyond the agents' blast radius`, 'shed or throttle the excess load at the edge'];
}
