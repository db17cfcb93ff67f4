// The Prometheus MCP server over Streamable HTTP: the shared host (src/mcp/mcp-http-host.ts) with one
// server per session, bound by the session's bearer token to an agent and its tenants' namespaces.
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import { startMcpHttpHost, type McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { PromClient } from './prom-client.ts';
import { createPrometheusMcpServer, type PrometheusSession } from './server.ts';
import type { SignalQueries } from './signals.ts';

export interface PrometheusMcpHttpDeps {
  /** PROMETHEUS_URL, or the twin's query API in the sandbox. */
  prometheusUrl: string;
  clock: Clock;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, PrometheusSession>;
  host?: string;
  port?: number;
  timeoutMs?: number;
  /** The PromQL of each signal (config/signals.json). */
  signals?: SignalQueries;
  logger?: Logger;
}

export async function startPrometheusMcpHttp(deps: PrometheusMcpHttpDeps): Promise<McpHttpHost> {
  const prom = new PromClient({ baseUrl: deps.prometheusUrl, ...(deps.timeoutMs !== undefined ? { timeoutMs: deps.timeoutMs } : {}) });
  return startMcpHttpHost({
    name: 'prometheus',
    tokens: deps.tokens,
    createServer: (session) => createPrometheusMcpServer({ prom, clock: deps.clock, session, ...(deps.signals ? { signals: deps.signals } : {}), ...(deps.logger ? { logger: deps.logger } : {}) }),
    ...(deps.host !== undefined ? { host: deps.host } : {}),
    ...(deps.port !== undefined ? { port: deps.port } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    maxBodyBytes: 64 * 1024,
  });
}
