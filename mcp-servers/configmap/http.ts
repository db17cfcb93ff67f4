// The ConfigMap MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// ConfigMap McpServer per session, bound by the session's bearer token to an agent and its
// namespaces. The config history is per process, shared by every session: it starts tracking (list +
// watch of every namespace any token is bound to) before the first request is served.
import type { ConfigHistory } from './config-history.ts';
import { createConfigMapMcpServer, type ConfigMapMcpDeps, type ConfigMapSession } from './server.ts';
import { serveWatchedHttp, type WatchedMcpHttp } from './watched-serving.ts';

export { MCP_PATH } from '../../src/mcp/mcp-http-host.ts';

export type ConfigMapMcpHttpDeps = Omit<ConfigMapMcpDeps, 'session' | 'history'> & {
  host?: string;
  port?: number;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, ConfigMapSession>;
  /** A history to feed and serve; default: a new one. */
  history?: ConfigHistory;
  /** Real-time backoff of a failed watch (default 1 s). */
  watchRetryMs?: number;
};

export type ConfigMapMcpHttp = WatchedMcpHttp;

export function startConfigMapMcpHttp(deps: ConfigMapMcpHttpDeps): Promise<ConfigMapMcpHttp> {
  const { tokens, host, port, history, watchRetryMs, ...serverDeps } = deps;
  return serveWatchedHttp({
    ...serverDeps, tokens, name: 'configmap',
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(history ? { history } : {}),
    ...(watchRetryMs !== undefined ? { watchRetryMs } : {}),
    createServer: (session, h) => createConfigMapMcpServer({ ...serverDeps, history: h, session }),
  });
}
