// `governor bench gateway [--json]`: prints what the gateway sustains on this machine. Progress
// goes to stderr; the numbers go to stdout (one JSON object with --json, a short report with a
// latency chart otherwise).
import { loadConfig } from '../src/config.ts';
import { benchGateway, type GatewayBenchResult } from '../src/bench/gateway-bench.ts';
import { benchTwinDay } from '../src/twin/bench.ts';

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

export async function benchGatewayCommand(opts: { json: boolean; rate: number; duration: number; tenants: number }): Promise<number> {
  const config = loadConfig();
  const result = await benchGateway({
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    ratePerS: opts.rate,
    durationS: opts.duration,
    tenants: opts.tenants,
    onProgress: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) {
    out(JSON.stringify(result, null, 2));
  } else {
    out(report(result));
  }
  return 0;
}

function bar(value: number, max: number, width = 40): string {
  const n = max > 0 ? Math.round((value / max) * width) : 0;
  return '█'.repeat(n) + '·'.repeat(width - n);
}

export function report(r: GatewayBenchResult): string {
  const g = r.gateway;
  const max = Math.max(g.p50_ms, g.p99_ms, g.max_ms, 20);
  return [
    `policy evaluation (Wasm, in-process): ${Math.round(r.policy.evals_per_s)} evals/s, p50 ${r.policy.p50_ms} ms, p99 ${r.policy.p99_ms} ms`,
    `gateway with audit writes (${g.backend}): ${g.proposals} proposals, offered ${g.target_rate_per_s}/s, achieved ${g.achieved_rate_per_s}/s`,
    `  p50 ${bar(g.p50_ms, max)} ${g.p50_ms} ms`,
    `  p99 ${bar(g.p99_ms, max)} ${g.p99_ms} ms`,
    `  max ${bar(g.max_ms, max)} ${g.max_ms} ms`,
    `  target p99 < 20 ms: ${g.p99_ms < 20 ? 'met' : 'NOT met'}; verdicts ${JSON.stringify(g.verdicts)}; audit chain ${g.chain_valid ? 'valid' : 'BROKEN'} (${g.audit_records} records)`,
  ].join('\n');
}
