// The node groups Governor may scale and their hard bounds (config/node-groups.json, or
// GOVERNOR_NODE_GROUPS_FILE): per group the instance type and its hourly price, the fewest and most
// nodes it may have, and the most nodes one call may add or remove. The Cloud Provider MCP server
// enforces the bounds itself, whatever a grant says (DESIGN §4: hard limits in the server, not only
// in policy). A bad file is refused with every problem named. Pure apart from reading the file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { GovernorError, describeError } from '../core/errors.ts';

export const DEFAULT_NODE_GROUPS_FILE = fileURLToPath(new URL('../../config/node-groups.json', import.meta.url));

/** The node label that names a node's group (the twin's node pools carry it; a real cluster's node groups can too). */
export const NODE_GROUP_LABEL = 'governor.io/node-pool';

/** Hours in a month, as cloud price lists count them. */
export const HOURS_PER_MONTH = 730;

const quantity = z.union([z.string().min(1), z.number().positive()]);

export const NodeGroupSpec = z
  .object({
    instance_type: z.string().min(1).describe('The instance type of every node of the group.'),
    price_per_hour_usd: z.number().nonnegative(),
    min_nodes: z.number().int().nonnegative(),
    max_nodes: z.number().int().positive(),
    max_step: z.number().int().positive().describe('The most nodes one call may add or remove.'),
    /** A new node's shape when the group has no node to copy it from. */
    node: z
      .object({ cpu: quantity, memory: quantity, allocatable: z.object({ cpu: quantity.optional(), memory: quantity.optional() }).optional(), labels: z.record(z.string(), z.string()).optional() })
      .optional(),
  })
  .refine((g) => g.min_nodes <= g.max_nodes, { message: 'min_nodes must not be above max_nodes' });
export type NodeGroupSpec = z.infer<typeof NodeGroupSpec>;

export const NodeGroupsFile = z.object({
  groups: z.record(z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a node group name (RFC 1123 label)'), NodeGroupSpec),
});
export type NodeGroups = Record<string, NodeGroupSpec>;

export function loadNodeGroups(path: string = DEFAULT_NODE_GROUPS_FILE): NodeGroups {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `node groups file ${path} is not readable JSON: ${describeError(err)}`);
  }
  return parseNodeGroups(raw, path);
}

export function parseNodeGroups(raw: unknown, where = 'node groups'): NodeGroups {
  const parsed = NodeGroupsFile.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new GovernorError('config_invalid', `${where} is not valid:\n${problems.join('\n')}`);
  }
  return parsed.data.groups;
}

/**
 * Why a scale of a group from `from` to `to` nodes is outside its hard bounds; empty when it is
 * within them. Checked by the server on every call, with a grant or without.
 */
export function boundsProblems(name: string, spec: Pick<NodeGroupSpec, 'min_nodes' | 'max_nodes' | 'max_step'>, from: number, to: number): string[] {
  const out: string[] = [];
  if (to > spec.max_nodes) out.push(`${to} nodes is above node group ${name}'s maximum of ${spec.max_nodes}`);
  if (to < spec.min_nodes) out.push(`${to} nodes is below node group ${name}'s minimum of ${spec.min_nodes}`);
  if (Math.abs(to - from) > spec.max_step) out.push(`${from} → ${to} changes ${Math.abs(to - from)} nodes at once; node group ${name} allows at most ${spec.max_step} per call`);
  return out;
}
