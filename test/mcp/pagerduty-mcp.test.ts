// The PagerDuty MCP server over Streamable HTTP, in front of the HTTPS fake of PagerDuty's Events and
// REST APIs (its CA trusted in process): agents page, acknowledge and resolve incidents about their
// own namespaces only, see who is on call and the open incidents of their namespaces, and get coded
// isError results — never exceptions — when PagerDuty refuses, fails or is not configured.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { loadTenants, DEFAULT_TENANTS_FILE } from '../../src/governance/tenants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import type { McpHttpHost } from '../../src/mcp/mcp-http-host.ts';
import { MemoryPagingService } from '../../src/paging/memory-paging.ts';
import { PdjsPagingService } from '../../src/paging/pdjs-paging.ts';
import { startPagerDutyMcpHttp } from '../../mcp-servers/pagerduty/http.ts';
import { PagerDutyRestClient } from '../../mcp-servers/pagerduty/rest-client.ts';
import { createPagerDutyMcpServer } from '../../mcp-servers/pagerduty/server.ts';
import { FAKE_API_TOKEN, FAKE_ROUTING_KEY, startPagerDutyFake, type PagerDutyFake } from '../paging/pagerduty-fake.ts';

const WATCHTOWER = 'watchtower-token-0123456789abcdef';
const INITECH = 'initech-watchtower-token-01234567';
const tenants = loadTenants(DEFAULT_TENANTS_FILE);

let fake: PagerDutyFake;
let host: McpHttpHost;
let acme: McpToolClient;
let initech: McpToolClient;

beforeAll(async () => {
  fake = await startPagerDutyFake();
  host = await startPagerDutyMcpHttp({
    paging: new PdjsPagingService({ routingKey: FAKE_ROUTING_KEY, host: fake.host, caPem: fake.caPem, limits: { timeoutMs: 1_000, retryAfter429Ms: 10 } }),
    reads: new PagerDutyRestClient({ token: FAKE_API_TOKEN, host: fake.host, caPem: fake.caPem, limits: { timeoutMs: 1_000, retryAfter429Ms: 10 } }),
    tenants,
    logger: silentLogger(),
    tokens: new Map([
      [WATCHTOWER, { agent: 'watchtower', namespaces: ['acme-prod'] }],
      [INITECH, { agent: 'watchtower', namespaces: ['initech-prod'] }],
    ]),
  });
  acme = await connectMcp({ url: host.url, token: WATCHTOWER, name: 'watchtower' });
  initech = await connectMcp({ url: host.url, token: INITECH, name: 'watchtower' });
});

afterAll(async () => {
  await acme?.close();
  await initech?.close();
  await host?.close();
  await fake?.close();
});

beforeEach(() => fake.fail(undefined));

const ok = async <T>(client: McpToolClient, tool: string, args: Record<string, unknown>): Promise<T> => {
  const out = await client.callTool<T>(tool, args);
  if (!out.ok) throw new Error(`${tool}: ${out.code}: ${out.message}`);
  return out.data;
};

interface Incidents {
  incidents: { namespace: string; key: string; status: string; title: string; urgency: string | null; url: string | null }[];
  truncated: boolean;
}

/** A client on an in-process session of a server with no REST API configured and pages kept in memory. */
async function inMemorySession(): Promise<{ client: Client; close(): Promise<void> }> {
  const server = createPagerDutyMcpServer({ paging: new MemoryPagingService(), reads: undefined, tenants, session: { agent: 'watchtower', namespaces: ['acme-prod'] } });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  await Promise.all([server.connect(a), client.connect(b)]);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

describe('PagerDuty MCP server: the tool list', () => {
  it('offers typed escalation and read tools with honest annotations, and nothing generic', async () => {
    const { client, close } = await inMemorySession();
    try {
      const tools = Object.fromEntries((await client.listTools()).tools.map((t) => [t.name, t]));
      expect(Object.keys(tools).sort()).toEqual(['acknowledge_incident', 'open_incidents', 'resolve_incident', 'trigger_incident', 'who_is_on_call']);
      expect(tools['trigger_incident']!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true });
      expect(tools['resolve_incident']!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
      expect(tools['who_is_on_call']!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      expect(tools['open_incidents']!.annotations).toMatchObject({ readOnlyHint: true });
      for (const t of Object.values(tools)) {
        expect(t.outputSchema, t.name).toBeDefined();
        expect(t.description!.length, t.name).toBeGreaterThan(60);
      }
    } finally {
      await close();
    }
  });
});

describe('PagerDuty MCP server against the HTTPS fake', () => {
  it('pages about its namespace under <namespace>:<key>, with what Governor vouches for apart from what the agent says', async () => {
    const before = fake.accepted().length;
    const r = await ok<{ dedup_key: string; status: string }>(acme, 'trigger_incident', {
      namespace: 'acme-prod', key: 'inc-42', service: 'checkout', severity: 'critical', summary: 'checkout p99 1.2 s for 20 min; rollback refused by policy',
      links: [{ href: 'https://grafana.example.com/d/checkout', text: 'dashboard' }], details: { tried: ['scale 8 → 12'], governor: 'spoofed' },
    });
    expect(r).toMatchObject({ dedup_key: 'acme-prod:inc-42', status: 'triggered' });
    const [sent] = fake.accepted().slice(before);
    expect(sent!.body).toMatchObject({
      routing_key: FAKE_ROUTING_KEY, event_action: 'trigger', dedup_key: 'acme-prod:inc-42',
      payload: {
        summary: 'checkout p99 1.2 s for 20 min; rollback refused by policy', source: 'acme-prod/checkout', severity: 'critical', component: 'checkout', group: 'acme', class: 'escalation',
        custom_details: { governor: { escalated_by: 'watchtower', namespace: 'acme-prod', tenant: 'acme', key: 'inc-42' }, details: { tried: ['scale 8 → 12'], governor: 'spoofed' } },
      },
      links: [{ href: 'https://grafana.example.com/d/checkout', text: 'dashboard' }],
    });
  });

  it('lists the open incidents of its own namespaces only; acknowledges and resolves them', async () => {
    await ok(acme, 'trigger_incident', { namespace: 'acme-prod', key: 'inc-43', severity: 'warning', summary: 'search p99 creeping up' });
    await ok(initech, 'trigger_incident', { namespace: 'initech-prod', key: 'inc-43', severity: 'error', summary: 'portal errors' });
    const mine = await ok<Incidents>(acme, 'open_incidents', {});
    expect(mine.incidents.map((i) => [i.namespace, i.key, i.status])).toEqual(expect.arrayContaining([['acme-prod', 'inc-43', 'triggered']]));
    expect(mine.incidents.every((i) => i.namespace === 'acme-prod')).toBe(true);
    expect(mine.incidents.find((i) => i.key === 'inc-43')).toMatchObject({ title: 'search p99 creeping up', urgency: 'low', url: expect.stringMatching(/^https:\/\//) });
    expect((await ok<Incidents>(initech, 'open_incidents', {})).incidents.map((i) => [i.namespace, i.key])).toEqual([['initech-prod', 'inc-43']]);

    expect(await ok(acme, 'acknowledge_incident', { namespace: 'acme-prod', key: 'inc-43' })).toMatchObject({ status: 'acknowledged', dedup_key: 'acme-prod:inc-43' });
    expect((await ok<Incidents>(acme, 'open_incidents', { namespace: 'acme-prod' })).incidents.find((i) => i.key === 'inc-43')?.status).toBe('acknowledged');
    expect(await ok(acme, 'resolve_incident', { namespace: 'acme-prod', key: 'inc-43' })).toMatchObject({ status: 'resolved' });
    expect((await ok<Incidents>(acme, 'open_incidents', {})).incidents.find((i) => i.key === 'inc-43')).toBeUndefined();
    // initech's incident with the same key is another incident, untouched.
    expect((await ok<Incidents>(initech, 'open_incidents', {})).incidents).toHaveLength(1);
  });

  it("refuses anything about a namespace outside the session, before PagerDuty hears of it", async () => {
    const before = fake.requests().length;
    for (const [tool, args] of [
      ['trigger_incident', { namespace: 'initech-prod', key: 'x', severity: 'info', summary: 's' }],
      ['acknowledge_incident', { namespace: 'initech-prod', key: 'inc-43' }],
      ['resolve_incident', { namespace: 'initech-prod', key: 'inc-43' }],
      ['open_incidents', { namespace: 'initech-prod' }],
    ] as const) {
      expect(await acme.callTool(tool, args), tool).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    }
    expect(fake.requests().length).toBe(before);
  });

  it('says who is on call, optionally for some escalation policies only', async () => {
    fake.setOnCall([
      { user: { id: 'PU1', name: 'Alice' }, escalation_policy: { id: 'PEP1', name: 'Platform' }, escalation_level: 1, schedule: { id: 'PS1', name: 'Primary' }, start: '2026-11-24T08:00:00Z', end: '2026-11-25T08:00:00Z' },
      { user: { id: 'PU2', name: 'Bob' }, escalation_policy: { id: 'PEP1', name: 'Platform' }, escalation_level: 2 },
      { user: { id: 'PU3', name: 'Carol' }, escalation_policy: { id: 'PEP2', name: 'Payments' }, escalation_level: 1 },
    ]);
    const all = await ok<{ oncalls: { user: { name: string }; escalation_level: number; schedule: unknown; end: string | null }[]; truncated: boolean }>(acme, 'who_is_on_call', {});
    expect(all.oncalls.map((o) => o.user.name)).toEqual(['Alice', 'Bob', 'Carol']);
    expect(all.oncalls[0]).toMatchObject({ escalation_level: 1, schedule: { id: 'PS1', name: 'Primary' }, end: '2026-11-25T08:00:00Z' });
    expect(all.oncalls[1]).toMatchObject({ schedule: null, end: null });
    expect(all.truncated).toBe(false);
    const payments = await ok<{ oncalls: { user: { name: string } }[] }>(acme, 'who_is_on_call', { escalation_policy_ids: ['PEP2'] });
    expect(payments.oncalls.map((o) => o.user.name)).toEqual(['Carol']);
    expect(await acme.callTool('who_is_on_call', { escalation_policy_ids: ['not an id'] })).toMatchObject({ ok: false, code: 'invalid_arguments' });
  });

  it('answers PagerDuty failing with coded, retryable errors, and bad input with invalid_arguments', async () => {
    fake.fail({ status: 500, times: 1 });
    expect(await acme.callTool('trigger_incident', { namespace: 'acme-prod', key: 'down', severity: 'critical', summary: 's' })).toMatchObject({ ok: false, code: 'upstream_unavailable' });
    fake.fail({ hang: true, times: 1 });
    expect(await acme.callTool('who_is_on_call', {})).toMatchObject({ ok: false, code: 'timeout' });
    const raw = await acme.callTool('resolve_incident', { namespace: 'acme-prod', key: 'down' });
    expect(raw.ok).toBe(true);
    expect(await acme.callTool('trigger_incident', { namespace: 'acme-prod', key: 'x', severity: 'critical', summary: 's', links: [{ href: 'http://plain.example.com' }] })).toMatchObject({ ok: false, code: 'invalid_arguments' });
    expect(await acme.callTool('trigger_incident', { namespace: 'acme-prod', key: 'has space', severity: 'critical', summary: 's' })).toMatchObject({ ok: false, code: 'invalid_arguments' });
  });

  it('reports a wrong API token as unauthenticated', async () => {
    const server = await startPagerDutyMcpHttp({
      paging: new MemoryPagingService(),
      reads: new PagerDutyRestClient({ token: 'wrong', host: fake.host, caPem: fake.caPem }),
      tenants,
      tokens: new Map([[WATCHTOWER, { agent: 'watchtower', namespaces: ['acme-prod'] }]]),
    });
    const client = await connectMcp({ url: server.url, token: WATCHTOWER, name: 'watchtower' });
    try {
      const out = await client.callTool('open_incidents', {});
      expect(out).toMatchObject({ ok: false, code: 'unauthenticated' });
      expect(JSON.stringify(out)).not.toContain('wrong');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('refuses the read tools, saying what to set, when no API token is configured', async () => {
    const { client, close } = await inMemorySession();
    try {
      const r = await client.callTool({ name: 'who_is_on_call', arguments: {} });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/upstream_unavailable: .*PAGERDUTY_API_TOKEN/);
      // Paging still works: it went to memory.
      const t = await client.callTool({ name: 'trigger_incident', arguments: { namespace: 'acme-prod', key: 'k', severity: 'info', summary: 's' } });
      expect(t.isError).toBeFalsy();
    } finally {
      await close();
    }
  });
});
