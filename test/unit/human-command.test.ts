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

  it('gives none for a name a shell would read as more than a name, a bad number, or a tool with no one-line equivalent', () => {
    expect(humanCommand(call('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout; rm -rf /', replicas: 12 }))).toBeUndefined();
    expect(humanCommand(call('scale_deployment', { namespace: '$(curl evil)', deployment: 'checkout', replicas: 12 }))).toBeUndefined();
    expect(humanCommand(call('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: -1 }))).toBeUndefined();
    expect(humanCommand(call('scale_deployment', { namespace: 'acme-prod', deployment: 'checkout', replicas: '12' }))).toBeUndefined();
    expect(humanCommand(call('update_config', { namespace: 'acme-prod', name: 'cache' }))).toBeUndefined();
  });
});
