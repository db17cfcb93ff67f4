// The real request-rate traces that drive the cluster twin's load (DESIGN §7), read from
// ../shared/data/traces next to the repository: which files there are, where they come from and
// under which terms, and how their CSV becomes a Trace (load-shapes.ts). This is the twin's only
// file I/O; the twin itself only ever sees the parsed Trace.
//
// The files and their terms (the notices travel with the data; keep them with any copy):
// - worldcup98/worldcup98_requests_per_minute.csv — requests per minute to the 1998 World Cup web
//   site, 1998-04-30 21:30Z to 1998-07-26 21:59Z, `timestamp_utc,requests`. Re-aggregated from the
//   public repository nimamahmoudi/worldcup98-dataset (MIT, worldcup98/LICENSE.repo-MIT.txt); the
//   underlying Internet Traffic Archive logs may be redistributed freely with their copyright notice
//   unmodified (worldcup98/WorldCup.html). Cite M. Arlitt and T. Jin, "Workload Characterization of
//   the 1998 World Cup Web Site", HP Labs, 1999.
// - web_hourly/{bu,calgary,clarknet1,clarknet2,madrid,saskatchewan}_resample_1h.csv — requests per
//   hour to six web sites, `Datetime,<value>`, timestamps without a zone (read as UTC). From the
//   public repository workloadPatterns/characterizing_workload_patterns (MIT,
//   web_hourly/LICENSE.repo-MIT.txt); the underlying logs are Internet Traffic Archive and municipal
//   traces.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Trace } from './load-shapes.ts';

export interface TraceFile {
  file: string;
  stepMs: number;
  licence: string;
  source: string;
}

const WEB_HOURLY_SOURCE = 'workloadPatterns/characterizing_workload_patterns (Internet Traffic Archive and municipal traces)';
const hourly = (site: string): TraceFile => ({
  file: `web_hourly/${site}_resample_1h.csv`,
  stepMs: 3_600_000,
  licence: 'web_hourly/LICENSE.repo-MIT.txt',
  source: WEB_HOURLY_SOURCE,
});

export const TRACE_FILES = {
  worldcup98: {
    file: 'worldcup98/worldcup98_requests_per_minute.csv',
    stepMs: 60_000,
    licence: 'worldcup98/LICENSE.repo-MIT.txt, worldcup98/WorldCup.html',
    source: 'nimamahmoudi/worldcup98-dataset (Internet Traffic Archive; M. Arlitt and T. Jin, HP Labs, 1999)',
  },
  bu: hourly('bu'),
  calgary: hourly('calgary'),
  clarknet1: hourly('clarknet1'),
  clarknet2: hourly('clarknet2'),
  madrid: hourly('madrid'),
  saskatchewan: hourly('saskatchewan'),
} as const satisfies Record<string, TraceFile>;

export type TraceName = keyof typeof TRACE_FILES;

/** ../shared/data/traces beside the repository root. */
export function defaultTracesDir(): string {
  return fileURLToPath(new URL('../../../shared/data/traces/', import.meta.url));
}

export class TraceFormatError extends Error {}

function parseTime(s: string, line: number): number {
  const text = s.trim();
  // "1994-11-21 15:00:00" carries no zone: read as UTC, like the ISO ones that say Z.
  const iso = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(text) ? `${text.replace(' ', 'T')}Z` : text;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new TraceFormatError(`line ${line}: cannot read the timestamp ${JSON.stringify(s)}`);
  return ms;
}

/**
 * A `timestamp,value` CSV (a header line first) on a regular grid of `stepMs`. Missing steps are
 * filled by linear interpolation; timestamps must increase and values be non-negative numbers.
 */
export function parseTraceCsv(text: string, opts: { name: string; stepMs: number }): Trace {
  const lines = text.split(/\r?\n/);
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '') continue;
    const comma = l.indexOf(',');
    if (comma < 0) throw new TraceFormatError(`line ${i + 1}: expected "timestamp,value"`);
    const t = parseTime(l.slice(0, comma), i + 1);
    const v = Number(l.slice(comma + 1));
    if (!Number.isFinite(v) || v < 0) throw new TraceFormatError(`line ${i + 1}: ${JSON.stringify(l.slice(comma + 1))} is not a request count`);
    if (times.length > 0 && t <= times[times.length - 1]!) throw new TraceFormatError(`line ${i + 1}: timestamps must increase`);
    times.push(t);
    values.push(v);
  }
  if (times.length === 0) throw new TraceFormatError('the trace has no samples');
  const start = times[0]!;
  const n = Math.round((times[times.length - 1]! - start) / opts.stepMs) + 1;
  const counts = new Float64Array(n);
  let prev = 0;
  for (let k = 0; k < times.length; k++) {
    const i = Math.round((times[k]! - start) / opts.stepMs);
    counts[i] = values[k]!;
    // Fill a gap since the previous sample linearly.
    if (k > 0) {
      const j = Math.round((times[k - 1]! - start) / opts.stepMs);
      for (let g = j + 1; g < i; g++) counts[g] = prev + ((values[k]! - prev) * (g - j)) / (i - j);
    }
    prev = values[k]!;
  }
  return { name: opts.name, startMs: start, stepMs: opts.stepMs, counts };
}

const cache = new Map<string, Trace>();

/** Reads and parses one of the known traces (cached per file). */
export function loadTrace(name: TraceName, dir: string = defaultTracesDir()): Trace {
  const spec: TraceFile = TRACE_FILES[name];
  const path = join(dir, spec.file);
  let t = cache.get(path);
  if (!t) {
    t = parseTraceCsv(readFileSync(path, 'utf8'), { name, stepMs: spec.stepMs });
    cache.set(path, t);
  }
  return t;
}
