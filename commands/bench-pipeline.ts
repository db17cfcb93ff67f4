// `governor bench pipeline [--json]`: the whole pipeline with the processes apart on the real Redis
// and PostgreSQL (src/bench/pipeline-bench.ts). Progress goes to stderr; the numbers to stdout (one
// JSON object with --json, a short report otherwise); the JSON and two PNG charts to --out.
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.ts';
import { GovernorError } from '../src/core/errors.ts';
import { benchPipeline, type PipelineBenchResult } from '../src/bench/pipeline-bench.ts';
import { writeBenchOutputs } from '../src/bench/bench-output.ts';
import { barChart, lineChart } from '../src/charts/render-png.ts';

export async function benchPipelineCommand(opts: { json: boolean; rate: number; duration: number; out: string; scenario: string }): Promise<number> {
  const config = loadConfig();
  if (!config.redisUrl || !config.databaseUrl) {
    throw new GovernorError(
      'config_invalid',
      'the pipeline bench runs the processes apart on the real Redis and PostgreSQL: set REDIS_URL (an empty database, e.g. redis://127.0.0.1:6379/14) and DATABASE_URL (a server where it may create and drop a database of its own)',
    );
  }
  if (!(opts.rate > 0) || !(opts.duration > 0)) throw new GovernorError('config_invalid', '--rate and --duration must be positive numbers');
  mkdirSync(opts.out, { recursive: true });
  const logFile = join(opts.out, 'pipeline-processes.log');
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  progress(`the processes' output goes to ${logFile}`);
  const result = await benchPipeline({
    redisUrl: config.redisUrl,
    databaseUrl: config.databaseUrl,
    ratePerS: opts.rate,
    durationS: opts.duration,
    scenario: opts.scenario,
    bin: fileURLToPath(new URL('../bin/governor.mjs', import.meta.url)),
    logFile,
    onProgress: progress,
  });
  const written = writeBenchOutputs(opts.out, 'pipeline', result, charts(result));
  progress(`wrote ${written.join(', ')}`);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(opts.json ? JSON.stringify(result, null, 2) : report(result));
  return 0;
}

/** p50/p99 of both stages beside the floors of the same run; and the pause, per process. */
export function charts(r: PipelineBenchResult): Record<string, Buffer> {
  const d = r.proposal_to_decision;
  const o = r.grant_to_outcome;
  const { redis_ping: rp, pg_commit: pc } = r.floors;
  const latency = barChart({
    title: `Pipeline, processes apart, at ${r.load.target_rate_per_s}/s: stages vs the floors of the same run`,
    categories: ['proposal → decision', 'grant → audited outcome', 'Redis PING', 'PostgreSQL commit'],
    series: [
      { name: 'p50 (ms)', values: [d.p50_ms, o.samples ? o.p50_ms : null, rp.p50_ms, pc.p50_ms], color: '#1f77b4' },
      { name: 'p99 (ms)', values: [d.p99_ms, o.samples ? o.p99_ms : null, rp.p99_ms, pc.p99_ms], color: '#d62728' },
    ],
    yLabel: 'milliseconds',
    width: 860,
  });
  const names = Object.keys(r.pause.processes);
  const pause = barChart({
    title: `/agents-pause until each process refuses to act (slowest: ${r.pause.all_refusing_ms ?? 'never'} ms)`,
    categories: names,
    series: [{ name: 'refuses after (ms)', values: names.map((n) => r.pause.processes[n]!.refuses_ms), color: '#2ca02c' }],
    yLabel: 'milliseconds',
    thresholds: [{ value: r.pause.target_ms, label: `target: under ${r.pause.target_ms} ms`, color: '#d62728' }],
    missingLabel: 'not seen',
    width: 860,
  });
  const ps = d.per_second;
  const timeline = lineChart({
    title: `Proposal → decision by the second it was offered (${r.load.target_rate_per_s}/s)`,
    subtitle: 'allowed proposals hold their target until the grant is executed; later proposals on it wait',
    series: [
      { name: 'p50 (ms)', x: ps.map((s) => s.second), y: ps.map((s) => s.p50_ms), color: '#1f77b4' },
      { name: 'p99 (ms)', x: ps.map((s) => s.second), y: ps.map((s) => s.p99_ms), color: '#d62728' },
      { name: 'allowed that second', x: ps.map((s) => s.second), y: ps.map((s) => s.allowed), color: '#2ca02c', axis: 'right', step: true },
    ],
    xAxis: { label: 'second of the load', time: false },
    yAxis: { label: 'milliseconds' },
    rightAxis: { label: 'allowed' },
    width: 860,
  });
  return { '': latency, '-pause': pause, '-timeline': timeline };
}

export function report(r: PipelineBenchResult): string {
  const l = (s: { p50_ms: number; p99_ms: number; max_ms: number }) => `p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms, max ${s.max_ms} ms`;
  const f = r.floors;
  return [
    `pipeline with the processes apart (${r.setup.processes.length - 1} processes and the supervisor; ready in ${r.setup.started_in_s} s), twin scenario '${r.setup.scenario}'`,
    `  warm-up, not counted: ${r.warmup.proposals} proposals past the guardrail, ${r.warmup.decided} denied; p50 ${r.warmup.p50_ms} ms, p99 ${r.warmup.p99_ms} ms`,
    `  load: ${r.load.offered} proposals offered at ${r.load.target_rate_per_s}/s for ${r.load.duration_s} s, ${r.load.decided} decided (${r.load.lost} lost), ${r.load.achieved_rate_per_s}/s, the last ${r.load.last_decision_after_last_offer_s} s after the last offer (${r.load.kept_up ? 'kept up' : 'DID NOT keep up'}); verdicts ${JSON.stringify(r.load.verdicts)}; rules ${JSON.stringify(r.load.rules)}`,
    `  proposal → decision (${r.proposal_to_decision.samples}): ${l(r.proposal_to_decision)}`,
    ...Object.entries(r.proposal_to_decision.by_verdict).map(([v, s]) => `    ${v} (${s.samples}): ${l(s)}`),
    `  grant → audited outcome (${r.grant_to_outcome.samples} of ${r.grant_to_outcome.grants} grants, ${JSON.stringify(r.grant_to_outcome.statuses)}): ${r.grant_to_outcome.samples ? l(r.grant_to_outcome) : 'no grant'}`,
    `  floors, same run, same rate: Redis PING ${l(f.redis_ping)} (${f.redis_ping.round_trips}); PostgreSQL INSERT + COMMIT ${l(f.pg_commit)} (${f.pg_commit.commits}, ${f.pg_commit.errors} errors)`,
    `  p99 over the floors: decision ${r.ratios.decision_p99_over_pg_commit_p99}x the commit, ${r.ratios.decision_p99_over_redis_p99}x the PING; outcome ${r.ratios.outcome_p99_over_pg_commit_p99}x the commit, ${r.ratios.outcome_p99_over_redis_p99}x the PING`,
    `  /agents-pause until every process refuses: ${r.pause.all_refusing_ms ?? 'NEVER SEEN'} ms (target under ${r.pause.target_ms} ms: ${r.pause.met ? 'met' : 'NOT met'}); pause epoch in Redis after ${r.pause.pause_epoch_in_redis_ms} ms`,
    ...Object.entries(r.pause.processes).map(([n, p]) => `    ${n}: ${p.refuses_ms ?? 'not seen'} ms (${p.how})`),
    `    a proposal after the command: ${r.pause.probe.verdict ?? 'not decided'}${r.pause.probe.level_1 ? ' at level 1' : ''} in ${r.pause.probe.decided_ms} ms`,
    `  audit log: ${r.audit.records} records, chain ${r.audit.chain_valid ? 'valid' : 'BROKEN'}`,
  ].join('\n');
}
