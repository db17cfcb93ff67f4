// Tenant data the gateway decides with: tier, environment, entitlements, budget and reservations,
// SLO and burn rate, change-freeze windows, approvers. It comes from a validated configuration file
// (config/tenants.json, or GOVERNOR_TENANTS_FILE); a bad file is refused with every problem named,
// never half-read. The policy terms that go with a tier (fast-burn threshold, concurrency limit,
// supervised actions) are policy data, not configuration: see policies/data.json.
//
// File shape: { "freezes": [window…], "tenants": { "<name>": { …tenant… } } }. The top-level
// `freezes` apply to every tenant (a company-wide freeze); a tenant's own `freezes` only to it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { GovernorError } from '../core/errors.ts';
import { FreezeWindow } from './freeze-windows.ts';

export const ReservedInstances = z
  .object({
    /** Share of the tenant's current capacity that reservations pay for (FinOps "RI coverage"), in %. */
    coverage_pct: z.number().positive(),
    /** Utilisation of those reservations below which a capacity reduction needs an approval, in %. */
    utilization_target_pct: z.number().min(0).max(100),
  })
  .strict();
export type ReservedInstances = z.infer<typeof ReservedInstances>;

export const TenantSpec = z
  .object({
    tier: z.enum(['free', 'standard', 'premium', 'enterprise']),
    environment: z.enum(['production', 'staging', 'development']),
    namespaces: z.array(z.string().min(1)).min(1),
    /** Replicas one deployment of this tenant is entitled to. */
    max_replicas: z.number().int().positive(),
    monthly_budget_usd: z.number().nonnegative(),
    month_to_date_usd: z.number().nonnegative(),
    slo: z.object({ p99_latency_ms: z.number().positive() }),
    /** Error-budget burn rate (1 = on track to use it up exactly) until it is computed from live SLIs. */
    burn_rate: z.number().nonnegative(),
    /** What one pod of this tenant costs per month, for cost deltas. */
    pod_monthly_cost_usd: z.number().nonnegative(),
    /** Absent: the tenant has no reserved instances, and the cost layer's RI rule does not apply. */
    reserved_instances: ReservedInstances.optional(),
    /** Change-freeze windows of this tenant (see src/governance/freeze-windows.ts). */
    freezes: z.array(FreezeWindow).default([]),
    approvers: z.array(z.string()).default([]),
  })
  .strict();
/** A tenant as the gateway sees it: its own entry, plus the global freezes that apply to it. */
export type TenantSpec = z.infer<typeof TenantSpec> & { global_freezes?: FreezeWindow[] };

export const TenantsFile = z
  .object({
    /** Freezes for every tenant. */
    freezes: z.array(FreezeWindow).default([]),
    tenants: z
      .record(z.string().min(1), TenantSpec)
      // An empty file would leave every namespace to the most restrictive defaults without a word.
      .refine((t) => Object.keys(t).length > 0, { message: 'names no tenant; a tenants file must define at least one' }),
  })
  .strict();
export type Tenants = Record<string, TenantSpec>;

export const DEFAULT_TENANTS_FILE = fileURLToPath(new URL('../../config/tenants.json', import.meta.url));

export function loadTenants(path: string = DEFAULT_TENANTS_FILE): Tenants {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `cannot read tenants file ${path}: ${(err as Error).message}`);
  }
  return parseTenants(raw, `tenants file ${path}`);
}

/** Validates a parsed tenants file; `source` names it in the error. Every problem is listed. */
export function parseTenants(raw: unknown, source = 'tenants configuration'): Tenants {
  const res = TenantsFile.safeParse(raw);
  const problems = [
    ...(res.success ? [] : res.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`)),
    // Checked on the raw file so that it is reported together with every other problem.
    ...sharedNamespaces(raw),
  ];
  if (!res.success || problems.length > 0) {
    throw new GovernorError('config_invalid', `${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems },
    });
  }
  const global = res.data.freezes;
  const tenants: Tenants = {};
  for (const [name, spec] of Object.entries(res.data.tenants)) tenants[name] = { ...spec, global_freezes: global };
  return tenants;
}

/** A namespace belongs to one tenant: isolation, grants and cost all hang on that. */
function sharedNamespaces(raw: unknown): string[] {
  const tenants = (raw as { tenants?: unknown } | null)?.tenants;
  if (typeof tenants !== 'object' || tenants === null) return [];
  const owner = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(tenants)) {
    const namespaces = (spec as { namespaces?: unknown } | null)?.namespaces;
    if (!Array.isArray(namespaces)) continue;
    for (const ns of namespaces) {
      if (typeof ns !== 'string') continue;
      const first = owner.get(ns);
      if (first === undefined) owner.set(ns, name);
      else if (first !== name) problems.push(`tenants.${name}.namespaces: namespace '${ns}' already belongs to tenant '${first}'`);
      else problems.push(`tenants.${name}.namespaces: namespace '${ns}' is listed twice`);
    }
  }
  return problems;
}

export function tenantOfNamespace(tenants: Tenants, namespace: string): [string, TenantSpec] | undefined {
  for (const [name, spec] of Object.entries(tenants)) if (spec.namespaces.includes(namespace)) return [name, spec];
  return undefined;
}
