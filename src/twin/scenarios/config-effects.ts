// What a service's configuration does to it, by name: scenario files say `"effect": "db-connection-pool"`
// and this module says what the keys of that config map change in the twin's workload (a ConfigEffect,
// twin-state.ts). Pure functions of the config data and the file's numeric parameters; they must never
// read a clock or twin state, so that reverting the data reverts the effect.
import type { ConfigEffect } from '../cluster-twin.ts';
import { DEFAULT_WORKLOAD } from '../performance-model.ts';

/** `flag`: for the `feature-flag` effect, the flagd flag it models. */
export type ConfigEffectFactory = (params: Readonly<Record<string, number>>, flag?: string) => ConfigEffect;

/** The config-map key of a flagd flag file (as the Feature Flag MCP server reads it). */
export const FLAGS_FILE_KEY = 'flags.flagd.json';

interface FlagdFlag {
  state?: unknown;
  defaultVariant?: unknown;
  variants?: Record<string, unknown>;
}

/** The "flags" of a flagd file, or undefined when the text is not one. The twin reads it leniently: validation is the server's job. */
export function flagsOf(text: string | undefined): Record<string, FlagdFlag> | undefined {
  if (text === undefined) return undefined;
  try {
    const file = JSON.parse(text) as { flags?: unknown };
    return typeof file.flags === 'object' && file.flags !== null && !Array.isArray(file.flags) ? (file.flags as Record<string, FlagdFlag>) : undefined;
  } catch {
    return undefined;
  }
}

/** A flagd file with one flag's state and/or default variant changed (a scenario's flag flip), as two-space JSON. */
export function flipFlag(text: string, flag: string, state: string | undefined, defaultVariant: string | undefined): string {
  const file = JSON.parse(text) as { flags: Record<string, FlagdFlag> };
  const f = { ...file.flags[flag] };
  if (state !== undefined) f.state = state;
  if (defaultVariant !== undefined) f.defaultVariant = defaultVariant;
  return JSON.stringify({ ...file, flags: { ...file.flags, [flag]: f } }, null, 2) + '\n';
}

/** Whether a flagd flag is on for a caller no targeting rule matches: enabled, and its default variant's value is `true`. */
export function flagOn(data: Readonly<Record<string, string>>, flag: string): boolean {
  const f = flagsOf(data[FLAGS_FILE_KEY])?.[flag];
  return f?.state === 'ENABLED' && typeof f.defaultVariant === 'string' && f.variants?.[f.defaultVariant] === true;
}

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
  /**
   * A boolean flagd flag (config `flag`, in the map's flags.flagd.json) that switches on a costlier
   * code path: while the flag serves `true` to callers no rule targets (the twin models that
   * traffic), each request costs `cpu_factor` (default 1) times the CPU and takes `extra_latency_ms`
   * (default 0) longer — time spent waiting on a dependency, which more pods do not shorten. Off, disabled, or the file unreadable: the service as it was.
   */
  'feature-flag': (params, flag) => {
    const cpuFactor = params['cpu_factor'] ?? 1;
    const extra = params['extra_latency_ms'] ?? 0;
    const perCore = params['rps_per_core'] ?? DEFAULT_WORKLOAD.rpsPerCore;
    const base = params['base_latency_ms'] ?? DEFAULT_WORKLOAD.baseLatencyMs;
    return (data) => (flag !== undefined && flagOn(data, flag) ? { rpsPerCore: perCore / cpuFactor, baseLatencyMs: base + extra } : {});
  },
};
