// The Cloud Provider MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with
// one server per session, bound by the session's bearer token to an agent and its namespaces (the
// namespaces a grant to scale a node group must be for). One provider for every session.
import { startMcpHttpHost, type McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { createCloudMcpServer, type CloudMcpDeps, type CloudSession } from './server.ts';

export type CloudMcpHttpDeps = Omit<CloudMcpDeps, 'session'> & {
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, CloudSession>;
  host?: string;
  port?: number;
};

export async function startCloudMcpHttp(deps: CloudMcpHttpDeps): Promise<McpHttpHost> {
  const { tokens, host, port, ...serverDeps } = deps;
  return startMcpHttpHost({
    name: 'cloud',
    tokens,
    createServer: (session) => createCloudMcpServer({ ...serverDeps, session }),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    maxBodyBytes: 64 * 1024,
  });
}
