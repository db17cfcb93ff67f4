// Elastik's planner on node memory pressure: cordon + drain proposed only when the deployment's
// trouble sits on the one node of it that is short of memory; never for a healthy node, never
// instead of the rollback of a leaking release.
import { describe, expect, it } from 'vitest';
import { NODE_MEMORY_PRESSURE_RATIO, plan, pressuredNode, type PlannerInput } from '../../agents/elastik/planner.ts';
import type { NodeStatus } from '../../agents/runtime/cluster-views.ts';
import type { Observation } from '../../src/contracts/events.ts';

const GiB = 2 ** 30;
const obs: Observation = {
  id: 'o1', v: 1, ts: '2026-11-24T10:12:00Z', incident_id: 'i1', type: 'observation', agent: 'watchtower',
  tenant: 'acme', namespace: 'acme-prod', severity: 'critical', summary: 's', target: { kind: 'Deployment', name: 'web' },
  signals: [{ metric: 'http_request_duration_p99_ms', target: 'web', value: 550, baseline: 167, change_pct: 229 }],
};

function node(name: string, usedRatio: number, pressure: boolean, pods: string[], otherPods = 1): NodeStatus {
  return {
    name,
    unschedulable: false,
    memory_pressure: pressure,
    memory: { capacity_bytes: 10 * GiB, used_bytes: usedRatio * 10 * GiB, available_bytes: (1 - usedRatio) * 10 * GiB, used_ratio: usedRatio },
    pods: pods.map((p) => ({ namespace: 'acme-prod', pod: p, deployment: p.split('-')[0]!, ready: true })),
    other_tenants_pods: otherPods,
    other_tenants: otherPods > 0 ? 1 : 0,
    other_services: otherPods > 0 ? 1 : 0,
  };
}

const base: PlannerInput = {
  observation: obs,
  metrics: { pods: [], service: { p50_ms: 90, p99_ms: 550, rps: 1020, error_ratio: 0 }, deployment: { replicas: 6, revision: 1 } },
  history: { revisions: [{ revision: 1 }], current_revision: 1 },
  capacity: { namespace: 'acme-prod', total_pods: 9, deployments: [{ name: 'web', replicas: 6, cpu_request_millicores: 500, memory_request_bytes: 2 * GiB }, { name: 'api', replicas: 3, cpu_request_millicores: 500, memory_request_bytes: 2 * GiB }] },
  maxReplicas: 40,
  sloP99Ms: 500,
};
const healthy = [node('n2', 0.58, false, ['web-b', 'web-c']), node('n3', 0.58, false, ['web-d', 'web-e'])];

describe('Elastik planner: node memory pressure', () => {
  it('proposes cordon_node with drain for the one pressured node, compensated by uncordon_node', () => {
    const sick = node('n1', 0.91, false, ['web-a', 'web-f', 'api-x']);
    const actions = plan({ ...base, nodes: [sick, ...healthy] });
    expect(actions.map((a) => a.action)).toEqual(['cordon_node']);
    const cordon = actions[0]!;
    expect(cordon.tool_call).toEqual({ server: 'kubernetes', tool: 'cordon_node', args: { node: 'n1', drain: true } });
    expect(cordon.compensating_action).toEqual({ server: 'kubernetes', tool: 'uncordon_node', args: { node: 'n1' } });
    // acme and the co-tenant; web, api and the co-tenant's service.
    expect(cordon.blast_radius).toEqual({ tenants: 2, services: 3, capacity_change_pct: 0 });
    expect(cordon.params).toMatchObject({ node: 'n1', drain: true, memory_used_pct: 91, pods_to_move: 3 });
    expect(cordon.verification).toMatchObject({ metric: 'http_request_duration_p99_ms', slo_threshold: 500 });
    expect(cordon.reasoning.join('\n')).toMatch(/n1 is short of memory/);
    expect(cordon.reasoning.join('\n')).toMatch(/2 of web's pods run there/);
  });

  it('also takes the kubelet at its word: MemoryPressure=True below the ratio', () => {
    const sick = node('n1', 0.8, true, ['web-a']);
    expect(pressuredNode({ observation: obs, nodes: [sick, ...healthy] })?.name).toBe('n1');
  });

  it('does not propose a cordon when the nodes are healthy, or without node status', () => {
    const justBelow = node('n1', NODE_MEMORY_PRESSURE_RATIO - 0.01, false, ['web-a']);
    expect(plan({ ...base, nodes: [justBelow, ...healthy] }).map((a) => a.action)).toEqual([]);
    expect(plan(base).map((a) => a.action)).toEqual([]);
  });

  it('does not cordon when every node of the deployment is pressured, or the pressured node runs none of its pods', () => {
    const all = [node('n1', 0.92, true, ['web-a']), node('n2', 0.9, false, ['web-b'])];
    expect(plan({ ...base, nodes: all }).some((a) => a.action === 'cordon_node')).toBe(false);
    const elsewhere = [node('n1', 0.95, true, ['api-x']), ...healthy];
    expect(plan({ ...base, nodes: elsewhere }).some((a) => a.action === 'cordon_node')).toBe(false);
  });

  it('does not cordon when the pods the observation singles out are mostly on healthy nodes: a leaking release gets the rollback', () => {
    const leak: Observation = {
      ...obs,
      signals: [
        ...obs.signals,
        { metric: 'memory_utilisation_ratio', target: 'web-b', value: 0.97, baseline: 0.7, change_pct: 38 },
        { metric: 'memory_utilisation_ratio', target: 'web-d', value: 0.96, baseline: 0.7, change_pct: 37 },
        { metric: 'memory_utilisation_ratio', target: 'web-a', value: 0.95, baseline: 0.7, change_pct: 36 },
      ],
      correlated_change: { kind: 'deployment', name: 'web', revision: 2, at: '2026-11-24T09:30:00Z', minutes_before: 42, description: 'release 2' },
    };
    const sick = node('n1', 0.9, false, ['web-a']);
    const actions = plan({ ...base, observation: leak, history: { revisions: [{ revision: 1 }, { revision: 2 }], current_revision: 2 }, nodes: [sick, ...healthy] });
    expect(actions.map((a) => a.action)).toEqual(['rollback_deployment']);
  });
});
