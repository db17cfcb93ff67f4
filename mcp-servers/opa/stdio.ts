// The OPA MCP server over stdio, for `governor mcp opa --stdio` (src/mcp/mcp-stdio.ts): the policy
// engine and the catalog of its bundle, for one session whose identity the launching process vouches for.
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { createOpaMcpServer, type OpaMcpDeps } from './server.ts';

export async function runOpaMcpStdio(deps: OpaMcpDeps & { stdin?: Readable; stdout?: Writable }): Promise<StdioSession> {
  const { stdin, stdout, ...serverDeps } = deps;
  const session = await serveStdio(createOpaMcpServer(serverDeps), { ...(stdin ? { stdin } : {}), ...(stdout ? { stdout } : {}) });
  deps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces, policy_version: deps.policy.version }, 'OPA MCP server on stdio');
  return session;
}
