// `governor bench forecast [--json] [--out DIR]`: Strategist's forecast error against the
// seasonal-naive forecast on every hourly web trace, printed per trace (MASE and sMAPE), with a
// chart of the last fortnight's day-ahead forecasts against what happened.
import { chartGrid } from '../src/charts/render-png.ts';
import { writeBenchOutputs } from '../src/bench/bench-output.ts';
import { benchForecast, dayAheadPath, type ForecastBenchResult } from '../src/bench/forecast-bench.ts';
import { loadTrace, type TraceName } from '../src/twin/traces.ts';

export const HOURLY_TRACES: TraceName[] = ['bu', 'calgary', 'clarknet1', 'clarknet2', 'madrid', 'saskatchewan'];

export function benchForecastCommand(opts: { json: boolean; out: string }): number {
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const traces = HOURLY_TRACES.map((name) => {
    progress(`forecast: ${name}`);
    return loadTrace(name);
  });
  const result = benchForecast(traces);
  const charts = traces.map((t) => {
    const p = dayAheadPath(t, 14);
    const x = Array.from({ length: p.actual.length }, (_, i) => t.startMs + (p.from + i) * t.stepMs);
    return {
      title: `${t.name}: day-ahead forecasts from each midnight`,
      subtitle: 'requests per hour; each day forecast from the history before it',
      width: 760,
      height: 260,
      series: [
        { name: 'actual', x, y: p.actual, color: '#222222', width: 1.5 },
        { name: 'Strategist forecast', x, y: p.model, color: '#1f77b4', width: 1.5 },
        { name: 'seasonal naive (same hour yesterday)', x, y: p.naive, color: '#ff7f0e', width: 1, dash: '4 3' },
      ],
    };
  });
  const written = writeBenchOutputs(opts.out, 'forecast', result, { '': chartGrid(charts, 2) });
  progress(`wrote ${written.join(', ')}`);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) out(JSON.stringify(result, null, 2));
  else out(report(result));
  return 0;
}

export function report(r: ForecastBenchResult): string {
  const lines = ['trace          horizon  origins  model MASE / sMAPE   naive daily MASE / sMAPE   [week of history: model vs naive weekly MASE]  beats naive'];
  for (const t of r.traces) {
    for (const h of t.horizons) {
      const w = h.weekly ? `${h.weekly.model.mase} vs ${h.weekly.naive_weekly.mase} (${h.weekly.origins} origins)` : 'no origin with a week of history';
      lines.push(
        `${t.trace.padEnd(14)} ${String(h.horizon_h).padStart(4)} h  ${String(h.origins).padStart(7)}  ${`${h.model.mase} / ${h.model.smape_pct}%`.padEnd(20)} ${`${h.naive_daily.mase} / ${h.naive_daily.smape_pct}%`.padEnd(26)} ${w.padEnd(46)} ${h.beats_naive ? 'yes' : 'NO'}`,
      );
    }
  }
  lines.push(`below seasonal naive on every hourly trace: ${r.all_beat_naive ? 'met' : 'NOT met'}`);
  lines.push('', 'first week (7-day windows of the longer traces, each as if it were the whole trace; day-ahead from days 3 to 6):');
  lines.push('trace          windows  model MASE  naive daily MASE  windows below naive');
  for (const t of r.traces) {
    const w = t.first_week;
    if (w) lines.push(`${t.trace.padEnd(14)} ${String(w.windows).padStart(7)}  ${String(w.model_mase).padEnd(10)}  ${String(w.naive_daily_mase).padEnd(16)}  ${w.windows_below_naive_pct}%`);
  }
  return lines.join('\n');
}
