// Load for the twin: the real traces in ../shared/data/traces parsed (every file, with its
// licence notice beside it), scaled per tenant and shifted in time, and the synthetic shapes.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { constant, diurnal, rpsAt, scaled, shifted, spike, step, sum, traceLoad, traceRate, traceStats } from '../../src/twin/load-shapes.ts';
import { buildSmallCluster } from './small-cluster.ts';
import { TRACE_FILES, TraceFormatError, defaultTracesDir, loadTrace, parseTraceCsv, type TraceName } from '../../src/twin/traces.ts';

const H = 3_600_000;
const DAY = 24 * H;

describe('trace files', () => {
  it('parses the WorldCup trace: per minute, 1998-04-30 21:30Z to 1998-07-26 21:59Z', () => {
    const t = loadTrace('worldcup98');
    expect(t.stepMs).toBe(60_000);
    expect(t.counts.length).toBe(125_310);
    expect(new Date(t.startMs).toISOString()).toBe('1998-04-30T21:30:00.000Z');
    expect(t.counts[0]).toBe(2);
    expect(t.counts[t.counts.length - 1]).toBe(679);
    // A match day: the peak minute is 20x the quietest.
    const day = traceStats(t, Date.parse('1998-06-30T00:00:00Z'), DAY);
    expect(day.peakRps).toBeCloseTo(215_241 / 60, 3);
    expect(day.meanRps).toBeGreaterThan(800);
  });

  it('parses every hourly web trace, and each file has its licence notice beside it', () => {
    for (const [name, spec] of Object.entries(TRACE_FILES) as [TraceName, (typeof TRACE_FILES)[TraceName]][]) {
      const t = loadTrace(name);
      expect(t.counts.length, name).toBeGreaterThan(100);
      expect(t.counts.every((c) => Number.isFinite(c) && c >= 0), name).toBe(true);
      for (const licence of spec.licence.split(', ')) expect(existsSync(join(defaultTracesDir(), licence)), licence).toBe(true);
      expect(existsSync(join(defaultTracesDir(), dirname(spec.file), 'LICENSE.repo-MIT.txt'))).toBe(true);
    }
    const madrid = loadTrace('madrid');
    expect(madrid.stepMs).toBe(H);
    expect(new Date(madrid.startMs).toISOString()).toBe('2018-05-01T00:00:00.000Z');
  });

  it('fills gaps linearly and refuses what is not a trace', () => {
    const t = parseTraceCsv('Datetime,Value\n2020-01-01 00:00:00,10\n2020-01-01 03:00:00,40\n', { name: 'x', stepMs: H });
    expect([...t.counts]).toEqual([10, 20, 30, 40]);
    expect(() => parseTraceCsv('t,v\n2020-01-01 01:00:00,1\n2020-01-01 00:00:00,2\n', { name: 'x', stepMs: H })).toThrow(TraceFormatError);
    expect(() => parseTraceCsv('t,v\nyesterday,1\n', { name: 'x', stepMs: H })).toThrow(/timestamp/);
    expect(() => parseTraceCsv('t,v\n2020-01-01 00:00:00,-3\n', { name: 'x', stepMs: H })).toThrow(/request count/);
  });
});

describe('trace load', () => {
  const trace = parseTraceCsv('t,v\n2020-01-01T00:00:00Z,60\n2020-01-01T00:01:00Z,120\n2020-01-01T00:02:00Z,600\n2020-01-01T00:03:00Z,60\n', { name: 't', stepMs: 60_000 });
  const anchor = Date.parse('2026-11-24T10:00:00Z');

  it('plays the trace from the anchor, interpolating between minutes, scaled to a tenant’s peak', () => {
    const load = traceLoad(trace, { anchorMs: anchor, scale: { peakRps: 1000 }, windowMs: 4 * 60_000 });
    expect(rpsAt(load, anchor)).toBeCloseTo(100, 6);
    expect(rpsAt(load, anchor + 30_000)).toBeCloseTo(150, 6);
    expect(rpsAt(load, anchor + 120_000)).toBeCloseTo(1000, 6);
    expect(traceRate(trace, trace.startMs + 120_000)).toBe(10);
    const mean = traceLoad(trace, { anchorMs: anchor, scale: { meanRps: 7 }, windowMs: 4 * 60_000 });
    expect(rpsAt(mean, anchor + 120_000)).toBeCloseTo(7 * (10 / 3.5), 6);
  });

  it('shifts per tenant and wraps around at the end', () => {
    const base = traceLoad(trace, { anchorMs: anchor, scale: { factor: 1 } });
    const later = traceLoad(trace, { anchorMs: anchor, scale: { factor: 1 }, shiftMs: 120_000 });
    expect(rpsAt(later, anchor + 120_000)).toBeCloseTo(rpsAt(base, anchor), 9);
    expect(rpsAt(base, anchor + 4 * 60_000)).toBeCloseTo(rpsAt(base, anchor), 9);
  });

  it('drives a deployment of the twin', async () => {
    const worldcup = loadTrace('worldcup98');
    const clock = new VirtualClock(anchor);
    const from = Date.parse('1998-06-30T14:00:00Z');
    const load = traceLoad(worldcup, { anchorMs: anchor, fromMs: from, scale: { peakRps: 2000 } });
    const { twin, namespace, deployment } = buildSmallCluster(clock, { replicas: 8, loadNoise: 0 });
    twin.setLoad(namespace, deployment, load);
    twin.start(1_000);
    const first = twin.serviceMetrics(namespace, deployment).rps;
    // 14:00 → 16:00 on match day: the load more than quadruples.
    await clock.advance(2 * H);
    expect(twin.serviceMetrics(namespace, deployment).rps).toBeGreaterThan(4 * first);
  });
});

describe('synthetic shapes', () => {
  it('constant, diurnal, step, spike and their combinations', () => {
    expect(rpsAt(constant(50), 0)).toBe(50);
    expect(rpsAt(7, 0)).toBe(7);
    const d = diurnal({ meanRps: 100, amplitude: 0.5, peakHourUtc: 14 });
    const day = Date.parse('2026-11-24T00:00:00Z');
    expect(rpsAt(d, day + 14 * H)).toBeCloseTo(150, 6);
    expect(rpsAt(d, day + 2 * H)).toBeCloseTo(50, 6);
    const s = step({ beforeRps: 10, afterRps: 30, atMs: 1000 });
    expect([rpsAt(s, 999), rpsAt(s, 1000)]).toEqual([10, 30]);
    const p = spike({ baseRps: 100, peakRps: 500, atMs: 0, rampMs: 100, holdMs: 200 });
    expect([0, 50, 100, 300, 350, 400].map((t) => rpsAt(p, t))).toEqual([100, 300, 500, 500, 300, 100]);
    expect(rpsAt(sum(constant(1), scaled(constant(2), 3), shifted(s, 500)), 600)).toBe(1 + 6 + 10);
  });
});
