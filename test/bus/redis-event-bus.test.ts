import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { RedisEventBus, redisKeysFor } from '../../src/bus/redis-event-bus.ts';
import { controlEvent, eventBusContract } from './event-bus.contract.ts';

const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin = new Redis(url);
afterAll(async () => {
  await admin.quit();
});

eventBusContract('redis', async (opts) => new RedisEventBus({ url, ...opts }), {
  cleanup: async (streams) => {
    const keys = streams.flatMap(redisKeysFor);
    if (keys.length > 0) await admin.del(...keys);
  },
});

describe('RedisEventBus beyond the contract', () => {
  it('keeps consuming after the stream and its groups are deleted under it', async () => {
    const bus = new RedisEventBus({ url });
    const s = `test:bus:deleted:${randomUUID().slice(0, 8)}`;
    try {
      const got: string[] = [];
      bus.subscribe(s, { group: 'g', consumer: 'c1', blockMs: 50 }, async (m) => void got.push(m.id));
      await bus.publish(s, controlEvent());
      await vi.waitFor(() => expect(got).toHaveLength(1));
      await admin.del(s);
      const id = await bus.publish(s, controlEvent());
      await vi.waitFor(() => expect(got).toContain(id), { timeout: 3000 });
    } finally {
      await bus.close();
      await admin.del(...redisKeysFor(s));
    }
  });
});
