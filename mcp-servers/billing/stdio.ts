// The Billing MCP server over stdio, for `governor mcp billing --stdio` (src/mcp/mcp-stdio.ts).
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { createBillingMcpServer, type BillingMcpDeps } from './server.ts';

export async function runBillingMcpStdio(deps: BillingMcpDeps & { stdin?: Readable; stdout?: Writable }): Promise<StdioSession> {
  const { stdin, stdout, ...serverDeps } = deps;
  const session = await serveStdio(createBillingMcpServer(serverDeps), { ...(stdin ? { stdin } : {}), ...(stdout ? { stdout } : {}) });
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, 'Billing MCP server on stdio');
  return session;
}
