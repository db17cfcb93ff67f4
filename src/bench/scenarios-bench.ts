// `governor bench scenarios`: every scenario through the same runner as `governor demo` (the whole
// pipeline on the twin in virtual time, a scripted on-call engineer approving 60 simulated seconds
// after each request), one after another, and per scenario what an SRE lead asks of it: time to
// detect, time to restore, minutes in SLO violation, false alarms on a day without incident, the
// actions taken, and whether the outcome the scenario declares was met. The bars (MTTD under
// 60 s, MTTR under 300 s, nothing raised on quiet-day) are judged here and printed, never asserted.
// It only runs demos and reads their summaries; it never changes a scenario or the pipeline.
import type { Config } from '../config.ts';
import type { Logger } from '../core/logger.ts';
import { runDemo, type DemoSummary } from '../demo/run-demo.ts';
import { loadScenarioSpec, scenarioNames } from '../twin/scenarios/index.ts';

/** Issue 13's bars for every scenario. */
export const SCENARIO_TARGETS = { mttdS: 60, mttrS: 300 } as const;

export interface ScenarioBenchRow {
  scenario: string;
  /** Whether the scenario declares an incident (its undisturbed twin breaches the SLO). */
  incident: boolean;
  detected: boolean;
  /** Simulated seconds from the first SLO breach to the first observation above info; null: no breach or nothing detected. */
  mttd_s: number | null;
  /** Simulated seconds from the first breach to the SLA holding again (for the sustain period); null: not restored. */
  mttr_s: number | null;
  slo_violation_minutes: number;
  /** For a scenario without incident, the incidents Watchtower opened anyway; null where there is an incident. */
  false_alarms: number | null;
  /** Actions executed (by any agent, approved or not), and every proposal with its verdict. */
  actions_taken: number;
  actions: { agent: string; action: string; verdict: string; executed: boolean; rolled_back: boolean }[];
  approvals: number;
  policy_denials: number;
  /** The scenario file's own declared outcome, and what this run missed of it. */
  outcome_met: boolean;
  failures: string[];
  /** Issue 13's bars: null where they do not apply (no breach, no incident). */
  mttd_under_60s: boolean | null;
  mttr_under_300s: boolean | null;
  simulated_s: number;
  wall_s: number;
}

export interface ScenarioBenchResult {
  approval_delay_s: number;
  infrastructure: { bus: string; audit: string };
  scenarios: ScenarioBenchRow[];
  summary: {
    scenarios: number;
    outcomes_met: number;
    /** Of the scenarios with a breach, how many were detected within 60 s / restored within 300 s. */
    mttd_under_60s: string;
    mttr_under_300s: string;
    max_mttd_s: number | null;
    max_mttr_s: number | null;
    /** Incidents opened on quiet-day (issue 13: none). */
    quiet_day_false_alarms: number | null;
    all_targets_met: boolean;
  };
  wall_s: number;
}

/** One row from a demo summary: pure. */
export function rowOf(s: DemoSummary, incident: boolean, wallS: number): ScenarioBenchRow {
  const breached = s.slo_breached;
  return {
    scenario: s.scenario,
    incident,
    detected: s.detected,
    mttd_s: s.mttd_s,
    mttr_s: s.mttr_s,
    slo_violation_minutes: s.slo_violation_minutes,
    false_alarms: incident ? null : s.incidents.length,
    actions_taken: s.actions.filter((a) => a.executed).length,
    actions: s.actions.map((a) => ({ agent: a.agent, action: a.action, verdict: a.verdict, executed: a.executed, rolled_back: a.rolled_back })),
    approvals: s.approvals,
    policy_denials: s.policy_denials,
    outcome_met: s.outcome.met,
    failures: s.outcome.failures,
    mttd_under_60s: breached || incident ? s.mttd_s !== null && s.mttd_s < SCENARIO_TARGETS.mttdS : null,
    mttr_under_300s: breached || incident ? s.mttr_s !== null && s.mttr_s < SCENARIO_TARGETS.mttrS : null,
    simulated_s: s.simulated_s,
    wall_s: Math.round(wallS * 10) / 10,
  };
}

/** The summary over the rows: pure. */
export function summariseRows(rows: readonly ScenarioBenchRow[]): ScenarioBenchResult['summary'] {
  const judged = <K extends 'mttd_under_60s' | 'mttr_under_300s'>(k: K) => {
    const r = rows.filter((x) => x[k] !== null);
    return { met: r.filter((x) => x[k] === true).length, of: r.length };
  };
  const d = judged('mttd_under_60s');
  const r = judged('mttr_under_300s');
  const max = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? Math.max(...v) : null;
  };
  const quiet = rows.find((x) => x.scenario === 'quiet-day');
  const quietAlarms = quiet ? (quiet.false_alarms ?? 0) : null;
  return {
    scenarios: rows.length,
    outcomes_met: rows.filter((x) => x.outcome_met).length,
    mttd_under_60s: `${d.met}/${d.of}`,
    mttr_under_300s: `${r.met}/${r.of}`,
    max_mttd_s: max(rows.map((x) => x.mttd_s)),
    max_mttr_s: max(rows.map((x) => x.mttr_s)),
    quiet_day_false_alarms: quietAlarms,
    all_targets_met: d.met === d.of && r.met === r.of && (quietAlarms ?? 0) === 0,
  };
}

export async function benchScenarios(opts: {
  config: Config;
  logger: Logger;
  /** Scenario names or files; every scenario in scenarios/ when absent. */
  scenarios?: readonly string[];
  approvalDelayS?: number;
  /** PostgreSQL schema the runs use, one after another (reset before each, as the demo's is). */
  auditSchema?: string;
  onProgress?: (line: string) => void;
}): Promise<ScenarioBenchResult> {
  const names = opts.scenarios && opts.scenarios.length > 0 ? [...opts.scenarios] : scenarioNames();
  // Every file is read before the first run: a bad one is refused before an hour is spent.
  const specs = names.map((n) => loadScenarioSpec(n));
  const approvalDelayS = opts.approvalDelayS ?? 60;
  const progress = opts.onProgress ?? (() => {});
  const rows: ScenarioBenchRow[] = [];
  const started = performance.now();
  for (const [i, name] of names.entries()) {
    const spec = specs[i]!;
    progress(`[${i + 1}/${names.length}] ${spec.name}: up to ${spec.duration_min} simulated minutes`);
    const t0 = performance.now();
    const summary = await runDemo({
      scenario: name,
      config: opts.config,
      logger: opts.logger,
      approvalDelayS,
      auditSchema: opts.auditSchema ?? 'governor_bench_scenarios',
      onProgress: (line) => progress(`  ${spec.name} ${line}`),
    });
    const row = rowOf(summary, spec.expect.incident, (performance.now() - t0) / 1000);
    rows.push(row);
    progress(
      `[${i + 1}/${names.length}] ${row.scenario}: mttd ${row.mttd_s ?? '-'} s, mttr ${row.mttr_s ?? '-'} s, ${row.slo_violation_minutes} min in violation, ` +
        `${row.actions_taken} actions, outcome ${row.outcome_met ? 'met' : 'NOT met'} (${row.wall_s} s of wall time)`,
    );
  }
  return {
    approval_delay_s: approvalDelayS,
    infrastructure: { bus: opts.config.redisUrl ? 'redis' : 'memory', audit: opts.config.databaseUrl ? 'postgresql' : 'pglite' },
    scenarios: rows,
    summary: summariseRows(rows),
    wall_s: Math.round((performance.now() - started) / 100) / 10,
  };
}
