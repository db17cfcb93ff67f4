// The Feature Flag MCP server over stdio, for `governor mcp feature-flags --stdio` (src/mcp/mcp-stdio.ts).
// History tracking starts (list + watch of the session's namespaces' config maps) before the first
// request is served.
import type { Readable, Writable } from 'node:stream';
import type { StdioSession } from '../../src/mcp/mcp-stdio.ts';
import type { ConfigHistory } from '../configmap/config-history.ts';
import { serveWatchedStdio } from '../configmap/watched-serving.ts';
import { createFeatureFlagMcpServer, type FeatureFlagMcpDeps } from './server.ts';

export function runFeatureFlagMcpStdio(
  deps: Omit<FeatureFlagMcpDeps, 'history'> & { history?: ConfigHistory; stdin?: Readable; stdout?: Writable },
): Promise<StdioSession> {
  const { stdin, stdout, history, ...serverDeps } = deps;
  return serveWatchedStdio({
    ...serverDeps, title: 'Feature Flag',
    ...(history ? { history } : {}),
    ...(stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    createServer: (h) => createFeatureFlagMcpServer({ ...serverDeps, history: h }),
  });
}
