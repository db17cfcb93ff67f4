// Verification of an executed action: did it help? It watches the proposal's SLO metric through its
// own read-only tools until the metric is restored (two healthy samples), has improved enough by the
// end of the verification window, or the rollback time budget runs out — and then asks for the
// compensating action recorded before the action ran. Never executes anything itself.
// Durable: the plan (metric before, level, deadline) is stored with the execution result, so a
// verifier that starts resumes every verification still pending, whichever process began it. A
// deadline that passed while no verifier ran is judged at once: the compensating action is asked for
// if it is still inside the budget, and otherwise the record says it was not and why. The verdict
// and the rollback it asks for are written together, once, however many verifiers resume the same one.
import { EVENT_VERSION, judgedService, type Proposal, type Rollback, type Verification } from '../../src/contracts/events.ts';
import type { AuditStore, PendingVerification } from '../../src/audit/audit-store.ts';
import { entryOfEvent, type AuditEntry, type VerificationPlan } from '../../src/audit/records.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { Clock } from '../../src/core/clock.ts';
import { describeError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Notifier } from '../../src/governance/channels.ts';
import { lifeOf } from '../../src/governance/proposal-life.ts';
import { ROLLBACK_BUDGET_MS } from '../../src/governance/rollback-budget.ts';
import type { WorkTracker } from '../../src/core/work-tracker.ts';
import { DeploymentMetrics, readTool } from './cluster-views.ts';
import { capacityGain, capacitySample, wouldServe, type CapacitySample } from './capacity.ts';
import { THROTTLED_RATIO, limitSignals, type LimitSignals } from './limit-signals.ts';
import type { ToolClient } from './tool-client.ts';

export interface VerifierDeps {
  /** A Kubernetes MCP session that may read the judged services' metrics. */
  tools: ToolClient;
  recorder: Recorder;
  /** Where pending verifications are found after a restart. */
  audit: Pick<AuditStore, 'pendingVerifications' | 'list'>;
  clock: Clock;
  tracker: WorkTracker;
  logger: Logger;
  /** Told when a compensating action could not be fired in time. */
  notifier?: Notifier;
  sampleMs?: number;
}

export type VerdictOfOutcome = Verification['outcome'];

/** A verification metric: pods of the judged deployment not ready — Pending or starting (a node-group step is judged by it). */
export const PODS_NOT_READY = 'pods_not_ready';

/** The value of the judged metric in one reading of the service: p99 latency (ms), or pods not ready. */
export function judgedValue(spec: Pick<Proposal['verification'], 'metric'>, m: DeploymentMetrics): number {
  if (spec.metric !== PODS_NOT_READY) return m.service.p99_ms;
  const waiting = (m as { pods_without_metrics?: unknown }).pods_without_metrics;
  const notStarted = Array.isArray(waiting) ? waiting.filter((p) => !(p as { ready?: unknown }).ready).length : 0;
  return notStarted + m.pods.filter((p) => !p.ready).length;
}

export interface VerificationSample {
  atMs: number;
  /** The judged SLO metric. */
  value: number;
  /** Demand, throughput, errors and saturation, for actions that add capacity. */
  capacity?: CapacitySample;
  /** Throttling and OOM kills, for actions that change limits. */
  limits?: Pick<LimitSignals, 'throttled' | 'oomKilled'>;
}

/**
 * What a capacity action must have changed, by the end of its window, to count as having helped
 * though the SLO is not back yet: 10% more throughput served, or 10% less saturation, or (when it
 * was shedding load) 30% fewer errors.
 */
const PARTIAL = { servedPct: 10, saturationPct: 10, errorsPct: 30, errorFloor: 0.01 } as const;

/** Pure judgement of one sample series; exported for tests. */
export function judge(
  spec: Proposal['verification'],
  before: number,
  samples: readonly VerificationSample[],
  startMs: number,
  budgetMs: number,
  beforeCapacity?: CapacitySample,
): VerdictOfOutcome | undefined {
  const n = samples.length;
  const held = (s: VerificationSample) => s.value <= spec.slo_threshold && limitsHeld(spec, s);
  if (n >= 2 && held(samples[n - 1]!) && held(samples[n - 2]!)) return 'restored';
  const last = samples[n - 1];
  if (!last) return undefined;
  const elapsed = last.atMs - startMs;
  const improvement = before > 0 ? ((before - last.value) / before) * 100 : 0;
  if (elapsed >= spec.window_s * 1000) {
    if (improvement >= spec.min_improvement_pct) return 'improved';
    if (spec.capacity && beforeCapacity && last.capacity) {
      const gain = capacityGain(beforeCapacity, last.capacity);
      const shedding = beforeCapacity.error_ratio >= PARTIAL.errorFloor;
      if (gain.served_pct >= PARTIAL.servedPct || (gain.saturation_pct ?? 0) >= PARTIAL.saturationPct || (shedding && gain.errors_pct >= PARTIAL.errorsPct)) {
        return 'partially_helped';
      }
    }
  }
  if (elapsed >= budgetMs) return 'not_helped';
  return undefined;
}

/**
 * A change of limits has done its work only once the signal that blamed the limit is gone too:
 * throttling below its threshold (CPU), no pod OOMKilled since (memory). Without the signal in the
 * sample (an older server), the SLO alone judges.
 */
function limitsHeld(spec: Proposal['verification'], s: VerificationSample): boolean {
  if (!spec.limits || !s.limits) return true;
  if (spec.limits.cause === 'cpu_throttling') return s.limits.throttled === null || s.limits.throttled < (spec.limits.max_throttled_ratio ?? THROTTLED_RATIO);
  return s.limits.oomKilled === 0;
}

/**
 * Pure judgement of a compensating action: did undoing the action bring the service back to where
 * it was (within 10%) or under its SLO? Judged by the end of the window.
 */
export function judgeCompensation(spec: Proposal['verification'], beforeAction: number, samples: readonly VerificationSample[], startMs: number): VerdictOfOutcome | undefined {
  const n = samples.length;
  const ok = (v: number) => v <= Math.max(spec.slo_threshold, beforeAction * 1.1);
  if (n >= 2 && ok(samples[n - 1]!.value) && ok(samples[n - 2]!.value)) return 'restored';
  const last = samples[n - 1];
  if (last && last.atMs - startMs >= spec.window_s * 1000) return 'not_helped';
  return undefined;
}

/** The plan stored with an execution: when it started, its budget's end, and the metric before. */
export function verificationPlan(
  startMs: number,
  level: 2 | 3,
  before: number,
  opts: { of?: 'action' | 'compensation'; beforeCapacity?: CapacitySample } = {},
): VerificationPlan {
  return {
    started_at: new Date(startMs).toISOString(),
    deadline: new Date(startMs + ROLLBACK_BUDGET_MS[level]).toISOString(),
    level,
    before,
    of: opts.of ?? 'action',
    ...(opts.beforeCapacity ? { before_capacity: opts.beforeCapacity } : {}),
  };
}

export class Verifier {
  /** Proposals this verifier is watching now: a resume never starts a second watch of the same one. */
  private readonly watching = new Set<string>();

  constructor(private readonly deps: VerifierDeps) {}

  /** Starts watching an executed action; reports through the audit log and the bus. */
  watch(p: Proposal, plan: VerificationPlan): void {
    const key = `${p.id}:${plan.of}`;
    if (this.watching.has(key)) return;
    this.watching.add(key);
    const startMs = Date.parse(plan.started_at);
    const budgetMs = ROLLBACK_BUDGET_MS[plan.level];
    const samples: VerificationSample[] = [];
    const args = judgedService(p);
    const sampleMs = this.deps.sampleMs ?? 15_000;
    const tick = () => {
      this.deps.clock.setTimer(sampleMs, () =>
        this.deps.tracker.spawn(
          async () => {
            const m = await readTool(this.deps.tools, 'get_pod_metrics', args, DeploymentMetrics);
            const lim = p.verification.limits ? limitSignals(m) : undefined;
            samples.push({ atMs: this.deps.clock.now(), value: judgedValue(p.verification, m), capacity: capacitySample(m), ...(lim ? { limits: { throttled: lim.throttled, oomKilled: lim.oomKilled } } : {}) });
            const outcome =
              plan.of === 'compensation'
                ? judgeCompensation(p.verification, plan.before, samples, startMs)
                : judge(p.verification, plan.before, samples, startMs, budgetMs, plan.before_capacity);
            if (!outcome) return tick();
            await this.conclude(p, plan, outcome, samples[samples.length - 1]!.value, m);
            this.watching.delete(key);
          },
          (err) => {
            this.deps.logger.error({ proposal_id: p.id, of: plan.of, err: describeError(err) }, 'verification sample failed; retrying');
            tick();
          },
        ),
      );
    };
    tick();
  }

  /**
   * Resumes every verification still pending in the log (a process that died after executing left
   * them): before its deadline, watched as if never interrupted; after it, judged at once.
   */
  async resume(): Promise<{ resumed: number; overdue: number }> {
    const pending = await this.deps.audit.pendingVerifications();
    let resumed = 0;
    let overdue = 0;
    for (const v of pending) {
      if (this.watching.has(`${v.proposal_id}:${v.plan.of}`)) continue;
      const life = lifeOf(await this.deps.audit.list({ proposal_id: v.proposal_id }));
      if (!life || (v.plan.of === 'compensation' ? life.compensationVerification : life.verification)) continue;
      if (this.deps.clock.now() < Date.parse(v.plan.deadline)) {
        this.deps.logger.info({ proposal_id: v.proposal_id, tenant: v.tenant ?? undefined, of: v.plan.of }, 'verification resumed after a restart');
        this.watch(life.proposal, v.plan);
        resumed++;
      } else {
        await this.overdue(life.proposal, v.plan);
        overdue++;
      }
    }
    return { resumed, overdue };
  }

  /**
   * The end of a watch: the verdict, and for an action that did not help, its compensating action —
   * unless undoing it would make things worse (a scale-down while demand exceeds what the smaller
   * size serves), in which case the record says so and the incident goes on from here.
   */
  private async conclude(p: Proposal, plan: VerificationPlan, outcome: VerdictOfOutcome, after: number, now: DeploymentMetrics, note?: string): Promise<boolean> {
    if (plan.of === 'compensation' || outcome !== 'not_helped' || !p.compensating_action) {
      return this.report(p, plan, outcome, after, { compensation: 'none', ...(note ? { note } : {}) });
    }
    const guard = compensationWouldHurt(p, now);
    if (guard) return this.report(p, plan, outcome, after, { compensation: 'not_fired', note: note ? `${note}; ${guard}` : guard });
    return this.report(p, plan, outcome, after, { compensation: 'requested', ...(note ? { note } : {}) });
  }

  /**
   * A verification whose deadline passed while no verifier ran: judged by the metric now. A
   * compensating action fires only while the lateness is within one more budget; beyond that the
   * world it would undo into is gone, and a human decides.
   */
  private async overdue(p: Proposal, plan: VerificationPlan): Promise<void> {
    const m = await readTool(this.deps.tools, 'get_pod_metrics', judgedService(p), DeploymentMetrics);
    const now = this.deps.clock.now();
    const value = judgedValue(p.verification, m);
    const sample: VerificationSample = { atMs: now, value, capacity: capacitySample(m) };
    const improvement = plan.before > 0 ? ((plan.before - value) / plan.before) * 100 : 0;
    const outcome: VerdictOfOutcome =
      plan.of === 'compensation'
        ? (judgeCompensation(p.verification, plan.before, [sample, sample], Date.parse(plan.started_at)) ?? 'not_helped')
        : value <= p.verification.slo_threshold
          ? 'restored'
          : improvement >= p.verification.min_improvement_pct
            ? 'improved'
            : (judge(p.verification, plan.before, [sample], Date.parse(plan.started_at), Number.POSITIVE_INFINITY, plan.before_capacity) ?? 'not_helped');
    const lateMs = now - Date.parse(plan.deadline);
    const late = `its deadline passed ${Math.round(lateMs / 1000)} s ago while no verifier ran`;
    if (plan.of === 'compensation' || outcome !== 'not_helped' || !p.compensating_action) {
      await this.report(p, plan, outcome, value, { compensation: 'none', note: `resumed after a restart: ${late}; judged by one sample` });
      return;
    }
    if (lateMs <= ROLLBACK_BUDGET_MS[plan.level]) {
      await this.conclude(p, plan, outcome, value, m, `resumed after a restart: ${late}, within one more budget, so the compensating action fires`);
      return;
    }
    const note = `resumed after a restart: ${late}, more than its budget; the compensating action was not fired automatically — a human must decide`;
    const written = await this.report(p, plan, outcome, value, { compensation: 'not_fired', note });
    if (written) {
      await this.deps.notifier?.notify(
        `${p.action} of ${p.target.name} (${p.tenant}) did not help, and ${note}. The recorded compensating action: ${p.compensating_action.tool} ${JSON.stringify(p.compensating_action.args)}`,
        { incident_id: p.incident_id },
      );
    }
  }

  /**
   * Records the verdict — and, when the compensating action is requested, the rollback — in one
   * transaction, unless the proposal already has a verdict (another verifier resumed it). Returns
   * whether this verifier wrote it.
   */
  private async report(
    p: Proposal,
    plan: VerificationPlan,
    outcome: VerdictOfOutcome,
    after: number,
    how: { compensation: 'requested' | 'not_fired' | 'none'; note?: string },
  ): Promise<boolean> {
    const before = plan.before;
    const ts = new Date(this.deps.clock.now()).toISOString();
    const verification: Verification = {
      id: newId(),
      v: EVENT_VERSION,
      ts,
      ...(p.incident_id ? { incident_id: p.incident_id } : {}),
      type: 'verification',
      proposal_id: p.id,
      agent: p.agent,
      tenant: p.tenant,
      outcome,
      metric: p.verification.metric,
      before,
      after,
      slo_threshold: p.verification.slo_threshold,
      ...(plan.of === 'compensation' ? { of: 'compensation' as const } : {}),
    };
    const fire = plan.of === 'action' && outcome === 'not_helped' && how.compensation === 'requested' && p.compensating_action !== undefined;
    const entries: AuditEntry[] = [
      entryOfEvent<'verification'>(verification, { compensation: fire ? 'requested' : how.compensation === 'not_fired' ? 'not_fired' : 'none', ...(how.note ? { note: how.note } : {}) }),
    ];
    if (fire) {
      const rollback: Rollback = {
        id: newId(),
        v: EVENT_VERSION,
        ts,
        ...(p.incident_id ? { incident_id: p.incident_id } : {}),
        type: 'rollback',
        proposal_id: p.id,
        agent: p.agent,
        tenant: p.tenant,
        reason: `${p.action} did not help within the rollback budget: ${p.verification.metric} ${Math.round(before)} → ${Math.round(after)}`,
        compensating_action: p.compensating_action!,
      };
      entries.push(entryOfEvent<'rollback'>(rollback, {}));
    }
    const written = await this.deps.recorder.recordChecked(async (read) => {
      const existing = (await read.list({ proposal_id: p.id, kind: 'verification' })).filter(
        (r) => r.kind === 'verification' && (r.payload.verification.of ?? 'action') === plan.of,
      );
      return existing.length > 0 ? { entries: [], result: false } : { entries, result: true };
    });
    if (written) {
      const what = plan.of === 'compensation' ? `the compensation of ${p.action}` : p.action;
      this.deps.logger.info({ proposal_id: p.id, agent: p.agent }, `verification of ${what}: ${outcome} (${Math.round(before)} → ${Math.round(after)})`);
      if (plan.of === 'compensation' && outcome === 'not_helped') {
        await this.deps.notifier?.notify(
          `Undoing ${p.action} of ${p.target.name} (${p.tenant}) did not bring it back: ${p.verification.metric} ${Math.round(before)} before the action, ${Math.round(after)} now. Nothing more is undone automatically; a human must look.`,
          { incident_id: p.incident_id },
        );
      }
    }
    return written;
  }
}

/**
 * Why firing this proposal's compensating action would make things worse, if it would: a
 * scale-down back to fewer pods than now serve what is offered. Undefined when it is safe (or not
 * a scale-down).
 */
export function compensationWouldHurt(p: Proposal, now: DeploymentMetrics): string | undefined {
  const c = p.compensating_action;
  if (!c || c.tool !== 'scale_deployment') return undefined;
  const to = Number(c.args['replicas']);
  const current = now.deployment.replicas;
  if (!Number.isFinite(to) || to >= current) return undefined;
  if (wouldServe(now, to) !== false) return undefined;
  const s = capacitySample(now);
  return `not fired: ${Math.round(s.offered_rps)} requests/s are offered, more than ${to} pods serve; scaling back down would shed load and deepen the incident`;
}
