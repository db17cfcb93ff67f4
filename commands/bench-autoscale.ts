// `governor bench autoscale --trace CSV [--json] [--out DIR]` (DESIGN §8): Governor vs the Kubernetes
// HPA vs static peak provisioning on one `timestamp,count` trace, beside the clairvoyant oracle's bound; progress on stderr as the simulated
// weeks pass, the figures on stdout (one JSON object with --json), and `<out>/autoscale.json` with
// `<out>/autoscale.png` (the whole trace, and its busiest day, with each policy's replicas and SLO
// breaches) side by side. Exit 0 whatever the figures (a benchmark reports); 2 for a trace it cannot read.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { GovernorError } from '../src/core/errors.ts';
import { writeBenchOutputs } from '../src/bench/bench-output.ts';
import { benchAutoscale, type AutoscaleBenchResult, type AutoscaleSeries } from '../src/bench/autoscale/autoscale-bench.ts';
import { chartGrid } from '../src/charts/render-png.ts';
import type { ChartBand, LineChartSpec } from '../src/charts/line-chart.ts';
import { parseTraceCsv, TraceFormatError } from '../src/twin/traces.ts';
import type { Trace } from '../src/twin/load-shapes.ts';
import type { ServiceKind } from '../src/bench/autoscale/service-model.ts';

const COLORS: Record<string, string> = { governor: '#2ca02c', hpa: '#d62728', static: '#1f77b4', oracle: '#111111' };

/** Any `timestamp,count` CSV with a header line, on the regular step its first two rows show. */
export function readTrace(path: string): Trace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GovernorError('config_invalid', `cannot read the trace ${path}: ${(err as Error).message}`);
  }
  const rows = text.split(/\r?\n/).slice(1, 3).filter((l) => l.includes(','));
  const times = rows.map((l) => Date.parse(/^\d{4}-\d{2}-\d{2} \d/.test(l) ? `${l.slice(0, l.indexOf(',')).replace(' ', 'T')}Z` : l.slice(0, l.indexOf(','))));
  const stepMs = times.length === 2 && times[1]! > times[0]! ? times[1]! - times[0]! : 60_000;
  try {
    return parseTraceCsv(text, { name: basename(path).replace(/\.csv$/, ''), stepMs });
  } catch (err) {
    if (err instanceof TraceFormatError) throw new GovernorError('config_invalid', `the trace ${path} is not a timestamp,count CSV: ${err.message}`);
    throw err;
  }
}

export function benchAutoscaleCommand(opts: { trace: string; json: boolean; out: string; peakRps?: number; hpaCpuTarget?: number; forecast: boolean; service?: ServiceKind }): number {
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const trace = readTrace(opts.trace);
  const { result, series } = benchAutoscale({
    trace,
    ...(opts.peakRps !== undefined ? { peakRps: opts.peakRps } : {}),
    ...(opts.hpaCpuTarget !== undefined ? { hpaCpuTargetPct: opts.hpaCpuTarget } : {}),
    forecast: opts.forecast,
    ...(opts.service ? { service: opts.service } : {}),
    onProgress: progress,
  });
  const written = writeBenchOutputs(opts.out, 'autoscale', result, { '': chartGrid(chartsOf(result, series), 1) });
  progress(`wrote ${written.join(', ')}`);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) out(JSON.stringify(result, null, 2));
  else out(report(result));
  return 0;
}

/** Breaches closer than `gapMs` drawn as one band, so a month of them stays legible. */
function merged(breaches: readonly [number, number][], gapMs: number, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [a, b] of breaches) {
    if (b <= from || a >= to) continue;
    const last = out.at(-1);
    if (last && a - last[1] <= gapMs) last[1] = Math.max(last[1], b);
    else out.push([Math.max(a, from), Math.min(b, to)]);
  }
  return out;
}

export function chartsOf(r: AutoscaleBenchResult, s: AutoscaleSeries): LineChartSpec[] {
  const busiest = s.x[s.rps.indexOf(Math.max(...s.rps))] ?? s.x[0]!;
  const windows = [
    { from: s.x[0]!, to: s.x.at(-1)!, gap: 60 * 60_000, title: `${r.trace.name}: the whole trace` },
    { from: busiest - 12 * 3_600_000, to: busiest + 12 * 3_600_000, gap: 60_000, title: `${r.trace.name}: the busiest day` },
  ];
  return windows.map((w) => {
    const idx = s.x.flatMap((x, i) => (x >= w.from && x <= w.to ? [i] : []));
    const x = idx.map((i) => s.x[i]!);
    const bands: ChartBand[] = Object.entries(s.breaches).flatMap(([policy, b]) =>
      merged(b, w.gap, w.from, w.to).map(([from, to]) => ({ from, to, color: COLORS[policy] ?? '#999' })),
    );
    const p = (name: string) => (r as unknown as Record<string, { replica_hours: number; slo_violation_minutes: number }>)[name]!;
    return {
      title: w.title,
      subtitle: `replicas per policy (left; in the legend its replica-hours and minutes over the SLO), offered requests/s (right, grey); shaded: p99 over the ${r.service.slo_p99_ms} ms SLO, in the policy's colour; oracle: the clairvoyant bound`,
      width: 1200,
      height: 360,
      series: [
        { name: 'offered requests/s', x, y: idx.map((i) => s.rps[i]!), color: '#9a9a9a', axis: 'right' as const, width: 1 },
        ...Object.entries(s.replicas).map(([policy, ys]) => ({
          name: `${policy} ${p(policy).replica_hours} h, ${p(policy).slo_violation_minutes} min`,
          x,
          y: idx.map((i) => ys[i]!),
          color: COLORS[policy] ?? '#333',
          step: true,
          width: 1.3,
        })),
      ],
      bands,
      yAxis: { label: 'replicas', min: 0 },
      rightAxis: { label: 'requests/s', min: 0 },
    };
  });
}

export function report(r: AutoscaleBenchResult): string {
  const row = (name: string, p: { replica_hours: number; slo_violation_minutes: number; scaling_actions: number; peak_replicas: number; shed_ratio: number }, note: string) =>
    `${name.padEnd(10)} ${String(p.replica_hours).padStart(12)} ${String(p.slo_violation_minutes).padStart(16)} ${String(p.scaling_actions).padStart(9)} ${String(p.peak_replicas).padStart(6)} ${(p.shed_ratio * 100).toFixed(3).padStart(7)}%  ${note}`;
  const g = r.governor_vs_hpa;
  return [
    `trace ${r.trace.name}: ${r.trace.start} to ${r.trace.end}, ${r.trace.minutes} min, peak ${r.trace.peak_rps} requests/s, mean ${r.trace.mean_rps} (x${r.trace.scale} the recorded rate)`,
    `service: ${r.service.kind === 'jvm' ? "the twin's JVM service" : "the twin's service without a JVM"} (${r.service.cpu_request_millicores}m requested, ${r.service.cpu_limit_millicores}m limit, ready ${r.service.startup_s} s after creation), SLO p99 ${r.service.slo_p99_ms} ms, ${r.service.min_replicas}–${r.service.max_replicas} replicas`,
    `policy     replica-hours  SLO-violation min  scalings   peak     shed`,
    row('governor', r.governor, r.governor.forecast ? 'Elastik sizing + Strategist forecast, level-3 steps, 300 s cooldown' : 'Elastik sizing, trend only'),
    row('hpa', r.hpa, `CPU ${r.hpa.cpu_target_pct}% of requests, default behaviour, 15 s sync`),
    row('static', r.static, `${r.static.replicas} replicas: the peak at the HPA's target`),
    row('oracle', r.oracle, `clairvoyant bound: the fewest replicas within the SLO (${r.oracle.pod_rps} requests/s a pod), no guardrails`),
    `governor vs hpa: replica-hours ${g.replica_hours}x (target at most ${r.targets.replica_hours_at_most}x), SLO-violation minutes ${g.slo_violation_minutes !== null ? `${g.slo_violation_minutes}x` : `— (${g.note})`} (target at most ${r.targets.slo_violation_minutes_at_most}x): ${r.targets.met ? 'met' : 'NOT met'}`,
    `oracle vs hpa: replica-hours ${r.oracle_vs_hpa.replica_hours}x, SLO-violation minutes ${r.oracle_vs_hpa.slo_violation_minutes !== null ? `${r.oracle_vs_hpa.slo_violation_minutes}x` : '—'}; ` +
      `relaxed bound (no start-up, no noise): ${r.oracle_vs_hpa.relaxed_within_slo.replica_hours} replica-hours (${r.oracle_vs_hpa.relaxed_within_slo.vs_hpa}x) within the SLO, ` +
      `${r.oracle_vs_hpa.relaxed_at_slo_budget.replica_hours} (${r.oracle_vs_hpa.relaxed_at_slo_budget.vs_hpa}x) with ${r.oracle_vs_hpa.relaxed_at_slo_budget.budget_minutes} min over it allowed (half the HPA's)`,
  ].join('\n');
}
