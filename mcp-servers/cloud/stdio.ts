// The Cloud Provider MCP server over stdio, for `governor mcp cloud --stdio` (src/mcp/mcp-stdio.ts).
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { createCloudMcpServer, type CloudMcpDeps } from './server.ts';

export async function runCloudMcpStdio(deps: CloudMcpDeps & { stdin?: Readable; stdout?: Writable }): Promise<StdioSession> {
  const { stdin, stdout, ...serverDeps } = deps;
  const session = await serveStdio(createCloudMcpServer(serverDeps), { ...(stdin ? { stdin } : {}), ...(stdout ? { stdout } : {}) });
  deps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces, provider: deps.provider.kind }, 'Cloud Provider MCP server on stdio');
  return session;
}
