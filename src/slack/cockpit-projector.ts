// The cockpit projector: one Slack thread per incident, kept in step with the incident's records. A
// bus consumer with its own consumer group: any event of an incident (observation, decision,
// approval, execution, verification, rollback) only says "this incident changed"; the projector
// then reads the incident's records from the audit log, computes the thread they call for
// (incident-thread.ts: threadPlan) and makes Slack match it — posting the messages that are missing
// (the parent first, then the replies, the chart uploaded into the thread), editing those whose
// content changed, leaving the rest alone. Which message is which lives in the cockpit store
// (cockpit-store.ts), so a restart, a redelivery or a second projector edits instead of posting.
// Bursts coalesce: while a pass over an incident runs, every event that arrives for it waits for one
// more pass, which reads the records as they are then; an incident never becomes a storm of posts.
// It must never post a message twice (a key is claimed before it is posted), never decide anything
// (it shows records, and the approval desk and gateway own the buttons' effects), and never lose an
// event: a pass that failed fails the bus message, which is delivered again.
import type { AuditStore } from '../audit/audit-store.ts';
import type { BusMessage } from '../bus/event-bus.ts';
import { lineChart } from '../charts/render-png.ts';
import type { Observation } from '../contracts/events.ts';
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { CockpitStore, ShownMessage } from './cockpit-store.ts';
import { CHART_AFTER_MS, CHART_BEFORE_MS, incidentChartSpec, incidentView, threadPlan, type IncidentView, type PlannedMessage } from './incident-thread.ts';
import type { MetricHistory } from './metric-history.ts';
import type { GovernorSlackApp, MessageRef } from './slack-app.ts';

export interface CockpitDeps {
  audit: Pick<AuditStore, 'list'>;
  store: CockpitStore;
  slack: Pick<GovernorSlackApp, 'post' | 'update' | 'upload'>;
  /** The key metric for the incident charts; without it, no charts. */
  history?: MetricHistory;
  clock: Clock;
  logger: Logger;
  /** A claim this old that never became a message was abandoned (its process died); 60 s by default. */
  staleClaimMs?: number;
}

/** The bus streams whose events change what an incident's thread shows. */
export const COCKPIT_EVENTS = ['observation', 'decision', 'approval', 'execution_result', 'verification', 'rollback'] as const;

export class CockpitProjector {
  private readonly chains = new Map<string, { tail: Promise<void>; queued: Promise<void> | undefined }>();
  private readonly log: Logger;

  constructor(private readonly deps: CockpitDeps) {
    this.log = deps.logger.child({ component: 'cockpit' });
  }

  /** The bus handler: finds the event's incident and brings its thread up to date. */
  async onMessage(msg: BusMessage): Promise<void> {
    const incident = await this.incidentOf(msg.event);
    if (incident) await this.refresh(incident);
  }

  /**
   * Brings the incident's thread up to date with its records. A call that arrives while a pass runs
   * joins the next pass (which starts after, and reads the records as they are then): a burst of
   * events costs at most two passes.
   */
  refresh(incidentId: string): Promise<void> {
    let chain = this.chains.get(incidentId);
    if (!chain) {
      chain = { tail: Promise.resolve(), queued: undefined };
      this.chains.set(incidentId, chain);
    }
    if (chain.queued) return chain.queued;
    const c = chain;
    const next = c.tail
      .catch(() => undefined)
      .then(() => {
        c.queued = undefined;
        return this.pass(incidentId);
      });
    c.queued = next;
    c.tail = next;
    void next
      .catch(() => undefined)
      .finally(() => {
        if (this.chains.get(incidentId)?.tail === next) this.chains.delete(incidentId);
      });
    return next;
  }

  /** The incident's parent message, posted now if the incident has an observation and none was posted. */
  async threadFor(incidentId: string): Promise<MessageRef | undefined> {
    const known = await this.deps.store.get(`parent:${incidentId}`);
    if (known?.channel && known.ts) return { channel: known.channel, ts: known.ts };
    await this.refresh(incidentId);
    const now = await this.deps.store.get(`parent:${incidentId}`);
    return now?.channel && now.ts ? { channel: now.channel, ts: now.ts } : undefined;
  }

  private async incidentOf(e: BusMessage['event']): Promise<string | undefined> {
    if (e.incident_id) return e.incident_id;
    if (e.type === 'observation') return this.openIncidentOf(e);
    const proposalId = 'proposal_id' in e ? e.proposal_id : undefined;
    if (!proposalId) return undefined;
    const [p] = await this.deps.audit.list({ proposal_id: proposalId, kind: 'proposal', limit: 1 });
    return p?.incident_id;
  }

  /**
   * An observation without an incident (Watchtower restarted and lost which incident was open)
   * belongs to the open incident of the same service, if there is one: grouped, not a new thread.
   */
  private async openIncidentOf(o: Observation): Promise<string | undefined> {
    const recent = await this.deps.audit.list({ kind: 'observation', tenant: o.tenant, newest_first: true, limit: 50 });
    const same = recent.filter((r) => r.kind === 'observation' && r.payload.observation.namespace === o.namespace && r.payload.observation.target.name === o.target.name);
    const latest = same.find((r) => r.incident_id);
    if (!latest || latest.kind !== 'observation' || latest.payload.observation.severity === 'info') return undefined;
    return latest.incident_id;
  }

  private async pass(incidentId: string): Promise<void> {
    const view = incidentView(await this.deps.audit.list({ incident_id: incidentId }));
    // Proposals of an incident no observation opened (tests, manual proposals) have no thread.
    if (!view) return;
    const shown = new Map((await this.deps.store.ofIncident(incidentId)).map((r) => [r.key, r]));
    let parent: MessageRef | undefined;
    for (const m of threadPlan(view)) {
      const s = shown.get(m.key);
      if (m.kind === 'parent') {
        parent = await this.show(incidentId, m, s, undefined);
        // Another process is posting the parent: it posts the thread too.
        if (!parent) return;
        continue;
      }
      if (m.kind === 'chart') {
        if (!s) await this.chart(incidentId, m, view, parent!);
        continue;
      }
      if (m.existing && !s) {
        // The approval request's card, posted by the gateway's path: adopted, and brought up to date below.
        await this.deps.store.posted(m.key, incidentId, m.existing, '', this.nowIso());
        await this.show(incidentId, m, { key: m.key, incident_id: incidentId, ...m.existing, digest: '', claimed_at: this.nowIso() }, parent);
        continue;
      }
      await this.show(incidentId, m, s, parent);
    }
  }

  /** Posts the message if it was never posted (once, by claim), or edits it if its content changed. */
  private async show(incidentId: string, m: PlannedMessage, s: ShownMessage | undefined, thread: MessageRef | undefined): Promise<MessageRef | undefined> {
    if (s?.channel && s.ts) {
      const ref = { channel: s.channel, ts: s.ts };
      if (s.digest !== m.digest) {
        await this.deps.slack.update(ref, m.message);
        await this.deps.store.shown(m.key, m.digest, this.nowIso());
      }
      return ref;
    }
    if (!(await this.deps.store.claim(m.key, incidentId, this.nowIso(), this.staleBefore()))) return undefined;
    let ref: MessageRef;
    try {
      ref = await this.deps.slack.post(m.message, thread ? { thread_ts: thread.ts } : {});
    } catch (err) {
      await this.deps.store.release(m.key).catch(() => undefined);
      throw err;
    }
    await this.deps.store.posted(m.key, incidentId, ref, m.digest, this.nowIso());
    this.log.debug({ incident_id: incidentId, key: m.key }, 'cockpit message posted');
    return ref;
  }

  /** Draws the key metric around the incident and uploads it into the thread, once per chart. */
  private async chart(incidentId: string, m: PlannedMessage, view: IncidentView, parent: MessageRef): Promise<void> {
    if (!this.deps.history) return;
    const now = this.deps.clock.now();
    const from = Date.parse(view.openedAt) - CHART_BEFORE_MS;
    const to = m.chart === 'resolved' && view.resolvedAt ? Math.min(now, Date.parse(view.resolvedAt) + CHART_AFTER_MS) : now;
    const service = { namespace: view.opened.namespace, deployment: view.opened.target.name };
    let points;
    try {
      points = await this.deps.history.p99(service, from, to, Math.max(15_000, Math.round((to - from) / 240)));
    } catch (err) {
      // A chart is a picture of evidence, not evidence: the thread goes on without it.
      this.log.warn({ incident_id: incidentId, err: describeError(err) }, 'incident chart left out: the metric source did not answer');
      return;
    }
    if (points.length < 2) return;
    if (!(await this.deps.store.claim(m.key, incidentId, this.nowIso(), this.staleBefore()))) return;
    try {
      const spec = incidentChartSpec(view, points, now);
      const png = lineChart(spec);
      const { file_id } = await this.deps.slack.upload({
        channel: parent.channel,
        thread_ts: parent.ts,
        filename: `incident-${incidentId.slice(0, 8)}-p99-${m.chart}.png`,
        title: m.chart === 'resolved' ? `p99 over the whole incident` : `p99 around the incident`,
        alt_text: `${spec.title}: ${points.length} points from ${new Date(from).toISOString()} to ${new Date(to).toISOString()}`,
        bytes: png,
      });
      await this.deps.store.posted(m.key, incidentId, { channel: parent.channel, ts: file_id }, m.digest, this.nowIso());
    } catch (err) {
      await this.deps.store.release(m.key).catch(() => undefined);
      throw err;
    }
  }

  private nowIso(): string {
    return new Date(this.deps.clock.now()).toISOString();
  }

  private staleBefore(): string {
    return new Date(this.deps.clock.now() - (this.deps.staleClaimMs ?? 60_000)).toISOString();
  }
}
