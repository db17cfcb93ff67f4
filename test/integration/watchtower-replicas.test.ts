// Two Watchtower replicas on one audit log and one shared state: each target has one owner, so an
// incident is raised once, not once per replica; when the owner stops (cleanly, or dies and its lease
// runs out) the other carries the same incident on to its resolution instead of raising it again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Watchtower, type WatchTarget } from '../../agents/watchtower/watchtower.ts';
import type { ToolOutcome } from '../../agents/runtime/tool-client.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import type { Observation } from '../../src/contracts/events.ts';
import { ScriptedTools } from '../fixtures/scripted-tools.ts';
import { harness } from './harness.ts';

let h: Awaited<ReturnType<typeof harness>>;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const ok = <T>(data: T): ToolOutcome<T> => ({ ok: true, data, raw: {} });
const TARGET: WatchTarget = { tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout', sloP99Ms: 500 };
const POLL_MS = 15_000;

/** A checkout whose p99 the test sets; both replicas read the same service. */
function service(state: { p99: number }) {
  return () =>
    new ScriptedTools({
      get_pod_metrics: () =>
        ok({
          pods: Array.from({ length: 4 }, (_, i) => ({ pod: `checkout-${i}`, ready: true, memory_bytes: 1, cpu_millicores: 300, cpu_limit_millicores: 1000, restarts: 0 })),
          service: { p50_ms: 80, p99_ms: state.p99, rps: 400, error_ratio: 0 },
          deployment: { replicas: 4, revision: 1 },
        }),
      get_rollout_history: () => ok({ revisions: [{ revision: 1, created_at: null, change_cause: null }], current_revision: 1 }),
    });
}

function replica(owner: string, shared: MemorySharedState, tools: () => ScriptedTools) {
  return new Watchtower({ tools: tools(), recorder: h.recorder, clock: h.clock, tracker: new WorkTracker(), logger: h.logger, targets: [TARGET], pollMs: POLL_MS, lease: { state: shared, owner, audit: h.audit } });
}

const observations = async (): Promise<Observation[]> =>
  (await h.audit.list({ kind: 'observation' })).flatMap((r) => (r.kind === 'observation' ? [r.payload.observation] : []));

/** One poll interval: each live replica polls, as its timer would. */
async function tick(...replicas: Watchtower[]) {
  h.clock.advance(POLL_MS);
  for (const r of replicas) await r.pollAll();
}

describe('Watchtower replicas', () => {
  it('raise an incident once, and after a clean stop the other carries it to its resolution', async () => {
    const shared = new MemorySharedState();
    const state = { p99: 200 };
    const [a, b] = [replica('a', shared, service(state)), replica('b', shared, service(state))];
    for (let i = 0; i < 20; i++) await tick(a, b);
    state.p99 = 1500;
    for (let i = 0; i < 6; i++) await tick(a, b);
    const raised = (await observations()).filter((o) => o.severity !== 'info');
    expect(raised.length).toBeGreaterThan(0);
    expect(new Set(raised.map((o) => o.incident_id)).size).toBe(1);
    const incident = raised[0]!.incident_id;

    a.stop();
    for (let i = 0; i < 3; i++) await tick(b);
    state.p99 = 200;
    for (let i = 0; i < 10; i++) await tick(b);
    const all = await observations();
    // No second incident, and the resolution closes the one raised before the handover.
    expect(new Set(all.map((o) => o.incident_id))).toEqual(new Set([incident]));
    expect(all.filter((o) => o.severity === 'info')).toHaveLength(1);
  });

  it('takes over from a replica that died only once its lease has run out', async () => {
    const shared = new MemorySharedState();
    const state = { p99: 200 };
    const [a, b] = [replica('a', shared, service(state)), replica('b', shared, service(state))];
    for (let i = 0; i < 20; i++) await tick(a, b);
    state.p99 = 1500;
    for (let i = 0; i < 4; i++) await tick(a, b);
    const before = (await observations()).length;
    expect(before).toBeGreaterThan(0);
    // a dies: it neither polls nor releases. b does not watch until a's lease (three polls) expires.
    const bTools = (b as unknown as { deps: { tools: ScriptedTools } }).deps.tools;
    const callsBefore = bTools.calls.filter((c) => c.tool === 'get_pod_metrics').length;
    await tick(b);
    await tick(b);
    expect(bTools.calls.filter((c) => c.tool === 'get_pod_metrics').length).toBe(callsBefore);
    await tick(b);
    await tick(b);
    expect(bTools.calls.filter((c) => c.tool === 'get_pod_metrics').length).toBeGreaterThan(callsBefore);
    state.p99 = 200;
    for (let i = 0; i < 10; i++) await tick(b);
    const all = await observations();
    expect(new Set(all.map((o) => o.incident_id)).size).toBe(1);
    expect(all.filter((o) => o.severity === 'info')).toHaveLength(1);
  });

  it('goes on watching the targets it holds while the shared state is unreachable, and takes none over', async () => {
    const state = { p99: 120 };
    const shared = new MemorySharedState();
    let down = false;
    const flaky = {
      holdLease: (...a: Parameters<MemorySharedState['holdLease']>) => (down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) : shared.holdLease(...a)),
      releaseLease: (...a: Parameters<MemorySharedState['releaseLease']>) => shared.releaseLease(...a),
    };
    const other: WatchTarget = { ...TARGET, deployment: 'cart' };
    const mine = new Watchtower({ tools: service(state)(), recorder: h.recorder, clock: h.clock, tracker: new WorkTracker(), logger: h.logger, targets: [TARGET], pollMs: POLL_MS, lease: { state: flaky, owner: 'a', audit: h.audit } });
    for (let i = 0; i < 4; i++) {
      await mine.pollAll();
      await h.clock.advance(POLL_MS);
    }
    // Redis goes away; checkout breaches: the replica that holds it still raises the incident.
    down = true;
    state.p99 = 900;
    for (let i = 0; i < 4; i++) {
      await mine.pollAll();
      await h.clock.advance(POLL_MS);
    }
    const raised = (await h.audit.list({ kind: 'observation' })).filter((r) => r.kind === 'observation' && r.payload.observation.severity !== 'info');
    expect(raised).toHaveLength(1);
    // A replica that held nothing takes nothing while the leases cannot be read.
    const newcomer = new Watchtower({ tools: service(state)(), recorder: h.recorder, clock: h.clock, tracker: new WorkTracker(), logger: h.logger, targets: [other], pollMs: POLL_MS, lease: { state: flaky, owner: 'b', audit: h.audit } });
    for (let i = 0; i < 4; i++) {
      await newcomer.pollAll();
      await h.clock.advance(POLL_MS);
    }
    const cart = (await h.audit.list({ kind: 'observation' })).filter((r) => r.kind === 'observation' && r.payload.observation.target.name === 'cart');
    expect(cart).toHaveLength(0);
    mine.stop();
    newcomer.stop();
  });
});
