// The twin's node pools as a cloud provider's node groups (the sandbox): a group is the nodes whose
// governor.io/node-pool label names it. Scaling out adds nodes shaped like the group's newest node
// (capacity, allocatable, labels; the zones taken in turn), named `<group>-NN`, which the twin's
// scheduler fills at once with pods that were Pending for lack of room; scaling in removes empty
// nodes, newest first, and refuses when too few are empty (nothing is drained here).
import { GovernorError } from '../core/errors.ts';
import type { ClusterTwin } from '../twin/cluster-twin.ts';
import type { Node } from '../twin/kube-objects.ts';
import { parseQuantity } from '../twin/quantity.ts';
import type { CloudProvider, NodeGroupState, ScaleResult } from './cloud-provider.ts';
import { NODE_GROUP_LABEL, type NodeGroups } from './node-groups.ts';

const ZONE_LABEL = 'topology.kubernetes.io/zone';
const INSTANCE_TYPE_LABEL = 'node.kubernetes.io/instance-type';

export class TwinCloudProvider implements CloudProvider {
  readonly kind = 'twin';

  constructor(
    private readonly twin: ClusterTwin,
    private readonly groups: NodeGroups,
  ) {}

  async listNodeGroups(names: readonly string[]): Promise<NodeGroupState[]> {
    const podsOn = new Map<string, number>();
    for (const p of this.twin.listPods()) if (p.spec.nodeName) podsOn.set(p.spec.nodeName, (podsOn.get(p.spec.nodeName) ?? 0) + 1);
    return names.flatMap((name) => {
      const spec = this.groups[name];
      if (!spec) return [];
      const nodes = this.members(name);
      const newest = nodes.at(-1);
      const alloc = newest?.status.allocatable;
      return [
        {
          name,
          instance_type: newest?.metadata.labels?.[INSTANCE_TYPE_LABEL] ?? spec.instance_type,
          current: nodes.length,
          nodes: nodes.map((n) => ({
            name: n.metadata.name,
            ready: n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
            unschedulable: n.spec?.unschedulable ?? false,
            pods: podsOn.get(n.metadata.name) ?? 0,
          })),
          node_allocatable: alloc ? { cpu: parseQuantity(alloc['cpu'] ?? '0'), memory: parseQuantity(alloc['memory'] ?? '0') } : spec.node ? { cpu: parseQuantity(spec.node.allocatable?.cpu ?? spec.node.cpu), memory: parseQuantity(spec.node.allocatable?.memory ?? spec.node.memory) } : null,
        },
      ];
    });
  }

  async scaleNodeGroup(name: string, to: number): Promise<ScaleResult> {
    const spec = this.groups[name];
    if (!spec) throw new GovernorError('not_found', `node group '${name}' is not configured`);
    const nodes = this.members(name);
    const from = nodes.length;
    const added: string[] = [];
    const removed: string[] = [];
    if (to > from) {
      const model = nodes.at(-1);
      if (!model && !spec.node) throw new GovernorError('conflict', `node group '${name}' has no node to copy and no node shape configured`);
      const taken = new Set(this.twin.listNodes().map((n) => n.metadata.name));
      const zones = [...new Set(nodes.map((n) => n.metadata.labels?.[ZONE_LABEL]).filter((z): z is string => Boolean(z)))].sort();
      let seq = 1;
      for (let i = 0; i < to - from; i++) {
        while (taken.has(nodeName(name, seq))) seq++;
        const n = nodeName(name, seq);
        taken.add(n);
        const labels: Record<string, string> = { ...(model ? copyLabels(model) : (spec.node?.labels ?? {})), [NODE_GROUP_LABEL]: name, [INSTANCE_TYPE_LABEL]: spec.instance_type };
        // Spread over the group's zones as a provider's autoscaling group does.
        if (zones.length > 0) labels[ZONE_LABEL] = zones[(from + i) % zones.length]!;
        this.twin.addNode({
          name: n,
          cpu: model ? model.status.capacity!['cpu']! : spec.node!.cpu,
          memory: model ? model.status.capacity!['memory']! : spec.node!.memory,
          ...(model ? { allocatable: { cpu: model.status.allocatable!['cpu']!, memory: model.status.allocatable!['memory']! } } : spec.node?.allocatable ? { allocatable: spec.node.allocatable } : {}),
          labels,
          createdAtMs: this.twin.clock.now(),
        });
        added.push(n);
      }
    } else if (to < from) {
      const busy = new Set(this.twin.listPods().flatMap((p) => (p.spec.nodeName ? [p.spec.nodeName] : [])));
      const empty = nodes.filter((n) => !busy.has(n.metadata.name)).reverse();
      if (empty.length < from - to) {
        throw new GovernorError('conflict', `node group '${name}' has ${empty.length} empty node(s); removing ${from - to} would terminate nodes that run pods (drain them first)`);
      }
      for (const n of empty.slice(0, from - to)) {
        this.twin.removeNode(n.metadata.name);
        removed.push(n.metadata.name);
      }
    }
    return { name, from, to, added, removed };
  }

  /** The group's nodes, oldest first. */
  private members(name: string): Node[] {
    return this.twin
      .listNodes(`${NODE_GROUP_LABEL}=${name}`)
      .sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name));
  }
}

const nodeName = (group: string, seq: number) => `${group}-${String(seq).padStart(2, '0')}`;

/** A node's own labels minus those the kubelet sets for itself (hostname and the like). */
function copyLabels(n: Node): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(n.metadata.labels ?? {})) if (k !== 'kubernetes.io/hostname') out[k] = v;
  return out;
}
