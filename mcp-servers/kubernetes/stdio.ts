// The Kubernetes MCP server over stdio, for `governor mcp kubernetes --stdio`: one process, one
// session, whose identity the launching process vouches for (there is no token on a pipe). stdout
// belongs to the protocol: this module must never write anything else there (logs go to stderr).
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createKubernetesMcpServer, type KubernetesMcpDeps } from './server.ts';

export async function runKubernetesMcpStdio(
  deps: KubernetesMcpDeps & { stdin?: Readable; stdout?: Writable },
): Promise<{ close(): Promise<void>; closed: Promise<void> }> {
  const { stdin, stdout, ...serverDeps } = deps;
  const server = createKubernetesMcpServer(serverDeps);
  const transport = new StdioServerTransport(stdin, stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  await server.connect(transport);
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, 'Kubernetes MCP server on stdio');
  return { close: () => server.close(), closed };
}
