// An observation the audit log cannot take (PostgreSQL down at the moment of detection) must not be
// lost: Watchtower's belief that an incident is open changes only once its observation is recorded,
// so the next poll finds the breach again and raises it, instead of an incident that Watchtower holds
// open and no other agent ever hears of (found while writing SECURITY.md / RUNBOOK.md).
import { describe, expect, it } from 'vitest';
import { Watchtower } from '../../agents/watchtower/watchtower.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { Observation } from '../../src/contracts/events.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { ScriptedTools } from '../fixtures/scripted-tools.ts';

describe('Watchtower when the audit log refuses an observation', () => {
  it('raises the incident again at the next poll, and then resolves it, each once', async () => {
    let p99 = 120;
    const tools = new ScriptedTools({
      get_pod_metrics: () => ({ ok: true, raw: {}, data: { pods: [], service: { p50_ms: 50, p99_ms: p99, rps: 100, error_ratio: 0 }, deployment: { replicas: 3, revision: 1 } } }),
      get_rollout_history: () => ({ ok: true, raw: {}, data: { revisions: [{ revision: 1 }], current_revision: 1 } }),
    });
    const published: Observation[] = [];
    let down = false;
    let refused = 0;
    const recorder = {
      recordAndPublish: async (_: unknown, m: { event: Observation }) => {
        if (down) {
          refused++;
          throw new Error('connection to PostgreSQL refused');
        }
        published.push(m.event);
      },
    } as unknown as Recorder;
    const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
    const w = new Watchtower({
      tools, recorder, clock, tracker: new WorkTracker(), logger: silentLogger(),
      targets: [{ tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout', sloP99Ms: 400 }],
    });
    const poll = async () => {
      await w.pollAll().catch(() => undefined);
      await clock.advance(15_000);
    };
    for (let i = 0; i < 4; i++) await poll();
    // The breach, while the audit log is down: the observation cannot be recorded.
    p99 = 900;
    down = true;
    for (let i = 0; i < 6 && refused === 0; i++) await poll();
    expect(refused).toBe(1);
    expect(published).toHaveLength(0);
    // Back up: the very next poll raises it.
    down = false;
    await poll();
    const opened = published.filter((o) => o.severity !== 'info');
    expect(opened).toHaveLength(1);
    expect(opened[0]!.incident_id).toBeDefined();
    // And it resolves, under the same incident, once.
    p99 = 120;
    for (let i = 0; i < 12; i++) await poll();
    const resolved = published.filter((o) => o.severity === 'info');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.incident_id).toBe(opened[0]!.incident_id);
    expect(published.filter((o) => o.severity !== 'info')).toHaveLength(1);
  });
});
