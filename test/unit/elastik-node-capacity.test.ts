// Elastik's node-group step (agents/elastik/node-capacity.ts), pure: which pods are Pending for lack
// of room (and which for other reasons), which group the deployment runs on, and how many nodes the
// step adds within the group's bounds — or why it cannot.
import { describe, expect, it } from 'vitest';
import { groupOf, nodeGroupStep, pendingForCapacity, type NodeGroupView } from '../../agents/elastik/node-capacity.ts';

const ev = (name: string, reason: string, message = '') => ({ type: reason === 'Scheduled' ? 'Normal' : 'Warning', reason, message, object: { kind: 'Pod', name }, last_seen: null });
const INSUFFICIENT = '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.';
const group = (over: Partial<NodeGroupView> = {}): NodeGroupView => ({
  name: 'apps', instance_type: 'm6i.xlarge', price_per_hour_usd: 0.192, current_nodes: 2, min_nodes: 2, max_nodes: 5, max_step: 2,
  node_allocatable: { cpu_cores: 3.92, memory_bytes: 14 * 2 ** 30 }, nodes: [{ name: 'apps-01' }, { name: 'apps-02' }], ...over,
});

describe('pendingForCapacity', () => {
  it('counts the pods whose newest scheduling event says there is no room', () => {
    const metrics = { deployment: { replicas: 12 }, pods_without_metrics: ['api-a', 'api-b', 'api-c', 'api-d'].map((pod) => ({ pod, ready: false })) };
    const events = [
      ev('api-a', 'FailedScheduling', INSUFFICIENT),
      ev('api-b', 'Scheduled'), // placed since: starting, not Pending
      ev('api-b', 'FailedScheduling', INSUFFICIENT),
      ev('api-c', 'FailedScheduling', "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector."),
      ev('other-x', 'FailedScheduling', INSUFFICIENT), // not the deployment's
    ];
    expect(pendingForCapacity(metrics, events)).toEqual({ pods: ['api-a'], message: INSUFFICIENT });
  });
});

describe('groupOf', () => {
  it("picks the group holding most of the deployment's nodes", () => {
    const other = group({ name: 'general', nodes: [{ name: 'general-01' }] });
    expect(groupOf([other, group()], ['apps-01', 'apps-02', 'general-01'])!.name).toBe('apps');
    expect(groupOf([other], ['apps-01'])).toBeUndefined();
  });
});

describe('nodeGroupStep', () => {
  const base = { namespace: 'acme-prod', deployment: 'api', podRequests: { cpu: 0.9, memory: 2 ** 30 }, sloP99Ms: 400 };
  it('adds the nodes the Pending pods need, with its compensating scale back and the pods-not-ready verification', () => {
    const step = nodeGroupStep({ ...base, pending: { pods: ['a', 'b'], message: INSUFFICIENT }, group: group() });
    expect(step.kind).toBe('scale');
    if (step.kind !== 'scale') return;
    expect(step.action.tool_call).toEqual({ server: 'cloud', tool: 'scale_node_group', args: { node_group: 'apps', from_nodes: 2, to_nodes: 3 } });
    expect(step.action.compensating_action).toEqual({ server: 'cloud', tool: 'scale_node_group', args: { node_group: 'apps', from_nodes: 3, to_nodes: 2 } });
    expect(step.action.params).toMatchObject({ pending_pods: 2, monthly_cost_delta_usd: 140.16 });
    expect(step.action.verification).toMatchObject({ metric: 'pods_not_ready', slo_threshold: 0, target: { namespace: 'acme-prod', deployment: 'api' } });
    expect(step.action.reasoning.join(' ')).toContain('room for 4 such pod(s)');
  });

  it('never beyond the step or the maximum; at the maximum, blocked', () => {
    const nine = { pods: Array.from({ length: 9 }, (_, i) => `p${i}`), message: INSUFFICIENT };
    const s = nodeGroupStep({ ...base, pending: nine, group: group() });
    expect(s.kind === 'scale' && s.action.tool_call.args['to_nodes']).toBe(4); // 3 nodes needed, 2 per step
    const s2 = nodeGroupStep({ ...base, pending: nine, group: group({ current_nodes: 4 }) });
    expect(s2.kind === 'scale' && s2.action.tool_call.args['to_nodes']).toBe(5);
    expect(nodeGroupStep({ ...base, pending: nine, group: group({ current_nodes: 5 }) })).toEqual({ kind: 'blocked', reason: 'node group apps is at its maximum of 5 node(s): 9 pod(s) of api stay Pending' });
  });
});
