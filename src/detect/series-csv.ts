// Reads one `timestamp,value` series from CSV text: what `governor detect` takes and what the
// benchmarks load. A header line is required (its names are free: `timestamp,value`,
// `Datetime,Value`, …). Timestamps are ISO 8601, `YYYY-MM-DD HH:MM:SS[.ffffff]` (taken as UTC, as
// NAB and the traces write them) or epoch seconds. It never guesses past a bad line: a missing
// header, a value that is not a number or a timestamp that does not move forward is refused with
// the line's number, because a detector fed a silently repaired series answers a different question.
// A repeated timestamp is kept (two NAB files repeat an hour where a clock went back for daylight
// saving, and NAB scores them as they are); going backwards is refused.
import { GovernorError } from '../core/errors.ts';

export interface Series {
  /** Epoch milliseconds, never decreasing. */
  timestamps: Float64Array;
  values: Float64Array;
  /** The header's two names, as written. */
  header: [string, string];
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const EPOCH_S = /^\d{9,10}(\.\d+)?$/;

/** Epoch ms of one timestamp field, or NaN when it is not one of the accepted forms. */
export function parseTimestamp(field: string): number {
  const s = field.trim();
  if (EPOCH_S.test(s)) return Number(s) * 1000;
  const m = DATE_TIME.exec(s);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, sec ? +sec : 0) + (frac ? Math.round(Number(frac) * 1000) : 0);
  if (!zone || zone === 'Z') return ms;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return ms - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

function invalid(source: string, line: number, why: string): GovernorError {
  return new GovernorError('input_invalid', `${source} line ${line}: ${why}`, { details: { source, line } });
}

export function parseSeriesCsv(text: string, source = 'input'): Series {
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) throw new GovernorError('input_invalid', `${source} is empty: expected a header line (timestamp,value) and at least one row`);
  const head = lines[0]!.replace(/^\uFEFF/, '').split(',');
  if (head.length < 2 || Number.isFinite(parseTimestamp(head[0]!))) {
    throw invalid(source, 1, `expected a header line such as "timestamp,value", found "${lines[0]}"`);
  }
  const n = lines.length - 1;
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  let rows = 0;
  for (let i = 1; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    if (raw.trim() === '') throw invalid(source, lineNo, 'empty line inside the series');
    const comma = raw.indexOf(',');
    if (comma < 0) throw invalid(source, lineNo, `expected "timestamp,value", found "${raw}"`);
    const t = parseTimestamp(raw.slice(0, comma));
    if (!Number.isFinite(t)) throw invalid(source, lineNo, `"${raw.slice(0, comma)}" is not a timestamp (ISO 8601, "YYYY-MM-DD HH:MM:SS" or epoch seconds)`);
    const field = raw.slice(comma + 1).split(',')[0]!.trim();
    const v = field === '' ? NaN : Number(field);
    if (!Number.isFinite(v)) throw invalid(source, lineNo, `value "${field}" is not a number`);
    if (rows > 0 && t < timestamps[rows - 1]!) {
      throw invalid(source, lineNo, `timestamp ${raw.slice(0, comma)} is before the previous row's: rows must be sorted by time`);
    }
    timestamps[rows] = t;
    values[rows] = v;
    rows++;
  }
  if (rows === 0) throw invalid(source, 2, 'no rows after the header');
  return { timestamps, values, header: [head[0]!.trim(), head[1]!.trim()] };
}
