// One contract for every EventBus: the in-memory bus and the Redis Streams bus must both pass it, so
// the embedded default can stand in for Redis anywhere. Timing-sensitive cases use a short
// claimIdleMs; every test uses fresh stream names, so suites can run in parallel on one Redis.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusMessage, EventBus, SubscribeOptions } from '../../src/bus/event-bus.ts';
import type { GovernorEvent } from '../../src/contracts/events.ts';
import { GovernorError } from '../../src/core/errors.ts';

export type ContractBus = EventBus & { appendRaw(stream: string, payload: string): Promise<string> };

export interface ContractHooks {
  /** Removes whatever the bus stored for these streams (Redis keys); runs after each test. */
  cleanup?: (streams: string[]) => Promise<void>;
}

const CLAIM_IDLE_MS = 200;
const FAST: Pick<SubscribeOptions, 'blockMs' | 'claimIdleMs'> = { blockMs: 50, claimIdleMs: CLAIM_IDLE_MS };

export function controlEvent(overrides: Partial<GovernorEvent> = {}): GovernorEvent {
  return {
    id: randomUUID(),
    v: 1,
    ts: new Date().toISOString(),
    type: 'control',
    command: 'pause',
    actor: 'test',
    ...overrides,
  } as GovernorEvent;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const retryable = (message: string): GovernorError => new GovernorError('upstream_unavailable', message, { retryable: true });

export function eventBusContract(
  name: string,
  makeBus: (opts?: { maxStreamLength?: number }) => Promise<ContractBus>,
  hooks: ContractHooks = {},
): void {
  describe(`EventBus contract: ${name}`, () => {
    let bus: ContractBus;
    let extraBuses: ContractBus[];
    let streams: string[];

    const streamName = (label: string): string => {
      const s = `test:bus:${label}:${randomUUID().slice(0, 8)}`;
      streams.push(s);
      return s;
    };

    beforeEach(async () => {
      streams = [];
      extraBuses = [];
      bus = await makeBus();
    });

    afterEach(async () => {
      await Promise.all([bus, ...extraBuses].map((b) => b.close()));
      await hooks.cleanup?.(streams);
    });

    it('delivers a published event, parsed, with its id and delivery 1', async () => {
      const s = streamName('publish');
      const got: BusMessage[] = [];
      bus.subscribe(s, { group: 'g', consumer: 'c1', ...FAST }, async (m) => void got.push(m));
      const event = controlEvent();
      const id = await bus.publish(s, event);

      await waitFor('delivery', () => got.length === 1);
      expect(got[0]).toEqual({ id, stream: s, event, deliveries: 1 });
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
      expect((await bus.read(s)).map((m) => m.event)).toEqual([event]);
    });

    it('rejects an invalid event on publish and writes nothing', async () => {
      const s = streamName('invalid');
      const bad = { ...controlEvent(), actor: undefined } as unknown as GovernorEvent;
      await expect(bus.publish(s, bad)).rejects.toMatchObject({ code: 'event_invalid', retryable: false });
      expect(await bus.read(s)).toEqual([]);
    });

    it('lets a group created after publication see the earlier messages', async () => {
      const s = streamName('late-group');
      const ids = [await bus.publish(s, controlEvent()), await bus.publish(s, controlEvent())];
      const got: string[] = [];
      bus.subscribe(s, { group: 'late', consumer: 'c1', ...FAST }, async (m) => void got.push(m.id));
      await waitFor('both messages', () => got.length === 2);
      expect(got).toEqual(ids);
    });

    it('gives every message to each group, in order', async () => {
      const s = streamName('two-groups');
      const a: string[] = [];
      const b: string[] = [];
      bus.subscribe(s, { group: 'alpha', consumer: 'c1', ...FAST }, async (m) => void a.push(m.id));
      bus.subscribe(s, { group: 'beta', consumer: 'c1', ...FAST }, async (m) => void b.push(m.id));
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await bus.publish(s, controlEvent()));

      await waitFor('both groups', () => a.length === 5 && b.length === 5);
      expect(a).toEqual(ids);
      expect(b).toEqual(ids);
    });

    it('splits one group between two consumers, none lost or duplicated', async () => {
      const s = streamName('split');
      const byConsumer: Record<string, string[]> = { c1: [], c2: [] };
      for (const consumer of ['c1', 'c2']) {
        bus.subscribe(s, { group: 'g', consumer, batch: 1, ...FAST }, async (m) => {
          byConsumer[consumer]!.push(m.id);
          await sleep(5);
        });
      }
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await bus.publish(s, controlEvent()));

      await waitFor('all messages', () => byConsumer.c1!.length + byConsumer.c2!.length === 20);
      const all = [...byConsumer.c1!, ...byConsumer.c2!];
      expect(new Set(all).size).toBe(20);
      expect([...all].sort()).toEqual([...ids].sort());
      expect(byConsumer.c1!.length).toBeGreaterThan(0);
      expect(byConsumer.c2!.length).toBeGreaterThan(0);
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
    });

    it('acknowledges only after processing: a retryable failure is redelivered as delivery 2', async () => {
      const s = streamName('retry');
      const deliveries: number[] = [];
      bus.subscribe(s, { group: 'g', consumer: 'c1', ...FAST }, async (m) => {
        deliveries.push(m.deliveries);
        if (m.deliveries === 1) throw retryable('database briefly unavailable');
      });
      await bus.publish(s, controlEvent());

      await waitFor('first delivery', () => deliveries.length === 1);
      expect(await bus.backlog()).toBeGreaterThan(0);
      await waitFor('redelivery', () => deliveries.length === 2);
      expect(deliveries).toEqual([1, 2]);
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
      expect(await bus.deadLetters(s)).toEqual([]);
    });

    it('dead-letters a terminal failure with its reason and does not redeliver it', async () => {
      const s = streamName('terminal');
      let calls = 0;
      bus.subscribe(s, { group: 'g', consumer: 'c1', ...FAST }, async () => {
        calls++;
        throw new GovernorError('conflict', 'tenant acme is not entitled', { retryable: false });
      });
      const id = await bus.publish(s, controlEvent());

      await waitFor('dead letter', async () => (await bus.deadLetters(s)).length === 1);
      const [dead] = await bus.deadLetters(s);
      expect(dead).toMatchObject({ stream: s, group: 'g', original_id: id, deliveries: 1 });
      expect(dead!.reason).toContain('conflict: tenant acme is not entitled');
      expect(JSON.parse(dead!.payload)).toMatchObject({ type: 'control', actor: 'test' });
      await sleep(CLAIM_IDLE_MS * 2);
      expect(calls).toBe(1);
      expect(await bus.backlog()).toBe(0);
    });

    it('dead-letters a malformed payload naming the problem, without calling the handler', async () => {
      const s = streamName('malformed');
      const handled: string[] = [];
      bus.subscribe(s, { group: 'g', consumer: 'c1', ...FAST }, async (m) => void handled.push(m.id));
      const notJson = await bus.appendRaw(s, '{not json');
      const missingActor = JSON.stringify({ id: 'e1', v: 1, ts: new Date().toISOString(), type: 'control', command: 'pause' });
      const invalid = await bus.appendRaw(s, missingActor);
      const good = await bus.publish(s, controlEvent());

      await waitFor('good message', () => handled.length === 1);
      expect(handled).toEqual([good]);
      await waitFor('dead letters', async () => (await bus.deadLetters(s)).length === 2);
      const dead = await bus.deadLetters(s);
      expect(dead.map((d) => d.original_id)).toEqual([notJson, invalid]);
      expect(dead[0]!.reason).toMatch(/event_invalid.*not JSON/);
      expect(dead[0]!.payload).toBe('{not json');
      expect(dead[1]!.reason).toMatch(/event_invalid.*actor/);
      expect(dead[1]!.payload).toBe(missingActor);
      expect((await bus.read(s)).map((m) => m.id)).toEqual([good]);
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
    });

    it('lets another consumer reclaim a message from an aborted one; the late handler does not ack it', async () => {
      const s = streamName('abort');
      const releaseA = deferred();
      const startedA = deferred<BusMessage>();
      const a = bus.subscribe(s, { group: 'g', consumer: 'a', ...FAST }, async (m) => {
        startedA.resolve(m);
        await releaseA.promise;
      });
      const id = await bus.publish(s, controlEvent());
      expect((await startedA.promise).deliveries).toBe(1);
      await a.abort();

      const failB = deferred();
      const seenB: BusMessage[] = [];
      bus.subscribe(s, { group: 'g', consumer: 'b', ...FAST }, async (m) => {
        seenB.push(m);
        if (seenB.length === 1) await failB.promise;
      });
      await waitFor('reclaim by b', () => seenB.length === 1);
      expect(seenB[0]!.id).toBe(id);
      expect(seenB[0]!.deliveries).toBeGreaterThanOrEqual(2);

      // The crashed handler finishes now; were it acknowledged, b's retry below would never come.
      releaseA.resolve();
      await sleep(50);
      failB.reject(retryable('b failed too'));
      await waitFor('redelivery to b', () => seenB.length === 2, 3000);
      expect(seenB[1]!.deliveries).toBe(seenB[0]!.deliveries + 1);
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
    });

    it('dead-letters a message that exceeded maxDeliveries, with the last error', async () => {
      const s = streamName('max-deliveries');
      let calls = 0;
      bus.subscribe(s, { group: 'g', consumer: 'c1', maxDeliveries: 2, ...FAST }, async () => {
        calls++;
        throw new Error(`database down (attempt ${calls})`);
      });
      const id = await bus.publish(s, controlEvent());

      await waitFor('dead letter', async () => (await bus.deadLetters(s)).length === 1, 5000);
      const [dead] = await bus.deadLetters(s);
      expect(dead).toMatchObject({ original_id: id, group: 'g', deliveries: 3 });
      expect(dead!.reason).toMatch(/exceeded 2 deliveries/);
      expect(dead!.reason).toContain('database down (attempt 2)');
      expect(calls).toBe(2);
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
    });

    it('goes on delivering, past maxDeliveries, a message that fails only because a dependency is down', async () => {
      const s = streamName('outage');
      let calls = 0;
      bus.subscribe(s, { group: 'g', consumer: 'c1', maxDeliveries: 2, ...FAST }, async () => {
        calls++;
        // PostgreSQL down for the first four deliveries (a minute-long outage, in miniature), then back.
        if (calls <= 4) throw new GovernorError('audit_unavailable', `audit store unreachable (attempt ${calls})`, { retryable: true });
      });
      await bus.publish(s, controlEvent());
      await waitFor('handled once the dependency is back', () => calls === 5, 8000);
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
      expect(await bus.deadLetters(s)).toEqual([]);
    });

    it('keeps a stream bounded near maxStreamLength', async () => {
      const small = await makeBus({ maxStreamLength: 10 });
      extraBuses.push(small);
      const s = streamName('bounded');
      let last = '';
      for (let i = 0; i < 200; i++) last = await small.publish(s, controlEvent());

      const entries = await small.read(s);
      expect(entries.length).toBeGreaterThanOrEqual(10);
      expect(entries.length).toBeLessThan(120);
      expect(entries[entries.length - 1]!.id).toBe(last);
    });

    it('reports a backlog while a message is unacknowledged, and 0 once processed', async () => {
      const s = streamName('backlog');
      const release = deferred();
      const started = deferred();
      bus.subscribe(s, { group: 'g', consumer: 'c1', ...FAST }, async () => {
        started.resolve();
        await release.promise;
      });
      await bus.publish(s, controlEvent());
      await started.promise;
      expect(await bus.backlog()).toBeGreaterThan(0);
      release.resolve();
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
    });

    it('stop() waits for the handler in progress and acknowledges its message', async () => {
      const s = streamName('stop');
      const started = deferred();
      let finished = false;
      const sub = bus.subscribe(s, { group: 'g', consumer: 'c1', ...FAST }, async () => {
        started.resolve();
        await sleep(100);
        finished = true;
      });
      await bus.publish(s, controlEvent());
      await started.promise;
      await sub.stop();
      expect(finished).toBe(true);
      expect(await bus.backlog()).toBe(0);
    });

    it('re-processes its own pending messages first when a consumer restarts', async () => {
      const s = streamName('restart');
      const first = deferred<BusMessage>();
      // A long claimIdleMs rules out a reclaim: only the restart can bring the message back quickly.
      const slow = { group: 'g', consumer: 'c1', blockMs: 50, claimIdleMs: 60_000 };
      const sub = bus.subscribe(s, slow, async (m) => {
        first.resolve(m);
        throw retryable('shutting down');
      });
      const id = await bus.publish(s, controlEvent());
      await first.promise;
      await sub.stop();

      const again = deferred<BusMessage>();
      bus.subscribe(s, slow, async (m) => again.resolve(m));
      const m = await again.promise;
      expect(m.id).toBe(id);
      expect(m.deliveries).toBe(2);
      await waitFor('backlog 0', async () => (await bus.backlog()) === 0);
    });

    it('refuses to publish after close', async () => {
      const s = streamName('closed');
      await bus.close();
      await expect(bus.publish(s, controlEvent())).rejects.toThrow(/closed/);
    });
  });
}
