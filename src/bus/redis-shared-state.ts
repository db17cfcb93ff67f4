// Shared state in Redis, so that every replica of an MCP server and every agent agree on the same
// scaling cooldown. Claims are atomic Lua scripts. Correctness must never depend on Redis key
// expiry: callers may run on a simulated clock, so windows are compared in the caller's time and
// the TTL only collects garbage.
import { Redis } from 'ioredis';
import type { SharedState, WindowClaim } from './shared-state.ts';

/** Value: the claim's start in the caller's clock, as the caller wrote it (a string compares exactly). */
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if held and (tonumber(ARGV[1]) - tonumber(held)) < tonumber(ARGV[2]) then
  return {0, held}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return {1, ARGV[1]}
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** Real time a claim key survives: far beyond any window, short enough not to pile up forever. */
const gcTtlMs = (windowMs: number): number => Math.ceil(Math.max(0, windowMs) * 10 + 3600_000);

type StateCommands = {
  governorClaimWindow(key: string, nowMs: string, windowMs: string, ttlMs: string): Promise<[number, string]>;
  governorReleaseWindow(key: string, nowMs: string): Promise<number>;
};

export class RedisSharedState implements SharedState {
  private readonly redis: Redis & StateCommands;
  private readonly keyPrefix: string;

  constructor(opts: { url: string; keyPrefix?: string }) {
    this.keyPrefix = opts.keyPrefix ?? 'governor:state:';
    const redis = new Redis(opts.url, { connectionName: 'governor-shared-state' });
    redis.defineCommand('governorClaimWindow', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('governorReleaseWindow', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as Redis & StateCommands;
  }

  async claimWindow(key: string, nowMs: number, windowMs: number): Promise<WindowClaim> {
    const [acquired, held] = await this.redis.governorClaimWindow(
      this.keyPrefix + key,
      String(nowMs),
      String(windowMs),
      String(gcTtlMs(windowMs)),
    );
    return acquired === 1 ? { acquired: true, heldSinceMs: null } : { acquired: false, heldSinceMs: Number(held) };
  }

  async releaseWindow(key: string, nowMs: number): Promise<void> {
    await this.redis.governorReleaseWindow(this.keyPrefix + key, String(nowMs));
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
