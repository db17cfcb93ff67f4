// The Billing MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// Billing McpServer per session, bound by the session's bearer token to an agent and its namespaces.
import { startMcpHttpHost, type McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { createBillingMcpServer, type BillingMcpDeps, type BillingSession } from './server.ts';

export { MCP_PATH } from '../../src/mcp/mcp-http-host.ts';

export type BillingMcpHttpDeps = Omit<BillingMcpDeps, 'session'> & {
  host?: string;
  port?: number;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, BillingSession>;
};

export function startBillingMcpHttp(deps: BillingMcpHttpDeps): Promise<McpHttpHost> {
  const { tokens, host, port, ...serverDeps } = deps;
  return startMcpHttpHost({
    name: 'billing',
    tokens,
    createServer: (session) => createBillingMcpServer({ ...serverDeps, session }),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
