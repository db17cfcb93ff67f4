// The NAB development subset in ../shared/data/nab (DESIGN §7): every data file with its labelled
// windows and anomaly timestamps, and the scoring profiles. This is the detector benchmark's only
// file I/O; the scorer and the detector only see what it returns. A window or label that does not
// fall on one of its file's timestamps is refused, since NAB would silently never enter it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSeriesCsv, parseTimestamp } from '../detect/series-csv.ts';
import type { CostMatrix, LabelledSeries } from './nab-scorer.ts';

export interface NabSeries extends LabelledSeries {
  /** `category/file.csv`, as NAB names it. */
  name: string;
  timestamps: Float64Array;
  values: Float64Array;
  /** The labelled anomaly instants (each window is centred on one or more of them). */
  anomalies: number[];
}

export interface NabCorpus {
  series: NabSeries[];
  profiles: Record<string, CostMatrix>;
}

/** ../shared/data/nab beside the repository root. */
export function defaultNabDir(): string {
  return fileURLToPath(new URL('../../../shared/data/nab/', import.meta.url));
}

export function loadNabCorpus(dir: string = defaultNabDir()): NabCorpus {
  const windows = JSON.parse(readFileSync(join(dir, 'labels', 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const labels = JSON.parse(readFileSync(join(dir, 'labels', 'combined_labels.json'), 'utf8')) as Record<string, string[]>;
  const profilesFile = JSON.parse(readFileSync(join(dir, 'config', 'profiles.json'), 'utf8')) as Record<string, { CostMatrix: CostMatrix }>;
  const series: NabSeries[] = [];
  for (const category of readdirSync(join(dir, 'data')).sort()) {
    for (const file of readdirSync(join(dir, 'data', category)).sort()) {
      if (!file.endsWith('.csv')) continue;
      const name = `${category}/${file}`;
      const { timestamps, values } = parseSeriesCsv(readFileSync(join(dir, 'data', category, file), 'utf8'), name);
      const w = (windows[name] ?? []).map(([a, b]) => [parseTimestamp(a), parseTimestamp(b)] as const);
      const anomalies = (labels[name] ?? []).map(parseTimestamp);
      const known = new Set(timestamps);
      for (const t of [...w.flat(), ...anomalies]) {
        if (!known.has(t)) throw new Error(`${name}: labelled instant ${new Date(t).toISOString()} is not a timestamp of the file`);
      }
      series.push({ name, timestamps, values, windows: w, anomalies });
    }
  }
  const profiles = Object.fromEntries(Object.entries(profilesFile).map(([k, v]) => [k, v.CostMatrix]));
  return { series, profiles };
}
