// `governor demo`: one scenario through the whole pipeline in virtual time. The twin, the agents,
// the gateway, the MCP server and the Slack app run exactly as in the sandbox; only the clock is
// simulated, and it moves only when every part is idle. A scripted on-call engineer approves
// supervised actions through the real signed Slack interaction path, 60 simulated seconds after the
// request. The summary is computed from the audit log and the twin's own measurements, and judged
// against the outcome the scenario file declares (outcome.ts). The SLA is tracked over every watched
// service: it is breached when any one breaches, restored when all are back for the sustain period.
import { rm } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { checkpointFile } from '../audit/checkpoints.ts';
import { VirtualClock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { AuditRecord } from '../audit/audit-store.ts';
import { actionExecution, compensationExecution, firstDecision, lifeOf } from '../governance/proposal-life.ts';
import { describeRecord } from '../governance/record-text.ts';
import { SANDBOX_USERS } from '../sandbox/slack-web-api-fake.ts';
import { startSystem, type System } from '../runtime/system.ts';
import { newId } from '../core/ids.ts';
import pg from 'pg';
import { loadScenarioSpec, type ScenarioName } from '../twin/scenarios/index.ts';
import type { ExpectSpec, Severity } from '../twin/scenarios/scenario-file.ts';
import { checkOutcome, type Outcome } from './outcome.ts';

export interface DemoAction {
  proposal_id: string;
  agent: string;
  action: string;
  verdict: string;
  level: number;
  executed: boolean;
  verified: boolean;
  rolled_back: boolean;
  verification?: string;
  approved_by?: string;
  /** Denied only for the agent's level 1 (phase Advise): advice a person may carry out. */
  advice?: boolean;
}

export interface DemoStep {
  t_s: number;
  proposal_id: string;
  agent: string;
  action: string;
  params: Record<string, unknown>;
  verdict: string;
  approved_by?: string;
  executed: boolean;
  verification?: string;
  compensation?: string;
  /** What came next in this incident: the next step's action, or how the incident ended. */
  next: string;
}

export interface DemoIncident {
  incident_id: string;
  target: string;
  opened_t_s: number;
  closed_t_s: number | null;
  steps: DemoStep[];
  escalations: { t_s: number; summary: string }[];
}

export interface DemoSummary {
  scenario: string;
  detected: boolean;
  mttd_s: number | null;
  mttr_s: number | null;
  sla_restored: boolean;
  slo_violation_minutes: number;
  replica_minutes: number;
  actions: DemoAction[];
  approvals: number;
  policy_denials: number;
  /** Advice from a level-1 agent: the policy never lets it execute, so it is not counted as a denial. */
  recommendations: number;
  audit: { records: number; chain_valid: boolean };
  llm: 'used' | 'unavailable';
  infrastructure: { bus: string; audit: string };
  timeline: { t_s: number; event: string }[];
  /**
   * Each incident worked to its end: its target, when it opened and closed, each step (attempt,
   * verdict, what became of it, and what followed it) and any escalation.
   */
  incidents: DemoIncident[];
  /** Whether any watched service breached its SLO during the run. */
  slo_breached: boolean;
  /** Simulated seconds the run lasted. */
  simulated_s: number;
  /** What Watchtower published: how many observations, and the most severe. */
  observations: { count: number; max_severity: Severity | null };
  /** The outcome the scenario declares, and whether this run met it. */
  expected: ExpectSpec;
  outcome: Outcome;
}

export interface DemoOptions {
  scenario: ScenarioName;
  config: Config;
  logger: Logger;
  /** Simulated seconds the scripted approver waits before clicking. */
  approvalDelayS?: number;
  /** Simulated seconds to run at most; default the scenario's declared duration. */
  maxSimulatedS?: number;
  onProgress?: (line: string) => void;
  /** PostgreSQL schema of this run's audit log. */
  auditSchema?: string;
}

const START = Date.parse('2026-11-24T10:00:00Z');
const STEP_MS = 5_000;
/** Restoration counts once the SLO has held this long. */
const SUSTAIN_MS = 60_000;

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const clock = new VirtualClock(START);
  const schema = opts.auditSchema ?? 'governor_demo';
  // Every run replays the same simulated morning: a previous run's records in the same schema would
  // look like recent actions (cooldowns, actions in flight). The demo's schema is its own sandbox, so
  // it starts empty; the latest run stays there to inspect (`governor audit verify --schema ...`).
  // Its checkpoints start afresh with it, in a file of its own in the data directory: the previous
  // run's would anchor records the reset removed.
  const config: Config = { ...opts.config, consolePort: 0, audit: { ...opts.config.audit, checkpointFile: undefined } };
  if (opts.config.databaseUrl) {
    await resetSchema(opts.config.databaseUrl, schema);
    await rm(checkpointFile(config, schema), { force: true });
  }
  const sys = await startSystem({
    // Headless: the sandbox console listens on a free port, so a demo never collides with a running
    // `governor start` (or another demo) on the configured one.
    config,
    clock,
    logger: opts.logger,
    scenario: opts.scenario,
    auditSchema: schema,
    runId: `demo-${newId()}`,
  });
  try {
    return await drive(sys, clock, opts);
  } finally {
    await sys.stop();
  }
}

async function resetSchema(url: string, schema: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema) || schema === 'governor') {
    throw new Error(`refusing to reset schema '${schema}': the demo only resets its own schema`);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

async function settle(sys: System): Promise<void> {
  const deadline = Date.now() + 60_000;
  let quiet = 0;
  while (quiet < 3) {
    await new Promise((r) => setTimeout(r, quiet === 0 ? 2 : 1));
    quiet = (await sys.idle()) ? quiet + 1 : 0;
    if (Date.now() > deadline) throw new Error('the pipeline did not become idle within 60 s of real time');
  }
}

/** Whether each watched service is over its SLO: the pure part of the SLO tracking. */
export function sloState(p99s: readonly number[], slos: readonly number[]): { breaching: boolean; over: number[] } {
  const over = p99s.flatMap((p, i) => (p > slos[i]! ? [i] : []));
  return { breaching: over.length > 0, over };
}

async function drive(sys: System, clock: VirtualClock, opts: DemoOptions): Promise<DemoSummary> {
  const twin = sys.twin;
  const fake = sys.slackFake;
  if (!twin || !fake) throw new Error('the demo runs on the cluster twin and the Slack sandbox; unset KUBECONFIG and SLACK_BOT_TOKEN');
  const spec = loadScenarioSpec(opts.scenario);
  const targets = sys.targets;
  if (targets.length === 0) throw new Error(`scenario '${opts.scenario}' watches no service; the demo has nothing to score`);
  const slos = targets.map((t) => t.sloP99Ms);
  const firstSeq = (await sys.audit.list()).at(-1)?.seq ?? 0;
  const approvalDelayMs = (opts.approvalDelayS ?? 60) * 1000;
  // A scenario without incident runs exactly its declared duration: nothing is supposed to end it early.
  const maxMs = (opts.maxSimulatedS ?? spec.duration_min * 60) * 1000;
  const progress = opts.onProgress ?? (() => {});

  // Clicks done per message, and messages with a click on its way.
  const scheduled = new Set<string>();
  let breachAt: number | null = null;
  let healthySince: number | null = null;
  let restoredAt: number | null = null;
  let violationMs = 0;
  let replicaMs = 0;
  let quietAfterRestore = 0;

  for (let t = 0; t <= maxMs; t += STEP_MS) {
    await settle(sys);
    const now = clock.now();
    const p99s = targets.map((x) => twin.serviceMetrics(x.namespace, x.deployment).p99_ms);
    const replicas = targets.map((x) => twin.getDeployment(x.namespace, x.deployment)?.spec?.replicas ?? 0);
    // The SLA holds only when every watched service is within its SLO.
    const state = sloState(p99s, slos);
    if (state.breaching) {
      if (breachAt === null) breachAt = now;
      healthySince = null;
      // A relapse after restoration: the SLA is broken again until it holds once more.
      restoredAt = null;
      quietAfterRestore = 0;
    } else if (breachAt !== null) {
      healthySince ??= now;
      if (restoredAt === null && now - healthySince >= SUSTAIN_MS) restoredAt = healthySince;
    }
    if (t % 60_000 === 0) {
      const per = targets.map((x, i) => `${x.namespace}/${x.deployment} p99=${Math.round(p99s[i]!)}ms${p99s[i]! > slos[i]! ? '!' : ''} x${replicas[i]}`);
      progress(`t=${t / 1000}s ${per.join('  ')}`);
    }

    // The scripted on-call engineers: paged together when a request appears, each answers a fixed
    // time later, in order, as long as the message still asks for a vote (a two-person rule takes
    // two people; once a proposal is decided nobody clicks a stale card).
    for (const m of fake.messages()) {
      if (scheduled.has(m.ts) || !asksForVote(m)) continue;
      scheduled.add(m.ts);
      clock.setTimer(approvalDelayMs, () =>
        sys.tracker.spawn(
          async () => {
            for (const who of SCRIPTED_APPROVERS) {
              const now = fake.messages().find((x) => x.ts === m.ts);
              if (!now || !asksForVote(now)) break;
              await fake.clickButton({ ts: m.ts, actionId: 'proposal_approve', userId: who.id, userName: who.name });
            }
          },
          (err) => opts.logger.error({ err: String(err) }, 'scripted approval failed'),
        ),
      );
    }

    if (restoredAt !== null && spec.expect.incident && !spec.expect.run_to_end) {
      const summary = await summarise(sys, firstSeq);
      const open = summary.actions.some((a) => a.executed && !a.verified && !a.rolled_back) || summary.actions.some((a) => a.verdict === 'require_approval' && !a.executed && !a.approved_by);
      if (!open || ++quietAfterRestore > 60) break;
    }
    if (t + STEP_MS > maxMs) break;
    // What was sampled holds for the step that follows: replica- and violation-minutes are intervals.
    replicaMs += replicas.reduce((a, b) => a + b, 0) * STEP_MS;
    if (state.breaching) violationMs += STEP_MS;
    await clock.advance(STEP_MS);
  }
  await settle(sys);

  const s = await summarise(sys, firstSeq);
  const detectedAt = s.firstIncidentAt;
  const verification = await sys.audit.verify();
  const core = {
    scenario: spec.name,
    detected: detectedAt !== null,
    mttd_s: detectedAt !== null && breachAt !== null ? Math.max(0, (detectedAt - breachAt) / 1000) : null,
    mttr_s: restoredAt !== null && breachAt !== null ? (restoredAt - breachAt) / 1000 : null,
    sla_restored: restoredAt !== null,
    slo_breached: breachAt !== null,
    slo_violation_minutes: round1(violationMs / 60_000),
    replica_minutes: round1(replicaMs / 60_000),
    simulated_s: (clock.now() - START) / 1000,
    actions: s.actions,
    approvals: s.approvals,
    policy_denials: s.actions.filter((a) => a.verdict === 'deny' && a.action !== 'recommendation' && !a.advice).length,
    recommendations: s.actions.filter((a) => a.action === 'recommendation' || a.advice).length,
    observations: s.observations,
    audit: { records: s.records, chain_valid: verification.valid },
    llm: s.llmUsed ? ('used' as const) : ('unavailable' as const),
    infrastructure: {
      bus: opts.config.redisUrl ? 'redis' : 'memory',
      audit: opts.config.databaseUrl ? 'postgresql' : 'pglite',
    },
    timeline: s.timeline.map((e) => ({ t_s: (e.at - START) / 1000, event: e.event })),
    incidents: s.incidents,
  };
  const outcome = checkOutcome(spec.expect, { ...core, breached: core.slo_breached });
  return { ...core, expected: spec.expect, outcome };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

const asksForVote = (m: { blocks?: unknown }) => JSON.stringify(m.blocks ?? []).includes('proposal_approve');

/** The sandbox's on-call engineers (config/sandbox.json names them as approvers), in the order they answer. */
const SCRIPTED_APPROVERS = SANDBOX_USERS.filter((u) => u.id.startsWith('U0ONCALL'));

async function summarise(sys: System, afterSeq: number) {
  const records = (await sys.audit.list()).filter((r) => r.seq > afterSeq);
  const byProposal = new Map<string, AuditRecord[]>();
  for (const r of records) if (r.proposal_id) byProposal.set(r.proposal_id, [...(byProposal.get(r.proposal_id) ?? []), r]);
  const actions: DemoAction[] = [];
  let approvals = 0;
  for (const [id, rs] of byProposal) {
    const life = lifeOf(rs);
    if (!life) continue;
    const decision = firstDecision(life);
    const main = actionExecution(life);
    const comp = compensationExecution(life);
    const ver = life.verification;
    const approvedBy = life.outcome?.outcome === 'approved' ? life.outcome.approvers.map((a) => a.name ?? a.id).join(', ') : undefined;
    if (approvedBy) approvals++;
    actions.push({
      proposal_id: id,
      agent: life.proposal.agent,
      action: life.proposal.action,
      verdict: decision?.verdict ?? 'pending',
      level: decision?.agent_level ?? 0,
      executed: main?.status === 'succeeded',
      verified: ver !== undefined && ver.outcome !== 'not_helped',
      rolled_back: comp?.status === 'succeeded',
      ...(ver ? { verification: ver.outcome } : {}),
      ...(approvedBy ? { approved_by: approvedBy } : {}),
      ...(rs.some((r) => r.kind === 'decision' && (r.payload as { advice?: unknown }).advice === true) ? { advice: true } : {}),
    });
  }
  const observed = records.flatMap((r) => (r.kind === 'observation' ? [{ at: Date.parse(r.at), severity: r.payload.observation.severity as Severity }] : []));
  // Detection is the first observation of an incident; an informational one (a resolution) detects nothing.
  const firstIncident = observed.find((o) => o.severity !== 'info');
  const rank = { info: 0, warning: 1, critical: 2 } as const;
  const maxSeverity = observed.reduce<Severity | null>((m, o) => (m === null || rank[o.severity] > rank[m] ? o.severity : m), null);
  const timeline = records
    .flatMap((r) => {
      const event = describeRecord(r);
      return event === undefined ? [] : [{ at: Date.parse(r.at), event }];
    });
  return {
    actions,
    approvals,
    records: records.length,
    // A model answered at least once (an llm_exchange its answer was taken from).
    llmUsed: records.some((r) => r.kind === 'llm_exchange' && r.payload.source === 'llm'),
    firstIncidentAt: firstIncident ? firstIncident.at : null,
    observations: { count: observed.length, max_severity: maxSeverity },
    timeline,
    incidents: incidentsOf(records),
  };
}

/** Each incident's steps in order, as an operator reads them afterwards. */
function incidentsOf(records: AuditRecord[]): DemoIncident[] {
  const tS = (at: string) => (Date.parse(at) - START) / 1000;
  const byIncident = new Map<string, AuditRecord[]>();
  for (const r of records) if (r.incident_id) byIncident.set(r.incident_id, [...(byIncident.get(r.incident_id) ?? []), r]);
  const out: DemoIncident[] = [];
  for (const [id, rs] of byIncident) {
    const observations = rs.flatMap((r) => (r.kind === 'observation' ? [r] : []));
    const first = observations[0];
    if (!first) continue;
    const closing = observations.find((o) => o.payload.observation.severity === 'info');
    const byProposal = new Map<string, AuditRecord[]>();
    for (const r of rs) if (r.proposal_id) byProposal.set(r.proposal_id, [...(byProposal.get(r.proposal_id) ?? []), r]);
    const lives = [...byProposal.values()].flatMap((x) => {
      const l = lifeOf(x);
      return l ? [l] : [];
    });
    const steps: DemoStep[] = lives.map((l, i) => {
      const exec = actionExecution(l);
      const approvedBy = l.outcome?.outcome === 'approved' ? l.outcome.approvers.map((a) => a.name ?? a.id).join(', ') : undefined;
      const following = lives[i + 1];
      return {
        t_s: tS(l.proposal.ts),
        proposal_id: l.proposal.id,
        agent: l.proposal.agent,
        action: l.proposal.action,
        params: l.proposal.params,
        verdict: firstDecision(l)?.verdict ?? 'pending',
        ...(approvedBy ? { approved_by: approvedBy } : {}),
        executed: exec?.status === 'succeeded',
        ...(l.verification ? { verification: l.verification.outcome } : {}),
        ...(compensationExecution(l)?.status === 'succeeded' ? { compensation: 'rolled back' } : {}),
        next: following
          ? `${following.proposal.action} ${JSON.stringify(following.proposal.params)} at ${tS(following.proposal.ts)} s`
          : closing
            ? `the SLO held again at ${tS(closing.at)} s`
            : 'nothing yet',
      };
    });
    out.push({
      incident_id: id,
      target: `${first.payload.observation.namespace}/${first.payload.observation.target.name}`,
      opened_t_s: tS(first.at),
      closed_t_s: closing ? tS(closing.at) : null,
      steps,
      escalations: rs.flatMap((r) => (r.kind === 'escalation' ? [{ t_s: tS(r.at), summary: r.payload.summary }] : [])),
    });
  }
  return out;
}

