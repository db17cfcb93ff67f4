// Strategist: capacity planning and cost forecasting (DESIGN §2, maximum autonomy 1). On its cron
// schedule it reads each tenant's cost report and every deployment's utilisation history through its
// FinOps MCP session, and records a right-sizing recommendation (audit record and bus event in one
// transaction) where a deployment stays far below what it requests. It never executes: it holds no
// write tool, and a recommendation is advice the gateway never allows. At most one open
// recommendation per deployment: the audit log is what it checks, so restarts and several replicas
// of the agent do not repeat one every 15 minutes.
import { proposalOf, recordProposal, type RecordedToolCall } from '../runtime/propose.ts';
import type { Proposal } from '../../src/contracts/events.ts';
import type { AuditStore } from '../../src/audit/audit-store.ts';
import type { Clock } from '../../src/core/clock.ts';
import { describeError } from '../../src/core/errors.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Tenants } from '../../src/governance/tenants.ts';
import { readTool } from '../runtime/cluster-views.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { ToolClient } from '../runtime/tool-client.ts';
import { CostReport, Utilisation, type CostDeployment } from './finops-views.ts';
import { DEFAULT_RIGHT_SIZING, rightSize, type PlannedRecommendation, type RightSizingPolicy } from './planner.ts';
import { scheduleCron, type CronJob } from './scheduler.ts';

export const DEFAULT_STRATEGIST_SCHEDULE = '*/15 * * * *';
/** An unanswered recommendation comes back after this long, if it still holds. */
export const DEFAULT_REOPEN_AFTER_MS = 7 * 24 * 60 * 60_000;

export interface StrategistDeps {
  /** The agent's FinOps MCP session (bound by its token to the tenants' namespaces). */
  tools: ToolClient;
  recorder: Recorder;
  audit: Pick<AuditStore, 'list'>;
  clock: Clock;
  logger: Logger;
  tenants: Tenants;
  /** Cron expression of the review (default every 15 minutes), read in `timezone` (default UTC). */
  schedule?: string;
  timezone?: string;
  policy?: Partial<RightSizingPolicy>;
  reopenAfterMs?: number;
  /** Counts a review in flight, so that a virtual-time driver waits for it (src/core/work-tracker.ts). */
  tracker?: { run<T>(fn: () => Promise<T>): Promise<T> };
  /** False while the deployment phase is Observe: agents read and publish observations, nothing else. */
  mayPropose?: () => boolean;
  /**
   * Among replicas, whether this one runs the review that is due now (the first to claim it does);
   * every replica's schedule fires, one reviews. Absent: always this one (a single process).
   */
  claimReview?: () => Promise<boolean>;
}

export type ReviewOutcome =
  | { tenant: string; namespace: string; deployment: string; outcome: 'recommended'; proposal_id: string; to_replicas: number; monthly_saving_usd: number }
  | { tenant: string; namespace: string; deployment: string; outcome: 'already_open'; proposal_id: string }
  | { tenant: string; namespace: string; deployment: string; outcome: 'hold'; reason: string }
  | { tenant: string; namespace?: string; deployment?: string; outcome: 'failed'; reason: string };

export class Strategist {
  private job: CronJob | undefined;

  constructor(private readonly deps: StrategistDeps) {}

  /** Arms the schedule. Throws config_invalid for an expression node-cron does not accept. */
  start(): void {
    if (this.job) return;
    const run = async () => {
      if (this.deps.claimReview && !(await this.deps.claimReview())) {
        this.deps.logger.debug({ agent: 'strategist' }, 'review run by another replica');
        return;
      }
      await this.review();
    };
    this.job = scheduleCron(this.deps.schedule ?? DEFAULT_STRATEGIST_SCHEDULE, this.deps.clock, this.deps.tracker ? () => this.deps.tracker!.run(run) : run, {
      name: 'strategist-review',
      ...(this.deps.timezone ? { timezone: this.deps.timezone } : {}),
      onError: (err) => this.deps.logger.error({ agent: 'strategist', err: describeError(err) }, 'review failed'),
    });
  }

  stop(): void {
    this.job?.stop();
    this.job = undefined;
  }

  /** One pass over every tenant; one tenant's failure does not stop the others. */
  async review(): Promise<ReviewOutcome[]> {
    const outcomes: ReviewOutcome[] = [];
    if (this.deps.mayPropose && !this.deps.mayPropose()) {
      this.deps.logger.debug({ agent: 'strategist' }, 'review skipped: phase observe');
      return outcomes;
    }
    for (const tenant of Object.keys(this.deps.tenants).sort()) {
      try {
        outcomes.push(...(await this.reviewTenant(tenant)));
      } catch (err) {
        this.deps.logger.warn({ agent: 'strategist', tenant, err: describeError(err) }, 'tenant review failed');
        outcomes.push({ tenant, outcome: 'failed', reason: describeError(err) });
      }
    }
    return outcomes;
  }

  async reviewTenant(tenant: string): Promise<ReviewOutcome[]> {
    const spec = this.deps.tenants[tenant]!;
    const policy = { ...DEFAULT_RIGHT_SIZING, ...this.deps.policy };
    const costArgs = { tenant };
    const cost = await readTool(this.deps.tools, 'get_cost_report', costArgs, CostReport);
    const outcomes: ReviewOutcome[] = [];
    for (const d of cost.deployments) {
      const where = { tenant, namespace: d.namespace, deployment: d.name };
      try {
        const utilArgs = { namespace: d.namespace, deployment: d.name, window_minutes: policy.windowMinutes };
        const utilisation = await readTool(this.deps.tools, 'get_utilisation', utilArgs, Utilisation);
        const decision = rightSize({
          tenant,
          environment: spec.environment,
          podMonthlyCostUsd: spec.pod_monthly_cost_usd,
          sloP99Ms: spec.slo.p99_latency_ms,
          deployment: d,
          namespaceDeployments: cost.deployments.filter((x) => x.namespace === d.namespace),
          utilisation,
          budget: cost.budget,
          policy,
        });
        if (decision.kind === 'hold') {
          outcomes.push({ ...where, outcome: 'hold', reason: decision.reason });
          continue;
        }
        const open = await this.openRecommendation(tenant, d);
        if (open) {
          outcomes.push({ ...where, outcome: 'already_open', proposal_id: open });
          continue;
        }
        const id = await this.propose(tenant, d, decision.recommendation, [
          { server: 'finops', tool: 'get_cost_report', args: costArgs, response: cost },
          { server: 'finops', tool: 'get_utilisation', args: utilArgs, response: utilisation },
        ]);
        outcomes.push({ ...where, outcome: 'recommended', proposal_id: id, to_replicas: decision.recommendation.params.to_replicas, monthly_saving_usd: decision.recommendation.params.monthly_saving_usd });
      } catch (err) {
        this.deps.logger.warn({ agent: 'strategist', ...where, err: describeError(err) }, 'deployment review failed');
        outcomes.push({ ...where, outcome: 'failed', reason: describeError(err) });
      }
    }
    return outcomes;
  }

  /**
   * The id of this deployment's open recommendation, if any: the newest one, still about the replica
   * count the deployment runs now (nobody acted on it), and younger than the reopen interval.
   */
  private async openRecommendation(tenant: string, d: CostDeployment): Promise<string | undefined> {
    const [latest] = await this.deps.audit.list({
      kind: 'proposal',
      tenant,
      payload_contains: { proposal: { agent: 'strategist', action: 'recommendation', namespace: d.namespace, target: { kind: 'Deployment', name: d.name } } },
      newest_first: true,
      limit: 1,
    });
    if (!latest) return undefined;
    const proposal = (latest.payload as { proposal?: Proposal }).proposal;
    if (!proposal) return undefined;
    const age = this.deps.clock.now() - Date.parse(proposal.ts);
    if (age >= (this.deps.reopenAfterMs ?? DEFAULT_REOPEN_AFTER_MS)) return undefined;
    if (proposal.params['from_replicas'] !== d.replicas) return undefined;
    return proposal.id;
  }

  private async propose(tenant: string, d: CostDeployment, r: PlannedRecommendation, toolCalls: RecordedToolCall[]): Promise<string> {
    const proposal = proposalOf(r, {
      agent: 'strategist', tenant, namespace: d.namespace, target: { kind: 'Deployment', name: d.name }, nowMs: this.deps.clock.now(),
    });
    await recordProposal(this.deps.recorder, proposal, { tool_calls: toolCalls });
    this.deps.logger.info(
      { agent: 'strategist', proposal_id: proposal.id, tenant, namespace: d.namespace, deployment: d.name },
      `recommended ${d.name} ${r.params.from_replicas} → ${r.params.to_replicas} replicas, saving $${r.params.monthly_saving_usd}/month`,
    );
    return proposal.id;
  }
}
