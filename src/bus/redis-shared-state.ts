// Shared state in Redis, so that every replica of an MCP server and every agent agree on the same
// scaling cooldown. Claims are atomic Lua scripts. Correctness must never depend on Redis key
// expiry: callers may run on a simulated clock, so windows are compared in the caller's time and
// the TTL only collects garbage.
import { Redis } from 'ioredis';
import type { LeaseHold, SharedState, WindowClaim } from './shared-state.ts';

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

/** A lease: one hash per key, its owner and until when (the caller's clock). */
const HOLD_LEASE = `
local owner = redis.call('HGET', KEYS[1], 'owner')
local untilMs = redis.call('HGET', KEYS[1], 'until')
if owner and owner ~= ARGV[1] and tonumber(ARGV[2]) < tonumber(untilMs) then
  return {0, owner}
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'until', tostring(tonumber(ARGV[2]) + tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, ARGV[1]}
`;

const RELEASE_LEASE = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

// The first value kept wins while it lives (until its time in the caller's clock); returns the kept one.
const KEEP_FIRST = `
local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, ':', 1, true)
  if tonumber(string.sub(v, 1, sep - 1)) > tonumber(ARGV[2]) then return string.sub(v, sep + 1) end
end
redis.call('SET', KEYS[1], ARGV[3] .. ':' .. ARGV[1], 'PX', ARGV[4])
return ARGV[1]
`;

/** Real time a claim key survives: far beyond any window, short enough not to pile up forever. */
const gcTtlMs = (windowMs: number): number => Math.ceil(Math.max(0, windowMs) * 10 + 3600_000);

type StateCommands = {
  governorClaimWindow(key: string, nowMs: string, windowMs: string, ttlMs: string): Promise<[number, string]>;
  governorReleaseWindow(key: string, nowMs: string): Promise<number>;
  governorHoldLease(key: string, owner: string, nowMs: string, ttlMs: string, gcMs: string): Promise<[number, string]>;
  governorReleaseLease(key: string, owner: string): Promise<number>;
  governorKeepFirst(key: string, value: string, nowMs: string, untilMs: string, gcMs: string): Promise<string>;
};

export class RedisSharedState implements SharedState {
  private readonly redis: Redis & StateCommands;
  private readonly keyPrefix: string;

  constructor(opts: { url: string; keyPrefix?: string }) {
    this.keyPrefix = opts.keyPrefix ?? 'governor:state:';
    const redis = new Redis(opts.url, { connectionName: 'governor-shared-state' });
    redis.defineCommand('governorClaimWindow', { numberOfKeys: 1, lua: CLAIM });
    redis.defineCommand('governorReleaseWindow', { numberOfKeys: 1, lua: RELEASE });
    redis.defineCommand('governorHoldLease', { numberOfKeys: 1, lua: HOLD_LEASE });
    redis.defineCommand('governorReleaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
    redis.defineCommand('governorKeepFirst', { numberOfKeys: 1, lua: KEEP_FIRST });
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

  async holdLease(key: string, owner: string, nowMs: number, ttlMs: number): Promise<LeaseHold> {
    const [held, holder] = await this.redis.governorHoldLease(this.keyPrefix + key, owner, String(nowMs), String(ttlMs), String(gcTtlMs(ttlMs)));
    return { held: held === 1, owner: holder };
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    await this.redis.governorReleaseLease(this.keyPrefix + key, owner);
  }

  async keepFirst(key: string, value: string, nowMs: number, ttlMs: number): Promise<string> {
    return this.redis.governorKeepFirst(this.keyPrefix + key, value, String(nowMs), String(nowMs + ttlMs), String(gcTtlMs(ttlMs)));
  }

  async recall(key: string, nowMs: number): Promise<string | undefined> {
    const v = await this.redis.get(this.keyPrefix + key);
    if (v === null) return undefined;
    const sep = v.indexOf(':');
    return Number(v.slice(0, sep)) > nowMs ? v.slice(sep + 1) : undefined;
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}
