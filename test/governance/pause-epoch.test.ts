// The pause epoch in shared state, in memory and on real Redis: only moves forward, reading leaves
// nothing behind, and two handles (two processes) agree.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { RedisSharedState } from '../../src/bus/redis-shared-state.ts';
import type { SharedState } from '../../src/bus/shared-state.ts';
import { PAUSE_EPOCH_KEY, SharedStatePauseEpoch, assertIssuedAfterPause, isPauseRevocation } from '../../src/governance/pause-epoch.ts';
import { REDIS_URL, T0 } from './helpers.ts';

const backends: Array<[string, () => { a: SharedState; b: SharedState; cleanup(): Promise<void> }]> = [
  ['memory', () => {
    const s = new MemorySharedState();
    return { a: s, b: s, cleanup: async () => {} };
  }],
  ['redis', () => {
    const keyPrefix = `test-pause-${randomUUID().slice(0, 8)}:`;
    return {
      a: new RedisSharedState({ url: REDIS_URL, keyPrefix }),
      b: new RedisSharedState({ url: REDIS_URL, keyPrefix }),
      cleanup: async () => {
        const admin = new Redis(REDIS_URL);
        await admin.del(keyPrefix + PAUSE_EPOCH_KEY);
        await admin.quit();
      },
    };
  }],
];

for (const [name, make] of backends) {
  describe(`SharedStatePauseEpoch (${name})`, () => {
    it('is null until a pause, then the latest pause, seen by every handle', async () => {
      const { a, b, cleanup } = make();
      try {
        const writer = new SharedStatePauseEpoch(a);
        const reader = new SharedStatePauseEpoch(b);
        expect(await reader.latestPauseMs()).toBeNull();
        expect(await reader.latestPauseMs()).toBeNull();
        await writer.recordPause(T0);
        expect(await reader.latestPauseMs()).toBe(T0);
        await writer.recordPause(T0 - 1000);
        expect(await reader.latestPauseMs()).toBe(T0);
        await Promise.all([writer.recordPause(T0 + 5000), reader.latestPauseMs(), reader.latestPauseMs(), writer.recordPause(T0 + 2000)]);
        expect(await reader.latestPauseMs()).toBe(T0 + 5000);
      } finally {
        await a.close();
        if (b !== a) await b.close();
        await cleanup();
      }
    });
  });
}

describe('assertIssuedAfterPause', () => {
  it('refuses a grant issued at or before the pause as grant_invalid, marked as a pause revocation', () => {
    const g = (ms: number) => ({ id: 'g1', ts: new Date(ms).toISOString() });
    expect(() => assertIssuedAfterPause(g(T0 - 1), null)).not.toThrow();
    expect(() => assertIssuedAfterPause(g(T0 + 1), T0)).not.toThrow();
    for (const ms of [T0, T0 - 1]) {
      try {
        assertIssuedAfterPause(g(ms), T0);
        expect.unreachable();
      } catch (err) {
        expect(err).toMatchObject({ code: 'grant_invalid', message: expect.stringMatching(/grant g1 was revoked: .*not after the pause at 2026-11-24T10:00:00.000Z/) });
        expect(isPauseRevocation((err as { details: unknown }).details)).toBe(true);
      }
    }
  });
});
