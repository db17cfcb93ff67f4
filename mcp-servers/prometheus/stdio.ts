// The Prometheus MCP server over stdio, for `governor mcp prometheus --stdio` (src/mcp/mcp-stdio.ts).
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/logger.ts';
import { PromClient } from './prom-client.ts';
import { createPrometheusMcpServer, type PrometheusSession } from './server.ts';
import type { SignalQueries } from './signals.ts';

export async function runPrometheusMcpStdio(deps: {
  prometheusUrl: string;
  clock: Clock;
  session: PrometheusSession;
  signals?: SignalQueries;
  logger?: Logger;
  stdin?: Readable;
  stdout?: Writable;
}): Promise<StdioSession> {
  const prom = new PromClient({ baseUrl: deps.prometheusUrl });
  const session = await serveStdio(createPrometheusMcpServer({ prom, clock: deps.clock, session: deps.session, ...(deps.signals ? { signals: deps.signals } : {}), ...(deps.logger ? { logger: deps.logger } : {}) }), {
    ...(deps.stdin ? { stdin: deps.stdin } : {}),
    ...(deps.stdout ? { stdout: deps.stdout } : {}),
  });
  deps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces, prometheus: prom.url }, 'Prometheus MCP server on stdio');
  return session;
}
