// A deployment of a tenant the tenants file does not name is watched under the tier Governor assumed
// for it (src/governance/assumed-tenant.ts), and its observation says so: which tenant is unknown,
// and which tier was assumed — in the summary people read and in a field the agents can check.
import { describe, expect, it } from 'vitest';
import { Watchtower } from '../../agents/watchtower/watchtower.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import type { Observation } from '../../src/contracts/events.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { ScriptedTools } from '../fixtures/scripted-tools.ts';

describe('Watchtower on a tenant the tenants file does not name', () => {
  it('opens the incident like any other, and the observation names the unknown tenant and the assumed tier', async () => {
    let p99 = 120;
    const tools = new ScriptedTools({
      get_pod_metrics: () => ({ ok: true, raw: {}, data: { pods: [], service: { p50_ms: 50, p99_ms: p99, rps: 100, error_ratio: 0 }, deployment: { replicas: 3, revision: 1 } } }),
      get_rollout_history: () => ({ ok: true, raw: {}, data: { revisions: [{ revision: 1 }], current_revision: 1 } }),
    });
    const published: Observation[] = [];
    const recorder = { recordAndPublish: async (_: unknown, m: { event: Observation }) => void published.push(m.event) } as unknown as Recorder;
    const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
    const w = new Watchtower({
      tools, recorder, clock, tracker: new WorkTracker(), logger: silentLogger(),
      targets: [{ tenant: 'zeta', namespace: 'zeta-prod', deployment: 'api', sloP99Ms: 400, assumedTier: 'restricted' }],
    });
    for (let i = 0; i < 4; i++) {
      await w.pollAll();
      await clock.advance(15_000);
    }
    p99 = 900;
    for (let i = 0; i < 4 && published.length === 0; i++) {
      await w.pollAll();
      await clock.advance(15_000);
    }
    expect(published).toHaveLength(1);
    const [obs] = published;
    expect(obs!.tenant).toBe('zeta');
    expect(obs!.tenant_assumed).toEqual({ tier: 'restricted', reason: "tenant zeta is not in the tenants file: the most restrictive tier 'restricted' is assumed (every action needs a human approval)" });
    expect(obs!.summary).toMatch(/\(tenant zeta is not in the tenants file: tier 'restricted' assumed\)$/);
  });
});
