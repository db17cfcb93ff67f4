// The ConfigMap MCP server over stdio, for `governor mcp configmap --stdio` (src/mcp/mcp-stdio.ts).
// History tracking starts (list + watch of the session's namespaces) before the first request is served.
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { ConfigHistory } from './config-history.ts';
import { startConfigWatch } from './config-watch.ts';
import { createConfigMapMcpServer, type ConfigMapMcpDeps } from './server.ts';

export async function runConfigMapMcpStdio(
  deps: Omit<ConfigMapMcpDeps, 'history'> & { history?: ConfigHistory; stdin?: Readable; stdout?: Writable },
): Promise<StdioSession> {
  const { stdin, stdout, history = new ConfigHistory(), ...serverDeps } = deps;
  const watch = await startConfigWatch({
    kube: deps.kube,
    namespaces: deps.session.namespaces,
    history,
    clock: deps.clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const session = await serveStdio(createConfigMapMcpServer({ ...serverDeps, history }), {
    ...(stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    onClose: () => watch.stop(),
  });
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, 'ConfigMap MCP server on stdio');
  return session;
}
