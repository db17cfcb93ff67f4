// The ConfigMap MCP server over stdio, for `governor mcp configmap --stdio` (src/mcp/mcp-stdio.ts).
// History tracking starts (list + watch of the session's namespaces) before the first request is served.
import type { Readable, Writable } from 'node:stream';
import type { StdioSession } from '../../src/mcp/mcp-stdio.ts';
import type { ConfigHistory } from './config-history.ts';
import { createConfigMapMcpServer, type ConfigMapMcpDeps } from './server.ts';
import { serveWatchedStdio } from './watched-serving.ts';

export function runConfigMapMcpStdio(
  deps: Omit<ConfigMapMcpDeps, 'history'> & { history?: ConfigHistory; stdin?: Readable; stdout?: Writable },
): Promise<StdioSession> {
  const { stdin, stdout, history, ...serverDeps } = deps;
  return serveWatchedStdio({
    ...serverDeps, title: 'ConfigMap',
    ...(history ? { history } : {}),
    ...(stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    createServer: (h) => createConfigMapMcpServer({ ...serverDeps, history: h }),
  });
}
