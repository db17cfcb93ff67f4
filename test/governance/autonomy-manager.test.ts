// The autonomy manager on real PostgreSQL: changes persist across a restart, reach every process at
// once over the bus (in memory and on real Redis), are audited, and a process that missed one
// converges from the store.
import { afterEach, describe, expect, it } from 'vitest';
import { STREAMS, type Control } from '../../src/contracts/events.ts';
import { AGENTS } from '../../src/governance/autonomy.ts';
import { autonomyWorld, waitFor } from './helpers.ts';

const ALICE = { id: 'U0ONCALL01', name: 'alice' };

let world: Awaited<ReturnType<typeof autonomyWorld>>;
afterEach(async () => {
  await world?.close();
});

const allAt1 = (levels: (a: (typeof AGENTS)[number]) => number) => AGENTS.every((a) => levels(a) === 1);

describe('persistence', () => {
  it('a new manager (a restart) loads phase, overrides, pause and demotion from PostgreSQL', async () => {
    world = await autonomyWorld();
    const first = await world.startProcess();
    await first.manager.setPhase('assist', { id: 'config' }, 'config/governor.json says assist');
    await first.manager.setLevel('elastik', 3, ALICE, 'trusted after review');
    await first.manager.demote('configurer', '2 of 5 actions failed');
    await first.stop();

    const second = await world.startProcess();
    expect(second.manager.phase).toBe('assist');
    expect(second.manager.level('elastik')).toBe(3);
    expect(second.manager.level('configurer')).toBe(1);
    expect(second.manager.level('arbitrator')).toBe(2);
    expect(second.manager.status('elastik').why).toMatch(/set to 3 by U0ONCALL01 .*trusted after review/);

    await second.manager.pause(ALICE, 'incident 42');
    await second.stop();
    const third = await world.startProcess();
    expect(allAt1((a) => third.manager.level(a))).toBe(true);
    expect(await third.manager.latestPauseMs()).toBe(world.clock.now());
  });

  it('caps a level above the maximum and says so; refuses an unknown agent', async () => {
    world = await autonomyWorld();
    const p = await world.startProcess();
    const res = await p.manager.setLevel('configurer', 3, ALICE);
    expect(res).toMatchObject({ requested: 3, capped: true, change: { level: 2 } });
    expect(p.manager.level('configurer')).toBe(2);
    await expect(p.manager.setLevel('skynet', 3, ALICE)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('records the initial phase once, and not again when it is unchanged', async () => {
    world = await autonomyWorld();
    const p = await world.startProcess();
    expect(await p.manager.setPhase('govern', { id: 'config' })).not.toBeNull();
    expect(await p.manager.setPhase('govern', { id: 'config' })).toBeNull();
    expect(await p.store.list()).toHaveLength(1);
  });
});

describe('audit', () => {
  it('records every change as a control record with the actor, the change and the levels after it, and broadcasts it', async () => {
    world = await autonomyWorld();
    const p = await world.startProcess();
    await p.manager.pause(ALICE, 'incident 42');
    const [rec] = await p.audit.list({ kind: 'control' });
    expect(rec).toMatchObject({
      actor: 'U0ONCALL01',
      payload: {
        change: { kind: 'pause', epoch: 1, reason: 'incident 42' },
        by: ALICE,
        control: { command: 'pause', epoch: 1 },
        levels: { elastik: 1, watchtower: 1 },
      },
    });
    const events = await waitFor(async () => {
      const m = await p.bus.read(STREAMS.control);
      return m.length > 0 && m;
    }, 'the control event');
    expect(events[0]!.event).toMatchObject({ type: 'control', command: 'pause', epoch: 1, actor: 'U0ONCALL01' });
    expect((await p.audit.verify()).valid).toBe(true);
  });
});

for (const bus of ['memory', 'redis'] as const) {
  describe(`broadcast between two processes (${bus} bus)`, () => {
    it('a pause in one process holds every agent at level 1 in the other at once; a level set later also arrives', async () => {
      world = await autonomyWorld({ bus });
      const a = await world.startProcess();
      const b = await world.startProcess();
      expect(b.manager.level('elastik')).toBe(3);

      const started = Date.now();
      await a.manager.pause(ALICE, 'incident 42');
      expect(allAt1((x) => a.manager.level(x))).toBe(true);
      await waitFor(() => allAt1((x) => b.manager.level(x)), 'the pause to reach the other process', 3000);
      expect(Date.now() - started).toBeLessThan(2000);

      await a.manager.setLevel('elastik', 3, ALICE, 'incident over');
      await waitFor(() => b.manager.level('elastik') === 3, 'the promotion to reach the other process', 3000);
      expect(b.manager.level('configurer')).toBe(1);
      expect(b.manager.levels.epoch).toBe(2);
    });

    it('a process that missed a broadcast converges: on the next change (a gap in epochs) and on its periodic reload', async () => {
      world = await autonomyWorld({ bus });
      const a = await world.startProcess();
      const b = await world.startProcess({ reloadEveryMs: 30_000 });
      // A change stored by something that did not broadcast it (a crash between commit and publish).
      await a.store.append({ at: new Date(world.clock.now()).toISOString(), agent: 'elastik', kind: 'demotion', level: 1, phase: null, actor: 'agent-health', reason: 'lost' });
      expect(b.manager.level('elastik')).toBe(3);
      await (world.clock as import('../../src/core/clock.ts').VirtualClock).advance(30_000);
      await waitFor(() => b.manager.level('elastik') === 1, 'the periodic reload', 3000);

      // And a gap: epoch 3 arrives at a process that never saw epoch 2.
      await a.store.append({ at: new Date(world.clock.now()).toISOString(), agent: 'configurer', kind: 'demotion', level: 1, phase: null, actor: 'agent-health', reason: 'lost too' });
      await a.manager.setLevel('watchtower', 1, ALICE);
      await waitFor(() => b.manager.level('watchtower') === 1 && b.manager.level('configurer') === 1, 'the reload after a gap', 3000);
    });
  });
}

describe('the pause epoch', () => {
  it('is written to shared state, only moves forward, and is re-asserted after shared state lost it', async () => {
    world = await autonomyWorld();
    const p = await world.startProcess();
    expect(await world.pauseEpoch.latestPauseMs()).toBeNull();
    await p.manager.pause(ALICE);
    const first = world.clock.now();
    expect(await world.pauseEpoch.latestPauseMs()).toBe(first);
    await world.pauseEpoch.recordPause(first - 60_000);
    expect(await world.pauseEpoch.latestPauseMs()).toBe(first);

    await world.shared.close(); // Redis flushed, say
    expect(await world.pauseEpoch.latestPauseMs()).toBeNull();
    await p.manager.reload();
    expect(await world.pauseEpoch.latestPauseMs()).toBe(first);
  });

  it('control events from the stream carry everything a view needs', async () => {
    world = await autonomyWorld();
    const p = await world.startProcess();
    await p.manager.setPhase('assist', { id: 'config' });
    const events = await waitFor(async () => {
      const m = await p.bus.read(STREAMS.control);
      return m.length > 0 && m;
    }, 'the control event');
    const e = events[0]!.event as Control;
    expect(e).toMatchObject({ command: 'set_phase', phase: 'assist', epoch: 1, actor: 'config' });
  });
});
