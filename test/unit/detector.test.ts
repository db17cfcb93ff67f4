import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR_OPTIONS, assess, initialDetectorState, type DetectorState } from '../../agents/watchtower/detector.ts';
import type { DeploymentMetrics, RolloutHistory } from '../../agents/runtime/cluster-views.ts';

const opts = { ...DEFAULT_DETECTOR_OPTIONS, sloP99Ms: 500 };
const T0 = Date.parse('2026-11-24T10:00:00Z');

function metrics(p99: number, bad = 0): DeploymentMetrics {
  const pods = Array.from({ length: 8 }, (_, i) => ({
    pod: `checkout-${i}`,
    ready: true,
    memory_bytes: i < bad ? 0.94 * 2 ** 31 : 0.71 * 2 ** 31,
    memory_limit_bytes: 2 ** 31,
    cpu_millicores: 300,
    gc_pause_ms_per_min: i < bad ? 880 : 200,
  }));
  return { pods, service: { p50_ms: 60, p99_ms: p99, rps: 800, error_ratio: 0 }, deployment: { replicas: 8, revision: 2 } };
}

const history: RolloutHistory = {
  revisions: [
    { revision: 1, created_at: '2026-11-20T10:00:00Z', change_cause: 'initial' },
    { revision: 2, created_at: new Date(T0 - 47 * 60_000).toISOString(), change_cause: 'JVM heap settings -Xmx1g' },
  ],
  current_revision: 2,
};

function run(samples: number[], bad = 0) {
  let state: DetectorState = initialDetectorState();
  const findings = [];
  for (const [i, p99] of samples.entries()) {
    const r = assess(state, { nowMs: T0 + i * 15_000, deployment: 'checkout', metrics: metrics(p99, bad), history }, opts);
    state = r.state;
    if (r.finding) findings.push(r.finding);
  }
  return findings;
}

describe('Watchtower detector', () => {
  it('stays silent on a healthy service and on a one-sample blip', () => {
    expect(run([180, 190, 175, 185, 180, 182])).toEqual([]);
    expect(run([180, 190, 700, 185, 180, 182])).toEqual([]);
  });

  it('opens one correlated incident on a confirmed breach: latency, GC on 3 of 8 pods, memory, the rollout 47 min earlier', () => {
    const f = run([180, 185, 620, 900, 1240, 1240, 1240], 3);
    expect(f).toHaveLength(1);
    const [incident] = f;
    expect(incident!.kind).toBe('incident');
    expect(incident!.severity).toBe('critical');
    expect(incident!.signals.filter((s) => s.metric === 'jvm_gc_pause_ms_per_min')).toHaveLength(3);
    expect(incident!.signals.filter((s) => s.metric === 'memory_utilisation_ratio')).toHaveLength(3);
    expect(incident!.signals.find((s) => s.metric === 'jvm_gc_pause_ms_per_min')!.change_pct).toBeCloseTo(340, 0);
    expect(incident!.correlated_change).toMatchObject({ revision: 2, minutes_before: 48 });
    expect(incident!.summary).toMatch(/GC pause up on 3 of 8 pods/);
  });

  it('resolves after sustained healthy samples, and can open again later', () => {
    const f = run([180, 700, 700, 700, 200, 190, 185, 180, 700, 720]);
    expect(f.map((x) => x.kind)).toEqual(['incident', 'resolved', 'incident']);
  });

  it('does not learn the incident as its new baseline', () => {
    const f = run([180, 180, 450, 460, 470, 480, 490, 495]);
    // 450 ms is under the 500 ms SLO but 2.5x baseline: no incident, and the baseline stays near 180.
    expect(f).toEqual([]);
    const g = run([180, 180, 600, 600]);
    expect(g[0]!.signals[0]!.baseline).toBeLessThan(200);
  });
});
