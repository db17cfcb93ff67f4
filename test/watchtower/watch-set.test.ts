// Watchtower asks for its watch set before every round: a deployment discovery adds is polled from
// the next round on, one it drops is not, without a restart; one deployment that cannot be read
// holds up none of the others.
import { describe, expect, it } from 'vitest';
import { Watchtower, type WatchTarget } from '../../agents/watchtower/watchtower.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { ScriptedTools } from '../fixtures/scripted-tools.ts';

const healthy = () => ({
  ok: true as const,
  raw: {},
  data: { pods: [], service: { p50_ms: 50, p99_ms: 120, rps: 100, error_ratio: 0 }, deployment: { replicas: 3 } },
});
const noRecords = { record: () => Promise.reject(new Error('nothing to record on a healthy service')) } as unknown as Recorder;

describe('Watchtower and a changing watch set', () => {
  it('polls what the watch set holds at each round', async () => {
    const tools = new ScriptedTools({
      get_pod_metrics: (args) => {
        if (args['deployment'] === 'gone') throw new Error('deployment deleted');
        return healthy();
      },
    });
    let targets: WatchTarget[] = [{ tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout', sloP99Ms: 500 }];
    const w = new Watchtower({ tools, recorder: noRecords, clock: new VirtualClock(0), tracker: new WorkTracker(), logger: silentLogger(), targets: () => targets });
    await w.pollAll();
    expect(tools.calls.map((c) => c.args['deployment'])).toEqual(['checkout']);

    targets = [...targets, { tenant: 'acme', namespace: 'acme-prod', deployment: 'gone', sloP99Ms: 500 }, { tenant: 'acme', namespace: 'acme-prod', deployment: 'cart', sloP99Ms: 400 }];
    tools.calls = [];
    await w.pollAll();
    expect(tools.calls.map((c) => c.args['deployment'])).toEqual(['checkout', 'gone', 'cart']);

    targets = [targets[2]!];
    tools.calls = [];
    await w.pollAll();
    expect(tools.calls.map((c) => c.args['deployment'])).toEqual(['cart']);
  });

  it('fails the round only when no deployment could be read', async () => {
    const tools = new ScriptedTools({ get_pod_metrics: () => { throw new Error('cluster down'); } });
    const w = new Watchtower({ tools, recorder: noRecords, clock: new VirtualClock(0), tracker: new WorkTracker(), logger: silentLogger(), targets: [{ tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout', sloP99Ms: 500 }] });
    await expect(w.pollAll()).rejects.toThrow(/cluster down/);
  });
});
