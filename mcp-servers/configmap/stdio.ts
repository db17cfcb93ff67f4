// The ConfigMap MCP server over stdio, for `governor mcp configmap --stdio`: one process, one
// session, whose identity the launching process vouches for (there is no token on a pipe). History
// tracking starts (list + watch of the session's namespaces) before the first request is served.
// stdout belongs to the protocol: this module must never write anything else there (logs go to stderr).
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ConfigHistory } from './config-history.ts';
import { startConfigWatch } from './config-watch.ts';
import { createConfigMapMcpServer, type ConfigMapMcpDeps } from './server.ts';

export async function runConfigMapMcpStdio(
  deps: Omit<ConfigMapMcpDeps, 'history'> & { history?: ConfigHistory; stdin?: Readable; stdout?: Writable },
): Promise<{ close(): Promise<void>; closed: Promise<void> }> {
  const { stdin, stdout, history = new ConfigHistory(), ...serverDeps } = deps;
  const watch = await startConfigWatch({
    kube: deps.kube,
    namespaces: deps.session.namespaces,
    history,
    clock: deps.clock,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  const server = createConfigMapMcpServer({ ...serverDeps, history });
  const transport = new StdioServerTransport(stdin, stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => {
      void watch.stop();
      resolve();
    };
  });
  await server.connect(transport);
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, 'ConfigMap MCP server on stdio');
  return {
    async close() {
      await watch.stop();
      await server.close();
    },
    closed,
  };
}
