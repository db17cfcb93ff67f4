// What a service's configuration does to it, by name: scenario files say `"effect": "db-connection-pool"`
// and this module says what the keys of that config map change in the twin's workload (a ConfigEffect,
// twin-state.ts). Pure functions of the config data and the file's numeric parameters; they must never
// read a clock or twin state, so that reverting the data reverts the effect.
import type { ConfigEffect } from '../cluster-twin.ts';
import { DEFAULT_WORKLOAD } from '../performance-model.ts';

export type ConfigEffectFactory = (params: Readonly<Record<string, number>>) => ConfigEffect;

const num = (v: string | undefined): number | undefined => {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
};

export const CONFIG_EFFECTS: Record<string, ConfigEffectFactory> = {
  /**
   * `DB_POOL_MAX_SIZE`: connections to the database per pod. Every request holds one for `hold_ms`
   * (default 40), so a pod serves at most size × 1000 / hold_ms requests per second whatever its CPU;
   * below the CPU's own rate that is the bottleneck, and requests queue for a connection. Expressed
   * as the rate one core appears to serve, for a pod of `cores` (default 1) CPU limit.
   * `DB_QUERY_TIMEOUT_MS` below hold_ms would fail requests; not modelled.
   */
  'db-connection-pool': (params) => {
    const holdMs = params['hold_ms'] ?? 40;
    const cores = params['cores'] ?? 1;
    const perCore = params['rps_per_core'] ?? DEFAULT_WORKLOAD.rpsPerCore;
    return (data) => {
      const size = num(data['DB_POOL_MAX_SIZE']);
      if (size === undefined || size <= 0) return {};
      const poolRps = (size * 1000) / holdMs;
      return poolRps / cores < perCore ? { rpsPerCore: poolRps / cores } : {};
    };
  },
  /**
   * `CACHE_TTL_SECONDS`: a response cache in front of a slow backend. A hit costs `hit_ms` (default
   * 20), a miss `miss_ms` (default 120); the hit ratio falls as the TTL shortens (half-saturation at
   * `half_ttl_s`, default 30 s, with a best case of 90% hits).
   */
  'response-cache-ttl': (params) => {
    const hit = params['hit_ms'] ?? 20;
    const miss = params['miss_ms'] ?? 120;
    const half = params['half_ttl_s'] ?? 30;
    return (data) => {
      const ttl = num(data['CACHE_TTL_SECONDS']);
      if (ttl === undefined) return {};
      const hitRatio = (0.9 * Math.max(0, ttl)) / (Math.max(0, ttl) + half);
      return { baseLatencyMs: hitRatio * hit + (1 - hitRatio) * miss };
    };
  },
  /**
   * `cache.enabled`: the service's response cache, on unless the key says `false`. Off, every request
   * goes to the database and takes `uncached_latency_ms` (default 126: three times the default
   * service time).
   */
  'response-cache-switch': (params) => {
    const uncached = params['uncached_latency_ms'] ?? 3 * DEFAULT_WORKLOAD.baseLatencyMs;
    return (data) => (data['cache.enabled'] === 'false' ? { baseLatencyMs: uncached } : {});
  },
};
