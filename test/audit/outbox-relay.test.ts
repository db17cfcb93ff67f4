// The outbox relay against the real PostgreSQL outbox and the in-memory bus: whoever nudges it after
// a write sees that write published when the nudge resolves, even when a drain was already running.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { GovernorEvent } from '../../src/contracts/events.ts';
import { harness } from '../integration/harness.ts';

let h: Awaited<ReturnType<typeof harness>>;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const control = (): GovernorEvent => ({ id: randomUUID(), v: 1, ts: new Date().toISOString(), type: 'control', command: 'pause', actor: 'test' });
const note = (i: number) => ({ kind: 'note' as const, actor: 'test', at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), payload: { i } });

describe('outbox relay', () => {
  it('a nudge made while a drain runs resolves only after a drain that saw the nudger\'s write', async () => {
    const first = control();
    await h.audit.appendWithOutbox(note(1), { stream: 'governor:control', event: first });
    const running = h.relay.nudge();
    const second = control();
    await h.audit.appendWithOutbox(note(2), { stream: 'governor:control', event: second });
    await h.relay.nudge();
    expect((await h.bus.read('governor:control')).map((m) => m.event.id)).toEqual([first.id, second.id]);
    await running;
    expect(await h.relay.pending()).toBe(0);
  });

  it('many nudges during one drain share one follow-up drain, and every event is published once', async () => {
    const events = Array.from({ length: 20 }, control);
    const nudges: Promise<void>[] = [];
    for (const [i, e] of events.entries()) {
      await h.audit.appendWithOutbox(note(i), { stream: 'governor:control', event: e });
      nudges.push(h.relay.nudge());
    }
    await Promise.all(nudges);
    expect((await h.bus.read('governor:control')).map((m) => m.event.id)).toEqual(events.map((e) => e.id));
  });
});
