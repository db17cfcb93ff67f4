// Serving an MCP server that reads config maps through a history (the ConfigMap server, and the
// Feature Flag server, whose flag files live in config maps): the history starts tracking (list +
// watch of every namespace the sessions may touch) before the first request is served, and the watch
// stops with the server. Over Streamable HTTP (one server per session, bound by its bearer token) or
// over stdio (one session, the launcher's identity).
import type { Readable, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import { startMcpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { ConfigHistory } from './config-history.ts';
import { startConfigWatch } from './config-watch.ts';

interface WatchedDeps {
  kube: KubeConfig;
  clock: Clock;
  logger?: Logger;
  /** A history to feed and serve; default: a new one. */
  history?: ConfigHistory;
  /** Real-time backoff of a failed watch (default 1 s). */
  watchRetryMs?: number;
}

export interface WatchedMcpHttp {
  url: string;
  history: ConfigHistory;
  close(): Promise<void>;
}

export async function serveWatchedHttp<S extends { agent: string; namespaces: readonly string[] }>(
  deps: WatchedDeps & {
    name: string;
    tokens: ReadonlyMap<string, S>;
    host?: string;
    port?: number;
    createServer: (session: S, history: ConfigHistory) => McpServer;
  },
): Promise<WatchedMcpHttp> {
  const history = deps.history ?? new ConfigHistory();
  const namespaces = [...new Set([...deps.tokens.values()].flatMap((t) => t.namespaces))].sort();
  const watch = await startConfigWatch({
    kube: deps.kube,
    namespaces,
    history,
    clock: deps.clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.watchRetryMs === undefined ? {} : { retryMs: deps.watchRetryMs }),
  });
  let served;
  try {
    served = await startMcpHttpHost({
      name: deps.name,
      tokens: deps.tokens,
      createServer: (session) => deps.createServer(session, history),
      ...(deps.host !== undefined ? { host: deps.host } : {}),
      ...(deps.port !== undefined ? { port: deps.port } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  } catch (err) {
    await watch.stop();
    throw err;
  }
  const host = served;
  return {
    url: host.url,
    history,
    async close() {
      await watch.stop();
      await host.close();
    },
  };
}

export async function serveWatchedStdio(
  deps: WatchedDeps & {
    title: string;
    session: { agent: string; namespaces: readonly string[] };
    createServer: (history: ConfigHistory) => McpServer;
    stdin?: Readable;
    stdout?: Writable;
  },
): Promise<StdioSession> {
  const history = deps.history ?? new ConfigHistory();
  const watch = await startConfigWatch({
    kube: deps.kube,
    namespaces: deps.session.namespaces,
    history,
    clock: deps.clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const session = await serveStdio(deps.createServer(history), {
    ...(deps.stdin ? { stdin: deps.stdin } : {}),
    ...(deps.stdout ? { stdout: deps.stdout } : {}),
    onClose: () => watch.stop(),
  });
  deps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, `${deps.title} MCP server on stdio`);
  return session;
}
