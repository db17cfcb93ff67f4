// The Feature Flag MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// Feature Flag McpServer per session, bound by the session's bearer token to an agent and its
// namespaces. The history of the flag files is the config-map history, per process and shared by
// every session: it starts tracking (list + watch of every namespace any token is bound to) before the
// first request is served.
import { startMcpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { ConfigHistory } from '../configmap/config-history.ts';
import { startConfigWatch } from '../configmap/config-watch.ts';
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

export interface FeatureFlagMcpHttp {
  url: string;
  history: ConfigHistory;
  close(): Promise<void>;
}

export async function startFeatureFlagMcpHttp(deps: FeatureFlagMcpHttpDeps): Promise<FeatureFlagMcpHttp> {
  const { tokens, host, port, history = new ConfigHistory(), watchRetryMs, ...serverDeps } = deps;
  const namespaces = [...new Set([...tokens.values()].flatMap((t) => t.namespaces))].sort();
  const watch = await startConfigWatch({
    kube: deps.kube,
    namespaces,
    history,
    clock: deps.clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(watchRetryMs === undefined ? {} : { retryMs: watchRetryMs }),
  });
  let mcp;
  try {
    mcp = await startMcpHttpHost({
      name: 'feature-flags',
      tokens,
      createServer: (session) => createFeatureFlagMcpServer({ ...serverDeps, history, session }),
      ...(host !== undefined ? { host } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  } catch (err) {
    await watch.stop();
    throw err;
  }
  const served = mcp;
  return {
    url: served.url,
    history,
    async close() {
      await watch.stop();
      await served.close();
    },
  };
}
