// Latency summaries the benchmarks print: p50, p99 and max of a set of samples in milliseconds,
// nearest-rank, rounded to the microsecond; and the open-loop pacing the floors share.

export interface LatencySummary {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export function summarise(latencies: number[]): LatencySummary {
  const s = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0);
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { p50_ms: r(at(0.5)), p99_ms: r(at(0.99)), max_ms: r(s.at(-1) ?? 0) };
}

/**
 * Calls `once` at `ratePerS` for `durationS`, open loop (an arrival never waits for earlier ones),
 * and collects what each call measured (ms); a call that throws counts as an error.
 */
export async function openLoop(ratePerS: number, durationS: number, once: () => Promise<number>): Promise<{ latencies: number[]; errors: number }> {
  const total = Math.round(ratePerS * durationS);
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * ratePerS) + 1);
    for (; sent < due; sent++) {
      inflight.push(
        once().then(
          (ms) => void latencies.push(ms),
          () => void errors++,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  return { latencies, errors };
}
