// Which rollout an incident is blamed on, and which revision Elastik rolls back to, with several
// revisions: the newest revision is not the suspect merely for being newest.
import { describe, expect, it } from 'vitest';
import { blameRollout } from '../../agents/runtime/last-good-revision.ts';
import { DEFAULT_DETECTOR_OPTIONS, assess, initialDetectorState, type DetectorState } from '../../agents/watchtower/detector.ts';
import { plan } from '../../agents/elastik/planner.ts';
import type { DeploymentMetrics, RolloutHistory } from '../../agents/runtime/cluster-views.ts';
import type { Observation } from '../../src/contracts/events.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const min = (m: number) => new Date(T0 + m * 60_000).toISOString();
const rev = (revision: number, atMin: number, change_cause: string) => ({ revision, created_at: min(atMin), change_cause });
const history = (...revisions: ReturnType<typeof rev>[]): RolloutHistory => ({ revisions, current_revision: Math.max(...revisions.map((r) => r.revision)) });

const initial = rev(1, -4320, 'release 4.12.0');
const bad = rev(2, -47, 'JVM heap MaxRAMPercentage 70 -> 90');
const harmless = rev(3, 3, 'log level info -> warn');
const WINDOW = DEFAULT_DETECTOR_OPTIONS.correlationWindowMin;

describe('blameRollout: the revision running at the onset, not the newest', () => {
  it('bad then harmless: blames the bad revision and returns to the one before it, saying the later one came after the onset', () => {
    const b = blameRollout(history(initial, bad, harmless), { atMs: T0 + 60_000, lastHealthyMs: T0 + 45_000 }, WINDOW);
    expect(b.suspect?.revision).toBe(2);
    if (!b.suspect) throw new Error('unreachable');
    expect(b.lastGood).toBe(1);
    expect(b.afterOnset.map((r) => r.revision)).toEqual([3]);
    expect(b.reasons.join('\n')).toMatch(/revision 3 \(log level info -> warn\) rolled out at .* after the incident's onset .*: not the cause/);
    expect(b.reasons.join('\n')).toMatch(/revision 1 ran before revision 2: the last good revision \(rolling back to it also undoes revision\(s\) 3\)/);
  });

  it('only a harmless revision, pushed after the onset: nothing to blame, no rollback', () => {
    const b = blameRollout(history(initial, harmless), { atMs: T0 + 60_000, lastHealthyMs: T0 + 45_000 }, WINDOW);
    expect(b.suspect).toBeUndefined();
    expect(b.afterOnset.map((r) => r.revision)).toEqual([3]);
    expect(b.reasons.at(-1)).toMatch(/no rollout in the 120 min before the incident's onset .*: no rollback/);
  });

  it('the onset before any rollout in the window: no suspect, even with several later rollouts', () => {
    const later = [rev(2, 5, 'feature flag'), rev(3, 9, 'image bump')];
    const b = blameRollout(history(initial, ...later), { atMs: T0, lastHealthyMs: T0 - 15_000 }, WINDOW);
    expect(b.suspect).toBeUndefined();
    expect(b.afterOnset.map((r) => r.revision)).toEqual([2, 3]);
    // A rollout older than the window is not blamed either.
    expect(blameRollout(history(initial, rev(2, -200, 'old')), { atMs: T0, lastHealthyMs: T0 - 15_000 }, WINDOW).suspect).toBeUndefined();
  });

  it('two rollouts before an onset seen from healthy: the one running at the onset', () => {
    const b = blameRollout(history(initial, bad, rev(3, -10, 'image bump')), { atMs: T0, lastHealthyMs: T0 - 15_000 }, WINDOW);
    expect(b.suspect?.revision).toBe(3);
    if (!b.suspect) throw new Error('unreachable');
    expect(b.lastGood).toBe(2);
  });

  it('an onset that cannot be pinned down (degraded from the first sample): back to before every rollout in the window', () => {
    const b = blameRollout(history(initial, bad, rev(3, -10, 'image bump')), { atMs: T0 }, WINDOW);
    expect(b.suspect?.revision).toBe(2);
    if (!b.suspect) throw new Error('unreachable');
    expect(b.lastGood).toBe(1);
    expect(b.alsoBeforeOnset.map((r) => r.revision)).toEqual([3]);
    expect(b.reasons[0]).toMatch(/degraded from the first sample watched.*revision\(s\) 3 came later and may be the cause as well/);
  });
});

// The detector finds the onset itself, from its samples; then Elastik plans from the observation.
function metrics(p99: number, bad = 3): DeploymentMetrics {
  const pods = Array.from({ length: 8 }, (_, i) => ({
    pod: `checkout-${i}`, ready: true, memory_bytes: (i < bad ? 0.94 : 0.71) * 2 ** 31, memory_limit_bytes: 2 ** 31,
    cpu_millicores: 300, gc_pause_ms_per_min: i < bad ? 880 : 200,
  }));
  return { pods, service: { p50_ms: 60, p99_ms: p99, rps: 800, error_ratio: 0 }, deployment: { replicas: 8, revision: 3 } };
}

function detect(samples: number[], h: RolloutHistory) {
  let state: DetectorState = initialDetectorState();
  for (const [i, p99] of samples.entries()) {
    const nowMs = T0 + i * 15_000;
    const r = assess(state, { nowMs, deployment: 'checkout', metrics: metrics(p99), history: h }, { ...DEFAULT_DETECTOR_OPTIONS, sloP99Ms: 500 });
    state = r.state;
    if (r.finding?.kind === 'incident') return { finding: r.finding, nowMs };
  }
  throw new Error('no incident');
}

function elastikPlan(samples: number[], h: RolloutHistory) {
  const { finding, nowMs } = detect(samples, h);
  const obs: Observation = {
    id: 'o1', v: 1, ts: new Date(nowMs).toISOString(), incident_id: 'i1', type: 'observation', agent: 'watchtower', tenant: 'acme',
    namespace: 'acme-prod', severity: finding.severity, summary: finding.summary, target: { kind: 'Deployment', name: 'checkout' },
    signals: finding.signals, ...(finding.onset ? { onset: finding.onset } : {}), ...(finding.correlated_change ? { correlated_change: finding.correlated_change } : {}),
  };
  const capacity = { namespace: 'acme-prod', total_pods: 40, deployments: [{ name: 'checkout', replicas: 8, cpu_request_millicores: 500, memory_request_bytes: 1 }] };
  return { finding, actions: plan({ observation: obs, metrics: metrics(1240), history: h, capacity, maxReplicas: 40, sloP99Ms: 500 }) };
}

describe('Watchtower finds the onset; Elastik rolls back to the last good revision', () => {
  // Healthy at 0 and 15 s, departing from 30 s (onset), over the SLO from 45 s, confirmed at 60 s.
  const climb = [190, 195, 320, 620, 900, 1240];

  it('bad (47 min before), then harmless (pushed at 40 s, after the onset, before detection): rolls back to revision 1, undone to revision 3', () => {
    const h = history(initial, bad, { ...rev(3, 0, 'log level info -> warn'), created_at: new Date(T0 + 40_000).toISOString() });
    const { finding, actions } = elastikPlan(climb, h);
    expect(finding.onset).toEqual({ at: new Date(T0 + 30_000).toISOString(), last_healthy_at: new Date(T0 + 15_000).toISOString() });
    expect(finding.correlated_change).toMatchObject({ revision: 2, last_good_revision: 1 });
    const rollback = actions.find((a) => a.action === 'rollback_deployment')!;
    expect(rollback.tool_call.args).toEqual({ namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 });
    expect(rollback.compensating_action.args).toMatchObject({ to_revision: 3 });
    expect(rollback.params).toMatchObject({ from_revision: 3, to_revision: 1, blamed_revision: 2 });
    expect(rollback.reasoning.join('\n')).toMatch(/revision 3 .* after the incident's onset .*: not the cause/);
    expect(rollback.reasoning.join('\n')).toMatch(/revision 1 ran before revision 2: the last good revision/);
  });

  it('only the harmless revision (the old one beyond the window): no correlated change, no rollback', () => {
    const h = history(initial, { ...rev(3, 0, 'log level info -> warn'), created_at: new Date(T0 + 40_000).toISOString() });
    const { finding, actions } = elastikPlan(climb, h);
    expect(finding.correlated_change).toBeUndefined();
    expect(actions.filter((a) => a.action === 'rollback_deployment')).toEqual([]);
  });

  it('the seed: one bad revision before a climb watched from healthy: back to revision 1', () => {
    const { actions } = elastikPlan(climb, history(initial, bad));
    expect(actions.find((a) => a.action === 'rollback_deployment')!.tool_call.args).toMatchObject({ to_revision: 1 });
  });

  it('Elastik does not roll back when the deployment no longer runs the blamed revision or later (already rolled back)', () => {
    const { finding } = detect(climb, history(initial, bad));
    const obs = {
      id: 'o1', v: 1, ts: min(1), incident_id: 'i1', type: 'observation', agent: 'watchtower', tenant: 'acme', namespace: 'acme-prod',
      severity: 'critical', summary: 's', target: { kind: 'Deployment', name: 'checkout' }, signals: finding.signals, correlated_change: finding.correlated_change!,
    } as Observation;
    const capacity = { namespace: 'acme-prod', total_pods: 8, deployments: [] };
    // `kubectl rollout undo` renumbers revision 1 as 3: the last good revision is gone from the history and already runs.
    const undone = { revisions: [rev(2, -47, 'JVM heap'), rev(3, 1, 'release 4.12.0')], current_revision: 3 };
    expect(plan({ observation: obs, metrics: metrics(1240), history: undone, capacity, maxReplicas: 40, sloP99Ms: 500 }).filter((a) => a.action === 'rollback_deployment')).toEqual([]);
  });
});
