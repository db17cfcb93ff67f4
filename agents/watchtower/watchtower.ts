// Watchtower: polls the deployments it watches through its read-only MCP session, runs the
// detectors, and records one correlated observation per incident (audit record and bus event in one
// transaction). The rule-based detector (detector.ts) opens incidents on the latency SLO; the
// streaming detectors of src/detect (live-detectors.ts: one seasonal anomaly detector per signal, and
// the multi-window multi-burn-rate rules over the error ratio) run beside it on every sample: their
// anomalies, with their scores, are the opening observation's evidence, and the burn-rate 'page'
// rule opens an incident by itself. A lone anomaly opens nothing (a line in the log). When a language model answers, an opening observation also carries its ranked
// hypotheses and narrative (reading.ts), the exchange audited with the incident; the detector's
// finding is the rules' either way. It never executes anything and holds no write tool. With several
// replicas, each watched target has one owner at a time (a lease in the shared state, renewed at
// every poll): the others leave it alone, and take it over — with its open incident, from the audit
// log — when the owner stops renewing.
import { EVENT_VERSION, STREAMS, type Observation } from '../../src/contracts/events.ts';
import type { Clock } from '../../src/core/clock.ts';
import { describeError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { WorkTracker } from '../../src/core/work-tracker.ts';
import { publishEvent, type Recorder } from '../../src/audit/recorder.ts';
import type { AuditStore } from '../../src/audit/audit-store.ts';
import type { SharedState } from '../../src/bus/shared-state.ts';
import { recordExchange, type Reasoner } from '../../src/llm/reasoner.ts';
import { DeploymentMetrics, RolloutHistory, readTool } from '../runtime/cluster-views.ts';
import type { ToolClient } from '../runtime/tool-client.ts';
import { DEFAULT_DETECTOR_OPTIONS, assess, initialDetectorState, type DetectorState } from './detector.ts';
import { readIncident } from './reading.ts';
import { DEFAULT_SLO_ERROR_RATIO, describeBurn, initialLiveState, observeLive, recentAnomalies, type LiveState } from './live-detectors.ts';
import { ruleHypotheses } from './hypotheses.ts';
import { unknownTenantReason } from '../../src/governance/assumed-tenant.ts';

export interface WatchTarget {
  tenant: string;
  namespace: string;
  deployment: string;
  sloP99Ms: number;
  /**
   * The error-ratio objective (share of requests allowed to fail) the burn-rate rules measure the
   * error budget against: the deployment's governor.io/slo-error-ratio, else the tenant's
   * slo.error_ratio, else DEFAULT_SLO_ERROR_RATIO (0.001).
   */
  sloErrorRatio?: number;
  /** The tenants file does not name the tenant: the tier Governor assumed for it (src/governance/assumed-tenant.ts). */
  assumedTier?: string;
}

export interface WatchtowerDeps {
  tools: ToolClient;
  recorder: Recorder;
  clock: Clock;
  tracker: WorkTracker;
  logger: Logger;
  /** The deployments to watch: fixed, or asked before each round (a cluster's discovery changes it without a restart). */
  targets: readonly WatchTarget[] | (() => readonly WatchTarget[]);
  pollMs?: number;
  /**
   * One owner per target among replicas: the shared state holding the leases, and this replica's
   * name in them. Without it this Watchtower watches every target (a single process).
   */
  lease?: { state: Pick<SharedState, 'holdLease' | 'releaseLease'>; owner: string; audit: Pick<AuditStore, 'list'> };
  /** Ranks hypotheses and writes the narrative of an opening observation when a model answers; rules alone otherwise. */
  reasoner?: Reasoner;
  /** Watchtower's Prometheus MCP session for a tenant (bound to it alone): the model may read metric history through it. */
  metrics?: (tenant: string) => ToolClient | undefined;
}

/** A lease outlives two missed polls: a replica that stops renewing hands over within three. */
const LEASE_POLLS = 3;

export class Watchtower {
  private readonly states = new Map<string, DetectorState>();
  /** The streaming detectors of each watched deployment (live-detectors.ts): learned in memory, never from the records. */
  private readonly live = new Map<string, LiveState>();
  private readonly incidents = new Map<string, string>();
  /** Targets this replica holds the lease of. */
  private readonly owned = new Set<string>();
  private cancel: (() => void) | undefined;
  private stopped = false;
  /** The shared state holding the leases could not be reached at the last try. */
  private leaseDown = false;

  constructor(private readonly deps: WatchtowerDeps) {}

  start(): void {
    this.stopped = false;
    const pollMs = this.deps.pollMs ?? 15_000;
    const arm = () => {
      if (this.stopped) return;
      this.cancel = this.deps.clock.setTimer(pollMs, () => {
        this.deps.tracker.spawn(
          () => this.pollAll(),
          (err) => this.deps.logger.error({ agent: 'watchtower', err: describeError(err) }, 'poll failed'),
        );
        arm();
      });
    };
    arm();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    // A clean stop hands its targets over at once instead of after the lease runs out.
    const lease = this.deps.lease;
    if (lease) for (const key of this.owned) void lease.state.releaseLease(leaseKey(key), lease.owner).catch(() => undefined);
    this.owned.clear();
  }

  /** Whether this replica watches the target now; on taking it over, picks up its open incident. */
  private async owns(t: WatchTarget, key: string): Promise<boolean> {
    const lease = this.deps.lease;
    if (!lease) return true;
    const nowMs = this.deps.clock.now();
    let hold: Awaited<ReturnType<typeof lease.state.holdLease>>;
    try {
      hold = await lease.state.holdLease(leaseKey(key), lease.owner, nowMs, LEASE_POLLS * (this.deps.pollMs ?? 15_000));
      if (this.leaseDown) this.deps.logger.info({ agent: 'watchtower' }, 'watch leases readable again');
      this.leaseDown = false;
    } catch (err) {
      // The shared state (Redis) is unreachable: detection goes on for the targets this replica holds
      // (the others keep theirs, so nothing is watched twice); none is taken over until it is back.
      if (!this.leaseDown) {
        this.deps.logger.warn({ agent: 'watchtower', err: describeError(err), kept: [...this.owned] }, 'watch leases unreadable; watching the targets this replica holds');
      }
      this.leaseDown = true;
      return this.owned.has(key);
    }
    if (!hold.held) {
      if (this.owned.delete(key)) {
        // Lost it (this replica stalled past its lease): the new owner carries on from the records.
        this.states.delete(key);
        this.live.delete(key);
        this.incidents.delete(key);
        this.deps.logger.warn({ agent: 'watchtower', target: key, owner: hold.owner }, 'watch lease lost; another replica watches this target');
      }
      return false;
    }
    if (!this.owned.has(key)) {
      this.owned.add(key);
      await this.takeOver(t, key);
    }
    return true;
  }

  /**
   * The latest observation of the target says whether an incident is open. If so, it is carried on
   * under its id, from its baseline, instead of being raised a second time.
   */
  private async takeOver(t: WatchTarget, key: string): Promise<void> {
    const [last] = await this.deps.lease!.audit.list({
      kind: 'observation',
      tenant: t.tenant,
      payload_contains: { observation: { namespace: t.namespace, target: { name: t.deployment } } },
      newest_first: true,
      limit: 1,
    });
    const obs = last?.kind === 'observation' ? last.payload.observation : undefined;
    if (!obs || obs.severity === 'info' || !obs.incident_id) {
      this.deps.logger.info({ agent: 'watchtower', target: key }, 'watching (lease taken)');
      return;
    }
    const baseline = (metric: string) => obs.signals.find((s) => s.metric === metric)?.baseline;
    const p99 = baseline('http_request_duration_p99_ms');
    const perPod = baseline('served_rps_per_pod');
    this.states.set(key, {
      ...initialDetectorState(),
      open: true,
      ...(p99 !== undefined ? { baselineP99Ms: p99 } : {}),
      ...(perPod !== undefined ? { healthyServedPerPod: perPod } : {}),
    });
    this.incidents.set(key, obs.incident_id);
    this.deps.logger.info({ agent: 'watchtower', target: key, incident_id: obs.incident_id }, 'watching (lease taken over) with its open incident');
  }

  async pollAll(): Promise<void> {
    const targets = typeof this.deps.targets === 'function' ? this.deps.targets() : this.deps.targets;
    const watched = new Set(targets.map((t) => `${t.namespace}/${t.deployment}`));
    // A deployment no longer watched starts afresh if it comes back: its old baseline says nothing now.
    for (const key of [...this.states.keys()]) if (!watched.has(key)) this.states.delete(key);
    for (const key of [...this.live.keys()]) if (!watched.has(key)) this.live.delete(key);
    // …and its lease goes back at once, so a replica that still watches it need not wait it out.
    const lease = this.deps.lease;
    for (const key of [...this.owned]) {
      if (watched.has(key)) continue;
      this.owned.delete(key);
      if (lease) void lease.state.releaseLease(leaseKey(key), lease.owner).catch(() => undefined);
    }
    // One deployment that cannot be read (deleted since, a refused session) holds up none of the others.
    const failures: unknown[] = [];
    for (const t of targets) {
      try {
        await this.poll(t);
      } catch (err) {
        failures.push(err);
        this.deps.logger.warn({ agent: 'watchtower', tenant: t.tenant, err: describeError(err) }, `poll of ${t.namespace}/${t.deployment} failed`);
      }
    }
    if (failures.length > 0 && failures.length === targets.length) throw failures[0];
  }

  private async poll(t: WatchTarget): Promise<void> {
    const key = `${t.namespace}/${t.deployment}`;
    if (!(await this.owns(t, key))) return;
    const args = { namespace: t.namespace, deployment: t.deployment };
    const metrics = await readTool(this.deps.tools, 'get_pod_metrics', args, DeploymentMetrics);
    const state = this.states.get(key) ?? initialDetectorState();
    const nowMs = this.deps.clock.now();
    // The streaming detectors learn every sample, whatever the rules decide: their anomalies are
    // evidence for an incident, and the burn-rate 'page' rule over the error ratio opens one itself.
    let live = this.live.get(key);
    if (!live) this.live.set(key, (live = initialLiveState()));
    const sloErrorRatio = t.sloErrorRatio ?? DEFAULT_SLO_ERROR_RATIO;
    const reading = observeLive(live, nowMs, t.deployment, metrics, sloErrorRatio);
    for (const a of reading.anomalies) {
      // A lone anomaly opens nothing: a line in the log, and evidence for an incident that opens soon.
      this.deps.logger.info({ agent: 'watchtower', tenant: t.tenant, target: key, metric: a.metric, value: a.value, expected: a.expected, score: a.score, at: a.at }, `${t.deployment}: ${a.label} anomalous (score ${a.score})`);
    }
    const burnSummary = reading.burn.severity === 'page' ? describeBurn(reading.burn) : undefined;
    const burn = burnSummary ? { summary: burnSummary, sloErrorRatio } : undefined;
    // The rollout history matters only once something is wrong; read it then, not every poll.
    const { state: peek } = assess(state, { nowMs, deployment: t.deployment, metrics, ...(burn ? { burn } : {}) }, { ...DEFAULT_DETECTOR_OPTIONS, sloP99Ms: t.sloP99Ms });
    const history =
      peek.open !== state.open ? await readTool(this.deps.tools, 'get_rollout_history', args, RolloutHistory) : undefined;
    const { state: next, finding } = assess(
      state,
      { nowMs, deployment: t.deployment, metrics, ...(history ? { history } : {}), ...(burn ? { burn } : {}) },
      { ...DEFAULT_DETECTOR_OPTIONS, sloP99Ms: t.sloP99Ms },
    );
    if (!finding) {
      this.states.set(key, next);
      return;
    }
    // A finding changes what this replica believes (an incident open, or closed) only once its
    // observation is recorded: if the audit log cannot take it (PostgreSQL down), the state stays as
    // it was, and the next poll finds the same thing and raises it again, instead of an incident that
    // Watchtower thinks open and nobody else ever heard of.
    const incidentId = finding.kind === 'incident' ? newId() : this.incidents.get(key);
    // The streaming detectors' word on an opening incident: the anomalies that coincide with it, and the burn rates.
    const anomalies = finding.kind === 'incident' ? recentAnomalies(live, nowMs) : [];
    const burnEvidence = finding.kind === 'incident' && reading.burn.firing.length > 0 ? reading.burn : undefined;
    const anomalyNote = anomalies.length ? `; anomalous: ${anomalies.map((a) => `${a.label} (score ${a.score})`).join(', ')}` : '';

    let observation: Observation = {
      id: newId(),
      v: EVENT_VERSION,
      ts: new Date(nowMs).toISOString(),
      ...(incidentId ? { incident_id: incidentId } : {}),
      type: 'observation',
      agent: 'watchtower',
      tenant: t.tenant,
      namespace: t.namespace,
      severity: finding.severity,
      summary: t.assumedTier ? `${finding.summary}${anomalyNote} (tenant ${t.tenant} is not in the tenants file: tier '${t.assumedTier}' assumed)` : `${finding.summary}${anomalyNote}`,
      target: { kind: 'Deployment', name: t.deployment },
      ...(t.assumedTier ? { tenant_assumed: { tier: t.assumedTier, reason: unknownTenantReason(t.tenant, t.assumedTier) } } : {}),
      signals: finding.signals,
      ...(finding.onset ? { onset: finding.onset } : {}),
      ...(finding.correlated_change ? { correlated_change: finding.correlated_change } : {}),
      ...(finding.opened_by ? { opened_by: finding.opened_by } : {}),
      ...(anomalies.length ? { anomalies } : {}),
      ...(burnEvidence ? { burn_rate: burnEvidence } : {}),
    };
    // The model's reading is text beside the finding; the finding itself stays the rules'.
    const reasoner = this.deps.reasoner;
    if (finding.kind === 'incident' && reasoner?.configured) {
      const metrics = this.deps.metrics?.(observation.tenant);
      const reading = await readIncident(reasoner, this.deps.tools, observation, metrics ? { tools: metrics, nowS: () => this.deps.clock.now() / 1000 } : undefined);
      await recordExchange(this.deps.recorder, reading.exchange, { actor: 'watchtower', at: observation.ts, incident_id: incidentId, tenant: t.tenant });
      observation = reading.source === 'llm'
        ? { ...observation, hypotheses: reading.value.hypotheses.map((h) => ({ text: h.text, ...(h.confidence !== undefined ? { confidence: h.confidence } : {}) })), narrative: reading.value.narrative, llm: 'used' }
        : { ...observation, llm: 'unavailable' };
    }
    // Without a model's reading, the rules rank what the signals point at.
    if (finding.kind === 'incident' && !observation.hypotheses) observation = { ...observation, hypotheses: ruleHypotheses(observation) };
    await publishEvent<'observation'>(this.deps.recorder, observation, {
      tool_calls: [
        { server: 'kubernetes', tool: 'get_pod_metrics', args, response: metrics },
        ...(history ? [{ server: 'kubernetes', tool: 'get_rollout_history', args, response: history }] : []),
      ],
    });
    this.states.set(key, next);
    if (finding.kind === 'incident' && incidentId) this.incidents.set(key, incidentId);
    if (finding.kind === 'resolved') this.incidents.delete(key);
    // Where the signals came from: Prometheus (PROMETHEUS_URL, agents/runtime/prometheus-signals.ts) or the custom metrics API.
    const source = 'signals_source' in metrics ? 'prometheus' : 'kubernetes';
    this.deps.logger.info({ agent: 'watchtower', tenant: t.tenant, incident_id: incidentId, severity: finding.severity, signals: source }, finding.summary);
  }
}

const leaseKey = (target: string): string => `lease:watch:${target}`;
