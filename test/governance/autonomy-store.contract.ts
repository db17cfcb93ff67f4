// One contract for every AutonomyStore: appended changes come back in epoch order, whole, and
// "everything after epoch N" is exact.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AutonomyStore, NewAutonomyChange } from '../../src/governance/autonomy-store.ts';

export function autonomyStoreContract(name: string, make: () => Promise<{ store: AutonomyStore; cleanup(): Promise<void> }>): void {
  describe(`AutonomyStore contract: ${name}`, () => {
    let store: AutonomyStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup();
    });

    const pause: NewAutonomyChange = { at: '2026-11-24T10:00:00.000Z', agent: null, kind: 'pause', level: null, phase: null, actor: 'U1', reason: 'incident 42' };

    it('hands out epochs from 1 in order and returns every field as stored', async () => {
      const a = await store.append({ ...pause, kind: 'phase', phase: 'assist', actor: 'config', reason: null });
      const b = await store.append(pause);
      const c = await store.append({ ...pause, kind: 'level', agent: 'elastik', level: 3, reason: null });
      expect([a.epoch, b.epoch, c.epoch]).toEqual([1, 2, 3]);
      expect(await store.list()).toEqual([a, b, c]);
      expect(b).toEqual({ ...pause, epoch: 2 });
      expect(c).toMatchObject({ agent: 'elastik', level: 3, kind: 'level' });
    });

    it('lists only what follows an epoch', async () => {
      for (let i = 0; i < 5; i++) await store.append(pause);
      expect((await store.list(3)).map((c) => c.epoch)).toEqual([4, 5]);
      expect(await store.list(5)).toEqual([]);
    });

    it('gives concurrent appends distinct, gapless epochs', async () => {
      await Promise.all(Array.from({ length: 12 }, () => store.append(pause)));
      expect((await store.list()).map((c) => c.epoch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    });
  });
}
