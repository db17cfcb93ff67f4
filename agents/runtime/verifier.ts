// Verification of an executed action: did it help? It watches the proposal's SLO metric through the
// agent's read-only tools until the metric is restored (two healthy samples), has improved enough
// by the end of the verification window, or the rollback time budget runs out — and then asks for the
// compensating action recorded before the action ran. Never executes anything itself.
import { EVENT_VERSION, judgedService, type Proposal, type Rollback, type Verification } from '../../src/contracts/events.ts';
import { publishEvent } from '../../src/audit/recorder.ts';
import type { Clock } from '../../src/core/clock.ts';
import { describeError } from '../../src/core/errors.ts';
import { newId } from '../../src/core/ids.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { WorkTracker } from '../../src/runtime/work-tracker.ts';
import { ROLLBACK_BUDGET_MS } from '../../src/governance/rollback-budget.ts';
import { DeploymentMetrics, readTool } from './cluster-views.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { ToolClient } from './tool-client.ts';


export interface VerifierDeps {
  /** A Kubernetes MCP session that may read the judged services' metrics. */
  tools: ToolClient;
  recorder: Recorder;
  clock: Clock;
  tracker: WorkTracker;
  logger: Logger;
  sampleMs?: number;
}

export type VerdictOfOutcome = Verification['outcome'];

/** Pure judgement of one sample series; exported for tests. */
export function judge(
  spec: Proposal['verification'],
  before: number,
  samples: { atMs: number; value: number }[],
  startMs: number,
  budgetMs: number,
): VerdictOfOutcome | undefined {
  const n = samples.length;
  if (n >= 2 && samples[n - 1]!.value <= spec.slo_threshold && samples[n - 2]!.value <= spec.slo_threshold) return 'restored';
  const last = samples[n - 1];
  if (!last) return undefined;
  const elapsed = last.atMs - startMs;
  const improvement = before > 0 ? ((before - last.value) / before) * 100 : 0;
  if (elapsed >= spec.window_s * 1000 && improvement >= spec.min_improvement_pct) return 'improved';
  if (elapsed >= budgetMs) return 'not_helped';
  return undefined;
}

export class Verifier {
  constructor(private readonly deps: VerifierDeps) {}

  /** Starts watching an executed action; resolves nothing, reports through the audit log and the bus. */
  watch(p: Proposal, before: number, level: 2 | 3): void {
    const startMs = this.deps.clock.now();
    const budgetMs = ROLLBACK_BUDGET_MS[level];
    const samples: { atMs: number; value: number }[] = [];
    const args = judgedService(p);
    const sampleMs = this.deps.sampleMs ?? 15_000;
    const tick = () => {
      this.deps.clock.setTimer(sampleMs, () =>
        this.deps.tracker.spawn(
          async () => {
            const m = await readTool(this.deps.tools, 'get_pod_metrics', args, DeploymentMetrics);
            samples.push({ atMs: this.deps.clock.now(), value: m.service.p99_ms });
            const outcome = judge(p.verification, before, samples, startMs, budgetMs);
            if (!outcome) return tick();
            await this.report(p, outcome, before, samples[samples.length - 1]!.value);
          },
          (err) => {
            this.deps.logger.error({ proposal_id: p.id, err: describeError(err) }, 'verification sample failed; retrying');
            tick();
          },
        ),
      );
    };
    tick();
  }

  private async report(p: Proposal, outcome: VerdictOfOutcome, before: number, after: number): Promise<void> {
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
    };
    await publishEvent<'verification'>(this.deps.recorder, verification, {});
    this.deps.logger.info({ proposal_id: p.id, agent: p.agent }, `verification of ${p.action}: ${outcome} (${Math.round(before)} → ${Math.round(after)})`);
    if (outcome !== 'not_helped' || !p.compensating_action) return;
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
      compensating_action: p.compensating_action,
    };
    await publishEvent<'rollback'>(this.deps.recorder, rollback, {});
  }
}
