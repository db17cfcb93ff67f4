// The FinOps MCP server over stdio, for `governor mcp finops --stdio` (src/mcp/mcp-stdio.ts), with
// its own UsageSampler over the session's namespaces, started before the first request is served.
import type { Readable, Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { ClusterUsageReader } from './cluster-usage.ts';
import { createFinopsMcpServer, type FinopsMcpDeps } from './server.ts';
import { UsageSampler } from './usage-sampler.ts';

export async function runFinopsMcpStdio(
  deps: Omit<FinopsMcpDeps, 'reader' | 'sampler'> & { kube: KubeConfig; sampleIntervalMs?: number; stdin?: Readable; stdout?: Writable },
): Promise<StdioSession> {
  const { stdin, stdout, kube, sampleIntervalMs, ...serverDeps } = deps;
  const reader = new ClusterUsageReader(kube);
  const sampler = new UsageSampler({
    reader,
    clock: deps.clock,
    namespaces: deps.session.namespaces,
    ...(sampleIntervalMs !== undefined ? { intervalMs: sampleIntervalMs } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
  sampler.start();
  const session = await serveStdio(createFinopsMcpServer({ ...serverDeps, reader, sampler }), {
    ...(stdin ? { stdin } : {}),
    ...(stdout ? { stdout } : {}),
    onClose: async () => {
      sampler.stop();
      await sampler.idle();
    },
  });
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces }, 'FinOps MCP server on stdio');
  return session;
}
