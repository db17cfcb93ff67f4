// The OPA MCP server (mcp-servers/opa) over Streamable HTTP and over stdio, with the real engine: the
// committed bundle compiled by opa to Wasm, the one the gateway decides with. A policy input gives the
// DESIGN §5 decision; a malformed one is refused with every problem named; an input for another
// tenant is refused before it is evaluated; explain says the decision layer by layer; list_policies
// names the layers, files, rules and the bundle's identity.
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { readBundleCatalog } from '../../src/policy/bundle-catalog.ts';
import { startOpaMcpHttp } from '../../mcp-servers/opa/http.ts';
import { runOpaMcpStdio } from '../../mcp-servers/opa/stdio.ts';
import { cachedCatalog } from '../../mcp-servers/opa/server.ts';
import type { McpHttpHost } from '../../src/mcp/mcp-http-host.ts';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../policies/fixtures/${name}.json`, import.meta.url), 'utf8')).input as Record<string, any>;

let engine: WasmPolicyEngine;
let host: McpHttpHost;
let acme: McpToolClient;

beforeAll(async () => {
  engine = await WasmPolicyEngine.fromBundle();
  host = await startOpaMcpHttp({
    policy: engine,
    catalog: cachedCatalog(engine, () => readBundleCatalog()),
    tokens: new Map([['acme-arbitrator-token', { agent: 'arbitrator', namespaces: ['acme-prod'], tenants: ['acme'] }]]),
  });
  acme = await connectMcp({ url: host.url, token: 'acme-arbitrator-token', name: 'arbitrator' });
});

afterAll(async () => {
  await acme?.close();
  await host?.close();
});

describe('OPA MCP server', () => {
  it('evaluate gives the decision the engine gives, for each fixture verdict', async () => {
    for (const name of ['design-example-allow', 'safety-scale-up-4x', 'autonomy-level-2-within-limits']) {
      const input = fixture(name);
      const out = await acme.callTool<{ verdict: string; violations: unknown[]; policy_version: string }>('evaluate', { input });
      expect(out.ok).toBe(true);
      if (!out.ok) continue;
      expect(out.data).toEqual(await engine.evaluate(input as never));
      expect(out.data.policy_version).toBe(engine.version);
    }
  });

  it('refuses a malformed input and names every problem', async () => {
    const input = fixture('design-example-allow');
    delete input['proposal'].namespace;
    input['proposal'].action = 'reboot_cluster';
    input['context'].agent_level = 7;
    const out = await acme.callTool('evaluate', { input });
    expect(out).toMatchObject({ ok: false, code: 'policy_invalid' });
    if (out.ok) return;
    for (const field of ['proposal.namespace', 'proposal.action', 'context.agent_level']) expect(out.message).toContain(field);
    expect(out.message).toContain('3 problems');
  });

  it("refuses an input for a tenant or namespace outside the session's", async () => {
    const other = fixture('design-example-allow');
    other['proposal'].tenant = 'globex';
    expect(await acme.callTool('evaluate', { input: other })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    const ns = fixture('design-example-allow');
    ns['proposal'].namespace = 'globex-prod';
    expect(await acme.callTool('explain', { input: ns })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
  });

  it('explain says which layers allowed, asked for approval or denied, and why', async () => {
    const out = await acme.callTool<{ verdict: string; summary: string; text: string; layers: { layer: string; outcome: string; reasons: { rule: string; verdict: string }[] }[] }>(
      'explain',
      { input: fixture('safety-scale-up-4x') },
    );
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.data.verdict).toBe('deny');
    const safety = out.data.layers.find((l) => l.layer === 'safety')!;
    expect(safety.outcome).toBe('deny');
    expect(safety.reasons).toContainEqual(expect.objectContaining({ rule: 'max_scale_up_factor', verdict: 'deny' }));
    expect(out.data.layers.find((l) => l.layer === 'cost')!.outcome).toBe('allowed');
    expect(out.data.summary).toMatch(/^Denied: scale_deployment of Deployment checkout/);
    expect(out.data.text).toContain('Safety (hard limits): DENIES');

    const supervised = await acme.callTool<{ verdict: string; summary: string; layers: { layer: string; outcome: string }[] }>('explain', { input: fixture('autonomy-level-2-within-limits') });
    expect(supervised.ok && supervised.data.verdict).toBe('require_approval');
    if (!supervised.ok) return;
    expect(supervised.data.summary).toMatch(/^Needs a human approval/);
    expect(supervised.data.layers.find((l) => l.layer === 'autonomy')!.outcome).toBe('require_approval');
    expect(supervised.data.layers.find((l) => l.layer === 'safety')!.outcome).toBe('allowed');
  });

  it('list_policies names the layers, files, rules and the bundle identity', async () => {
    const out = await acme.callTool<{
      policy_version: string; bundle_file_version: string; bundle_sha256: string; opa_version: string | null; entrypoints: string[];
      layers: { layer: string; files: string[]; rules: { rule: string; verdicts: string[] }[] }[]; files: { path: string }[];
    }>('list_policies', {});
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.data.policy_version).toBe(engine.version);
    expect(out.data.bundle_file_version).toBe(engine.version);
    expect(out.data.bundle_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(out.data.opa_version).toBe('1.22.2');
    expect(out.data.entrypoints).toEqual(['governor/decision/decision']);
    expect(out.data.layers.map((l) => l.layer)).toEqual(['safety', 'sla', 'operational', 'cost', 'autonomy', 'blast_radius']);
    expect(out.data.layers[0]!.files).toEqual(['policies/safety/safety.rego']);
    expect(out.data.layers[0]!.rules).toContainEqual({ rule: 'max_scale_up_factor', verdicts: ['deny'] });
    expect(out.data.files.map((f) => f.path)).toContain('policies/governor/decision.rego');
    expect(out.data.files.some((f) => f.path.endsWith('_test.rego'))).toBe(false);
  });

  it('every tool is read-only, with an output schema', async () => {
    const client = new Client({ name: 't', version: '0' });
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const session = await runOpaMcpStdio({ policy: engine, catalog: () => readBundleCatalog(), session: { agent: 'arbitrator', namespaces: ['acme-prod'], tenants: ['acme'] }, stdin, stdout });
    await client.connect(new PipeClientTransport(stdin, stdout));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['evaluate', 'explain', 'list_policies']);
    for (const t of tools) {
      expect(t.annotations?.readOnlyHint).toBe(true);
      expect(t.outputSchema).toBeDefined();
    }
    // Over stdio too: structured content beside the text.
    const res = await client.callTool({ name: 'evaluate', arguments: { input: fixture('design-example-allow') } });
    expect(res.structuredContent).toMatchObject({ verdict: 'allow', violations: [] });
    expect(JSON.parse((res.content as { text: string }[])[0]!.text)).toEqual(res.structuredContent);
    await client.close();
    await session.close();
  });
});

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
