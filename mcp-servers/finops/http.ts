// The FinOps MCP server over Streamable HTTP, with its one UsageSampler: the shared host
// (src/mcp/mcp-http-host.ts) with one FinOps McpServer per session, bound by the session's bearer
// token to an agent and its namespaces. The sampler watches the union of the tokens' namespaces and
// nothing else.
import type { KubeConfig } from '@kubernetes/client-node';
import { startMcpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { ClusterUsageReader } from './cluster-usage.ts';
import { createFinopsMcpServer, type FinopsMcpDeps, type FinopsSession } from './server.ts';
import { UsageSampler, type WorkCounter } from './usage-sampler.ts';

export { MCP_PATH } from '../../src/mcp/mcp-http-host.ts';
const MAX_BODY_BYTES = 1024 * 1024;

export type FinopsMcpHttpDeps = Omit<FinopsMcpDeps, 'session' | 'reader' | 'sampler'> & {
  kube: KubeConfig;
  host?: string;
  port?: number;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, FinopsSession>;
  /** How often metrics.k8s.io is sampled (default 30 s) and how long samples are kept (default 24 h). */
  sampleIntervalMs?: number;
  retentionMs?: number;
  /** Counts samples in flight, so that a virtual-time driver waits for them. */
  tracker?: WorkCounter;
};

export interface FinopsMcpHttp {
  url: string;
  sampler: UsageSampler;
  close(): Promise<void>;
}

export async function startFinopsMcpHttp(deps: FinopsMcpHttpDeps): Promise<FinopsMcpHttp> {
  const { tokens, host, port, kube, sampleIntervalMs, retentionMs, tracker, ...serverDeps } = deps;
  const reader = new ClusterUsageReader(kube);
  const sampler = new UsageSampler({
    reader,
    clock: deps.clock,
    namespaces: [...tokens.values()].flatMap((t) => t.namespaces),
    ...(sampleIntervalMs !== undefined ? { intervalMs: sampleIntervalMs } : {}),
    ...(retentionMs !== undefined ? { retentionMs } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(tracker ? { tracker } : {}),
  });
  const mcp = await startMcpHttpHost({
    name: 'finops',
    tokens,
    createServer: (session) => createFinopsMcpServer({ ...serverDeps, reader, sampler, session }),
    ...(host !== undefined ? { host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    maxBodyBytes: MAX_BODY_BYTES,
  });
  sampler.start();

  return {
    url: mcp.url,
    sampler,
    async close() {
      sampler.stop();
      await sampler.idle();
      await mcp.close();
    },
  };
}
