// Evaluates the twin's PromQL subset over a SeriesStore with Prometheus's semantics: instant
// selectors look back 5 minutes (and respect staleness), ranges are left-open (t - range, t] as in
// Prometheus 3, rate/increase/delta extrapolate exactly as Prometheus's extrapolatedRate does,
// functions and arithmetic drop the metric name, comparisons without `bool` filter. A range query is
// the instant evaluation at start, start + step, … ≤ end. Pure: the store and the times are inputs.
import {
  METRIC_NAME,
  compareLabels,
  labelsKey,
  onlyLabels,
  withoutLabels,
  type Labels,
} from './labels.ts';
import { PromQLError } from './promql-error.ts';
import {
  isComparison,
  isSetOp,
  parsePromQL,
  typeOf,
  type Aggregate,
  type Binary,
  type BinaryOp,
  type Call,
  type Expr,
  type MatrixSelector,
  type VectorSelector,
} from './promql-parser.ts';
import { LOOKBACK_MS, type SeriesRef, type SeriesStore } from './series-store.ts';

export interface VectorSample {
  labels: Labels;
  value: number;
}

export interface SeriesPoints {
  labels: Labels;
  /** Milliseconds. */
  ts: number[];
  vs: number[];
}

export type QueryValue =
  | { type: 'scalar'; value: number }
  | { type: 'vector'; samples: VectorSample[] }
  | { type: 'matrix'; series: SeriesPoints[] };

export interface EngineOptions {
  /** How far back an instant selector looks for a sample. Default 5 min, as Prometheus. */
  lookbackMs?: number;
  /** Most points a range query may return per series. Default 11,000, as Prometheus. */
  maxPointsPerSeries?: number;
}

type Value = { type: 'scalar'; value: number } | { type: 'vector'; samples: VectorSample[] };

export class PromQLEngine {
  private readonly lookbackMs: number;
  private readonly maxPoints: number;

  constructor(
    private readonly store: SeriesStore,
    opts: EngineOptions = {},
  ) {
    this.lookbackMs = opts.lookbackMs ?? LOOKBACK_MS;
    this.maxPoints = opts.maxPointsPerSeries ?? 11_000;
  }

  /** The value of the query at one instant (a range vector selector gives a matrix). */
  instant(query: string | Expr, atMs: number): QueryValue {
    const expr = typeof query === 'string' ? parsePromQL(query) : query;
    const ev = new Evaluation(this.store, this.lookbackMs);
    if (expr.kind === 'matrix') {
      const series = ev.matrix(expr, atMs).filter((s) => s.ts.length > 0);
      return { type: 'matrix', series: series.sort((a, b) => compareLabels(a.labels, b.labels)) };
    }
    const v = ev.eval(expr, atMs);
    if (v.type === 'vector') v.samples.sort((a, b) => compareLabels(a.labels, b.labels));
    return v;
  }

  /** The query evaluated at start, start + step, … up to end: a matrix, series sorted by labels. */
  range(query: string | Expr, startMs: number, endMs: number, stepMs: number): { type: 'matrix'; series: SeriesPoints[] } {
    const expr = typeof query === 'string' ? parsePromQL(query) : query;
    const t = typeOf(expr);
    if (t !== 'scalar' && t !== 'instant vector') {
      throw new PromQLError('bad_data', `invalid expression type ${JSON.stringify(t === 'range vector' ? 'range vector' : t)} for range query, must be Scalar or instant Vector`);
    }
    if (endMs < startMs) throw new PromQLError('bad_data', 'end timestamp must not be before start time');
    if (!(stepMs > 0)) throw new PromQLError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
    if ((endMs - startMs) / stepMs > this.maxPoints) {
      throw new PromQLError('bad_data', `exceeded maximum resolution of ${this.maxPoints.toLocaleString('en-US')} points per timeseries. Try decreasing the query resolution (?step=XX)`);
    }
    const ev = new Evaluation(this.store, this.lookbackMs);
    const out = new Map<string, SeriesPoints>();
    for (let at = startMs; at <= endMs; at += stepMs) {
      const v = ev.eval(expr, at);
      const samples = v.type === 'scalar' ? [{ labels: {}, value: v.value }] : v.samples;
      for (const s of samples) {
        const k = labelsKey(s.labels);
        let p = out.get(k);
        if (!p) out.set(k, (p = { labels: s.labels, ts: [], vs: [] }));
        p.ts.push(at);
        p.vs.push(s.value);
      }
    }
    return { type: 'matrix', series: [...out.values()].sort((a, b) => compareLabels(a.labels, b.labels)) };
  }
}

/** One query's evaluation: resolves each selector's series once, however many steps it runs. */
class Evaluation {
  private readonly resolved = new Map<VectorSelector, SeriesRef[]>();

  constructor(
    private readonly store: SeriesStore,
    private readonly lookbackMs: number,
  ) {}

  private series(sel: VectorSelector): SeriesRef[] {
    let refs = this.resolved.get(sel);
    if (!refs) this.resolved.set(sel, (refs = this.store.select(sel.matchers)));
    return refs;
  }

  eval(e: Expr, at: number): Value {
    switch (e.kind) {
      case 'number':
        return { type: 'scalar', value: e.value };
      case 'vector':
        return { type: 'vector', samples: this.selectVector(e, at) };
      case 'matrix':
        throw new PromQLError('bad_data', 'range vector not allowed here');
      case 'call':
        return { type: 'vector', samples: this.call(e, at) };
      case 'aggregate':
        return { type: 'vector', samples: this.aggregate(e, at) };
      case 'unary': {
        const v = this.eval(e.expr, at);
        if (e.op === '+') return v;
        if (v.type === 'scalar') return { type: 'scalar', value: -v.value };
        return { type: 'vector', samples: unique(v.samples.map((s) => ({ labels: dropName(s.labels), value: -s.value }))) };
      }
      case 'binary':
        return this.binary(e, at);
    }
  }

  private selectVector(sel: VectorSelector, at: number): VectorSample[] {
    const out: VectorSample[] = [];
    for (const ref of this.series(sel)) {
      const v = this.store.valueAt(ref, at - sel.offsetMs, this.lookbackMs);
      if (v !== undefined) out.push({ labels: ref.labels, value: v });
    }
    return out;
  }

  matrix(m: MatrixSelector, at: number): SeriesPoints[] {
    const end = at - m.selector.offsetMs;
    return this.series(m.selector).map((ref) => ({ labels: ref.labels, ...this.store.range(ref, end - m.rangeMs, end) }));
  }

  private call(c: Call, at: number): VectorSample[] {
    const out: VectorSample[] = [];
    const end = at - c.arg.selector.offsetMs;
    const start = end - c.arg.rangeMs;
    for (const s of this.matrix(c.arg, at)) {
      const v = rangeFunction(c.fn, s.ts, s.vs, start, end);
      if (v === undefined) continue;
      out.push({ labels: c.fn === 'last_over_time' ? s.labels : dropName(s.labels), value: v });
    }
    return unique(out);
  }

  private aggregate(a: Aggregate, at: number): VectorSample[] {
    const v = this.eval(a.expr, at) as { type: 'vector'; samples: VectorSample[] };
    const groups = new Map<string, { labels: Labels; values: number[] }>();
    for (const s of v.samples) {
      const labels = a.without ? withoutLabels(s.labels, [METRIC_NAME, ...a.grouping]) : onlyLabels(s.labels, a.grouping);
      const k = labelsKey(labels);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { labels, values: [] }));
      g.values.push(s.value);
    }
    return [...groups.values()].map((g) => ({ labels: g.labels, value: aggregateValues(a.op, g.values) }));
  }

  private binary(b: Binary, at: number): Value {
    const l = this.eval(b.lhs, at);
    const r = this.eval(b.rhs, at);
    if (l.type === 'scalar' && r.type === 'scalar') {
      const [value, holds] = elemBinop(b.op, l.value, r.value);
      return { type: 'scalar', value: isComparison(b.op) ? (holds ? 1 : 0) : value };
    }
    if (l.type === 'vector' && r.type === 'vector') {
      return { type: 'vector', samples: isSetOp(b.op) ? setOp(b, l.samples, r.samples) : vectorVector(b, l.samples, r.samples) };
    }
    // One side a vector, the other a scalar.
    const vec = (l.type === 'vector' ? l : r) as { type: 'vector'; samples: VectorSample[] };
    const scalar = (l.type === 'scalar' ? l : r) as { type: 'scalar'; value: number };
    const swap = l.type === 'scalar';
    const out: VectorSample[] = [];
    for (const s of vec.samples) {
      const [lv, rv] = swap ? [scalar.value, s.value] : [s.value, scalar.value];
      let [value, keep] = elemBinop(b.op, lv, rv);
      // A comparison keeps the vector's value, whichever side the vector is on.
      if (isComparison(b.op) && swap) value = rv;
      if (b.returnBool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      out.push({ labels: !isComparison(b.op) || b.returnBool ? dropName(s.labels) : s.labels, value });
    }
    return { type: 'vector', samples: unique(out) };
  }
}

// ---- pieces ---------------------------------------------------------------------------------------

const dropName = (labels: Labels): Labels => (METRIC_NAME in labels ? withoutLabels(labels, [METRIC_NAME]) : labels);

/** Prometheus refuses a result with two series of one label set (names dropped by a function). */
function unique(samples: VectorSample[]): VectorSample[] {
  const seen = new Set<string>();
  for (const s of samples) {
    const k = labelsKey(s.labels);
    if (seen.has(k)) throw new PromQLError('execution', 'vector cannot contain metrics with the same labelset');
    seen.add(k);
  }
  return samples;
}

/** The value of `l op r` and, for comparisons, whether it holds. */
function elemBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+':
      return [l + r, true];
    case '-':
      return [l - r, true];
    case '*':
      return [l * r, true];
    case '/':
      return [l / r, true];
    case '%':
      return [l % r, true];
    case '^':
      return [Math.pow(l, r), true];
    case '==':
      return [l, l === r];
    case '!=':
      return [l, l !== r];
    case '>':
      return [l, l > r];
    case '<':
      return [l, l < r];
    case '>=':
      return [l, l >= r];
    case '<=':
      return [l, l <= r];
    default:
      throw new PromQLError('bad_data', `operator ${JSON.stringify(op)} not allowed here`);
  }
}

function signatureOf(b: Binary): (labels: Labels) => string {
  const m = b.matching;
  if (m?.on) return (labels) => labelsKey(onlyLabels(labels, m.labels));
  const drop = [METRIC_NAME, ...(m?.labels ?? [])];
  return (labels) => labelsKey(withoutLabels(labels, drop));
}

function vectorVector(b: Binary, lhs: VectorSample[], rhs: VectorSample[]): VectorSample[] {
  const sig = signatureOf(b);
  const right = new Map<string, VectorSample>();
  for (const s of rhs) {
    const k = sig(s.labels);
    if (right.has(k)) {
      throw new PromQLError(
        'execution',
        `found duplicate series for the match group on the right hand-side of the operation: ${JSON.stringify(s.labels)};many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    right.set(k, s);
  }
  const matched = new Set<string>();
  const out: VectorSample[] = [];
  for (const l of lhs) {
    const k = sig(l.labels);
    const r = right.get(k);
    if (!r) continue;
    if (matched.has(k)) throw new PromQLError('execution', 'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
    matched.add(k);
    let [value, keep] = elemBinop(b.op, l.value, r.value);
    if (b.returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    let labels = !isComparison(b.op) || b.returnBool ? dropName(l.labels) : l.labels;
    if (b.matching?.on) labels = onlyLabels(labels, b.matching.labels);
    else if (b.matching) labels = withoutLabels(labels, b.matching.labels);
    out.push({ labels, value });
  }
  return out;
}

function setOp(b: Binary, lhs: VectorSample[], rhs: VectorSample[]): VectorSample[] {
  const sig = signatureOf(b);
  const rightSigs = new Set(rhs.map((s) => sig(s.labels)));
  switch (b.op) {
    case 'and':
      return lhs.filter((s) => rightSigs.has(sig(s.labels)));
    case 'unless':
      return lhs.filter((s) => !rightSigs.has(sig(s.labels)));
    default: {
      const leftSigs = new Set(lhs.map((s) => sig(s.labels)));
      return [...lhs, ...rhs.filter((s) => !leftSigs.has(sig(s.labels)))];
    }
  }
}

/** Kahan–Babuška summation, as Prometheus's kahanSumInc. */
function kahanSum(values: readonly number[]): number {
  let sum = 0;
  let c = 0;
  for (const v of values) {
    const t = sum + v;
    if (!Number.isFinite(t) && !Number.isNaN(t)) c = 0;
    else if (Math.abs(sum) >= Math.abs(v)) c += sum - t + v;
    else c += v - t + sum;
    sum = t;
  }
  return sum + c;
}

function aggregateValues(op: Aggregate['op'], values: number[]): number {
  switch (op) {
    case 'sum':
      return kahanSum(values);
    case 'avg':
      return kahanSum(values) / values.length;
    case 'count':
      return values.length;
    case 'max':
      return values.reduce((m, v) => (v > m || Number.isNaN(m) ? v : m));
    case 'min':
      return values.reduce((m, v) => (v < m || Number.isNaN(m) ? v : m));
  }
}

/** A range function over the samples of one series in (start, end]; undefined: no output sample. */
export function rangeFunction(fn: Call['fn'], ts: readonly number[], vs: readonly number[], startMs: number, endMs: number): number | undefined {
  const n = vs.length;
  if (n === 0) return undefined;
  switch (fn) {
    case 'rate':
      return extrapolatedRate(ts, vs, startMs, endMs, true, true);
    case 'increase':
      return extrapolatedRate(ts, vs, startMs, endMs, true, false);
    case 'delta':
      return extrapolatedRate(ts, vs, startMs, endMs, false, false);
    case 'irate': {
      if (n < 2) return undefined;
      const last = vs[n - 1]!;
      const prev = vs[n - 2]!;
      const dt = (ts[n - 1]! - ts[n - 2]!) / 1000;
      if (dt === 0) return undefined;
      return (last < prev ? last : last - prev) / dt;
    }
    case 'avg_over_time':
      return kahanSum(vs) / n;
    case 'sum_over_time':
      return kahanSum(vs);
    case 'count_over_time':
      return n;
    case 'last_over_time':
      return vs[n - 1];
    case 'max_over_time':
      return vs.reduce((m, v) => (v > m || Number.isNaN(m) ? v : m));
    case 'min_over_time':
      return vs.reduce((m, v) => (v < m || Number.isNaN(m) ? v : m));
  }
}

/** Prometheus's extrapolatedRate (promql/functions.go), for float samples. */
function extrapolatedRate(ts: readonly number[], vs: readonly number[], rangeStart: number, rangeEnd: number, isCounter: boolean, isRate: boolean): number | undefined {
  const n = vs.length;
  if (n < 2) return undefined;
  let result = vs[n - 1]! - vs[0]!;
  if (isCounter) {
    let prev = vs[0]!;
    for (let i = 1; i < n; i++) {
      if (vs[i]! < prev) result += prev;
      prev = vs[i]!;
    }
  }
  let durationToStart = (ts[0]! - rangeStart) / 1000;
  const durationToEnd = (rangeEnd - ts[n - 1]!) / 1000;
  const sampledInterval = (ts[n - 1]! - ts[0]!) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  if (isCounter && result > 0 && vs[0]! >= 0) {
    // A counter cannot have been below zero: do not extrapolate to before it was.
    const durationToZero = sampledInterval * (vs[0]! / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return result * factor;
}
