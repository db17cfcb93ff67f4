import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { RedisSharedState } from '../../src/bus/redis-shared-state.ts';
import { sharedStateContract } from './shared-state.contract.ts';

const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const keyPrefix = `test:state:${randomUUID().slice(0, 8)}:`;

afterAll(async () => {
  const admin = new Redis(url);
  const keys = await admin.keys(`${keyPrefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

sharedStateContract('redis', async () => new RedisSharedState({ url, keyPrefix }));
