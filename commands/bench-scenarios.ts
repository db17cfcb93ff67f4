// `governor bench scenarios [--json] [--out DIR] [--scenario NAME|FILE ...]`: every scenario through
// the demo's runner, one after another; progress on stderr as each runs, the table (or one JSON
// object) on stdout, and `<out>/scenarios.json` with `<out>/scenarios.png` (MTTD and MTTR per
// scenario against the targets) written side by side. Exit 0 whatever the figures: a benchmark reports.
import { loadConfig } from '../src/config.ts';
import { writeBenchOutputs } from '../src/bench/bench-output.ts';
import { SCENARIO_TARGETS, benchScenarios, type ScenarioBenchResult } from '../src/bench/scenarios-bench.ts';
import { barChart } from '../src/charts/render-png.ts';
import { demoConfig, demoLogger } from './demo.ts';

export async function benchScenariosCommand(opts: { json: boolean; out: string; scenarios: string[]; approvalDelayS: number }): Promise<number> {
  const config = loadConfig();
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const result = await benchScenarios({
    config: demoConfig(config),
    logger: demoLogger(config),
    scenarios: opts.scenarios,
    approvalDelayS: opts.approvalDelayS,
    onProgress: progress,
  });
  const written = writeBenchOutputs(opts.out, 'scenarios', result, { '': chartOf(result) });
  progress(`wrote ${written.join(', ')}`);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) out(JSON.stringify(result, null, 2));
  else out(report(result));
  return 0;
}

export function chartOf(r: ScenarioBenchResult): Buffer {
  return barChart({
    title: `Time to detect and to restore, per scenario (approval after ${r.approval_delay_s} simulated s)`,
    categories: r.scenarios.map((s) => s.scenario),
    series: [
      { name: 'MTTD (s)', values: r.scenarios.map((s) => s.mttd_s), color: '#1f77b4' },
      { name: 'MTTR (s)', values: r.scenarios.map((s) => s.mttr_s), color: '#d62728' },
    ],
    yLabel: 'simulated seconds',
    thresholds: [
      { value: SCENARIO_TARGETS.mttdS, label: `MTTD target ${SCENARIO_TARGETS.mttdS} s`, color: '#1f77b4' },
      { value: SCENARIO_TARGETS.mttrS, label: `MTTR target ${SCENARIO_TARGETS.mttrS} s`, color: '#d62728' },
    ],
    missingLabel: 'none',
  });
}

export function report(r: ScenarioBenchResult): string {
  const head = `${'scenario'.padEnd(22)} ${'MTTD s'.padStart(7)} ${'MTTR s'.padStart(7)} ${'SLO min'.padStart(8)} ${'false alarms'.padStart(12)} ${'actions'.padStart(8)}  outcome`;
  const lines = [head];
  for (const s of r.scenarios) {
    const n = (x: number | null) => (x === null ? '-' : String(x));
    const acted = s.actions.filter((a) => a.executed).map((a) => `${a.agent} ${a.action}${a.rolled_back ? ' (rolled back)' : ''}`);
    lines.push(
      `${s.scenario.padEnd(22)} ${n(s.mttd_s).padStart(7)} ${n(s.mttr_s).padStart(7)} ${String(s.slo_violation_minutes).padStart(8)} ${n(s.false_alarms).padStart(12)} ${String(s.actions_taken).padStart(8)}  ${s.outcome_met ? 'met' : 'NOT met'}${acted.length ? `  [${acted.join(', ')}]` : ''}`,
    );
    for (const f of s.failures) lines.push(`${''.padEnd(24)}- ${f}`);
  }
  const m = r.summary;
  lines.push(
    `outcomes met ${m.outcomes_met}/${m.scenarios}; MTTD under ${SCENARIO_TARGETS.mttdS} s ${m.mttd_under_60s}, MTTR under ${SCENARIO_TARGETS.mttrS} s ${m.mttr_under_300s} ` +
      `(max ${m.max_mttd_s ?? '-'} s / ${m.max_mttr_s ?? '-'} s); quiet-day false alarms ${m.quiet_day_false_alarms ?? 'not run'}; issue 13 targets: ${m.all_targets_met ? 'met' : 'NOT met'}`,
  );
  return lines.join('\n');
}
