// The drain rule of cordon_node as data: what a drain may evict and what it must keep.
import { describe, expect, it } from 'vitest';
import { drainPlan } from '../../mcp-servers/kubernetes/guardrails.ts';

const pod = (name: string, deployment: string | null, ready = true, namespace = 'acme-prod') => ({ namespace, name, deployment, ready });

describe('drainPlan', () => {
  it('keeps a ready production pod whose eviction would leave fewer than 2 ready replicas', () => {
    const plan = drainPlan({
      pods: [pod('api-1', 'api'), pod('web-1', 'web'), pod('web-2', 'web')],
      readyReplicas: new Map([['acme-prod/api', 2], ['acme-prod/web', 4]]),
      production: new Set(['acme-prod']),
    });
    expect(plan.evict.map((p) => p.name)).toEqual(['web-1', 'web-2']);
    expect(plan.keep).toEqual([expect.objectContaining({ name: 'api-1', reason: expect.stringMatching(/^min_production_replicas: .* 1 ready pods/) })]);
  });

  it('counts evictions of one deployment against its floor, and evicts not-ready pods first and always', () => {
    const plan = drainPlan({
      pods: [pod('web-1', 'web'), pod('web-2', 'web'), pod('web-3', 'web', false)],
      readyReplicas: new Map([['acme-prod/web', 3]]),
      production: new Set(['acme-prod']),
    });
    expect(plan.evict.map((p) => p.name)).toEqual(['web-3', 'web-1']);
    expect(plan.keep.map((p) => p.name)).toEqual(['web-2']);
  });

  it('applies no floor outside production', () => {
    const plan = drainPlan({ pods: [pod('api-1', 'api', true, 'acme-dev')], readyReplicas: new Map([['acme-dev/api', 1]]), production: new Set() });
    expect(plan.evict.map((p) => p.name)).toEqual(['api-1']);
  });
});
