// Watchtower runs the streaming detectors of src/detect live (agents/watchtower/live-detectors.ts),
// per watched deployment, in virtual time: the burn-rate 'page' rule over the error ratio opens an
// incident by itself; anomalies on memory, GC and traffic are the evidence, with their scores, of
// the incident the latency SLO opens; a lone anomaly and a quiet seasonal day raise nothing.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { Watchtower, type WatchTarget } from '../../agents/watchtower/watchtower.ts';
import type { ToolClient, ToolOutcome } from '../../agents/runtime/tool-client.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import { Observation } from '../../src/contracts/events.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { Prng } from '../../src/twin/prng.ts';

const T0 = Date.parse('2026-11-23T00:00:00Z');
const DAY = 86_400_000;

interface Sample {
  p99: number;
  rps: number;
  errorRatio: number;
  memory: number;
  gc: number;
  cpu: number;
}

/** A deterministic noise source in [-1, 1). */
function noise(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.uniform(-1, 1);
}

/** A deployment of 4 pods answering get_pod_metrics from `sample()` (no network wait: days of polls run in seconds). */
function harness(sample: () => Sample, target: Partial<WatchTarget> = {}) {
  const tools: ToolClient = {
    async callTool<T>(tool: string): Promise<ToolOutcome<T>> {
      const s = sample();
      if (tool === 'get_rollout_history') return { ok: true, raw: {}, data: { revisions: [{ revision: 1 }], current_revision: 1 } as T };
      if (tool !== 'get_pod_metrics') throw new Error(`unscripted tool call: ${tool}`);
      const pods = [0, 1, 2, 3].map((i) => ({
        pod: `checkout-${i}`, ready: true, memory_bytes: (i === 0 ? s.memory : 0.5) * 1e9, memory_limit_bytes: 1e9,
        cpu_millicores: s.cpu, gc_pause_ms_per_min: i === 0 ? s.gc : 40, restart_count: 0,
      }));
      return { ok: true, raw: {}, data: { pods, service: { p50_ms: s.p99 / 3, p99_ms: s.p99, rps: s.rps, error_ratio: s.errorRatio }, deployment: { replicas: 4, revision: 1 } } as T };
    },
    async close() {},
  };
  const published: Observation[] = [];
  const recorder = {
    recordAndPublish: async (_: unknown, m: { event: Observation }) => {
      published.push(Observation.parse(m.event));
    },
  } as unknown as Recorder;
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
  const clock = new VirtualClock(T0);
  const w = new Watchtower({
    tools, recorder, clock, tracker: new WorkTracker(), logger,
    targets: [{ tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout', sloP99Ms: 500, ...target }],
  });
  const run = async (stepMs: number, steps: number) => {
    for (let i = 0; i < steps; i++) {
      await w.pollAll();
      await clock.advance(stepMs);
    }
  };
  const anomalyLines = () => lines.filter((l) => typeof l['score'] === 'number' && typeof l['metric'] === 'string');
  return { published, clock, run, anomalyLines };
}

describe('Watchtower with the streaming detectors live', () => {
  it('opens an incident through the burn-rate page rule when the error budget burns at > 14.4x over 1 h and 5 min, latency fine', async () => {
    const n = noise(1);
    let errorRatio = 0.02; // 20x the budget of a 99.9% objective
    const h = harness(() => ({ p99: 120 + 5 * n(), rps: 200 + 10 * n(), errorRatio, memory: 0.6, gc: 40, cpu: 300 }), { sloErrorRatio: 0.001 });
    // The 1 h window must be covered before the rule may fire: nothing for the first 59 minutes.
    await h.run(15_000, 59 * 4);
    expect(h.published).toHaveLength(0);
    await h.run(15_000, 3 * 4);
    expect(h.published).toHaveLength(1);
    const o = h.published[0]!;
    expect(o.severity).toBe('critical');
    expect(o.incident_id).toBeDefined();
    expect(o.opened_by).toBe('burn_rate');
    expect(o.burn_rate?.severity).toBe('page');
    const page = o.burn_rate!.firing.find((f) => f.long_s === 3600 && f.short_s === 300)!;
    expect(page.factor).toBe(14.4);
    expect(page.burn_long).toBeGreaterThan(14.4);
    expect(page.burn_short).toBeGreaterThan(14.4);
    expect(o.signals.find((s) => s.metric === 'http_error_ratio')).toMatchObject({ target: 'checkout', baseline: 0.001 });
    expect(o.summary).toMatch(/error budget burning \d+x over 1 h and \d+x over 5 min/);
    // It stays one incident while the budget burns, and resolves once the short window stops burning.
    await h.run(15_000, 20 * 4);
    expect(h.published).toHaveLength(1);
    errorRatio = 0;
    await h.run(15_000, 15 * 4);
    expect(h.published).toHaveLength(2);
    expect(h.published[1]!.severity).toBe('info');
    expect(h.published[1]!.incident_id).toBe(o.incident_id);
  });

  it('a burn under 14.4x (a 1% error ratio against 99.9%: 10x) pages nothing', async () => {
    const h = harness(() => ({ p99: 120, rps: 200, errorRatio: 0.01, memory: 0.6, gc: 40, cpu: 300 }));
    await h.run(15_000, 90 * 4);
    expect(h.published).toHaveLength(0);
  });

  it('names each anomalous signal (memory, GC, traffic) with its score in the observation of the incident the SLO opens; alone they open nothing', async () => {
    const n = noise(2);
    let phase: 'normal' | 'degraded' | 'breach' = 'normal';
    const h = harness(() => {
      const base = { p99: 150 + 10 * n(), rps: 300 + 15 * n(), errorRatio: 0.0005 + 0.0002 * n(), memory: 0.6 + 0.01 * n(), gc: 40 + 3 * n(), cpu: 400 + 20 * n() };
      if (phase === 'normal') return base;
      // A heap regression on one pod and a traffic jump: memory, GC and traffic far from their baselines.
      const degraded = { ...base, memory: 0.95, gc: 400 + 10 * n(), rps: 900 + 15 * n() };
      return phase === 'degraded' ? degraded : { ...degraded, p99: 1_200 };
    });
    // Two and a half hours of normal samples (past the detectors' warm-up), then the anomalies alone.
    await h.run(15_000, 600);
    expect(h.anomalyLines()).toHaveLength(0);
    phase = 'degraded';
    await h.run(15_000, 4);
    // Alone (latency within its SLO) they open nothing: lines in the log.
    expect(h.published).toHaveLength(0);
    const logged = new Set(h.anomalyLines().map((l) => l['metric']));
    expect(logged).toContain('memory_utilisation_max_ratio');
    // Then the latency breaks its SLO: the rules open the incident, and the anomalies are its evidence.
    phase = 'breach';
    await h.run(15_000, 4);
    expect(h.published).toHaveLength(1);
    const o = h.published[0]!;
    expect(o.severity).toBe('critical');
    expect(o.opened_by).toBeUndefined();
    const byMetric = new Map((o.anomalies ?? []).map((a) => [a.metric, a]));
    for (const metric of ['memory_utilisation_max_ratio', 'jvm_gc_pause_max_ms_per_min', 'http_requests_per_second']) {
      const a = byMetric.get(metric);
      expect(a, metric).toBeDefined();
      expect(a!.score).toBeGreaterThanOrEqual(0.9);
      expect(a!.score).toBeLessThanOrEqual(1);
      expect(a!.target).toBe('checkout');
    }
    expect(byMetric.get('memory_utilisation_max_ratio')).toMatchObject({ value: 0.95 });
    expect(byMetric.get('memory_utilisation_max_ratio')!.expected).toBeCloseTo(0.6, 1);
    expect(o.summary).toMatch(/anomalous: .*memory utilisation \(score (0\.9\d*|1)\)/);
  });

  it('a quiet series with daily seasonality raises nothing over three days', async () => {
    const n = noise(3);
    let t = 0;
    const h = harness(() => {
      // Traffic follows the day (a peak in the afternoon, a trough at night); latency, CPU, GC and memory follow it a little.
      const day = Math.sin((2 * Math.PI * ((t++ * 300_000) % DAY)) / DAY - Math.PI / 2);
      const rps = 400 + 300 * day + 20 * n();
      return { p99: 180 + 40 * day + 8 * n(), rps, errorRatio: Math.max(0, 0.0004 + 0.0001 * n()), memory: 0.6 + 0.05 * day + 0.005 * n(), gc: 40 + 10 * day + 2 * n(), cpu: 300 + 200 * day + 15 * n() };
    }, { sloErrorRatio: 0.001 });
    await h.run(300_000, 3 * 288);
    expect(h.published).toHaveLength(0);
    // Once the daily profile is learned (two days seen), the day's swing is expected: not one anomaly on the third day.
    const third = h.anomalyLines().filter((l) => Date.parse(String(l['at'])) >= T0 + 2 * DAY);
    expect(third).toEqual([]);
  });
});
