// The OPA MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one server
// per session, bound by the session's bearer token to an agent, its namespaces and its tenants. One
// policy engine for every session: the same bundle decides for all of them.
import { startMcpHttpHost, type McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { createOpaMcpServer, type OpaMcpDeps, type OpaSession } from './server.ts';

export type OpaMcpHttpDeps = Omit<OpaMcpDeps, 'session'> & {
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, OpaSession>;
  host?: string;
  port?: number;
};

export async function startOpaMcpHttp(deps: OpaMcpHttpDeps): Promise<McpHttpHost> {
  const { tokens, host, port, ...serverDeps } = deps;
  return startMcpHttpHost({
    name: 'opa',
    tokens,
    createServer: (session) => createOpaMcpServer({ ...serverDeps, session }),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    // A policy input is small; a megabyte is far more than any.
    maxBodyBytes: 1024 * 1024,
  });
}
