// One contract for every SharedState: the claim window is what keeps several MCP server replicas
// and agents from scaling the same deployment inside its cooldown.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SharedState } from '../../src/bus/shared-state.ts';

/**
 * `makeState` returns a new handle; handles made within one test share the same backing store
 * (two processes on one Redis, or one in-memory map).
 */
export function sharedStateContract(name: string, makeState: () => Promise<SharedState>): void {
  describe(`SharedState contract: ${name}`, () => {
    let handles: SharedState[];
    let key: string;
    const open = async (): Promise<SharedState> => {
      const s = await makeState();
      handles.push(s);
      return s;
    };

    beforeEach(() => {
      handles = [];
      key = `cooldown:test:${randomUUID()}`;
    });
    afterEach(async () => {
      await Promise.all(handles.map((h) => h.close()));
    });

    // A simulated epoch far from the wall clock: correctness must not depend on real time.
    const t0 = Date.UTC(2031, 0, 1);
    const WINDOW = 300_000;

    it('acquires a free window', async () => {
      const state = await open();
      expect(await state.claimWindow(key, t0, WINDOW)).toEqual({ acquired: true, heldSinceMs: null });
    });

    it('refuses a second claim inside the window, naming when it was taken', async () => {
      const state = await open();
      await state.claimWindow(key, t0, WINDOW);
      expect(await state.claimWindow(key, t0 + WINDOW - 1, WINDOW)).toEqual({ acquired: false, heldSinceMs: t0 });
    });

    it('grants a claim once the window has passed', async () => {
      const state = await open();
      await state.claimWindow(key, t0, WINDOW);
      expect((await state.claimWindow(key, t0 + WINDOW, WINDOW)).acquired).toBe(true);
      expect(await state.claimWindow(key, t0 + WINDOW + 1, WINDOW)).toEqual({ acquired: false, heldSinceMs: t0 + WINDOW });
    });

    it('lets a released claim be taken again, but only its own claim is released', async () => {
      const state = await open();
      await state.claimWindow(key, t0, WINDOW);
      await state.releaseWindow(key, t0 + 1);
      expect((await state.claimWindow(key, t0 + 2, WINDOW)).acquired).toBe(false);
      await state.releaseWindow(key, t0);
      expect((await state.claimWindow(key, t0 + 2, WINDOW)).acquired).toBe(true);
    });

    it('keeps claims independent per key', async () => {
      const state = await open();
      await state.claimWindow(key, t0, WINDOW);
      expect((await state.claimWindow(`${key}:other`, t0, WINDOW)).acquired).toBe(true);
      await state.releaseWindow(`${key}:other`, t0);
    });

    it('gives a lease to one owner, renews it for that owner, and hands it over once it expires or is released', async () => {
      const [a, b] = [await open(), await open()];
      const TTL = 45_000;
      expect(await a.holdLease(key, 'p1', t0, TTL)).toEqual({ held: true, owner: 'p1' });
      expect(await b.holdLease(key, 'p2', t0 + 1, TTL)).toEqual({ held: false, owner: 'p1' });
      // Renewed by its owner: still p1's past the first expiry.
      expect(await a.holdLease(key, 'p1', t0 + 30_000, TTL)).toEqual({ held: true, owner: 'p1' });
      expect(await b.holdLease(key, 'p2', t0 + TTL + 1, TTL)).toEqual({ held: false, owner: 'p1' });
      // p1 stops renewing (it died): p2 takes over once the lease expires.
      expect(await b.holdLease(key, 'p2', t0 + 30_000 + TTL, TTL)).toEqual({ held: true, owner: 'p2' });
      expect(await a.holdLease(key, 'p1', t0 + 30_000 + TTL + 1, TTL)).toEqual({ held: false, owner: 'p2' });
      // Only the owner releases; then anyone may take it at once.
      await a.releaseLease(key, 'p1');
      expect((await a.holdLease(key, 'p1', t0 + 80_000, TTL)).held).toBe(false);
      await b.releaseLease(key, 'p2');
      expect(await a.holdLease(key, 'p1', t0 + 80_000, TTL)).toEqual({ held: true, owner: 'p1' });
    });

    it('lets exactly one of many concurrent lease takers from two handles hold it', async () => {
      const [a, b] = [await open(), await open()];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).holdLease(key, `p${i}`, t0, 45_000)));
      const winners = results.filter((r) => r.held);
      expect(winners).toHaveLength(1);
      for (const r of results) expect(r.owner).toBe(winners[0]!.owner);
    });

    it('lets exactly one of many concurrent claims from two handles win', async () => {
      const [a, b] = [await open(), await open()];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).claimWindow(key, t0 + i, WINDOW)),
      );
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
      const winner = results.findIndex((r) => r.acquired);
      for (const r of results.filter((r) => !r.acquired)) expect(r.heldSinceMs).toBe(t0 + winner);
    });

    it('keeps the first value under a key until it expires in the caller\'s clock, across handles', async () => {
      const [a, b] = [await open(), await open()];
      expect(await a.recall(key, t0)).toBeUndefined();
      expect(await a.keepFirst(key, '{"first":true}', t0, 60_000)).toBe('{"first":true}');
      // A later write by anyone leaves the first: a value with ':' in it survives the encoding.
      expect(await b.keepFirst(key, 'second:value', t0 + 1, 60_000)).toBe('{"first":true}');
      expect(await b.recall(key, t0 + 59_999)).toBe('{"first":true}');
      // Expired in the caller's clock: gone, and the next write is kept.
      expect(await a.recall(key, t0 + 60_000)).toBeUndefined();
      expect(await b.keepFirst(key, 'later:one', t0 + 60_000, 1_000)).toBe('later:one');
      expect(await a.recall(key, t0 + 60_500)).toBe('later:one');
    });

    it('lets exactly one of many concurrent first writes from two handles be kept', async () => {
      const [a, b] = [await open(), await open()];
      const kept = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).keepFirst(key, `v${i}`, t0, 60_000)));
      expect(new Set(kept).size).toBe(1);
      expect(await a.recall(key, t0)).toBe(kept[0]);
    });
  });
}
