// `governor bench gateway [--json]`: prints what the gateway sustains on this machine. Progress
// goes to stderr; the numbers go to stdout (one JSON object with --json, a short report with a
// latency chart otherwise).
import { loadConfig } from '../src/config.ts';
import { benchGateway, type GatewayBenchResult } from '../src/bench/gateway-bench.ts';
import { openPolicyPublicKey } from '../src/policy/bundle-signature.ts';
import { benchTwinDay } from '../src/twin/bench.ts';
import { writeBenchOutputs } from '../src/bench/bench-output.ts';
import { barChart } from '../src/charts/render-png.ts';

/** `governor bench twin`: a pods-per-hour chart on stderr as the day runs, the figures on stdout. */
export function benchTwinCommand(opts: { json: boolean }): number {
  const result = benchTwinDay({
    onHour: (hour, pods) => process.stderr.write(`bench: ${String(hour).padStart(2, '0')}:00 ${bar(pods, 80, 40)} ${pods} pods\n`),
  });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) out(JSON.stringify(result, null, 2));
  else out(`simulated ${result.simulated_s} s in ${result.wall_s} s of wall time (${result.steps} steps, up to ${result.pods} pods); target under 60 s: ${result.wall_s < 60 ? 'met' : 'NOT met'}`);
  return 0;
}

export async function benchGatewayCommand(opts: { json: boolean; rate: number; duration: number; tenants: number; out?: string }): Promise<number> {
  const config = loadConfig();
  const result = await benchGateway({
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    policyPublicKey: openPolicyPublicKey(config.policyPublicKeyFile).key,
    ratePerS: opts.rate,
    durationS: opts.duration,
    tenants: opts.tenants,
    onProgress: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  if (opts.out) {
    const written = writeBenchOutputs(opts.out, 'gateway', result, { '': chartOf(result) });
    process.stderr.write(`bench: wrote ${written.join(', ')}\n`);
  }
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) {
    out(JSON.stringify(result, null, 2));
  } else {
    out(report(result));
  }
  return 0;
}

/** The decision beside the floors of the same run: p50 and p99 of each. */
export function chartOf(r: GatewayBenchResult): Buffer {
  const g = r.gateway;
  return barChart({
    title: `Gateway decision vs a bare INSERT + COMMIT at ${g.target_rate_per_s}/s, ${g.backend} (p99: ${r.ratio.p99}x the floor)`,
    categories: ['decision durable', 'floor beside the load', 'floor alone'],
    series: [
      { name: 'p50 (ms)', values: [g.decision.p50_ms, r.floor.beside.p50_ms, r.floor.alone.p50_ms], color: '#1f77b4' },
      { name: 'p99 (ms)', values: [g.decision.p99_ms, r.floor.beside.p99_ms, r.floor.alone.p99_ms], color: '#d62728' },
    ],
    yLabel: 'milliseconds',
    thresholds: [{ value: r.ratio.target_p99 * r.floor.beside.p99_ms, label: `${r.ratio.target_p99}x the floor's p99`, color: '#d62728' }],
    width: 860,
  });
}

function bar(value: number, max: number, width = 40): string {
  const n = max > 0 ? Math.min(width, Math.max(0, Math.round((value / max) * width))) : 0;
  return '█'.repeat(n) + '·'.repeat(width - n);
}

export function report(r: GatewayBenchResult): string {
  const g = r.gateway;
  const max = Math.max(g.p99_ms, g.decision.p99_ms, r.floor.beside.p99_ms, r.floor.alone.p99_ms, ...Object.values(g.by_verdict).map((l) => l.p99_ms), 20);
  const row = (label: string, l: { p50_ms: number; p99_ms: number }) =>
    [`  ${label}`, `    p50 ${bar(l.p50_ms, max)} ${l.p50_ms} ms`, `    p99 ${bar(l.p99_ms, max)} ${l.p99_ms} ms`];
  return [
    `policy evaluation (Wasm, in-process): ${Math.round(r.policy.evals_per_s)} evals/s, p50 ${r.policy.p50_ms} ms, p99 ${r.policy.p99_ms} ms (target p99 < 1 ms: ${r.policy.p99_ms < 1 ? 'met' : 'NOT met'})`,
    `gateway with audit writes (${g.backend}): ${g.proposals} proposals, offered ${g.target_rate_per_s}/s, achieved ${g.achieved_rate_per_s}/s; verdicts ${JSON.stringify(g.verdicts)}`,
    ...row('decision durable (policy input from the log, evaluation, decision and grant committed)', g.decision),
    ...row('whole call (require_approval also asks the approval channel and records it: a second commit)', g),
    ...Object.entries(g.by_verdict).flatMap(([v, l]) => row(`whole call, ${v}`, l)),
    `  target p99 < 20 ms for the decision with its audit write: ${g.decision.p99_ms < 20 ? 'met' : 'NOT met'} (${g.decision.p99_ms} ms); audit chain ${g.chain_valid ? 'valid' : 'BROKEN'} (${g.audit_records} records)`,
    `floor, same run, same database, same rate: a bare single-row INSERT + COMMIT (${r.floor.sql})`,
    ...row(`beside the gateway's load (${r.floor.beside.commits} commits, ${r.floor.beside.errors} errors)`, r.floor.beside),
    ...row(`alone, just before it (${r.floor.alone.commits} commits, ${r.floor.alone.errors} errors)`, r.floor.alone),
    ...[r.floor.beside, r.floor.alone].flatMap((f) => (f.first_error ? [`  a floor commit failed: ${f.first_error}`] : [])),
    `  decision over floor: p50 ${r.ratio.p50}x, p99 ${r.ratio.p99}x (over the floor alone: ${r.ratio.p99_vs_alone}x); target p99 at most ${r.ratio.target_p99}x: ${r.ratio.met ? 'met' : 'NOT met'}`,
  ].join('\n');
}
