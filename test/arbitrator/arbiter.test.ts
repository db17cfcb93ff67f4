// The Arbitrator's pure decision: throttle only a co-tenant bursting beyond its requests on a
// contended node next to a victim that stays within its own, down to its request; never the victim's
// own tenant, never a tenant within its requests, nothing when no node is contended.
import { describe, expect, it } from 'vitest';
import { findNoisyNeighbour, planThrottle } from '../../agents/arbitrator/arbiter.ts';
import type { NodeTenancy, TenantOnNode, TenantUsage, WorkloadOnNode } from '../../agents/arbitrator/billing-views.ts';
import { EVENT_VERSION, type Observation } from '../../src/contracts/events.ts';

const obs = (over: Partial<Observation> = {}): Observation => ({
  id: 'obs-1',
  v: EVENT_VERSION,
  ts: '2026-11-24T10:05:00.000Z',
  incident_id: 'inc-1',
  type: 'observation',
  agent: 'watchtower',
  tenant: 'acme',
  namespace: 'acme-prod',
  severity: 'critical',
  summary: 'p99 latency of checkout up 250%',
  target: { kind: 'Deployment', name: 'checkout' },
  signals: [{ metric: 'http_request_duration_p99_ms', target: 'checkout', value: 720, baseline: 205, change_pct: 251 }],
  ...over,
});

const workload = (namespace: string, deployment: string, request: number, use: number, over: Partial<WorkloadOnNode> = {}): WorkloadOnNode => ({
  namespace,
  deployment,
  pods: 1,
  containers_per_pod: 1,
  pod_cpu_request_millicores: request,
  pod_cpu_limit_millicores: 4000,
  cpu_request_millicores: request,
  cpu_usage_millicores: use,
  ...over,
});

const tenant = (name: string, workloads: WorkloadOnNode[], over: Partial<TenantOnNode> = {}): TenantOnNode => ({
  tenant: name,
  in_session: true,
  pods: workloads.reduce((s, w) => s + w.pods, 0),
  cpu_request_millicores: workloads.reduce((s, w) => s + w.cpu_request_millicores, 0),
  cpu_usage_millicores: workloads.reduce((s, w) => s + w.cpu_usage_millicores, 0),
  workloads,
  ...over,
});

const victim = tenant('acme', [workload('acme-prod', 'checkout', 1000, 600, { pods: 2, pod_cpu_request_millicores: 500, pod_cpu_limit_millicores: 1000 })]);

function tenancy(utilisation: number, tenants: TenantOnNode[], node = 'node-a'): NodeTenancy {
  return {
    namespace: 'acme-prod',
    deployment: 'checkout',
    tenant: 'acme',
    nodes: [{ node, allocatable_cpu_millicores: 4000, cpu_usage_millicores: utilisation * 4000, cpu_utilisation: utilisation, deployment_pods: 2, tenants }],
  };
}

const usage: TenantUsage = {
  tenant: 'initech',
  deployments: [
    { namespace: 'initech-prod', name: 'batch', replicas: 1, pod_cpu_request_millicores: 500, pod_cpu_limit_millicores: 4000 },
    { namespace: 'initech-prod', name: 'web', replicas: 4, pod_cpu_request_millicores: 500, pod_cpu_limit_millicores: 1000 },
  ],
};

describe('findNoisyNeighbour', () => {
  it('picks the co-tenant workload bursting furthest beyond its request on a contended node', () => {
    const initech = tenant('initech', [workload('initech-prod', 'batch', 500, 3400), workload('initech-prod', 'cron', 500, 900)]);
    const calm = tenant('umbrella', [workload('umbrella-prod', 'api', 500, 450)]);
    const f = findNoisyNeighbour(obs(), tenancy(0.97, [victim, initech, calm]));
    expect(f.found).toBe(true);
    if (!f.found) return;
    expect(f.neighbour).toMatchObject({ tenant: 'initech', namespace: 'initech-prod', deployment: 'batch', request_millicores: 500, limit_millicores: 4000, node: 'node-a' });
  });

  it('never picks the victim’s own tenant, even when another of its workloads bursts', () => {
    const acme = tenant('acme', [
      workload('acme-prod', 'checkout', 1000, 500, { pods: 2 }),
      workload('acme-prod', 'reports', 500, 2500),
    ], { cpu_request_millicores: 4000, cpu_usage_millicores: 3000 });
    const f = findNoisyNeighbour(obs(), tenancy(0.95, [acme]));
    expect(f.found).toBe(false);
  });

  it('leaves alone a co-tenant using a lot but within 1.5x its requests', () => {
    const busyButFair = tenant('initech', [workload('initech-prod', 'web', 2000, 2900, { pods: 4, pod_cpu_request_millicores: 500 })]);
    expect(findNoisyNeighbour(obs(), tenancy(0.95, [victim, busyButFair])).found).toBe(false);
  });

  it('does nothing when the node is not contended, however much a neighbour bursts', () => {
    const initech = tenant('initech', [workload('initech-prod', 'batch', 500, 2000)]);
    const f = findNoisyNeighbour(obs(), tenancy(0.6, [victim, initech]));
    expect(f).toMatchObject({ found: false, notes: [expect.stringContaining('not contended')] });
  });

  it('does nothing when the victim itself takes more of the slack than the bursting neighbour', () => {
    const greedyVictim = tenant('acme', [workload('acme-prod', 'checkout', 1000, 3600, { pods: 2 })]);
    const initech = tenant('initech', [workload('initech-prod', 'batch', 500, 2300)]);
    const f = findNoisyNeighbour(obs(), tenancy(0.98, [greedyVictim, initech]));
    expect(f.found).toBe(false);
    expect(f.notes.join('\n')).toMatch(/acme itself uses 3600m .* not a neighbour's fault/);
  });

  it('still blames a neighbour that bursts far more than a victim running a little above its requests', () => {
    const busyVictim = tenant('acme', [workload('acme-prod', 'checkout', 1000, 1600, { pods: 2 })]);
    const initech = tenant('initech', [workload('initech-prod', 'batch', 500, 2300)]);
    const f = findNoisyNeighbour(obs(), tenancy(0.98, [busyVictim, initech]));
    expect(f).toMatchObject({ found: true, neighbour: { tenant: 'initech', deployment: 'batch' } });
  });

  it('cannot act on a bursting tenant outside its session, nor on a workload without a limit to lower', () => {
    const hidden = tenant('globex', [], { in_session: false, pods: 1, cpu_request_millicores: 250, cpu_usage_millicores: 3000 });
    const unlimited = tenant('initech', [workload('initech-prod', 'batch', 500, 3000, { pod_cpu_limit_millicores: null })]);
    const f = findNoisyNeighbour(obs(), tenancy(0.99, [victim, hidden, unlimited]));
    expect(f.found).toBe(false);
    expect(f.notes.join('\n')).toMatch(/globex .*outside this session/);
    expect(f.notes.join('\n')).toMatch(/no CPU limit/);
  });

  it('ignores informational observations', () => {
    const initech = tenant('initech', [workload('initech-prod', 'batch', 500, 3400)]);
    expect(findNoisyNeighbour(obs({ severity: 'info' }), tenancy(0.97, [victim, initech])).found).toBe(false);
  });
});

describe('planThrottle', () => {
  it("proposes the burster's limit down to its request, on its own tenant, verified on the victim's SLO", () => {
    const initech = tenant('initech', [workload('initech-prod', 'batch', 500, 3400)]);
    const f = findNoisyNeighbour(obs(), tenancy(0.97, [victim, initech]));
    if (!f.found) throw new Error('expected a neighbour');
    const p = planThrottle({ observation: obs(), neighbour: f.neighbour, neighbourUsage: usage, victimSloP99Ms: 500 });
    expect(p).toMatchObject({
      action: 'throttle_tenant',
      tenant: 'initech',
      namespace: 'initech-prod',
      target: { kind: 'Deployment', name: 'batch' },
      params: { tenant: 'initech', deployment: 'batch', from_cpu_limit: '4', to_cpu_limit: '500m', victim: { tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout' } },
      tool_call: { server: 'billing', tool: 'throttle_tenant', args: { namespace: 'initech-prod', deployment: 'batch', cpu_limit: '500m' } },
      compensating_action: { server: 'billing', tool: 'restore_tenant_limit', args: { namespace: 'initech-prod', deployment: 'batch', cpu_limit: '4' } },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 500, target: { namespace: 'acme-prod', deployment: 'checkout' } },
    });
    // Capacity is replicas × requests (DESIGN §5): the limit comes down to the request, which stays.
    expect(p.blast_radius).toEqual({ tenants: 1, services: 1, capacity_change_pct: 0 });
    expect(p.reasoning.join('\n')).toMatch(/720 ms/);
    expect(p.reasoning.join('\n')).toMatch(/6\.8x/);
  });

});
