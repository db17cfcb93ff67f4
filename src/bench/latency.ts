// Latency summaries the benchmarks print: p50, p99 and max of a set of samples in milliseconds,
// nearest-rank, rounded to the microsecond. Pure.

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
