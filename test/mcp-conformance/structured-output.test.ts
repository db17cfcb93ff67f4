// Every tool of every server (servers.ts) declares an output schema, and a read call returns
// structured content that validates against it beside its text; a call about another tenant is an
// `isError` result with text and no structured content. Each server runs as any MCP client starts it:
// `governor mcp NAME --stdio`, in its own process, against the sandbox.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_SERVERS } from '../../commands/mcp.ts';
import { MCP_SERVER_ENTRIES, startSandbox, stdioCommand, type Sandbox } from './servers.ts';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => sandbox?.close());

it('lists every server `governor mcp` serves, so that each one is held to these checks', () => {
  const listed = MCP_SERVER_ENTRIES.map((e) => e.name);
  expect(MCP_SERVERS.filter((n) => !listed.includes(n)), 'servers `governor mcp` serves without an entry in test/mcp-conformance/servers.ts').toEqual([]);
  expect(listed.filter((n) => !(MCP_SERVERS as readonly string[]).includes(n)), 'entries of servers.ts that `governor mcp` does not serve').toEqual([]);
});

describe.each(MCP_SERVER_ENTRIES.map((e) => [e.name, e] as const))('%s over stdio', (_name, entry) => {
  it('declares an output schema on every tool and returns structured content that validates against it', async () => {
    const client = new Client({ name: 'structured-output-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ ...stdioCommand(entry), env: sandbox.envFor(entry), stderr: 'pipe' }));
    try {
      const { tools } = await client.listTools();
      expect(tools.length).toBeGreaterThan(0);
      const missing = tools.filter((t) => t.outputSchema?.type !== 'object').map((t) => t.name);
      expect(missing, 'tools without an object output schema').toEqual([]);

      const read = await client.callTool({ name: entry.read.tool, arguments: entry.read.args });
      expect(read.isError, JSON.stringify(read.content)).toBeFalsy();
      const tool = tools.find((t) => t.name === entry.read.tool) as Tool;
      expect(tool.annotations?.readOnlyHint).toBe(true);
      const check = new AjvJsonSchemaValidator().getValidator(tool.outputSchema as object)(read.structuredContent);
      expect(check.errorMessage).toBeUndefined();
      expect(check.valid).toBe(true);
      // The text beside it says the same, for clients that read text only.
      const text = (read.content as { type: string; text?: string }[]).find((c) => c.type === 'text')?.text;
      expect(JSON.parse(text ?? 'null')).toEqual(read.structuredContent);

      if ('none' in entry.crossTenant) return;
      const refused = await client.callTool({ name: entry.crossTenant.tool, arguments: entry.crossTenant.args });
      expect(refused.isError).toBe(true);
      expect(refused.structuredContent).toBeUndefined();
      expect((refused.content as { text: string }[])[0]!.text).toMatch(/^tenant_forbidden: /);
    } finally {
      await client.close();
    }
  }, 60_000);
});
