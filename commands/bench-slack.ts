// `governor bench slack [--json]`: acknowledgement latency of signed Slack interactions through the
// real app at a fixed rate, with the floor (a bare HTTP round trip) measured in the same run.
// Progress goes to stderr; the numbers to stdout (one JSON object with --json). Exit 1 when the p99
// target (100 ms) is missed or a request failed.
import { loadConfig } from '../src/config.ts';
import { benchSlack } from '../src/bench/slack-bench.ts';

export async function benchSlackCommand(opts: { json: boolean; rate: number; duration: number }): Promise<number> {
  const config = loadConfig();
  const r = await benchSlack({
    ratePerS: opts.rate,
    durationS: opts.duration,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    onProgress: (line) => process.stderr.write(`bench: ${line}\n`),
  });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) out(JSON.stringify(r, null, 2));
  else {
    out(`slack acknowledgements: ${r.ack.requests} signed clicks at ${r.rate_per_s}/s for ${r.duration_s} s (${r.backend})`);
    out(`  app:   p50 ${r.ack.p50_ms} ms  p99 ${r.ack.p99_ms} ms  max ${r.ack.max_ms} ms  errors ${r.ack.errors}`);
    out(`  floor: p50 ${r.floor.p50_ms} ms  p99 ${r.floor.p99_ms} ms  max ${r.floor.max_ms} ms  (bare HTTP round trip)`);
    out(`  after the ack: ${r.after_ack.refusals_recorded} refusals recorded, ${r.after_ack.ephemerals_posted} ephemerals posted`);
    out(`target p99 < ${r.target_p99_ms} ms: ${r.met ? 'met' : 'NOT met'}`);
  }
  return r.met ? 0 : 1;
}
