// The gateway's own blast radius, computed from the tool call and the cluster's facts: a figure the
// agent understated is corrected; one it overstated only makes the decision stricter.
import { describe, expect, it } from 'vitest';
import { computeBlastRadius, effectiveBlastRadius, factsNeeded, understated, type WorkloadFacts } from '../../src/governance/blast-radius.ts';
import type { Proposal } from '../../src/contracts/events.ts';

const workloads: WorkloadFacts[] = [
  { name: 'checkout', replicas: 8, cpu_request_millicores: 500 },
  { name: 'cart', replicas: 32, cpu_request_millicores: 500 },
];
const p = (tool: string, args: Record<string, unknown>, action: Proposal['action'] = 'scale_deployment'): Proposal => ({
  id: 'p', v: 1, ts: '2026-11-24T10:00:00Z', type: 'proposal', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', action,
  target: { kind: 'Deployment', name: 'checkout' }, params: {}, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
  tool_call: { server: 'kubernetes', tool, args }, verification: { metric: 'p99', slo_threshold: 500, min_improvement_pct: 20, window_s: 120 }, reasoning: ['r'], llm: 'unavailable',
});

describe('computeBlastRadius', () => {
  it('a scale: from the replicas that run now to the ones the tool call sets, against the namespace\'s requested CPU', () => {
    expect(computeBlastRadius(p('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 }), { workloads })!.blast_radius).toEqual({ tenants: 1, services: 1, capacity_change_pct: 10 });
    // The agent says 10%; the call it would be granted triples checkout: 40%.
    const lie = computeBlastRadius(p('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 24 }), { workloads })!;
    expect(lie.blast_radius.capacity_change_pct).toBe(40);
    expect(lie.basis).toMatch(/acme-prod\/checkout: 8 → 24 replicas at 500m each, against 20000m requested/);
    expect(computeBlastRadius(p('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 4 }), { workloads })!.blast_radius.capacity_change_pct).toBe(-10);
  });

  it('an HPA\'s bounds: the new minimum above what runs; a resource change: the CPU requests it adds', () => {
    expect(computeBlastRadius(p('set_hpa_bounds', { namespace: 'acme-prod', hpa: 'checkout', deployment: 'checkout', min_replicas: 16, max_replicas: 20 }), { workloads })!.blast_radius.capacity_change_pct).toBe(20);
    expect(computeBlastRadius(p('set_hpa_bounds', { namespace: 'acme-prod', hpa: 'checkout', deployment: 'checkout', min_replicas: 2, max_replicas: 20 }), { workloads })!.blast_radius.capacity_change_pct).toBe(0);
    expect(computeBlastRadius(p('patch_resource_limits', { namespace: 'acme-prod', deployment: 'checkout', container: 'app', requests: { cpu: '1' } }, 'patch_resource_limits'), { workloads })!.blast_radius.capacity_change_pct).toBe(20);
    expect(computeBlastRadius(p('patch_resource_limits', { namespace: 'acme-prod', deployment: 'checkout', container: 'app', limits: { memory: '3Gi' } }, 'patch_resource_limits'), { workloads })!.blast_radius.capacity_change_pct).toBe(0);
  });

  it('a deployment the namespace does not have: the worst is assumed', () => {
    expect(computeBlastRadius(p('scale_deployment', { namespace: 'acme-prod', deployment: 'ghost', replicas: 3 }), { workloads })!.blast_radius.capacity_change_pct).toBe(100);
    expect(computeBlastRadius(p('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 3 }), { workloads: [] })!.blast_radius.capacity_change_pct).toBe(100);
  });

  it('a node group: every tenant and service on its nodes, the nodes changed as a share of the cluster\'s', () => {
    const call = p('scale_node_group', { node_group: 'apps', from_nodes: 2, to_nodes: 3 }, 'scale_node_group');
    expect(factsNeeded(call)).toEqual({ nodeGroup: 'apps' });
    const nodeGroup = {
      nodes: ['apps-01', 'apps-02'],
      cluster_nodes: 8,
      pods: [
        { tenant: 'acme', namespace: 'acme-prod', workload: 'api' },
        { tenant: 'acme', namespace: 'acme-prod', workload: 'api' },
        { tenant: 'globex', namespace: 'globex-prod', workload: 'shop' },
      ],
    };
    const r = computeBlastRadius(call, { nodeGroup })!;
    expect(r.blast_radius).toEqual({ tenants: 2, services: 2, capacity_change_pct: 12.5 });
    expect(r.basis).toBe('node group apps: 2 → 3 nodes of 8 in the cluster; its 2 node(s) run pods of 2 tenant(s) and 2 service(s)');
    // A scale-in is a negative share; an empty group still touches its requester.
    expect(computeBlastRadius(p('scale_node_group', { node_group: 'apps', from_nodes: 3, to_nodes: 2 }, 'scale_node_group'), { nodeGroup: { ...nodeGroup, pods: [] } })!.blast_radius).toEqual({ tenants: 1, services: 1, capacity_change_pct: -12.5 });
    // Unread: the worst is assumed.
    expect(computeBlastRadius(call, {})!.blast_radius.capacity_change_pct).toBe(100);
  });

  it('a node: every tenant and service with pods on it', () => {
    const nodePods = [
      { tenant: 'acme', namespace: 'acme-prod', workload: 'checkout' },
      { tenant: 'acme', namespace: 'acme-prod', workload: 'checkout' },
      { tenant: 'acme', namespace: 'acme-dev', workload: 'checkout' },
      { tenant: 'globex', namespace: 'globex-prod', workload: 'storefront' },
      { tenant: 'initech', namespace: 'initech-prod', workload: 'tps' },
    ];
    const c = computeBlastRadius(p('cordon_node', { node: 'n1', drain: true }, 'cordon_node'), { nodePods })!;
    expect(c.blast_radius).toEqual({ tenants: 3, services: 4, capacity_change_pct: 0 });
  });

  it('what it needs to read, and nothing for actions it cannot compute', () => {
    expect(factsNeeded(p('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 }))).toEqual({ workloads: 'acme-prod' });
    expect(factsNeeded(p('cordon_node', { node: 'n1' }, 'cordon_node'))).toEqual({ node: 'n1' });
    expect(factsNeeded(p('rollback_deployment', { namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 }, 'rollback_deployment'))).toEqual({});
    expect(factsNeeded(p('throttle_tenant', { namespace: 'x' }, 'throttle_tenant'))).toBeUndefined();
  });
});

describe('effectiveBlastRadius', () => {
  it('never below the declared figure, per dimension; capacity by absolute value, with its sign', () => {
    const declared = { tenants: 1, services: 1, capacity_change_pct: 10 };
    expect(effectiveBlastRadius(declared, { tenants: 3, services: 4, capacity_change_pct: 0 })).toEqual({ tenants: 3, services: 4, capacity_change_pct: 10 });
    expect(effectiveBlastRadius(declared, { tenants: 1, services: 1, capacity_change_pct: -40 })).toEqual({ tenants: 1, services: 1, capacity_change_pct: -40 });
    expect(effectiveBlastRadius({ tenants: 2, services: 5, capacity_change_pct: 30 }, { tenants: 1, services: 1, capacity_change_pct: 10 })).toEqual({ tenants: 2, services: 5, capacity_change_pct: 30 });
    expect(effectiveBlastRadius(declared, undefined)).toBe(declared);
    expect(understated(declared, { tenants: 3, services: 1, capacity_change_pct: 40 })).toEqual(['tenants 1 declared, 3 touched', 'capacity change 10% declared, 40% computed']);
  });
});
