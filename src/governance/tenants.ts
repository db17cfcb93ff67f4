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
import { ActionName } from '../contracts/events.ts';
import { FreezeWindow } from './freeze-windows.ts';

/** A Slack user id (U…, W…) or user group id (S…): who may approve, or use an operator's lever. */
export const SlackPrincipal = z
  .string()
  .regex(/^[UWS][A-Z0-9]{2,}$/, "must be a Slack user id (U…, W…) or user group id (S…), e.g. 'U0ONCALL01'");

const Environment = z.enum(['production', 'staging', 'development']);

/**
 * Who must approve one class of actions: the first rule whose conditions all hold applies (absent
 * conditions hold for everything); no rule, the tenant's approvers, one of them.
 */
export const ApprovalRule = z
  .object({
    name: z.string().min(1),
    actions: z.array(ActionName).min(1).optional(),
    /** The proposing agent's level when the policy asked for an approval. */
    levels: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)])).min(1).optional(),
    environments: z.array(Environment).min(1).optional(),
    /** Who may approve under this rule; the tenant's approvers when absent. */
    approvers: z.array(SlackPrincipal).optional(),
    /** Distinct people who must approve (M of N); high-risk actions take more than one. */
    required: z.number().int().min(1).max(5).default(1),
  })
  .strict();
export type ApprovalRule = z.infer<typeof ApprovalRule>;

/** The approval policy the tenants that do not set their own use. */
export const ApprovalDefaults = z
  .object({
    approvers: z.array(SlackPrincipal).default([]),
    rules: z.array(ApprovalRule).default([]),
    /** How long an approval request stays open; the level's rollback budget when absent. */
    expires_after_s: z.number().int().positive().optional(),
  })
  .strict();
export type ApprovalDefaults = z.infer<typeof ApprovalDefaults>;

/**
 * Who may pull the operator's levers. `*` means anyone who can run the command, and is allowed for
 * pausing only: stopping the agents must never wait for the right person, raising them must.
 */
export const Operators = z
  .object({
    pause: z.array(z.union([z.literal('*'), SlackPrincipal])).default(['*']),
    set_level: z.array(SlackPrincipal).default([]),
    override_freeze: z.array(SlackPrincipal).default([]),
  })
  .strict();
export type Operators = z.infer<typeof Operators>;

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
    /** `restricted` is the most restrictive tier, the one a tenant the file does not name gets (assumed-tenant.ts). */
    tier: z.enum(['free', 'standard', 'premium', 'enterprise', 'restricted']),
    environment: z.enum(['production', 'staging', 'development']),
    namespaces: z.array(z.string().min(1)).min(1),
    /** Replicas one deployment of this tenant is entitled to. */
    max_replicas: z.number().int().positive(),
    monthly_budget_usd: z.number().nonnegative(),
    month_to_date_usd: z.number().nonnegative(),
    /**
     * The p99 latency objective, and (optional) the error-ratio objective — the share of requests
     * allowed to fail — that Watchtower's burn-rate alert measures the error budget against.
     */
    slo: z.object({ p99_latency_ms: z.number().positive(), error_ratio: z.number().gt(0).lt(1).optional() }),
    /** Error-budget burn rate (1 = on track to use it up exactly) until it is computed from live SLIs. */
    burn_rate: z.number().nonnegative(),
    /** What one pod of this tenant costs per month, for cost deltas. */
    pod_monthly_cost_usd: z.number().nonnegative(),
    /** Absent: the tenant has no reserved instances, and the cost layer's RI rule does not apply. */
    reserved_instances: ReservedInstances.optional(),
    /** Change-freeze windows of this tenant (see src/governance/freeze-windows.ts). */
    freezes: z.array(FreezeWindow).default([]),
    /** Who may approve this tenant's proposals (no rule applying); the file's `approvals.approvers` when empty. */
    approvers: z.array(SlackPrincipal).default([]),
    /** This tenant's approval rules, instead of the file's `approvals.rules`. */
    approval_rules: z.array(ApprovalRule).optional(),
    approval_expires_after_s: z.number().int().positive().optional(),
  })
  .strict();
/** A tenant as the gateway sees it: its own entry, plus the global freezes that apply to it. */
export type TenantSpec = z.infer<typeof TenantSpec> & { global_freezes?: FreezeWindow[] };

export const TenantsFile = z
  .object({
    /** Freezes for every tenant. */
    freezes: z.array(FreezeWindow).default([]),
    /** The approval policy of every tenant that does not set its own. */
    approvals: ApprovalDefaults.default({ approvers: [], rules: [] }),
    operators: Operators.default({ pause: ['*'], set_level: [], override_freeze: [] }),
    tenants: z
      .record(z.string().min(1), TenantSpec)
      // An empty file would leave every namespace to the most restrictive defaults without a word.
      .refine((t) => Object.keys(t).length > 0, { message: 'names no tenant; a tenants file must define at least one' }),
  })
  .strict();
export type Tenants = Record<string, TenantSpec>;

/** Everything the tenants file governs: the tenants, the default approval policy, the operators' rights. */
export interface GovernanceConfig {
  tenants: Tenants;
  approvals: ApprovalDefaults;
  operators: Operators;
}

export const DEFAULT_TENANTS_FILE = fileURLToPath(new URL('../../config/tenants.json', import.meta.url));

/**
 * The sandbox's people (the Slack fake's alice and bob, on-call as the group S0ONCALL; carol, who
 * may not approve): who approves and who may pull which lever when nothing real is configured.
 */
export const SANDBOX_GOVERNANCE_FILE = fileURLToPath(new URL('../../config/sandbox.json', import.meta.url));

const SandboxGovernance = z.object({ approvals: ApprovalDefaults, operators: Operators }).strict();

/**
 * The sandbox's approvers and operators, filling in what `config` leaves empty (a scenario's tenants
 * name nobody; the sandbox's Slack users are not real people anyway).
 */
export function withSandboxGovernance(config: GovernanceConfig, path = SANDBOX_GOVERNANCE_FILE): GovernanceConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `cannot read the sandbox governance file ${path}: ${(err as Error).message}`);
  }
  const res = SandboxGovernance.safeParse(raw);
  if (!res.success) {
    throw new GovernorError('config_invalid', `sandbox governance file ${path} is invalid:\n${res.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const namesApprovers = config.approvals.approvers.length > 0 || Object.values(config.tenants).some((t) => t.approvers.length > 0);
  const namesOperators = config.operators.set_level.length > 0 || config.operators.override_freeze.length > 0;
  return {
    tenants: config.tenants,
    approvals: namesApprovers ? config.approvals : res.data.approvals,
    operators: namesOperators ? config.operators : res.data.operators,
  };
}

export function loadTenants(path: string = DEFAULT_TENANTS_FILE): Tenants {
  return loadGovernanceConfig(path).tenants;
}

/** Reads and validates the tenants file with its approval policy and operators' rights. */
export function loadGovernanceConfig(path: string = DEFAULT_TENANTS_FILE): GovernanceConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `cannot read tenants file ${path}: ${(err as Error).message}`);
  }
  return parseGovernanceConfig(raw, `tenants file ${path}`);
}

/** Validates a parsed tenants file; `source` names it in the error. Every problem is listed. */
export function parseTenants(raw: unknown, source = 'tenants configuration'): Tenants {
  return parseGovernanceConfig(raw, source).tenants;
}

export function parseGovernanceConfig(raw: unknown, source = 'tenants configuration'): GovernanceConfig {
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
  return { tenants, approvals: res.data.approvals, operators: res.data.operators };
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
