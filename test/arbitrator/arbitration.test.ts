// The Arbitrator's rules between tenants, as data: priority raised at 1.5x in both fast windows and
// lowered below 1.2x (hysteresis) or when the burn cannot be read; preemption of a tenant's extra CPU
// on nodes where a tenant with priority runs within its requests; and the pre-execution check
// (entitlement, no co-located tenant starved).
import { describe, expect, it } from 'vitest';
import {
  activePriorities,
  preExecutionCheck,
  preemptionOf,
  priorityChanges,
  type ActivePriority,
  type NodeShare,
  type TenantShare,
} from '../../src/governance/arbitration.ts';
import type { LiveBurn } from '../../src/governance/live-burn.ts';
import type { AuditRecord } from '../../src/audit/records.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import { proposal } from '../integration/harness.ts';

const burn = (long: number, short: number): LiveBurn => ({ long, short, burn_rate: Math.min(long, short), at_ms: 0 });
const active = (...ps: ActivePriority[]) => new Map(ps.map((p) => [p.tenant, p]));
const acmeRaised: ActivePriority = { tenant: 'acme', burn_rate: 3.4, raised_id: 'r-acme', raised_at: '2026-11-24T10:05:00.000Z' };

describe('priority', () => {
  it('is raised only when both windows of the fast pair burn at 1.5x or more', () => {
    const burns: Record<string, LiveBurn> = { acme: burn(3.6, 3.4), initech: burn(1.6, 1.4), globex: burn(1.4, 9) };
    const changes = priorityChanges(new Map(), ['acme', 'initech', 'globex'], (t) => burns[t]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ kind: 'raise', tenant: 'acme', burn: { long: 3.6, short: 3.4 } });
    expect(changes[0]!.reason).toMatch(/3\.6x over 1 h and 3\.4x over 5 min, above 1\.5x/);
  });

  it('stays raised between 1.2x and 1.5x (hysteresis), and is not raised twice', () => {
    expect(priorityChanges(active(acmeRaised), ['acme'], () => burn(1.3, 1.25))).toEqual([]);
    expect(priorityChanges(active(acmeRaised), ['acme'], () => burn(4, 4))).toEqual([]);
  });

  it('is lowered below 1.2x, and when the burn can no longer be read', () => {
    expect(priorityChanges(active(acmeRaised), ['acme'], () => burn(2, 1.1))).toMatchObject([{ kind: 'lower', tenant: 'acme', raised: { raised_id: 'r-acme' } }]);
    expect(priorityChanges(active(acmeRaised), ['acme'], () => undefined)).toMatchObject([{ kind: 'lower', reason: expect.stringMatching(/can no longer be read/) }]);
  });

  it('is folded from the records: a lowering ends only the raise it names', () => {
    const rec = (seq: number, kind: 'priority_raised' | 'priority_lowered', tenant: string, payload: Record<string, unknown>) =>
      ({ seq, id: `id-${seq}`, kind, tenant, actor: 'arbitrator', at: '2026-11-24T10:00:00.000Z', payload }) as unknown as AuditRecord;
    const records = [
      rec(1, 'priority_raised', 'acme', { burn_rate: 2 }),
      rec(2, 'priority_lowered', 'acme', { raised_id: 'id-1' }),
      rec(3, 'priority_raised', 'acme', { burn_rate: 5 }),
      rec(4, 'priority_lowered', 'acme', { raised_id: 'id-1' }),
      rec(5, 'priority_raised', 'initech', { burn_rate: 1.7 }),
    ];
    expect([...activePriorities(records).values()]).toEqual([
      { tenant: 'acme', burn_rate: 5, raised_id: 'id-3', raised_at: '2026-11-24T10:00:00.000Z' },
      { tenant: 'initech', burn_rate: 1.7, raised_id: 'id-5', raised_at: '2026-11-24T10:00:00.000Z' },
    ]);
  });
});

// node-a: acme's checkout (2 pods, within its requests), initech's batch (1 pod, 500m requested, bursting to 3.4 cores).
const share = (tenant: string, namespace: string, deployment: string, pods: number, podRequest: number, use: number, limit = 1000): TenantShare => ({
  tenant,
  cpu_request_millicores: pods * podRequest,
  cpu_usage_millicores: use,
  workloads: [{ namespace, deployment, pods, pod_cpu_request_millicores: podRequest, pod_cpu_limit_millicores: limit, cpu_request_millicores: pods * podRequest, cpu_usage_millicores: use }],
});
const nodeA = (acmeUse = 900, batchUse = 3400): NodeShare => ({
  node: 'node-a',
  allocatable_cpu_millicores: 4000,
  cpu_usage_millicores: acmeUse + batchUse,
  tenants: [share('initech', 'initech-prod', 'batch', 1, 500, batchUse, 4000), share('acme', 'acme-prod', 'checkout', 2, 500, acmeUse)],
});

const batchScale = (from: number, to: number) =>
  proposal({
    tenant: 'initech', namespace: 'initech-prod', target: { kind: 'Deployment', name: 'batch' },
    params: { from_replicas: from, to_replicas: to },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'initech-prod', deployment: 'batch', replicas: to } },
  });
const throttle = proposal({
  agent: 'arbitrator', tenant: 'initech', namespace: 'initech-prod', action: 'throttle_tenant', target: { kind: 'Deployment', name: 'batch' },
  params: { from_cpu_limit: '4', to_cpu_limit: '500m', victim: { tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout' } },
  blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
  tool_call: { server: 'billing', tool: 'throttle_tenant', args: { namespace: 'initech-prod', deployment: 'batch', cpu_limit: '500m' } },
});

describe('preemption', () => {
  it("defers another tenant's extra CPU on the nodes where a tenant with priority runs within its requests", () => {
    const p = preemptionOf(batchScale(1, 2), active(acmeRaised), [nodeA()]);
    expect(p).toMatchObject({ by: { tenant: 'acme', raised_id: 'r-acme' }, nodes: ['node-a'] });
    expect(p!.reason).toMatch(/initech-prod\/batch \(initech\) would take more CPU on node-a, where acme runs with raised priority/);
  });

  it('never holds back what takes no CPU, nor work for the tenant with priority (a throttle on its behalf)', () => {
    expect(preemptionOf(batchScale(2, 1), active(acmeRaised), [nodeA()])).toBeUndefined();
    expect(preemptionOf(throttle, active(acmeRaised), [nodeA()])).toBeUndefined();
  });

  it('a tenant with priority is not held back where it runs within its requests, but is where it bursts beyond them', () => {
    const initechRaised: ActivePriority = { tenant: 'initech', burn_rate: 19, raised_id: 'r-i', raised_at: acmeRaised.raised_at };
    // The burster burns too (its own latency): more of it on node-a is still held back for acme.
    expect(preemptionOf(batchScale(1, 2), active(acmeRaised, initechRaised), [nodeA()])).toMatchObject({ by: { tenant: 'acme' } });
    // Within its requests, equal standing: neither holds the other back.
    expect(preemptionOf(batchScale(1, 2), active(acmeRaised, initechRaised), [nodeA(900, 700)])).toBeUndefined();
    expect(preemptionOf(batchScale(1, 2), active(initechRaised), [nodeA()])).toBeUndefined();
  });

  it('gives no protection where the tenant with priority itself bursts beyond 1.5x its requests', () => {
    const initechRaised: ActivePriority = { tenant: 'initech', burn_rate: 19, raised_id: 'r-i', raised_at: acmeRaised.raised_at };
    const acmeScale = proposal({ target: { kind: 'Deployment', name: 'checkout' }, params: { from_replicas: 2, to_replicas: 3 } });
    expect(preemptionOf(acmeScale, active(initechRaised), [nodeA()])).toBeUndefined();
    expect(preemptionOf(acmeScale, active(initechRaised), [nodeA(900, 700)])).toMatchObject({ by: { tenant: 'initech' } });
  });

  it('only on shared nodes, and by the highest burn when several could', () => {
    const nodeB: NodeShare = { node: 'node-b', allocatable_cpu_millicores: 4000, cpu_usage_millicores: 100, tenants: [share('initech', 'initech-prod', 'batch', 1, 500, 100, 4000)] };
    expect(preemptionOf(batchScale(1, 2), active(acmeRaised), [nodeB])).toBeUndefined();
    const globex = share('globex', 'globex-prod', 'api', 1, 250, 200, 500);
    const node = { ...nodeA(), tenants: [...nodeA().tenants, globex] };
    expect(preemptionOf(batchScale(1, 2), active(acmeRaised, { tenant: 'globex', burn_rate: 8, raised_id: 'r-g', raised_at: '' }), [node])?.by.tenant).toBe('globex');
  });
});

describe('pre-execution check', () => {
  const tenants = loadTenants();

  it('passes a scale within the entitlement that leaves every co-tenant its requests', () => {
    const c = preExecutionCheck(proposal({ target: { kind: 'Deployment', name: 'checkout' }, params: { from_replicas: 2, to_replicas: 3 } }), { tenants, tenancy: [nodeA(900, 900)], basis: 'policy' });
    expect(c.passed).toBe(true);
    expect(c.checks.map((k) => k.detail).join('\n')).toMatch(/3 replicas within the 40 acme is entitled to[\s\S]*node-a: initech keep/);
  });

  it('fails a scale beyond the entitlement nobody approved; an approved one passes, noted', () => {
    const p = proposal({ params: { from_replicas: 30, to_replicas: 44 } });
    expect(preExecutionCheck(p, { tenants, tenancy: [], basis: 'policy' })).toMatchObject({ passed: false, checks: [{ name: 'entitlement', passed: false }, { passed: true }] });
    expect(preExecutionCheck(p, { tenants, tenancy: [], basis: 'approval' }).checks[0]!.detail).toMatch(/a human approved going beyond/);
  });

  it('fails a throttle below what the tenant requested: its guaranteed share', () => {
    const under = { ...throttle, tool_call: { ...throttle.tool_call, args: { namespace: 'initech-prod', deployment: 'batch', cpu_limit: '250m' } } };
    expect(preExecutionCheck(under, { tenants, tenancy: [nodeA()], basis: 'approval' }).checks[0]).toMatchObject({ passed: false, detail: expect.stringMatching(/250m is below the 500m initech requested/) });
    expect(preExecutionCheck(throttle, { tenants, tenancy: [nodeA()], basis: 'approval' }).passed).toBe(true);
  });

  it('fails an action that would leave a co-located tenant less than it requested', () => {
    // initech's batch bursting to its limit on 3 more pods: acme's 1000m requested would not fit.
    const c = preExecutionCheck(batchScale(1, 4), { tenants, tenancy: [nodeA(900, 900)], basis: 'policy' });
    expect(c.passed).toBe(false);
    expect(c.checks[1]).toMatchObject({ name: 'starvation', passed: false, detail: expect.stringMatching(/on node-a, scale_deployment would leave .* for acme, who requested 1000m/) });
  });

  it('fails closed for a tenant or namespace the configuration does not give it', () => {
    expect(preExecutionCheck(proposal({ tenant: 'umbrella' }), { tenants, tenancy: [], basis: 'policy' }).passed).toBe(false);
    expect(preExecutionCheck(proposal({ namespace: 'initech-prod' }), { tenants, tenancy: [], basis: 'policy' }).passed).toBe(false);
  });
});
