// The Kubernetes MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// Kubernetes McpServer per session, bound by the session's bearer token to an agent and its
// namespaces.
import { startMcpHttpHost, type McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { createKubernetesMcpServer, type KubernetesMcpDeps, type KubernetesSession } from './server.ts';

export { MCP_PATH } from '../../src/mcp/mcp-http-host.ts';

export type KubernetesMcpHttpDeps = Omit<KubernetesMcpDeps, 'session'> & {
  host?: string;
  port?: number;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, KubernetesSession>;
};

export function startKubernetesMcpHttp(deps: KubernetesMcpHttpDeps): Promise<McpHttpHost> {
  const { tokens, host, port, ...serverDeps } = deps;
  return startMcpHttpHost({
    name: 'kubernetes',
    tokens,
    createServer: (session) => createKubernetesMcpServer({ ...serverDeps, session }),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
