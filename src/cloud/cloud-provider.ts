// The cloud provider seam: the node groups of the cluster (an autoscaling group, a managed node
// group, a node pool) as the provider sees them, and the one change Governor makes to them — set a
// group's desired size. Two implementations: the twin's node pools (twin-cloud-provider.ts, the
// sandbox) and an in-memory one (memory-cloud-provider.ts). Bounds are not the provider's business:
// the Cloud Provider MCP server checks them (src/cloud/node-groups.ts) before it asks.
export interface NodeGroupNode {
  name: string;
  ready: boolean;
  unschedulable: boolean;
  /** Pods bound to the node now (0: it can be removed without moving anything). */
  pods: number;
}

export interface NodeGroupState {
  name: string;
  instance_type: string;
  /** Nodes in the group now. */
  current: number;
  nodes: NodeGroupNode[];
  /** What one node allocates to pods, when known: cores and bytes. */
  node_allocatable: { cpu: number; memory: number } | null;
}

export interface ScaleResult {
  name: string;
  from: number;
  to: number;
  added: string[];
  removed: string[];
}

export interface CloudProvider {
  /** What kind of provider this is, for logs and answers (`twin`, `memory`, …). */
  readonly kind: string;
  /** The groups the provider knows of among `names`, as they are now. */
  listNodeGroups(names: readonly string[]): Promise<NodeGroupState[]>;
  /**
   * Sets the group's size to `to` nodes: adds nodes shaped like the group's, or removes empty ones
   * (newest first). Refuses (`conflict`) a scale-in that would have to remove a node that runs pods.
   */
  scaleNodeGroup(name: string, to: number): Promise<ScaleResult>;
}
