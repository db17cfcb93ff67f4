// Elastik's answer to pods the scheduler cannot place: when pods of the deployment in trouble are
// Pending because no node has room (FailedScheduling: Insufficient cpu / memory, Too many pods), more
// replicas would only wait beside them, and the node group they run on grows instead — by the nodes
// the Pending pods need, within the group's bounds (the Cloud Provider MCP server enforces them
// again). Pure: what the Kubernetes server's pod and event tools and the Cloud server's
// list_node_groups said comes in; one planned action, or the reason there is none, goes out.
// It proposes; it never decides (the gateway does).
import { z } from 'zod';
import type { PlannedAction } from '../runtime/planned-action.ts';
// A node-group step is judged by the deployment's pods not ready (Pending or starting).
import { PODS_NOT_READY } from '../runtime/verifier.ts';

/** The Cloud Provider MCP server's tools (mcp-servers/cloud), routed to Elastik's cloud session. */
export const CLOUD_TOOLS = ['list_node_groups', 'scale_node_group'] as const;


/** FailedScheduling reasons that more nodes answer (not a selector, taint or cordon). */
const CAPACITY_REASONS = /Insufficient cpu|Insufficient memory|Too many pods/;

export const PodsWithoutMetrics = z
  .object({
    pods_without_metrics: z.array(z.object({ pod: z.string(), ready: z.boolean() }).passthrough()).default([]),
    deployment: z.object({ replicas: z.number().int() }).passthrough(),
  })
  .passthrough();
export type PodsWithoutMetrics = z.infer<typeof PodsWithoutMetrics>;

export const PodEvents = z
  .object({
    events: z.array(
      z.object({ type: z.string(), reason: z.string(), message: z.string(), object: z.object({ kind: z.string(), name: z.string() }), last_seen: z.string().nullable() }).passthrough(),
    ),
  })
  .passthrough();
export type PodEvents = z.infer<typeof PodEvents>;

export const NodeGroupsView = z
  .object({
    groups: z.array(
      z
        .object({
          name: z.string(),
          instance_type: z.string(),
          price_per_hour_usd: z.number(),
          current_nodes: z.number().int(),
          min_nodes: z.number().int(),
          max_nodes: z.number().int(),
          max_step: z.number().int(),
          node_allocatable: z.object({ cpu_cores: z.number(), memory_bytes: z.number() }).nullable(),
          nodes: z.array(z.object({ name: z.string() }).passthrough()),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type NodeGroupView = z.infer<typeof NodeGroupsView>['groups'][number];

export interface PendingPods {
  pods: string[];
  /** The scheduler's latest word on them (kube-scheduler's FailedScheduling message). */
  message: string;
}

/**
 * The deployment's pods that are Pending for lack of room: not ready, no metrics (never started),
 * and whose newest scheduling event (events newest first) is a FailedScheduling for capacity.
 */
export function pendingForCapacity(metrics: PodsWithoutMetrics, events: PodEvents['events']): PendingPods {
  const waiting = new Set(metrics.pods_without_metrics.filter((p) => !p.ready).map((p) => p.pod));
  const pods: string[] = [];
  let message = '';
  const seen = new Set<string>();
  for (const e of events) {
    if (e.object.kind !== 'Pod' || !waiting.has(e.object.name) || seen.has(e.object.name)) continue;
    if (e.reason !== 'FailedScheduling' && e.reason !== 'Scheduled') continue;
    seen.add(e.object.name);
    if (e.reason === 'FailedScheduling' && CAPACITY_REASONS.test(e.message)) {
      pods.push(e.object.name);
      message ||= e.message;
    }
  }
  return { pods: pods.sort(), message };
}

/** The group most of the deployment's nodes belong to; undefined when none of its nodes is in a configured group. */
export function groupOf(groups: readonly NodeGroupView[], deploymentNodes: readonly string[]): NodeGroupView | undefined {
  let best: NodeGroupView | undefined;
  let most = 0;
  for (const g of groups) {
    const names = new Set(g.nodes.map((n) => n.name));
    const here = deploymentNodes.filter((n) => names.has(n)).length;
    if (here > most) {
      best = g;
      most = here;
    }
  }
  return best;
}

export type NodeStepPlan = { kind: 'scale'; action: PlannedAction<'scale_node_group'> } | { kind: 'blocked'; reason: string };

export function nodeGroupStep(a: {
  namespace: string;
  deployment: string;
  pending: PendingPods;
  /** What one of the deployment's pods requests: cores and bytes. */
  podRequests: { cpu: number; memory: number };
  group: NodeGroupView;
  sloP99Ms: number;
}): NodeStepPlan {
  const g = a.group;
  const n = a.pending.pods.length;
  const alloc = g.node_allocatable;
  // Nodes the Pending pods need, by whichever resource binds; one when the node's shape is unknown.
  const byCpu = alloc && a.podRequests.cpu > 0 ? Math.floor(alloc.cpu_cores / a.podRequests.cpu) : Infinity;
  const byMemory = alloc && a.podRequests.memory > 0 ? Math.floor(alloc.memory_bytes / a.podRequests.memory) : Infinity;
  const perNode = Math.max(1, Math.min(byCpu, byMemory, 110));
  const needed = Number.isFinite(perNode) ? Math.max(1, Math.ceil(n / perNode)) : 1;
  const from = g.current_nodes;
  const to = Math.min(from + needed, from + g.max_step, g.max_nodes);
  if (to <= from) {
    return { kind: 'blocked', reason: `node group ${g.name} is at its maximum of ${g.max_nodes} node(s): ${n} pod(s) of ${a.deployment} stay Pending` };
  }
  const cost = Math.round((to - from) * g.price_per_hour_usd * 730 * 100) / 100;
  const pct = Math.round(((to - from) / Math.max(1, from)) * 1000) / 10;
  const args = { node_group: g.name, from_nodes: from, to_nodes: to };
  return {
    kind: 'scale',
    action: {
      action: 'scale_node_group',
      params: { ...args, instance_type: g.instance_type, pending_pods: n, monthly_cost_delta_usd: cost },
      // The gateway recomputes it from every pod on the group's nodes (all tenants there) against the cluster's nodes.
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: pct },
      tool_call: { server: 'cloud', tool: 'scale_node_group', args },
      compensating_action: { server: 'cloud', tool: 'scale_node_group', args: { node_group: g.name, from_nodes: to, to_nodes: from } },
      // Judged by the deployment's pods: restored once none is left Pending or starting.
      verification: { metric: PODS_NOT_READY, slo_threshold: 0, min_improvement_pct: 50, window_s: 180, target: { namespace: a.namespace, deployment: a.deployment } },
      reasoning: [
        `${n} pod(s) of ${a.deployment} are Pending: ${a.pending.message || 'the scheduler finds no node with room'}`,
        `more replicas of ${a.deployment} would wait beside them; the nodes are full, not the service`,
        `node group ${g.name} (${g.instance_type}) has ${from} node(s)${alloc ? `, each allocating ${round(alloc.cpu_cores)} cores and ${Math.round(alloc.memory_bytes / 2 ** 30)} GiB, room for ${perNode} such pod(s)` : ''}: ` +
          `${to - from} more node(s) place them (bounds ${g.min_nodes}-${g.max_nodes}, at most ${g.max_step} per step)`,
        `about $${cost} a month more; undone by scaling ${g.name} back to ${from} once its new nodes are empty`,
      ],
    },
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
