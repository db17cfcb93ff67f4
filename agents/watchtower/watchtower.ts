// Watchtower: polls the deployments it watches through its read-only MCP session, runs the
// detector, and records one correlated observation per incident (audit record and bus event in one
// transaction). When a language model answers, an opening observation also carries its ranked
// hypotheses and narrative (reading.ts), the exchange audited with the incident; the detector's
// finding is the rules' either way. It never executes anything and holds no write tool.
import { EVENT_VERSION, STREAMS, type Observation } from '../../src/contracts/events.ts';
import type { Clock } from '../../src/core/clock.ts';
import { describeError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { WorkTracker } from '../../src/core/work-tracker.ts';
import { publishEvent, type Recorder } from '../../src/audit/recorder.ts';
import { recordExchange, type Reasoner } from '../../src/llm/reasoner.ts';
import { DeploymentMetrics, RolloutHistory, readTool } from '../runtime/cluster-views.ts';
import type { ToolClient } from '../runtime/tool-client.ts';
import { DEFAULT_DETECTOR_OPTIONS, assess, initialDetectorState, type DetectorState } from './detector.ts';
import { readIncident } from './reading.ts';

export interface WatchTarget {
  tenant: string;
  namespace: string;
  deployment: string;
  sloP99Ms: number;
}

export interface WatchtowerDeps {
  tools: ToolClient;
  recorder: Recorder;
  clock: Clock;
  tracker: WorkTracker;
  logger: Logger;
  targets: WatchTarget[];
  pollMs?: number;
  /** Ranks hypotheses and writes the narrative of an opening observation when a model answers; rules alone otherwise. */
  reasoner?: Reasoner;
}

export class Watchtower {
  private readonly states = new Map<string, DetectorState>();
  private readonly incidents = new Map<string, string>();
  private cancel: (() => void) | undefined;
  private stopped = false;

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
  }

  async pollAll(): Promise<void> {
    for (const t of this.deps.targets) await this.poll(t);
  }

  private async poll(t: WatchTarget): Promise<void> {
    const key = `${t.namespace}/${t.deployment}`;
    const args = { namespace: t.namespace, deployment: t.deployment };
    const metrics = await readTool(this.deps.tools, 'get_pod_metrics', args, DeploymentMetrics);
    const state = this.states.get(key) ?? initialDetectorState();
    const nowMs = this.deps.clock.now();
    // The rollout history matters only once something is wrong; read it then, not every poll.
    const { state: peek } = assess(state, { nowMs, deployment: t.deployment, metrics }, { ...DEFAULT_DETECTOR_OPTIONS, sloP99Ms: t.sloP99Ms });
    const history =
      peek.open !== state.open ? await readTool(this.deps.tools, 'get_rollout_history', args, RolloutHistory) : undefined;
    const { state: next, finding } = assess(
      state,
      { nowMs, deployment: t.deployment, metrics, ...(history ? { history } : {}) },
      { ...DEFAULT_DETECTOR_OPTIONS, sloP99Ms: t.sloP99Ms },
    );
    this.states.set(key, next);
    if (!finding) return;

    const incidentId = finding.kind === 'incident' ? newId() : this.incidents.get(key);
    if (finding.kind === 'incident' && incidentId) this.incidents.set(key, incidentId);
    if (finding.kind === 'resolved') this.incidents.delete(key);

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
      summary: finding.summary,
      target: { kind: 'Deployment', name: t.deployment },
      signals: finding.signals,
      ...(finding.correlated_change ? { correlated_change: finding.correlated_change } : {}),
    };
    // The model's reading is text beside the finding; the finding itself stays the rules'.
    const reasoner = this.deps.reasoner;
    if (finding.kind === 'incident' && reasoner?.configured) {
      const reading = await readIncident(reasoner, this.deps.tools, observation);
      await recordExchange(this.deps.recorder, reading.exchange, { actor: 'watchtower', at: observation.ts, incident_id: incidentId, tenant: t.tenant });
      observation = reading.source === 'llm'
        ? { ...observation, hypotheses: reading.value.hypotheses.map((h) => ({ text: h.text, ...(h.confidence !== undefined ? { confidence: h.confidence } : {}) })), narrative: reading.value.narrative, llm: 'used' }
        : { ...observation, llm: 'unavailable' };
    }
    await publishEvent<'observation'>(this.deps.recorder, observation, {
      tool_calls: [
        { server: 'kubernetes', tool: 'get_pod_metrics', args, response: metrics },
        ...(history ? [{ server: 'kubernetes', tool: 'get_rollout_history', args, response: history }] : []),
      ],
    });
    this.deps.logger.info({ agent: 'watchtower', tenant: t.tenant, incident_id: incidentId, severity: finding.severity }, finding.summary);
  }
}
