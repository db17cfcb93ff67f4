// Tenant data the gateway decides with: tier, environment, entitlements, budget, SLO. It comes from
// a validated configuration file; a bad file is refused with every problem named, never half-read.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { GovernorError } from '../core/errors.ts';

export const TenantSpec = z.object({
  tier: z.enum(['free', 'standard', 'premium', 'enterprise']),
  environment: z.enum(['production', 'staging', 'development']),
  namespaces: z.array(z.string().min(1)).min(1),
  max_replicas: z.number().int().positive(),
  monthly_budget_usd: z.number().nonnegative(),
  month_to_date_usd: z.number().nonnegative(),
  slo: z.object({ p99_latency_ms: z.number().positive() }),
  /** Error-budget burn rate until the SLA layer computes it from live SLIs. */
  burn_rate: z.number().nonnegative(),
  /** What one pod of this tenant costs per month, for cost deltas. */
  pod_monthly_cost_usd: z.number().nonnegative(),
  approvers: z.array(z.string()).default([]),
});
export type TenantSpec = z.infer<typeof TenantSpec>;

export const TenantsFile = z.object({ tenants: z.record(z.string().min(1), TenantSpec) });
export type Tenants = z.infer<typeof TenantsFile>['tenants'];

export const DEFAULT_TENANTS_FILE = fileURLToPath(new URL('../../config/tenants.json', import.meta.url));

export function loadTenants(path: string = DEFAULT_TENANTS_FILE): Tenants {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `cannot read tenants file ${path}: ${(err as Error).message}`);
  }
  const res = TenantsFile.safeParse(raw);
  if (!res.success) {
    const problems = res.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new GovernorError('config_invalid', `tenants file ${path} is invalid:\n${problems}`);
  }
  return res.data.tenants;
}

export function tenantOfNamespace(tenants: Tenants, namespace: string): [string, TenantSpec] | undefined {
  for (const [name, spec] of Object.entries(tenants)) if (spec.namespaces.includes(namespace)) return [name, spec];
  return undefined;
}
