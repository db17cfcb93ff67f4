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

describe('Watchtower detector: containers killed at their memory limit', () => {
  const T = Date.parse('2026-11-24T10:00:00Z');
  /** Eight pods; `kills[i]` is pod i's restart count (all OOMKilled). Memory back to normal after each restart. */
  function leaking(p99: number, kills: number[]): DeploymentMetrics {
    const pods = Array.from({ length: 8 }, (_, i) => ({
      pod: `api-${i}`,
      ready: true,
      memory_bytes: 0.5 * 2 ** 31,
      memory_limit_bytes: 2 ** 31,
      cpu_millicores: 300,
      gc_pause_ms_per_min: 200,
      restart_count: kills[i] ?? 0,
      last_termination_reason: (kills[i] ?? 0) > 0 ? 'OOMKilled' : null,
    }));
    return { pods, service: { p50_ms: 60, p99_ms: p99, rps: 800, error_ratio: 0 }, deployment: { replicas: 8, revision: 2 } };
  }
  function play(samples: [number, number[]][]) {
    let state: DetectorState = initialDetectorState();
    const findings = [];
    for (const [i, [p99, kills]] of samples.entries()) {
      const r = assess(state, { nowMs: T + i * 60_000, deployment: 'api', metrics: leaking(p99, kills), history }, opts);
      state = r.state;
      if (r.finding) findings.push({ at: i, ...r.finding });
    }
    return findings;
  }

  it('names the pods killed since the last sample, as memory trouble, and not the restarts it found on first sight', () => {
    const f = play([
      [180, [3, 0]], // restarts from before Watchtower looked: not kills it saw
      [700, [4, 1]],
      [800, [4, 1]],
    ]);
    expect(f).toHaveLength(1);
    const kills = f[0]!.signals.filter((s) => s.metric === 'container_oom_kills');
    expect(kills.map((s) => [s.target, s.value])).toEqual([['api-0', 1], ['api-1', 1]]);
    expect(f[0]!.summary).toMatch(/2 pods OOM-killed in the last 10 min/);
  });

  it('keeps the incident open while pods keep being killed, though latency recovers between kills', () => {
    const healthyWhileKilled: [number, number[]][] = [[180, [0]], [700, [1]], [800, [1]], [200, [1]], [190, [2]], [185, [2]], [180, [2]], [185, [3]]];
    expect(play(healthyWhileKilled).map((x) => x.kind)).toEqual(['incident']);
    // Once the kills stop for the hold window, sustained healthy samples resolve it.
    const quiet: [number, number[]][] = Array.from({ length: 14 }, () => [180, [3]]);
    const f = play([...healthyWhileKilled, ...quiet]);
    expect(f.map((x) => x.kind)).toEqual(['incident', 'resolved']);
    // Last kill at minute 7; held through minute 17; three healthy samples after: minute 20.
    expect(f[1]!.at).toBe(20);
  });
});

describe('Watchtower detector: pods throttled at their CPU limit', () => {
  it('adds the throttled share of CFS periods as a signal once it reaches the threshold, and nothing below it', () => {
    const withThrottle = (ratio: number) => (p99: number): DeploymentMetrics => {
      const m = metrics(p99);
      return { ...m, pods: m.pods.map((p) => ({ ...p, cpu_limit_millicores: 500, cpu_throttled_ratio: ratio })) };
    };
    const findings = (ratio: number) => {
      let state: DetectorState = initialDetectorState();
      const out = [];
      for (const [i, p99] of [180, 185, 620, 900].entries()) {
        const r = assess(state, { nowMs: T0 + i * 15_000, deployment: 'checkout', metrics: withThrottle(ratio)(p99) }, opts);
        state = r.state;
        if (r.finding) out.push(r.finding);
      }
      return out;
    };
    const [incident] = findings(0.31);
    expect(incident!.signals.find((s) => s.metric === 'cpu_throttled_ratio')).toEqual({ metric: 'cpu_throttled_ratio', target: 'checkout', value: 0.31, baseline: 0, change_pct: 100, unit: 'share of CFS periods' });
    expect(findings(0.05)[0]!.signals.some((s) => s.metric === 'cpu_throttled_ratio')).toBe(false);
  });
});
