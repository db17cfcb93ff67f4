// The ConfigMap MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// ConfigMap McpServer per session, bound by the session's bearer token to an agent and its
// namespaces. The config history is per process, shared by every session: it starts tracking (list +
// watch of every namespace any token is bound to) before the first request is served.
import { startMcpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { ConfigHistory } from './config-history.ts';
import { startConfigWatch } from './config-watch.ts';
import { createConfigMapMcpServer, type ConfigMapMcpDeps, type ConfigMapSession } from './server.ts';

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

export interface ConfigMapMcpHttp {
  url: string;
  history: ConfigHistory;
  close(): Promise<void>;
}

export async function startConfigMapMcpHttp(deps: ConfigMapMcpHttpDeps): Promise<ConfigMapMcpHttp> {
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
      name: 'configmap',
      tokens,
      createServer: (session) => createConfigMapMcpServer({ ...serverDeps, history, session }),
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
