// One contract for both cockpit stores (memory, and PostgreSQL through the audit store's migration):
// a key is claimed once, a posted message is remembered with its digest, an abandoned claim can be
// taken again, a failed post gives its claim back.
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryCockpitStore, PgCockpitStore, type CockpitStore } from '../../src/slack/cockpit-store.ts';
import { PG_URL, harness } from '../integration/harness.ts';

const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (closers.length) await closers.pop()!();
});

async function pgStore(): Promise<CockpitStore> {
  // The integration harness's schema, migrated by the audit store as production does, dropped after.
  const h = await harness();
  const store = new PgCockpitStore({ connectionString: PG_URL, schema: h.schema, poolSize: 4 });
  closers.push(() => h.close(), () => store.close());
  return store;
}

const T = (s: number) => new Date(Date.parse('2026-11-24T10:00:00Z') + s * 1000).toISOString();

describe.each([
  ['memory', async () => new MemoryCockpitStore()],
  ['postgresql', pgStore],
])('cockpit store (%s)', (_name, make) => {
  it('hands a claim to exactly one of many callers at once', async () => {
    const store = await make();
    const wins = await Promise.all(Array.from({ length: 12 }, () => store.claim('parent:i1', 'i1', T(0), T(-60))));
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect(await store.get('parent:i1')).toMatchObject({ key: 'parent:i1', incident_id: 'i1', ts: null });
  });

  it('remembers a posted message and its digest; a posted key is never claimed again, however old', async () => {
    const store = await make();
    expect(await store.claim('card:p1', 'i1', T(0), T(-60))).toBe(true);
    await store.posted('card:p1', 'i1', { channel: 'C1', ts: '1.000001' }, 'd1', T(1));
    await store.shown('card:p1', 'd2', T(2));
    expect(await store.get('card:p1')).toMatchObject({ channel: 'C1', ts: '1.000001', digest: 'd2' });
    expect(await store.claim('card:p1', 'i1', T(3600), T(3540))).toBe(false);
    expect((await store.ofIncident('i1')).map((r) => r.key)).toEqual(['card:p1']);
    expect(await store.ofIncident('other')).toEqual([]);
  });

  it('lets an abandoned claim be taken again once stale, and a released one at once', async () => {
    const store = await make();
    expect(await store.claim('notice:r1', 'i1', T(0), T(-60))).toBe(true);
    expect(await store.claim('notice:r1', 'i1', T(30), T(-30))).toBe(false);
    expect(await store.claim('notice:r1', 'i1', T(90), T(30))).toBe(true);
    await store.release('notice:r1');
    expect(await store.get('notice:r1')).toBeUndefined();
    expect(await store.claim('notice:r1', 'i1', T(91), T(31))).toBe(true);
  });

  it('adopts a message posted elsewhere without a claim', async () => {
    const store = await make();
    await store.posted('card:p2', 'i2', { channel: 'C1', ts: '2.000002' }, '', T(0));
    expect(await store.get('card:p2')).toMatchObject({ ts: '2.000002', digest: '' });
  });
});
