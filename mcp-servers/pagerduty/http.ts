// The PagerDuty MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// PagerDuty McpServer per session, bound by the session's bearer token to an agent and its namespaces.
import { startMcpHttpHost, type McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { createPagerDutyMcpServer, type PagerDutyMcpDeps, type PagerDutySession } from './server.ts';

export { MCP_PATH } from '../../src/mcp/mcp-http-host.ts';

export type PagerDutyMcpHttpDeps = Omit<PagerDutyMcpDeps, 'session'> & {
  host?: string;
  port?: number;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, PagerDutySession>;
};

export function startPagerDutyMcpHttp(deps: PagerDutyMcpHttpDeps): Promise<McpHttpHost> {
  const { tokens, host, port, ...serverDeps } = deps;
  return startMcpHttpHost({
    name: 'pagerduty',
    tokens,
    createServer: (session) => createPagerDutyMcpServer({ ...serverDeps, session }),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
