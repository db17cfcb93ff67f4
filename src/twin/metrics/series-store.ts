// The twin's time-series database: what a Prometheus would hold after scraping the twin, kept in
// memory for a bounded time. Samples arrive a scrape at a time (one timestamp, many series), which
// lets every series share one timeline: a series stores only its values, 8 bytes a sample, in
// chunks aligned with the timeline's. A day of 15 s scrapes of 300 series is about 14 MB.
//
// Staleness works as in Prometheus: a series missing from a scrape has a staleness marker at that
// scrape, so an instant lookup after it finds nothing (no 5-minute ghost of a deleted pod). NaN is
// stored as a value, distinct from the marker, as in Prometheus (which uses one special NaN bit
// pattern as the marker; so does this store).
//
// It must never read a clock or do I/O: timestamps come with the samples, "now" with the queries.
import { METRIC_NAME, compileMatchers, labelsKey, normalizeLabels, type LabelMatcher, type Labels } from './labels.ts';

export interface Sample {
  /** Including `__name__`. Empty values are dropped (Prometheus: an empty label is no label). */
  readonly labels: Labels;
  readonly value: number;
}

export interface SeriesStoreOptions {
  /** Samples older than this behind the newest scrape are dropped (a chunk at a time). Default 24 h. */
  retentionMs?: number;
  /** Scrapes per chunk. Default 240 (an hour at 15 s). */
  chunkSize?: number;
}

/** A handle on one series, valid for as long as the store retains it. */
export interface SeriesRef {
  readonly labels: Labels;
  /** @internal */
  readonly id: number;
}

interface TimeChunk {
  /** Chunk number: scrape sequence numbers no*size … no*size+size-1. */
  no: number;
  ts: Float64Array;
  n: number;
}

interface Series extends SeriesRef {
  key: string;
  /** Chunk number → values aligned with that time chunk (STALE where the series was absent). */
  chunks: Map<number, Float64Array>;
  lastSeq: number;
}

export interface StoreStats {
  series: number;
  scrapes: number;
  samples: number;
  /** Bytes held by sample and timestamp buffers (not the label strings or Maps around them). */
  bufferBytes: number;
  oldestMs: number | undefined;
  newestMs: number | undefined;
}

// Prometheus's staleness marker: a NaN with a payload no arithmetic produces.
const STALE_HI = 0x7ff00000;
const STALE_LO = 0x00000002;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

function newValueChunk(size: number): Float64Array {
  const vs = new Float64Array(size);
  const words = new Uint32Array(vs.buffer);
  for (let i = 0; i < size; i++) {
    words[2 * i + HI] = STALE_HI;
    words[2 * i + LO] = STALE_LO;
  }
  return vs;
}

function isStale(vs: Float64Array, i: number): boolean {
  const v = vs[i]!;
  if (v === v) return false; // not NaN: the common case, without touching the bits
  const words = new Uint32Array(vs.buffer, vs.byteOffset + i * 8, 2);
  return words[HI] === STALE_HI && words[LO] === STALE_LO;
}

export const DEFAULT_RETENTION_MS = 24 * 3600_000;
/** Prometheus's default lookback delta for instant selectors. */
export const LOOKBACK_MS = 5 * 60_000;

export class SeriesStore {
  readonly retentionMs: number;
  private readonly size: number;
  private readonly timeline: TimeChunk[] = [];
  private seq = -1;
  private readonly series = new Map<string, Series>();
  private readonly byName = new Map<string, Set<Series>>();
  private nextId = 1;
  private lastScrape: { timestampMs: number; samples: Sample[] } | undefined;
  private sampleCount = 0;

  constructor(opts: SeriesStoreOptions = {}) {
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
    this.size = opts.chunkSize ?? 240;
    if (!(this.retentionMs > 0) || !(this.size >= 2)) throw new RangeError('retentionMs must be > 0 and chunkSize >= 2');
  }

  // ---- writing ------------------------------------------------------------------------------

  /**
   * Records one scrape. Timestamps must increase; a series must appear at most once per scrape.
   * Series absent from this scrape become stale at it.
   */
  append(timestampMs: number, samples: readonly Sample[]): void {
    const newest = this.newestMs();
    if (!Number.isFinite(timestampMs) || (newest !== undefined && timestampMs <= newest)) {
      throw new RangeError(`scrape at ${timestampMs} is not after the newest one (${newest})`);
    }
    const seq = ++this.seq;
    const no = Math.floor(seq / this.size);
    const slot = seq - no * this.size;
    let tc = this.timeline[this.timeline.length - 1];
    if (!tc || tc.no !== no) {
      tc = { no, ts: new Float64Array(this.size), n: 0 };
      this.timeline.push(tc);
    }
    tc.ts[slot] = timestampMs;
    tc.n = slot + 1;

    const kept: Sample[] = [];
    for (const s of samples) {
      const key = labelsKey(s.labels);
      let series = this.series.get(key);
      if (!series) {
        const labels = normalizeLabels(s.labels);
        series = { id: this.nextId++, labels: Object.freeze(labels), key, chunks: new Map(), lastSeq: -1 };
        this.series.set(key, series);
        const name = labels[METRIC_NAME] ?? '';
        let set = this.byName.get(name);
        if (!set) this.byName.set(name, (set = new Set()));
        set.add(series);
      }
      if (series.lastSeq === seq) throw new RangeError(`duplicate series in one scrape: ${key.replace(/\u0000/g, '=').replace(/\u0001/g, ',')}`);
      let vs = series.chunks.get(no);
      if (!vs) series.chunks.set(no, (vs = newValueChunk(this.size)));
      vs[slot] = s.value;
      series.lastSeq = seq;
      kept.push({ labels: series.labels, value: s.value });
      this.sampleCount++;
    }
    this.lastScrape = { timestampMs, samples: kept };
    this.enforceRetention(timestampMs);
  }

  private enforceRetention(nowMs: number): void {
    // Drop whole chunks whose newest scrape is older than the retention window.
    let dropped = false;
    while (this.timeline.length > 1) {
      const first = this.timeline[0]!;
      if (first.ts[first.n - 1]! >= nowMs - this.retentionMs) break;
      this.timeline.shift();
      dropped = true;
    }
    if (!dropped) return;
    const firstNo = this.timeline[0]!.no;
    for (const s of this.series.values()) {
      for (const no of s.chunks.keys()) {
        if (no < firstNo) {
          this.sampleCount -= countPresent(s.chunks.get(no)!);
          s.chunks.delete(no);
        }
      }
      if (s.chunks.size === 0) {
        this.series.delete(s.key);
        this.byName.get(s.labels[METRIC_NAME] ?? '')?.delete(s);
      }
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  /** Series matching every matcher (Prometheus semantics; a missing label is the empty value). */
  select(matchers: readonly LabelMatcher[]): SeriesRef[] {
    const test = compileMatchers(matchers);
    const byName = matchers.find((m) => m.name === METRIC_NAME && m.op === '=');
    const candidates: Iterable<Series> = byName ? (this.byName.get(byName.value) ?? []) : this.series.values();
    const out: SeriesRef[] = [];
    for (const s of candidates) if (test(s.labels)) out.push(s);
    return out;
  }

  /** Every series the store holds. */
  allSeries(): SeriesRef[] {
    return [...this.series.values()];
  }

  /**
   * What an instant vector selector sees at `atMs`: the series' value at the newest scrape not after
   * `atMs`, if that scrape is within the lookback window (atMs - lookback, atMs] and the series was in it.
   */
  valueAt(ref: SeriesRef, atMs: number, lookbackMs = LOOKBACK_MS): number | undefined {
    const s = ref as Series;
    const seq = this.seqAtOrBefore(atMs);
    if (seq < 0) return undefined;
    const no = Math.floor(seq / this.size);
    const tc = this.chunkOf(no);
    const slot = seq - no * this.size;
    if (!tc || tc.ts[slot]! <= atMs - lookbackMs) return undefined;
    const vs = s.chunks.get(no);
    if (!vs || isStale(vs, slot)) return undefined;
    return vs[slot];
  }

  /** Samples of the series with fromMs < t <= toMs (Prometheus 3's left-open range), oldest first. */
  range(ref: SeriesRef, fromMs: number, toMs: number): { ts: number[]; vs: number[] } {
    const s = ref as Series;
    const ts: number[] = [];
    const vs: number[] = [];
    const hi = this.seqAtOrBefore(toMs);
    if (hi < 0) return { ts, vs };
    let lo = this.seqAtOrBefore(fromMs) + 1;
    lo = Math.max(lo, this.firstSeq());
    for (let seq = lo; seq <= hi; ) {
      const no = Math.floor(seq / this.size);
      const tc = this.chunkOf(no)!;
      const end = Math.min(hi, no * this.size + tc.n - 1);
      const values = s.chunks.get(no);
      if (values) {
        for (let q = seq; q <= end; q++) {
          const slot = q - no * this.size;
          if (!isStale(values, slot)) {
            ts.push(tc.ts[slot]!);
            vs.push(values[slot]!);
          }
        }
      }
      seq = (no + 1) * this.size;
    }
    return { ts, vs };
  }

  /** Whether the series has at least one sample with fromMs <= t <= toMs. */
  hasSamplesBetween(ref: SeriesRef, fromMs: number, toMs: number): boolean {
    return this.range(ref, fromMs - 1, toMs).ts.length > 0;
  }

  /** The newest scrape, as recorded. */
  latest(): { timestampMs: number; samples: readonly Sample[] } | undefined {
    return this.lastScrape;
  }

  newestMs(): number | undefined {
    const tc = this.timeline[this.timeline.length - 1];
    return tc && tc.n > 0 ? tc.ts[tc.n - 1] : undefined;
  }

  oldestMs(): number | undefined {
    const tc = this.timeline[0];
    return tc && tc.n > 0 ? tc.ts[0] : undefined;
  }

  stats(): StoreStats {
    let buffers = 0;
    for (const s of this.series.values()) buffers += s.chunks.size * this.size * 8;
    buffers += this.timeline.length * this.size * 8;
    return {
      series: this.series.size,
      scrapes: this.timeline.reduce((n, tc) => n + tc.n, 0),
      samples: this.sampleCount,
      bufferBytes: buffers,
      oldestMs: this.oldestMs(),
      newestMs: this.newestMs(),
    };
  }

  // ---- the timeline -------------------------------------------------------------------------

  private firstSeq(): number {
    const tc = this.timeline[0];
    return tc ? tc.no * this.size : 0;
  }

  private chunkOf(no: number): TimeChunk | undefined {
    const first = this.timeline[0];
    return first ? this.timeline[no - first.no] : undefined;
  }

  /** The sequence number of the newest scrape at or before t; -1 if none is retained. */
  private seqAtOrBefore(t: number): number {
    const tl = this.timeline;
    if (tl.length === 0 || tl[0]!.ts[0]! > t) return -1;
    // The last chunk whose first scrape is <= t …
    let lo = 0;
    let hi = tl.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (tl[mid]!.ts[0]! <= t) lo = mid;
      else hi = mid - 1;
    }
    const tc = tl[lo]!;
    // … and in it the last scrape <= t.
    let a = 0;
    let b = tc.n - 1;
    while (a < b) {
      const mid = (a + b + 1) >> 1;
      if (tc.ts[mid]! <= t) a = mid;
      else b = mid - 1;
    }
    return tc.no * this.size + a;
  }
}

function countPresent(vs: Float64Array): number {
  let n = 0;
  for (let i = 0; i < vs.length; i++) if (!isStale(vs, i)) n++;
  return n;
}
