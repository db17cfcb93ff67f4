// `governor bench scenarios`, short: two scenarios through the demo's runner on the real
// PostgreSQL — a day without incident (nothing raised, nothing done, no MTTD or MTTR to judge) and
// a traffic surge (detected, scaled out at once, restored) — each row as the demo summary says it,
// the summary judged against the bars, and the chart written next to the JSON. The full
// run over every scenario takes many minutes: that is the bench's job, not the test's.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchScenarios, summariseRows, type ScenarioBenchRow } from '../../src/bench/scenarios-bench.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { DEFAULT_SCENARIOS_DIR } from '../../src/twin/scenarios/index.ts';
import { benchScenariosCommand, report } from '../../commands/bench-scenarios.ts';

const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('governor bench scenarios', () => {
  it('runs each scenario through the demo and reports MTTD, MTTR, false alarms and actions taken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-scenarios-'));
    try {
      // A shorter quiet day than the shipped one, under a name of its own: the bench takes files too.
      const steady = JSON.parse(readFileSync(join(DEFAULT_SCENARIOS_DIR, 'steady-state.json'), 'utf8'));
      steady.name = 'short-steady';
      steady.duration_min = 4;
      writeFileSync(join(dir, 'short-steady.json'), JSON.stringify(steady));
      const lines: string[] = [];
      const r = await benchScenarios({
        config: loadConfig({ DATABASE_URL: PG }),
        logger: silentLogger(),
        scenarios: [join(dir, 'short-steady.json'), 'traffic-surge'],
        auditSchema: `bench_scen_${process.pid}`,
        onProgress: (l) => lines.push(l),
      });
      const report = JSON.stringify(r, null, 2);
      expect(r.approval_delay_s, report).toBe(60);
      expect(r.infrastructure).toEqual({ bus: 'memory', audit: 'postgresql' });
      const [quiet, surge] = r.scenarios;
      expect(quiet, report).toMatchObject({
        scenario: 'short-steady', incident: false, detected: false, mttd_s: null, mttr_s: null, false_alarms: 0,
        actions_taken: 0, slo_violation_minutes: 0, outcome_met: true, mttd_under_60s: null, mttr_under_300s: null, simulated_s: 240,
      });
      expect(surge, report).toMatchObject({ scenario: 'traffic-surge', incident: true, detected: true, false_alarms: null, outcome_met: true, failures: [] });
      expect(surge!.mttd_s).toBeGreaterThanOrEqual(0);
      expect(surge!.mttr_s).toBeGreaterThan(surge!.mttd_s!);
      expect(surge!.slo_violation_minutes).toBeGreaterThan(0);
      expect(surge!.actions.filter((a) => a.executed && a.agent === 'elastik' && a.action === 'scale_deployment').length).toBeGreaterThanOrEqual(1);
      expect(surge!.actions_taken).toBe(surge!.actions.filter((a) => a.executed).length);
      expect(surge!.mttd_under_60s).toBe(surge!.mttd_s! < 60);
      expect(surge!.mttr_under_300s).toBe(surge!.mttr_s! < 300);
      expect(r.summary).toMatchObject({ scenarios: 2, outcomes_met: 2, mttd_under_60s: `${surge!.mttd_under_60s ? 1 : 0}/1`, quiet_day_false_alarms: null });
      // Progress while it runs: each scenario announced, its minutes, and its figures when done.
      expect(lines[0]).toMatch(/^\[1\/2\] short-steady: up to 4 simulated minutes$/);
      expect(lines.some((l) => /^ {2}traffic-surge t=60s /.test(l))).toBe(true);
      expect(lines.at(-1)).toMatch(/^\[2\/2\] traffic-surge: mttd \d+ s, mttr \d+ s, .* outcome met/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('judges quiet-day by the incidents it opened, and a scenario never restored as missing its MTTR', () => {
    const row = (over: Partial<ScenarioBenchRow>): ScenarioBenchRow => ({
      scenario: 'x', incident: true, detected: true, mttd_s: 20, mttr_s: 200, slo_violation_minutes: 3, false_alarms: null, actions_taken: 1, actions: [],
      approvals: 0, policy_denials: 0, outcome_met: true, failures: [], mttd_under_60s: true, mttr_under_300s: true, simulated_s: 600, wall_s: 10, ...over,
    });
    const quiet = row({ scenario: 'quiet-day', incident: false, detected: false, mttd_s: null, mttr_s: null, false_alarms: 0, mttd_under_60s: null, mttr_under_300s: null });
    expect(summariseRows([row({}), quiet])).toMatchObject({ mttd_under_60s: '1/1', mttr_under_300s: '1/1', quiet_day_false_alarms: 0, all_targets_met: true, max_mttr_s: 200 });
    expect(summariseRows([row({}), { ...quiet, false_alarms: 1 }]).all_targets_met).toBe(false);
    const slow = summariseRows([row({ mttr_s: null, mttr_under_300s: false }), quiet]);
    expect(slow).toMatchObject({ mttr_under_300s: '0/1', all_targets_met: false, max_mttr_s: null });
  });

  it('writes the JSON and the chart side by side, and prints the table', async () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-out-'));
    const dir = mkdtempSync(join(tmpdir(), 'bench-scenarios-'));
    const steady = JSON.parse(readFileSync(join(DEFAULT_SCENARIOS_DIR, 'steady-state.json'), 'utf8'));
    steady.name = 'tiny-steady';
    steady.duration_min = 2;
    writeFileSync(join(dir, 'tiny-steady.json'), JSON.stringify(steady));
    const stdout: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (stdout.push(s), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      expect(await benchScenariosCommand({ json: false, out, scenarios: [join(dir, 'tiny-steady.json')], approvalDelayS: 60 })).toBe(0);
    } finally {
      process.stdout.write = write;
      process.stderr.write = err;
    }
    try {
      const json = JSON.parse(readFileSync(join(out, 'scenarios.json'), 'utf8'));
      expect(json.scenarios.map((s: { scenario: string }) => s.scenario)).toEqual(['tiny-steady']);
      expect(existsSync(join(out, 'scenarios.png'))).toBe(true);
      expect(readFileSync(join(out, 'scenarios.png')).subarray(1, 4).toString()).toBe('PNG');
      expect(stdout.join('')).toBe(`${report(json)}\n`);
      expect(stdout.join('')).toMatch(/tiny-steady +- +- +0 +0 +0 +met/);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
