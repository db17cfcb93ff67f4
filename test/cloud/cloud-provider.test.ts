// The CloudProvider contract against both implementations, and the node groups file.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { MemoryCloudProvider } from '../../src/cloud/memory-cloud-provider.ts';
import { TwinCloudProvider } from '../../src/cloud/twin-cloud-provider.ts';
import { boundsProblems, loadNodeGroups, parseNodeGroups, type NodeGroups } from '../../src/cloud/node-groups.ts';
import { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { cloudProviderContract } from './cloud-provider.case.ts';

const GROUPS: NodeGroups = { apps: { instance_type: 'm6i.xlarge', price_per_hour_usd: 0.192, min_nodes: 1, max_nodes: 5, max_step: 2 } };

cloudProviderContract('in memory', {
  make() {
    const provider = new MemoryCloudProvider(GROUPS, { apps: 2 });
    return { provider, occupy: (n) => provider.setPods(n, 1), settle: async () => {} };
  },
});

cloudProviderContract('the twin', {
  make() {
    const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
    const node = (name: string) => ({ name, cpu: 4, memory: '16Gi', labels: { 'governor.io/node-pool': 'apps' } });
    const twin = new ClusterTwin(clock, { nodes: [node('apps-01'), node('apps-02'), { ...node('other-01'), labels: {} }] });
    twin.addNamespace('acme-prod');
    let n = 0;
    const provider = new TwinCloudProvider(twin, GROUPS);
    return {
      provider,
      // A deployment of one pod pinned to the node.
      occupy: (nodeName) =>
        twin.addDeployment({
          namespace: 'acme-prod', name: `pinned-${++n}`, replicas: 1,
          revisions: [{ createdAtMs: clock.now() - 86_400_000, template: { metadata: { labels: { app: `pinned-${n}` } }, spec: { nodeSelector: { 'kubernetes.io/hostname': nodeName }, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } } }],
          rps: 0,
        } as never),
      settle: async () => clock.advance(1_000),
    };
  },
});

describe('node groups file', () => {
  it('the committed config/node-groups.json is valid', () => {
    expect(Object.keys(loadNodeGroups())).toContain('apps');
  });

  it('names every problem of a bad file', () => {
    expect(() => parseNodeGroups({ groups: { apps: { instance_type: '', price_per_hour_usd: -1, min_nodes: 3, max_nodes: 2, max_step: 0 } } }, 'x.json')).toThrow(
      /x\.json is not valid:[\s\S]*groups\.apps\.instance_type[\s\S]*groups\.apps\.price_per_hour_usd[\s\S]*groups\.apps\.max_step/,
    );
    expect(() => parseNodeGroups({ groups: { Apps: { instance_type: 'm', price_per_hour_usd: 1, min_nodes: 1, max_nodes: 2, max_step: 1 } } })).toThrow(/groups\.Apps/);
  });

  it('bounds: above max, below min and too large a step are each named', () => {
    const b = { min_nodes: 2, max_nodes: 5, max_step: 1 };
    expect(boundsProblems('apps', b, 2, 3)).toEqual([]);
    expect(boundsProblems('apps', b, 5, 6)).toEqual(["6 nodes is above node group apps's maximum of 5"]);
    expect(boundsProblems('apps', b, 2, 1)).toEqual(["1 nodes is below node group apps's minimum of 2"]);
    expect(boundsProblems('apps', b, 2, 4)).toEqual(['2 → 4 changes 2 nodes at once; node group apps allows at most 1 per call']);
  });
});
