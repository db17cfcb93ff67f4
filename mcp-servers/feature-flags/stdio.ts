// The Feature Flag MCP server over stdio, for `governor mcp feature-flags --stdio` (src/mcp/mcp-stdio.ts).
// History tracking starts (list + watch of the session's namespaces' config maps) before the first
// request is served.
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { ConfigHistory } from '../configmap/config-history.ts';
import { startConfigWatch } from '../configmap/config-watch.ts';
import { createFeatureFlagMcpServer, type FeatureFlagMcpDeps } from './server.ts';

export async function runFeatureFlagMcpStdio(
  deps: Omit<FeatureFlagMcpDeps, 'history'> & { history?: ConfigHistory; stdin?: Readable; stdout?: Writable },
): Promise<StdioSession> {
  const { stdin, stdout, history = new ConfigHistory(), ...serverDeps } = deps;
  const watch = await startConfigWatch({
    kube: deps.kube,
    namespaces: deps.session.namespaces,
    history,
    clock: deps.clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const session = await serveStdio(createFeatureFlagMcpServer({ ...serverDeps, history }), {
    ...(stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    onClose: () => watch.stop(),
  });
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, 'Feature Flag MCP server on stdio');
  return session;
}
