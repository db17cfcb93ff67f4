// The stdio entry point (`governor mcp kubernetes --stdio`): newline-delimited JSON-RPC over a pair
// of pipes, the identity given by the launching process. Pipes are in-process here; the framing
// is the SDK's own.
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { runKubernetesMcpStdio } from '../../mcp-servers/kubernetes/stdio.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';

/** The client end of a pipe pair, as StdioClientTransport would be for a spawned process. */
class PipeClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly buffer = new ReadBuffer();
  constructor(private readonly toServer: PassThrough, private readonly fromServer: PassThrough) {}
  async start(): Promise<void> {
    this.fromServer.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      for (let m = this.buffer.readMessage(); m; m = this.buffer.readMessage()) this.onmessage?.(m);
    });
  }
  async send(message: JSONRPCMessage): Promise<void> {
    this.toServer.write(serializeMessage(message));
  }
  async close(): Promise<void> {
    this.toServer.end();
    this.onclose?.();
  }
}

describe('Kubernetes MCP server over stdio', () => {
  let api: KubeApiServer | undefined;
  afterEach(async () => api?.close());

  it('serves the typed tools to the identity it was started with', async () => {
    const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
    api = await startKubeApiServer(buildScenario('jvm-heap-regression', clock).twin, { port: 0 });
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const server = await runKubernetesMcpStdio({
      kube: loadKubeconfig(api.kubeconfig()),
      sharedState: new MemorySharedState(),
      clock,
      grantPublicKeys: new Map(),
      session: { agent: 'watchtower', namespaces: ['acme-prod'] },
      stdin,
      stdout,
    });
    const client = new Client({ name: 'watchtower', version: '0' });
    await client.connect(new PipeClientTransport(stdin, stdout));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('get_pod_metrics');
    const ok = await client.callTool({ name: 'get_rollout_history', arguments: { namespace: 'acme-prod', deployment: 'checkout' } });
    expect(ok.isError).toBeFalsy();
    expect((ok.structuredContent as { current_revision: number }).current_revision).toBe(2);
    const refused = await client.callTool({ name: 'get_rollout_history', arguments: { namespace: 'globex-prod', deployment: 'checkout' } });
    expect(refused.isError).toBe(true);
    expect((refused.content as Array<{ text: string }>)[0]!.text).toMatch(/^tenant_forbidden: /);
    await client.close();
    await server.close();
  });
});
