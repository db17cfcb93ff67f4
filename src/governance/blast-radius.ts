// The blast radius of a proposal as the gateway computes it from the target, instead of taking the
// agent's figure: tenants and services touched and the capacity change (DESIGN §5: replicas × CPU
// requests, relative to the tenant's capacity in the namespace), from the exact tool call the grant
// would cover and what the cluster says now. Pure: the cluster facts are read by the caller.
// The figure the policy decides on is never below what the agent declared (fail closed): an
// understated figure is corrected, an overstated one only makes the decision stricter.
import type { BlastRadius, Proposal } from '../contracts/events.ts';
import { GovernorError } from '../core/errors.ts';

export interface WorkloadFacts {
  name: string;
  replicas: number;
  /** CPU one pod requests, millicores (0 when it requests none). */
  cpu_request_millicores: number;
}

export interface NodePodFacts {
  tenant: string;
  namespace: string;
  /** The pod's deployment, or the pod itself when no deployment owns it. */
  workload: string;
}

/** A node group (its nodes carry governor.io/node-pool=<group>) and what runs on it. */
export interface NodeGroupFacts {
  nodes: string[];
  /** The live pods bound to the group's nodes now, of every tenant. */
  pods: NodePodFacts[];
  /** Nodes in the whole cluster: a node group's change is a share of the cluster's capacity. */
  cluster_nodes: number;
}

/** What the gateway reads from the cluster to compute a blast radius; the composition root wires a real one. */
export interface BlastRadiusFacts {
  /** The namespace's deployments now. */
  workloads(namespace: string): Promise<WorkloadFacts[]>;
  /** The live pods bound to a node now, of every tenant. */
  podsOnNode(node: string): Promise<NodePodFacts[]>;
  /** A node group's nodes and pods; without it a node group's scaling cannot be computed (the gateway denies it). */
  nodeGroup?(group: string): Promise<NodeGroupFacts>;
}

/** What a computation needs, read according to the action. */
export interface ReadFacts {
  workloads?: WorkloadFacts[];
  nodePods?: NodePodFacts[];
  nodeGroup?: NodeGroupFacts;
}

export interface ComputedBlastRadius {
  blast_radius: BlastRadius;
  /** How it was computed, in words, for the audit record. */
  basis: string;
}

/** Which facts an action's blast radius is computed from; undefined when the gateway has no way to compute it. */
export function factsNeeded(p: Proposal): { workloads?: string; node?: string; nodeGroup?: string } | undefined {
  const args = p.tool_call.args;
  switch (p.tool_call.tool) {
    case 'scale_deployment':
    case 'set_hpa_bounds':
    case 'patch_resource_limits':
      return { workloads: String(args['namespace'] ?? p.namespace) };
    case 'rollback_deployment':
      return {};
    case 'cordon_node':
    case 'uncordon_node':
      return { node: String(args['node'] ?? '') };
    case 'scale_node_group':
      return { nodeGroup: String(args['node_group'] ?? '') };
    default:
      return undefined;
  }
}

const cost = (w: WorkloadFacts) => w.cpu_request_millicores || 1;
const pct = (x: number) => Math.round(x * 1000) / 10;

/** Parses a CPU quantity ("500m", "2") to millicores; undefined when absent. */
function millicores(q: unknown): number | undefined {
  if (q === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/.exec(String(q));
  if (!m) throw new GovernorError('input_invalid', `cpu quantity '${String(q)}' cannot be read`);
  return Number(m[1]) * (m[2] === 'm' ? 1 : 1000);
}

export function computeBlastRadius(p: Proposal, facts: ReadFacts): ComputedBlastRadius | undefined {
  const args = p.tool_call.args;
  const tool = p.tool_call.tool;
  if (tool === 'rollback_deployment') {
    return { blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 }, basis: `one deployment of one tenant (${String(args['namespace'])}/${String(args['deployment'])}); the pod template changes, not the capacity` };
  }
  if (tool === 'cordon_node' || tool === 'uncordon_node') {
    const pods = facts.nodePods ?? [];
    const tenants = new Set(pods.map((x) => x.tenant));
    const services = new Set(pods.map((x) => `${x.namespace}/${x.workload}`));
    return {
      blast_radius: { tenants: Math.max(1, tenants.size), services: Math.max(1, services.size), capacity_change_pct: 0 },
      basis: `node ${String(args['node'])} runs pods of ${tenants.size} tenant(s) and ${services.size} service(s); scheduling on it changes for all of them`,
    };
  }
  if (tool === 'scale_node_group') {
    // Shared infrastructure: every tenant and service with pods on the group's nodes is touched (a
    // scale-in moves or squeezes them; a scale-out changes where theirs land), and the capacity
    // change is the group's nodes added or removed as a share of the cluster's nodes.
    const g = facts.nodeGroup;
    const group = String(args['node_group']);
    const from = Number(args['from_nodes']);
    const to = Number(args['to_nodes']);
    if (!g || !Number.isFinite(from) || !Number.isFinite(to)) {
      return { blast_radius: { tenants: 1, services: 1, capacity_change_pct: 100 }, basis: `node group ${group} could not be read: the worst is assumed` };
    }
    const tenants = new Set(g.pods.map((x) => x.tenant));
    const services = new Set(g.pods.map((x) => `${x.namespace}/${x.workload}`));
    const cluster = Math.max(1, g.cluster_nodes);
    return {
      blast_radius: { tenants: Math.max(1, tenants.size), services: Math.max(1, services.size), capacity_change_pct: pct((to - from) / cluster) },
      basis: `node group ${group}: ${from} → ${to} nodes of ${g.cluster_nodes} in the cluster; its ${g.nodes.length} node(s) run pods of ${tenants.size} tenant(s) and ${services.size} service(s)`,
    };
  }
  if (tool === 'scale_deployment' || tool === 'set_hpa_bounds' || tool === 'patch_resource_limits') {
    const workloads = facts.workloads ?? [];
    const name = String(args['deployment'] ?? p.target.name);
    const total = workloads.reduce((s, w) => s + w.replicas * cost(w), 0);
    const target = workloads.find((w) => w.name === name);
    const where = `${String(args['namespace'])}/${name}`;
    if (!target || total <= 0) {
      return { blast_radius: { tenants: 1, services: 1, capacity_change_pct: 100 }, basis: `${where} is not in the namespace's deployments: the worst is assumed` };
    }
    let delta: number;
    let what: string;
    if (tool === 'patch_resource_limits') {
      const next = millicores((args['requests'] as Record<string, unknown> | undefined)?.['cpu']);
      delta = next === undefined ? 0 : (next - target.cpu_request_millicores) * target.replicas;
      what = next === undefined ? 'CPU requests unchanged' : `CPU request ${target.cpu_request_millicores}m → ${next}m on ${target.replicas} pods`;
    } else {
      const to = Number(tool === 'scale_deployment' ? args['replicas'] : args['min_replicas']);
      if (!Number.isFinite(to)) throw new GovernorError('input_invalid', `${tool} without a replica count in its arguments`);
      // An HPA's new minimum only adds pods above what runs now; it never removes any.
      const effective = tool === 'set_hpa_bounds' ? Math.max(to, target.replicas) : to;
      delta = (effective - target.replicas) * cost(target);
      what = `${target.replicas} → ${effective} replicas at ${cost(target)}m each`;
    }
    return {
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: pct(delta / total) },
      basis: `${where}: ${what}, against ${total}m requested by the namespace's ${workloads.length} deployment(s)`,
    };
  }
  return undefined;
}

/**
 * The figure the policy decides on: per dimension the larger of the declared and the computed (the
 * capacity change by absolute value, with its sign).
 */
export function effectiveBlastRadius(declared: BlastRadius, computed: BlastRadius | undefined): BlastRadius {
  if (!computed) return declared;
  return {
    tenants: Math.max(declared.tenants, computed.tenants),
    services: Math.max(declared.services, computed.services),
    capacity_change_pct: Math.abs(computed.capacity_change_pct) >= Math.abs(declared.capacity_change_pct) ? computed.capacity_change_pct : declared.capacity_change_pct,
  };
}

/** What understated the declared figure, in words; empty when nothing did. */
export function understated(declared: BlastRadius, used: BlastRadius): string[] {
  const out: string[] = [];
  if (used.tenants > declared.tenants) out.push(`tenants ${declared.tenants} declared, ${used.tenants} touched`);
  if (used.services > declared.services) out.push(`services ${declared.services} declared, ${used.services} touched`);
  if (Math.abs(used.capacity_change_pct) > Math.abs(declared.capacity_change_pct)) out.push(`capacity change ${declared.capacity_change_pct}% declared, ${used.capacity_change_pct}% computed`);
  return out;
}
