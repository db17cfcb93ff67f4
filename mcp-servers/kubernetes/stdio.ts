// The Kubernetes MCP server over stdio, for `governor mcp kubernetes --stdio` (src/mcp/mcp-stdio.ts).
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { createKubernetesMcpServer, type KubernetesMcpDeps } from './server.ts';

export async function runKubernetesMcpStdio(deps: KubernetesMcpDeps & { stdin?: Readable; stdout?: Writable }): Promise<StdioSession> {
  const { stdin, stdout, ...serverDeps } = deps;
  const session = await serveStdio(createKubernetesMcpServer(serverDeps), { ...(stdin ? { stdin } : {}), ...(stdout ? { stdout } : {}) });
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, 'Kubernetes MCP server on stdio');
  return session;
}
