// The Cloud Provider MCP server: the cluster's node groups (list them with their size, bounds,
// instance type and price; scale one) through a CloudProvider — the twin's node pools in the
// sandbox. Scaling is a mutation: it needs a signed grant bound to exactly this call (grant-gate.ts),
// issued for a namespace of this session, and the server enforces the group's hard bounds itself
// (config/node-groups.json: never above max_nodes, never below min_nodes, never more than max_step
// nodes in one call), whatever the grant says. It must never scale a group it was not configured
// with, nor one whose size moved since the call was planned (from_nodes must be the size now).
import type { KeyObject } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { CloudProvider, NodeGroupState } from '../../src/cloud/cloud-provider.ts';
import { HOURS_PER_MONTH, boundsProblems, type NodeGroups } from '../../src/cloud/node-groups.ts';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import type { PauseEpochReader } from '../../src/governance/pause-epoch.ts';
import { keepGrantOutcomes } from '../shared/grant-ledger.ts';
import { GrantGate } from '../shared/grant-gate.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { grantArg } from '../shared/tool-args.ts';

export const CLOUD_SERVER_NAME = 'cloud';

export interface CloudSession {
  agent: string;
  namespaces: readonly string[];
}

export interface CloudMcpDeps {
  provider: CloudProvider;
  groups: NodeGroups;
  clock: Clock;
  sharedState: SharedState;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  pauseEpoch: PauseEpochReader;
  session: CloudSession;
  logger?: Logger;
}

const groupArg = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a node group name (RFC 1123 label)')
  .describe('Name of a configured node group (list_node_groups names them).');
const countArg = (what: string) => z.number().int().min(0).max(1000).describe(what);

const groupOut = z.object({
  name: z.string(),
  instance_type: z.string(),
  price_per_hour_usd: z.number().describe('Price of one node, USD per hour.'),
  current_nodes: z.number().int(),
  min_nodes: z.number().int(),
  max_nodes: z.number().int(),
  max_step: z.number().int().describe('The most nodes one scale_node_group call may add or remove.'),
  monthly_cost_usd: z.number().describe(`current_nodes × price × ${HOURS_PER_MONTH} h.`),
  node_allocatable: z.object({ cpu_cores: z.number(), memory_bytes: z.number() }).nullable().describe('What one node allocates to pods, when known.'),
  nodes: z.array(z.object({ name: z.string(), ready: z.boolean(), unschedulable: z.boolean(), pods: z.number().int() })),
});
const listOut = z.object({ provider: z.string(), groups: z.array(groupOut) });
const scaleOut = z.object({
  node_group: z.string(),
  from_nodes: z.number().int(),
  to_nodes: z.number().int(),
  added: z.array(z.string()).describe('Nodes added (their Node objects appear as they join).'),
  removed: z.array(z.string()).describe('Empty nodes removed, newest first.'),
  monthly_cost_delta_usd: z.number(),
  bounds: z.object({ min_nodes: z.number().int(), max_nodes: z.number().int(), max_step: z.number().int() }),
});

export function createCloudMcpServer(deps: CloudMcpDeps): McpServer {
  const { provider, groups, session } = deps;
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: CLOUD_SERVER_NAME });
  const { respond } = sessionScope(session, log);
  const gate = new GrantGate({ server: CLOUD_SERVER_NAME, session, clock: deps.clock, sharedState: deps.sharedState, grantPublicKeys: deps.grantPublicKeys, pauseEpoch: deps.pauseEpoch, logger: log });
  const namespaces = new Set(session.namespaces);

  const spec = (name: string) => {
    const s = groups[name];
    if (!s) throw new GovernorError('not_found', `node group '${name}' is not configured (configured: ${Object.keys(groups).sort().join(', ') || 'none'})`);
    return s;
  };
  const view = (g: NodeGroupState) => {
    const s = spec(g.name);
    return {
      name: g.name,
      instance_type: g.instance_type,
      price_per_hour_usd: s.price_per_hour_usd,
      current_nodes: g.current,
      min_nodes: s.min_nodes,
      max_nodes: s.max_nodes,
      max_step: s.max_step,
      monthly_cost_usd: round(g.current * s.price_per_hour_usd * HOURS_PER_MONTH),
      node_allocatable: g.node_allocatable ? { cpu_cores: g.node_allocatable.cpu, memory_bytes: g.node_allocatable.memory } : null,
      nodes: g.nodes,
    };
  };

  const server = new McpServer(
    { name: 'governor-cloud', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        "The cluster's node groups through its cloud provider (the twin's node pools in the sandbox): list_node_groups gives each group's nodes, size, bounds, " +
        'instance type and price; scale_node_group sets a group\'s size within its configured bounds and needs a grant for exactly that call. Failures are isError ' +
        'results whose text starts with a code (safety_violation, conflict, not_found, tenant_forbidden, grant_invalid, grant_mismatch, grant_used).',
    },
  );
  // A grant carried out already is answered from the ledger, never carried out twice (grant-ledger.ts).
  keepGrantOutcomes(server, gate, log);

  server.registerTool(
    'list_node_groups',
    {
      title: 'Node groups',
      description:
        'Every configured node group (or the one named): instance type, price per node-hour and per month, current size and its nodes (ready, cordoned, pods), ' +
        'and the hard bounds scale_node_group enforces (min_nodes, max_nodes, max_step). Node groups are shared by every tenant whose pods run there. Read-only.',
      inputSchema: { node_group: groupArg.optional() },
      outputSchema: listOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ node_group }) =>
      respond('list_node_groups', { node_group }, async () => {
        const names = node_group ? (spec(node_group), [node_group]) : Object.keys(groups).sort();
        return { provider: provider.kind, groups: (await provider.listNodeGroups(names)).map(view) };
      }),
  );

  server.registerTool(
    'scale_node_group',
    {
      title: 'Scale a node group',
      description:
        'Sets a node group\'s size from from_nodes (its size now; refused as conflict when it moved) to to_nodes: adds nodes shaped like the group\'s, which the ' +
        'scheduler fills with Pending pods, or removes empty nodes (refused when too few are empty). Refused (safety_violation) above max_nodes, below min_nodes, ' +
        'or more than max_step nodes in one call — with a grant too. Requires a grant for exactly this call (node_group, from_nodes, to_nodes), issued to this ' +
        "session's agent for one of its namespaces. The compensating action is the reverse scale.",
      inputSchema: {
        node_group: groupArg,
        from_nodes: countArg('The group\'s size now, as the caller planned from.'),
        to_nodes: countArg('The size to set.'),
        grant: grantArg(CLOUD_SERVER_NAME),
      },
      outputSchema: scaleOut,
      // Destructive: a scale-in terminates instances; not idempotent: the same call twice would need the size to be from_nodes again.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    async ({ node_group, from_nodes, to_nodes, grant }) =>
      respond('scale_node_group', { node_group, from_nodes, to_nodes }, async () => {
        const g = await gate.checkScoped('scale_node_group', { node_group, from_nodes, to_nodes }, grant, namespaces);
        const s = spec(node_group);
        // The hard bounds hold whatever the grant says.
        const problems = boundsProblems(node_group, s, from_nodes, to_nodes);
        if (problems.length > 0) throw new GovernorError('safety_violation', problems.join('; '), { details: { problems, bounds: { min_nodes: s.min_nodes, max_nodes: s.max_nodes, max_step: s.max_step } } });
        const [now] = await provider.listNodeGroups([node_group]);
        if (!now) throw new GovernorError('not_found', `node group '${node_group}' has no nodes the provider knows of`);
        if (now.current !== from_nodes) {
          throw new GovernorError('conflict', `node group '${node_group}' has ${now.current} node(s) now, not ${from_nodes}: the call was planned on a size that moved`);
        }
        const claim = await gate.consume(g);
        let result;
        try {
          result = await provider.scaleNodeGroup(node_group, to_nodes);
        } catch (err) {
          // Nothing changed when the provider refused before acting (a scale-in with too few empty nodes).
          if (err instanceof GovernorError && err.code === 'conflict') await deps.sharedState.releaseWindow(claim.key, claim.nowMs);
          throw err;
        }
        log.info({ tool: 'scale_node_group', node_group, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, `scaled node group ${node_group} ${from_nodes} → ${to_nodes}`);
        return {
          node_group,
          from_nodes,
          to_nodes,
          added: result.added,
          removed: result.removed,
          monthly_cost_delta_usd: round((to_nodes - from_nodes) * s.price_per_hour_usd * HOURS_PER_MONTH),
          bounds: { min_nodes: s.min_nodes, max_nodes: s.max_nodes, max_step: s.max_step },
        };
      }),
  );

  return server;
}

const round = (v: number) => Math.round(v * 100) / 100;
