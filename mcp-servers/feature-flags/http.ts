// The Feature Flag MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// Feature Flag McpServer per session, bound by the session's bearer token to an agent and its
// namespaces. The history of the flag files is the config-map history, per process and shared by
// every session: it starts tracking (list + watch of every namespace any token is bound to) before the
// first request is served (the ConfigMap server's serving, ../configmap/watched-serving.ts).
import type { ConfigHistory } from '../configmap/config-history.ts';
import { serveWatchedHttp, type WatchedMcpHttp } from '../configmap/watched-serving.ts';
import { createFeatureFlagMcpServer, type FeatureFlagMcpDeps, type FeatureFlagSession } from './server.ts';

export { MCP_PATH } from '../../src/mcp/mcp-http-host.ts';

export type FeatureFlagMcpHttpDeps = Omit<FeatureFlagMcpDeps, 'session' | 'history'> & {
  host?: string;
  port?: number;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, FeatureFlagSession>;
  /** A history to feed and serve; default: a new one. */
  history?: ConfigHistory;
  /** Real-time backoff of a failed watch (default 1 s). */
  watchRetryMs?: number;
};

export type FeatureFlagMcpHttp = WatchedMcpHttp;

export function startFeatureFlagMcpHttp(deps: FeatureFlagMcpHttpDeps): Promise<FeatureFlagMcpHttp> {
  const { tokens, host, port, history, watchRetryMs, ...serverDeps } = deps;
  return serveWatchedHttp({
    ...serverDeps, tokens, name: 'feature-flags',
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(history ? { history } : {}),
    ...(watchRetryMs !== undefined ? { watchRetryMs } : {}),
    createServer: (session, h) => createFeatureFlagMcpServer({ ...serverDeps, history: h, session }),
  });
}
