// `governor mcp opa --stdio` and `governor mcp cloud --stdio` as their own processes: the policy
// engine over the committed bundle, confined to the tenants of the namespaces the launcher gives;
// the node groups of config/node-groups.json (held in memory on their own), read-only without a grant.
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;
const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'warn' };
const fixture = JSON.parse(readFileSync(new URL('../../policies/fixtures/design-example-allow.json', import.meta.url), 'utf8')).input;

async function connect(args: string[]): Promise<Client> {
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], env, stderr: 'pipe' }));
  return client;
}

describe('governor mcp opa --stdio', () => {
  it('evaluates an input of its tenant, refuses another tenant\'s, and lists the bundle', async () => {
    const client = await connect(['opa', '--stdio', '--agent', 'arbitrator', '--namespaces', 'acme-prod']);
    try {
      const ok = await client.callTool({ name: 'evaluate', arguments: { input: fixture } });
      expect(ok.structuredContent).toMatchObject({ verdict: 'allow', violations: [] });
      const other = await client.callTool({ name: 'evaluate', arguments: { input: { ...fixture, proposal: { ...fixture.proposal, tenant: 'globex', namespace: 'globex-prod' } } } });
      expect(other.isError).toBe(true);
      expect(JSON.stringify(other.content)).toMatch(/tenant_forbidden/);
      const list = await client.callTool({ name: 'list_policies', arguments: {} });
      expect(list.structuredContent).toMatchObject({ opa_version: '1.22.2', entrypoints: ['governor/decision/decision'] });
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('governor mcp cloud --stdio', () => {
  it('lists the configured node groups and refuses a scale without a grant', async () => {
    const client = await connect(['cloud', '--stdio', '--agent', 'elastik', '--namespaces', 'acme-prod']);
    try {
      const list = await client.callTool({ name: 'list_node_groups', arguments: { node_group: 'apps' } });
      expect(list.structuredContent).toMatchObject({ provider: 'memory', groups: [{ name: 'apps', current_nodes: 2, min_nodes: 2, max_nodes: 5, max_step: 1 }] });
      const refused = await client.callTool({ name: 'scale_node_group', arguments: { node_group: 'apps', from_nodes: 2, to_nodes: 3, grant: {} } });
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toMatch(/grant_invalid/);
    } finally {
      await client.close();
    }
  }, 60_000);
});
