// One ToolClient over several MCP sessions of the same agent, chosen by tool name: an agent acts
// through its own server (update_config on ConfigMap, throttle_tenant on Billing) but reads the
// service signals its executor records and its verifier samples through a Kubernetes session of its
// own (get_pod_metrics). Each session keeps its bearer token and scope; the router only dispatches.
// It never guesses: a tool no session was given for is refused as a result, never sent to a default.
import { GovernorError } from '../../src/core/errors.ts';
import type { ToolClient, ToolOutcome } from './tool-client.ts';
import { isTenantTools, type TenantTools } from './tenant-sessions.ts';

export interface ToolRoute {
  client: ToolClient;
  tools: readonly string[];
}

export function routeTools(routes: readonly ToolRoute[]): ToolClient | TenantTools {
  const byTool = new Map<string, ToolClient>();
  for (const r of routes) {
    for (const t of r.tools) {
      if (byTool.has(t)) throw new GovernorError('config_invalid', `tool '${t}' is routed to two MCP sessions`);
      byTool.set(t, r.client);
    }
  }
  const router: ToolClient = {
    async callTool<T>(tool: string, args: Record<string, unknown>): Promise<ToolOutcome<T>> {
      const client = byTool.get(tool);
      if (!client) {
        return {
          ok: false,
          code: 'unknown_tool',
          message: `no MCP session of this agent serves tool '${tool}' (routed: ${[...byTool.keys()].sort().join(', ')})`,
          raw: { request: { tool, args } },
        };
      }
      return client.callTool<T>(tool, args);
    },
    async close(): Promise<void> {
      await Promise.allSettled(routes.map((r) => r.client.close()));
    },
  };
  // Sessions per tenant behind any route: the work's tenant picks them in every route at once.
  if (!routes.some((r) => isTenantTools(r.client))) return router;
  return {
    ...router,
    forTenant: (tenant: string) => routeTools(routes.map((r) => ({ tools: r.tools, client: isTenantTools(r.client) ? r.client.forTenant(tenant) : r.client }))),
  };
}

/** What an executor and verifier read from the Kubernetes server besides the agent's own tools. */
export const METRICS_TOOLS = ['get_pod_metrics'] as const;
