// `governor detect --input CSV [--output CSV]`: Watchtower's streaming detector over one
// `timestamp,value` series (DESIGN §5), with its defaults and nothing tuned to the file. Writes
// `timestamp,value,anomaly_score,label` (score in [0, 1], label 0/1) to the output file or stdout.
// Exit codes: 0 written; 2 the input is unreadable or not a series (the message names the line).
import { readFileSync, writeFileSync } from 'node:fs';
import { GovernorError, describeError } from '../src/core/errors.ts';
import { DEFAULT_DETECTOR_OPTIONS, scoreSeries } from '../src/detect/anomaly-detector.ts';
import { parseSeriesCsv } from '../src/detect/series-csv.ts';

export function detect(opts: { input: string; output?: string }, out: (s: string) => void, err: (s: string) => void): number {
  let text: string;
  try {
    text = readFileSync(opts.input, 'utf8');
  } catch (e) {
    err(`governor detect: cannot read ${opts.input}: ${describeError(e)}`);
    return 2;
  }
  let series;
  try {
    series = parseSeriesCsv(text, opts.input);
  } catch (e) {
    if (e instanceof GovernorError && e.code === 'input_invalid') {
      err(`governor detect: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const scores = scoreSeries(series.timestamps, series.values);
  // Timestamps and values are written back as they were read, so the output lines up with the input.
  const rows = text.split(/\r?\n/).slice(1, 1 + series.values.length).map((l) => l.split(','));
  const lines = ['timestamp,value,anomaly_score,label'];
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!;
    lines.push(`${rows[i]![0]!.trim()},${rows[i]![1]!.trim()},${Math.round(s * 1e6) / 1e6},${s >= DEFAULT_DETECTOR_OPTIONS.labelAt ? 1 : 0}`);
  }
  const csv = `${lines.join('\n')}\n`;
  if (opts.output) writeFileSync(opts.output, csv);
  else out(csv.trimEnd());
  return 0;
}
