// An in-memory cloud provider: node groups held in this process, first-class for tests and for
// `governor mcp cloud` when there is no cluster whose nodes it could add (no twin in the process).
// Same contract as the twin's (test/cloud/cloud-provider.case.ts): adds nodes `<group>-NN`, removes
// empty ones newest first, refuses to remove a node that runs pods.
import { GovernorError } from '../core/errors.ts';
import type { CloudProvider, NodeGroupNode, NodeGroupState, ScaleResult } from './cloud-provider.ts';
import type { NodeGroups } from './node-groups.ts';

export class MemoryCloudProvider implements CloudProvider {
  readonly kind = 'memory';
  private readonly nodes = new Map<string, NodeGroupNode[]>();

  /** `initial`: nodes per group at the start (default each group's minimum), and pods on some of them. */
  constructor(
    private readonly groups: NodeGroups,
    initial: Record<string, number> = {},
  ) {
    for (const [name, spec] of Object.entries(groups)) {
      const n = initial[name] ?? spec.min_nodes;
      this.nodes.set(name, Array.from({ length: n }, (_, i) => ({ name: `${name}-${String(i + 1).padStart(2, '0')}`, ready: true, unschedulable: false, pods: 0 })));
    }
  }

  /** Test lever: how many pods a node runs. */
  setPods(node: string, pods: number): void {
    for (const list of this.nodes.values()) for (const n of list) if (n.name === node) n.pods = pods;
  }

  async listNodeGroups(names: readonly string[]): Promise<NodeGroupState[]> {
    return names.flatMap((name) => {
      const spec = this.groups[name];
      const nodes = this.nodes.get(name);
      if (!spec || !nodes) return [];
      return [{ name, instance_type: spec.instance_type, current: nodes.length, nodes: nodes.map((n) => ({ ...n })), node_allocatable: null }];
    });
  }

  async scaleNodeGroup(name: string, to: number): Promise<ScaleResult> {
    const nodes = this.nodes.get(name);
    if (!nodes) throw new GovernorError('not_found', `node group '${name}' is not configured`);
    const from = nodes.length;
    const added: string[] = [];
    const removed: string[] = [];
    if (to > from) {
      const taken = new Set(nodes.map((n) => n.name));
      let seq = 1;
      while (nodes.length < to) {
        while (taken.has(`${name}-${String(seq).padStart(2, '0')}`)) seq++;
        const n = `${name}-${String(seq).padStart(2, '0')}`;
        taken.add(n);
        nodes.push({ name: n, ready: true, unschedulable: false, pods: 0 });
        added.push(n);
      }
    } else if (to < from) {
      const empty = nodes.filter((n) => n.pods === 0).reverse();
      if (empty.length < from - to) {
        throw new GovernorError('conflict', `node group '${name}' has ${empty.length} empty node(s); removing ${from - to} would terminate nodes that run pods (drain them first)`);
      }
      for (const n of empty.slice(0, from - to)) {
        nodes.splice(nodes.indexOf(n), 1);
        removed.push(n.name);
      }
    }
    return { name, from, to, added, removed };
  }
}
