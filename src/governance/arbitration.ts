// The Arbitrator's decisions between tenants (DESIGN §3 "Arbitrator: cross-tenant conflicts, tenant
// entitlement, priority"; §6 step 4), as pure functions of what the audit log and the cluster say:
//   - priority: a tenant whose error budget burns faster than 1.5x the sustainable rate (1.0: the
//     budget used up exactly at the end of the SLO period) in both windows of the fast pair (1 h and
//     5 min, live-burn.ts) gets priority; it is lowered once the burn falls below 1.2x (hysteresis: a
//     burn hovering around 1.5x does not flap) or can no longer be read;
//   - preemption: an action that would let a tenant without priority take more CPU on nodes where a
//     tenant with priority runs is deferred until that priority ends (never dropped: it resumes,
//     re-evaluated, or expires with a record);
//   - the pre-execution check: the action breaches no entitlement of the tenant it acts on, and
//     leaves every co-located tenant the CPU it requested (its guaranteed share) on every node the
//     target runs on.
// It must never read a clock, the cluster or the log itself, and never execute or grant anything:
// the gateway (gateway.ts) reads the facts, records the outcome and holds back the grant.
import type { Proposal } from '../contracts/events.ts';
import type { AuditRecord } from '../audit/records.ts';
import type { LiveBurn } from './live-burn.ts';
import { LONG_WINDOW_S, SHORT_WINDOW_S } from './live-burn.ts';
import type { Tenants } from './tenants.ts';

/** Burn rate (× sustainable) at and above which, in both fast windows, a tenant's work goes first. */
export const PRIORITY_RAISE_AT = 1.5;
/** Burn rate below which a raised priority is lowered again. */
export const PRIORITY_LOWER_BELOW = 1.2;
/**
 * A tenant using more than this multiple of its CPU requests on a node is bursting there (the
 * Arbitrator's noisy-neighbour rule, agents/arbitrator/arbiter.ts, uses the same figure).
 */
export const BURST_FACTOR = 1.5;
/** How long a preempted proposal may wait for the priority to end: the level-2 rollback budget. */
export const PREEMPTION_TTL_MS = 15 * 60_000;

export interface ActivePriority {
  tenant: string;
  burn_rate: number;
  /** The `priority_raised` record. */
  raised_id: string;
  raised_at: string;
  /** The tenant's incident the raise was attached to, if any: where a preemption on its behalf is said. */
  incident_id?: string | undefined;
}

/** The priorities in force, folded from `priority_raised` / `priority_lowered` records in chain order. */
export function activePriorities(records: readonly AuditRecord[]): Map<string, ActivePriority> {
  const active = new Map<string, ActivePriority>();
  for (const r of records) {
    if (!r.tenant) continue;
    if (r.kind === 'priority_raised') active.set(r.tenant, { tenant: r.tenant, burn_rate: r.payload.burn_rate, raised_id: r.id, raised_at: r.at, ...(r.incident_id ? { incident_id: r.incident_id } : {}) });
    else if (r.kind === 'priority_lowered' && active.get(r.tenant)?.raised_id === r.payload.raised_id) active.delete(r.tenant);
  }
  return active;
}

export type PriorityChange =
  | { kind: 'raise'; tenant: string; burn: LiveBurn; reason: string }
  | { kind: 'lower'; tenant: string; burn: LiveBurn | undefined; raised: ActivePriority; reason: string };

export const burnWindows = (b: LiveBurn) => ({ long_s: LONG_WINDOW_S, long: b.long, short_s: SHORT_WINDOW_S, short: b.short });

/** What changes for each tenant given its burn now (undefined: not readable). */
export function priorityChanges(
  active: ReadonlyMap<string, ActivePriority>,
  tenants: readonly string[],
  burnOf: (tenant: string) => LiveBurn | undefined,
): PriorityChange[] {
  const out: PriorityChange[] = [];
  for (const tenant of tenants) {
    const burn = burnOf(tenant);
    const raised = active.get(tenant);
    if (!raised) {
      if (burn && burn.long >= PRIORITY_RAISE_AT && burn.short >= PRIORITY_RAISE_AT) {
        out.push({
          kind: 'raise', tenant, burn,
          reason: `${tenant} burns its error budget at ${x(burn.long)} over 1 h and ${x(burn.short)} over 5 min, above ${x(PRIORITY_RAISE_AT)} the sustainable rate in both: its work goes first until the burn falls below ${x(PRIORITY_LOWER_BELOW)}`,
        });
      }
    } else if (!burn) {
      out.push({ kind: 'lower', tenant, burn, raised, reason: `${tenant}'s burn rate can no longer be read: a priority nobody can confirm is not kept` });
    } else if (burn.burn_rate < PRIORITY_LOWER_BELOW) {
      out.push({ kind: 'lower', tenant, burn, raised, reason: `${tenant}'s burn rate is back to ${x(burn.burn_rate)}, below ${x(PRIORITY_LOWER_BELOW)}: its work no longer goes first` });
    }
  }
  return out;
}

// ---- what the gateway reads of the target's nodes ----------------------------------------------

export interface WorkloadShare {
  namespace: string;
  deployment: string | null;
  pods: number;
  pod_cpu_request_millicores: number;
  pod_cpu_limit_millicores: number | null;
  cpu_request_millicores: number;
  cpu_usage_millicores: number;
}

export interface TenantShare {
  tenant: string;
  cpu_request_millicores: number;
  cpu_usage_millicores: number;
  workloads: WorkloadShare[];
}

/** One node running the target's pods, and every tenant on it (the Billing server's tenancy view, unrestricted). */
export interface NodeShare {
  node: string;
  allocatable_cpu_millicores: number;
  cpu_usage_millicores: number;
  tenants: TenantShare[];
}

/** The gateway's read of who shares a deployment's nodes; the composition root wires the cluster's. */
export interface TenancyFacts {
  tenancy(namespace: string, deployment: string): Promise<NodeShare[]>;
}

/** The tenant an action is for: a throttle's victim, otherwise the proposal's own tenant. */
export function beneficiary(p: Proposal): string {
  const victim = (p.params['victim'] as { tenant?: unknown } | undefined)?.tenant;
  return typeof victim === 'string' && victim.length > 0 ? victim : p.tenant;
}

/** Whether the gateway must read the target's nodes to arbitrate `p` (a Deployment target). */
export const needsTenancy = (p: Proposal): boolean => p.target.kind === 'Deployment';

/**
 * Millicores more the action lets the target take on one node, at most: added pods (spread as the
 * current ones are) at what a pod requests or uses, or pods bursting to a raised limit. 0 for
 * anything that does not add CPU (throttles, scale-downs, rollbacks, config).
 */
export function addedClaim(p: Proposal, node: NodeShare, totalPods: number): number {
  const w = node.tenants.flatMap((t) => t.workloads).find((x) => x.namespace === p.namespace && x.deployment === p.target.name);
  const here = w?.pods ?? 0;
  const args = p.tool_call.args;
  switch (p.tool_call.tool) {
    case 'scale_deployment':
    case 'set_hpa_bounds': {
      const added = Number(p.params['to_replicas']) - Number(p.params['from_replicas']);
      if (!(added > 0) || !w || totalPods <= 0) return 0;
      const perPod = Math.max(w.pod_cpu_request_millicores, w.cpu_usage_millicores / Math.max(1, w.pods));
      return (added * here * perPod) / totalPods;
    }
    case 'patch_resource_limits':
    case 'restore_tenant_limit': {
      const limit = millicores(p.tool_call.tool === 'restore_tenant_limit' ? args['cpu_limit'] : (args['limits'] as { cpu?: unknown } | undefined)?.cpu);
      if (limit === undefined || !w) return 0;
      return Math.max(0, here * limit - w.cpu_usage_millicores);
    }
    default:
      return 0;
  }
}

export type Preemption = { by: ActivePriority; nodes: string[]; reason: string };

/**
 * Whether a tenant with priority is protected on this node: it runs there within its entitlement
 * (at most BURST_FACTOR × what it requested). Priority protects what a tenant is entitled to; a
 * tenant bursting far beyond its requests is the contention, and may not hold back its neighbours'
 * remedies there (in the noisy-neighbour incident the burster burns too, by its own latency).
 */
function protectedOn(n: NodeShare, tenant: string): boolean {
  const t = n.tenants.find((x) => x.tenant === tenant);
  return t !== undefined && t.cpu_request_millicores > 0 && t.cpu_usage_millicores <= BURST_FACTOR * t.cpu_request_millicores;
}

/**
 * The priority that preempts `p`, if any: `p` would take more CPU on nodes where another tenant with
 * priority runs within its entitlement, and is for a tenant without priority there (none, or one
 * bursting beyond its requests on that node). The highest burn preempts.
 */
export function preemptionOf(p: Proposal, active: ReadonlyMap<string, ActivePriority>, tenancy: readonly NodeShare[]): Preemption | undefined {
  const forTenant = beneficiary(p);
  const total = podsOf(p, tenancy);
  // Work for a tenant with priority is not held back where that tenant runs within its requests
  // (equal standing); where it bursts beyond them, its priority does not cover taking even more.
  const exempt = (n: NodeShare) => [forTenant, p.tenant].some((t) => active.has(t) && (protectedOn(n, t) || !n.tenants.some((x) => x.tenant === t)));
  let best: Preemption | undefined;
  for (const prio of active.values()) {
    if (prio.tenant === forTenant || prio.tenant === p.tenant) continue;
    const nodes = tenancy.filter((n) => addedClaim(p, n, total) > 0 && protectedOn(n, prio.tenant) && !exempt(n)).map((n) => n.node);
    if (nodes.length === 0 || (best && best.by.burn_rate >= prio.burn_rate)) continue;
    best = {
      by: prio,
      nodes,
      reason: `${p.action} of ${p.namespace}/${p.target.name} (${p.tenant}) would take more CPU on ${nodes.join(', ')}, where ${prio.tenant} runs with raised priority (burn ${x(prio.burn_rate)}): deferred until that priority ends`,
    };
  }
  return best;
}

export interface ArbitrationCheck {
  passed: boolean;
  checks: { name: 'entitlement' | 'starvation'; passed: boolean; detail: string }[];
}

/**
 * The pre-execution check. Entitlement: the tenant is known and owns the namespace; a scale stays
 * within the replicas it is entitled to unless a human approved going beyond (the SLA policy asks
 * for exactly that approval); a throttle or limit change never takes a workload below its CPU
 * request (what the tenant is guaranteed). Starvation: on every node the target runs on, after the
 * action every other tenant still has room for what it requested.
 */
export function preExecutionCheck(p: Proposal, ctx: { tenants: Tenants; tenancy: readonly NodeShare[] | undefined; basis: 'policy' | 'approval' }): ArbitrationCheck {
  const checks: ArbitrationCheck['checks'] = [entitlement(p, ctx), starvation(p, ctx.tenancy)];
  return { passed: checks.every((c) => c.passed), checks };
}

function entitlement(p: Proposal, ctx: { tenants: Tenants; tenancy: readonly NodeShare[] | undefined; basis: 'policy' | 'approval' }): ArbitrationCheck['checks'][number] {
  const spec = Object.hasOwn(ctx.tenants, p.tenant) ? ctx.tenants[p.tenant] : undefined;
  const fail = (detail: string) => ({ name: 'entitlement' as const, passed: false, detail });
  if (!spec) return fail(`tenant '${p.tenant}' is not in the tenants configuration: it is entitled to nothing`);
  if (!spec.namespaces.includes(p.namespace)) return fail(`namespace ${p.namespace} does not belong to ${p.tenant}`);
  const args = p.tool_call.args;
  if (p.tool_call.tool === 'scale_deployment' || p.tool_call.tool === 'set_hpa_bounds') {
    const to = Number(p.params['to_replicas']);
    if (Number.isFinite(to) && to > spec.max_replicas) {
      if (ctx.basis === 'approval') return { name: 'entitlement', passed: true, detail: `${to} replicas exceed the ${spec.max_replicas} ${p.tenant} is entitled to (${spec.tier}); a human approved going beyond` };
      return fail(`${to} replicas exceed the ${spec.max_replicas} ${p.tenant} is entitled to (${spec.tier} tier) and nobody approved going beyond`);
    }
    return { name: 'entitlement', passed: true, detail: `${Number.isFinite(to) ? to : '?'} replicas within the ${spec.max_replicas} ${p.tenant} is entitled to (${spec.tier} tier)` };
  }
  const limit = p.tool_call.tool === 'throttle_tenant' ? millicores(args['cpu_limit']) : p.tool_call.tool === 'patch_resource_limits' ? millicores((args['limits'] as { cpu?: unknown } | undefined)?.cpu) : undefined;
  if (limit !== undefined) {
    const w = (ctx.tenancy ?? []).flatMap((n) => n.tenants.flatMap((t) => t.workloads)).find((x) => x.namespace === p.namespace && x.deployment === p.target.name);
    const request = millicores((args['requests'] as { cpu?: unknown } | undefined)?.cpu) ?? w?.pod_cpu_request_millicores;
    if (request === undefined) return fail(`the CPU request of ${p.namespace}/${p.target.name} could not be read: whether ${limit}m keeps ${p.tenant}'s guaranteed share cannot be checked`);
    if (limit < request) return fail(`a CPU limit of ${limit}m is below the ${request}m ${p.tenant} requested and is guaranteed`);
    return { name: 'entitlement', passed: true, detail: `a CPU limit of ${limit}m keeps the ${request}m per pod ${p.tenant} requested (its guaranteed share)` };
  }
  return { name: 'entitlement', passed: true, detail: `${p.action} changes no replica count or CPU share of ${p.tenant} (${spec.tier} tier)` };
}

function starvation(p: Proposal, tenancy: readonly NodeShare[] | undefined): ArbitrationCheck['checks'][number] {
  if (tenancy === undefined) return { name: 'starvation', passed: true, detail: `${p.action} on a ${p.target.kind} takes no CPU from any tenant's pods` };
  if (tenancy.length === 0) return { name: 'starvation', passed: true, detail: `${p.namespace}/${p.target.name} runs no pods: the scheduler places new ones by their requests` };
  const total = podsOf(p, tenancy);
  const notes: string[] = [];
  for (const n of tenancy) {
    const added = addedClaim(p, n, total);
    const others = n.tenants.filter((t) => t.tenant !== p.tenant);
    if (others.length === 0) continue;
    const guaranteed = sum(others.map((t) => t.cpu_request_millicores));
    // What the others are guaranteed must still fit beside everything else the node runs, after the action.
    const rest = n.cpu_usage_millicores - sum(others.map((t) => t.cpu_usage_millicores)) + added;
    const room = n.allocatable_cpu_millicores - rest;
    const names = others.map((t) => t.tenant).join(', ');
    if (added > 0 && room < guaranteed) {
      return { name: 'starvation', passed: false, detail: `on ${n.node}, ${p.action} would leave ${m(room)} for ${names}, who requested ${m(guaranteed)}: a co-located tenant would be starved` };
    }
    notes.push(added > 0 ? `${n.node}: ${names} keep ${m(room)} for the ${m(guaranteed)} they requested` : `${n.node}: takes no more CPU beside ${names}`);
  }
  return { name: 'starvation', passed: true, detail: notes.length ? notes.join('; ') : `no other tenant shares ${p.namespace}/${p.target.name}'s nodes` };
}

/** The check in one line, for the incident's thread. */
export function describeCheck(p: Proposal, c: ArbitrationCheck): string {
  return `Arbitrator check before ${p.action} of ${p.target.name} (${p.tenant}): ${c.passed ? 'passed' : 'FAILED, not executed'} — ` +
    c.checks.map((k) => `${k.name} ${k.passed ? 'ok' : 'failed'}: ${k.detail}`).join('; ');
}

const podsOf = (p: Proposal, tenancy: readonly NodeShare[]): number =>
  sum(tenancy.flatMap((n) => n.tenants.flatMap((t) => t.workloads)).filter((w) => w.namespace === p.namespace && w.deployment === p.target.name).map((w) => w.pods));

/** A CPU quantity ("500m", "2") in millicores; undefined when absent or unreadable. */
function millicores(q: unknown): number | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined;
  const r = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/.exec(String(q).trim());
  return r ? Number(r[1]) * (r[2] === 'm' ? 1 : 1000) : undefined;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const x = (v: number): string => `${Math.round(v * 100) / 100}x`;
const m = (v: number): string => `${Math.round(v)}m`;
