// `governor bench detect [--json] [--out DIR]`: the NAB score of Watchtower's detector on the
// subset in ../shared/data/nab, with precision, recall, delay and throughput. Progress on stderr,
// the figures on stdout, the JSON and the charts (a few representative series, and every series)
// in DIR.
import { chartGrid } from '../src/charts/render-png.ts';
import { writeBenchOutputs } from '../src/bench/bench-output.ts';
import { benchDetect, type DetectBenchResult } from '../src/bench/detect-bench.ts';
import { detectChart, REPRESENTATIVE } from '../src/bench/detect-charts.ts';
import { loadNabCorpus } from '../src/bench/nab-corpus.ts';

export function benchDetectCommand(opts: { json: boolean; out: string; nabDir?: string; profile?: string }): number {
  const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
  const corpus = loadNabCorpus(opts.nabDir);
  const { result, scores } = benchDetect(corpus, { ...(opts.profile ? { profile: opts.profile } : {}), onProgress: progress });
  progress('charts: rendering');
  const threshold = result.nab.threshold;
  const chart = (i: number, size: { width: number; height: number }) => detectChart(corpus.series[i]!, scores[i]!, threshold, size);
  const picked = REPRESENTATIVE.map((n) => corpus.series.findIndex((s) => s.name === n)).filter((i) => i >= 0);
  const written = writeBenchOutputs(opts.out, 'detect', result, {
    '': chartGrid(picked.map((i) => chart(i, { width: 760, height: 250 })), 2),
    '-all': chartGrid(corpus.series.map((_, i) => chart(i, { width: 620, height: 210 })), 4),
  });
  progress(`wrote ${written.join(', ')}`);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (opts.json) out(JSON.stringify(result, null, 2));
  else out(report(result));
  return 0;
}

export function report(r: DetectBenchResult): string {
  const best = Math.max(...Object.values(r.published));
  const q = r.quality;
  return [
    `NAB ${r.profile} profile over ${r.series} series (${r.samples} samples): ${r.nab.normalised} (threshold ${r.nab.threshold.toFixed(4)} optimised over the subset; at the detector's own label threshold ${r.at_label_threshold.threshold}: ${r.at_label_threshold.normalised})`,
    `  windows found ${q.windows_detected}/${q.windows} (recall ${q.recall}), precision ${q.precision} (${r.nab.counts.tp} detections in windows, ${r.nab.counts.fp} outside), mean delay from the labelled anomaly ${q.mean_delay_min} min`,
    `  published on this subset: ${Object.entries(r.published).map(([k, v]) => `${k} ${v}`).join(', ')}; above every one: ${r.nab.normalised > best ? 'yes' : 'NO'}`,
    `  throughput ${r.throughput.samples_per_s.toLocaleString('en-US')} samples/s on one core (target 1,000,000: ${r.throughput.samples_per_s >= 1_000_000 ? 'met' : 'NOT met'})`,
  ].join('\n');
}
