// A tenant the tenants file does not name, met on the cluster (a watched Deployment whose namespace
// is labelled for it, or not labelled at all): watched all the same, under the most restrictive
// terms Governor has, and said so wherever it shows — the discovery log, the observation, the policy
// input. Pure: names and the known tenants in, a tenant entry out.
// It must never widen anything: every figure it assumes is the tightest the file already uses (or
// tighter), the tier is the policy data's most restrictive one, which has a human approve every
// action, and it never takes a namespace a known tenant owns.
import type { FreezeWindow } from './freeze-windows.ts';
import type { TenantSpec, Tenants } from './tenants.ts';

/**
 * The most restrictive tier (policies/data.json, `sla.tiers.restricted`): every action supervised, one
 * action in flight, the lowest fast-burn threshold, the level-3 capacity limit even with approval.
 */
export const RESTRICTED_TIER = 'restricted';

/** What the policy input and the observation carry about a tenant whose terms were assumed. */
export interface TenantAssumption {
  tier: typeof RESTRICTED_TIER;
  reason: string;
}

export type AssumedTenantSpec = TenantSpec & { assumed: TenantAssumption };

export function isAssumed(t: TenantSpec | undefined): t is AssumedTenantSpec {
  return t !== undefined && (t as { assumed?: unknown }).assumed !== undefined;
}

export const unknownTenantReason = (tenant: string, tier = RESTRICTED_TIER): string =>
  `tenant ${tenant} is not in the tenants file: the most restrictive tier '${tier}' is assumed (every action needs a human approval)`;

const min = (xs: number[], fallback: number) => (xs.length ? Math.min(...xs) : fallback);
const max = (xs: number[], fallback: number) => (xs.length ? Math.max(...xs) : fallback);

/**
 * The entry of an unknown tenant: the tightest entitlement and budget any known tenant has, the
 * dearest pod, no reservations, the company-wide freezes, the SLO its own annotation states, and the
 * file's default approvers.
 */
export function assumedTenant(
  name: string,
  where: { namespaces: readonly string[]; environment: TenantSpec['environment']; sloP99Ms: number },
  known: Tenants,
): AssumedTenantSpec {
  const specs = Object.values(known);
  const globalFreezes: FreezeWindow[] = specs[0]?.global_freezes ?? [];
  return {
    tier: RESTRICTED_TIER,
    environment: where.environment,
    namespaces: [...where.namespaces],
    max_replicas: min(specs.map((t) => t.max_replicas), 2),
    monthly_budget_usd: min(specs.map((t) => t.monthly_budget_usd), 0),
    month_to_date_usd: 0,
    slo: { p99_latency_ms: where.sloP99Ms },
    burn_rate: 0,
    pod_monthly_cost_usd: max(specs.map((t) => t.pod_monthly_cost_usd), 0),
    freezes: [],
    approvers: [],
    global_freezes: globalFreezes,
    assumed: { tier: RESTRICTED_TIER, reason: unknownTenantReason(name) },
  };
}

/**
 * Adds an assumed entry to `tenants` for every watched target of an unknown tenant (and its
 * namespace to an assumed tenant's own), in place: the gateway, the agents and the MCP sessions
 * share this record. Returns the tenants it added or widened. Known tenants are never touched.
 */
export function adoptAssumedTenants(
  tenants: Tenants,
  targets: readonly { tenant: string; namespace: string; environment: TenantSpec['environment']; sloP99Ms: number; assumedTier?: string }[],
): string[] {
  const changed = new Set<string>();
  for (const t of targets) {
    if (!t.assumedTier) continue;
    const existing = Object.hasOwn(tenants, t.tenant) ? tenants[t.tenant] : undefined;
    if (existing && !isAssumed(existing)) continue;
    if (!existing) {
      const known = Object.fromEntries(Object.entries(tenants).filter(([, s]) => !isAssumed(s)));
      tenants[t.tenant] = assumedTenant(t.tenant, { namespaces: [t.namespace], environment: t.environment, sloP99Ms: t.sloP99Ms }, known);
      changed.add(t.tenant);
    } else if (!existing.namespaces.includes(t.namespace)) {
      existing.namespaces.push(t.namespace);
      existing.slo.p99_latency_ms = Math.min(existing.slo.p99_latency_ms, t.sloP99Ms);
      changed.add(t.tenant);
    }
  }
  return [...changed];
}
