// `governor mcp pagerduty --stdio` as its own process: configured only through PAGERDUTY_* (no
// cluster, no grant key), it pages through the Events API and reads the REST API of the HTTPS fake,
// trusting the fake's CA through NODE_EXTRA_CA_CERTS — the production path, not an injected CA.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_API_TOKEN, FAKE_ROUTING_KEY, startPagerDutyFake, type PagerDutyFake } from '../paging/pagerduty-fake.ts';

const BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;
let fake: PagerDutyFake;
let dir: string;

beforeAll(async () => {
  fake = await startPagerDutyFake();
  dir = await mkdtemp(join(tmpdir(), 'governor-pd-mcp-'));
  await writeFile(join(dir, 'ca.pem'), fake.caPem);
});

afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('governor mcp pagerduty --stdio', () => {
  it('pages, lists and says who is on call through PagerDuty, trusting its CA through NODE_EXTRA_CA_CERTS', async () => {
    fake.setOnCall([{ user: { id: 'PU1', name: 'Alice' }, escalation_policy: { id: 'PEP1', name: 'Platform' }, escalation_level: 1 }]);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'pagerduty', '--stdio', '--agent', 'watchtower', '--namespaces', 'acme-prod'],
      env: {
        PATH: process.env['PATH']!,
        HOME: process.env['HOME']!,
        LOG_LEVEL: 'warn',
        PAGERDUTY_ROUTING_KEY: FAKE_ROUTING_KEY,
        PAGERDUTY_EVENTS_HOST: fake.host,
        PAGERDUTY_API_TOKEN: FAKE_API_TOKEN,
        PAGERDUTY_API_HOST: fake.host,
        NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const t = await client.callTool({ name: 'trigger_incident', arguments: { namespace: 'acme-prod', key: 'inc-1', service: 'checkout', severity: 'critical', summary: 'checkout down' } });
      expect(t.isError).toBeFalsy();
      expect(fake.accepted().map((e) => [e.event_action, e.dedup_key])).toEqual([['trigger', 'acme-prod:inc-1']]);
      const open = await client.callTool({ name: 'open_incidents', arguments: {} });
      expect((open.structuredContent as { incidents: { key: string }[] }).incidents.map((i) => i.key)).toEqual(['inc-1']);
      const who = await client.callTool({ name: 'who_is_on_call', arguments: {} });
      expect((who.structuredContent as { oncalls: { user: { name: string } }[] }).oncalls.map((o) => o.user.name)).toEqual(['Alice']);
      const other = await client.callTool({ name: 'resolve_incident', arguments: { namespace: 'globex-prod', key: 'inc-1' } });
      expect(other.isError).toBe(true);
      expect(JSON.stringify(other.content)).toMatch(/tenant_forbidden/);
      expect(fake.unexpected()).toEqual([]);
    } finally {
      await client.close();
    }
  }, 60_000);
});
