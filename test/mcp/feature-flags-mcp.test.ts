// The Feature Flag MCP server against the cluster twin served as a Kubernetes API, over real
// Streamable HTTP with the real MCP client (and once over stdio): the flags of a namespace with what
// they serve, a malformed flag file reported and never rewritten, tenant isolation, the grant checks
// of set_flag, its precondition, the history it keeps from its watch, and rollback_flag. Cluster state
// is checked on the twin itself, never through the server under test.
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { FLAGS_KEY, parseFlagFile } from '../../mcp-servers/feature-flags/flag-file.ts';
import { runFeatureFlagMcpStdio } from '../../mcp-servers/feature-flags/stdio.ts';
import { GLOBEX_TOKEN, NS, OTHER_NS, START, startFlagTwin, type FlagTwin } from '../configurer/flag-twin.ts';
import { REPLAYED_META_KEY } from '../../mcp-servers/shared/grant-ledger.ts';

let t: FlagTwin;
beforeEach(async () => {
  t = await startFlagTwin();
});
afterEach(async () => {
  await t.close();
});

const OFF = { state: 'ENABLED', default_variant: 'off' } as const;
const ON = { state: 'ENABLED', default_variant: 'on' } as const;

describe('the tool list', () => {
  it('offers typed read and write tools, each with an output schema and honest annotations', async () => {
    const client = new Client({ name: 't', version: '0' });
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    await client.connect(new StreamableHTTPClientTransport(new URL(t.mcp.url), { requestInit: { headers: { authorization: 'Bearer configurer-flags-token-0123456789' } } }));
    try {
      const tools = Object.fromEntries((await client.listTools()).tools.map((x) => [x.name, x]));
      expect(Object.keys(tools).sort()).toEqual(['get_flag', 'get_flag_history', 'list_flags', 'rollback_flag', 'set_flag']);
      for (const x of Object.values(tools)) {
        expect(x.outputSchema?.type, x.name).toBe('object');
        expect(x.description!.length, x.name).toBeGreaterThan(60);
      }
      expect(tools['set_flag']!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: false });
      expect(tools['get_flag']!.annotations).toMatchObject({ readOnlyHint: true });
      // structuredContent beside the text, for every answer that is not an error.
      const out = await client.callTool({ name: 'get_flag', arguments: { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing' } });
      expect(out.structuredContent).toMatchObject({ state: 'ENABLED', default_variant: 'off', served_value: false });
      expect(JSON.parse((out.content as Array<{ text: string }>)[0]!.text)).toEqual(out.structuredContent);
    } finally {
      await client.close();
    }
  });
});

describe('reads', () => {
  it('list_flags: every flag file of the namespace with what each flag serves; a malformed file listed with its error', async () => {
    const out = await t.flags.callTool<{ flag_sets: Array<Record<string, unknown>> }>('list_flags', { namespace: NS });
    if (!out.ok) throw new Error(out.message);
    const [broken, orders] = out.data.flag_sets;
    expect(out.data.flag_sets.map((s) => s['config_map'])).toEqual(['broken-flags', 'orders-flags']);
    expect(broken).toMatchObject({ flags: [], error: expect.stringMatching(/config map acme-prod\/broken-flags key flags\.flagd\.json is not a valid flagd flag definition: not JSON/) });
    expect(orders).toMatchObject({
      referenced_by: ['orders'],
      error: null,
      flags: [
        { flag: 'dynamic-pricing', state: 'ENABLED', default_variant: 'off', served_value: false, variants: ['on', 'off'], targeting: false, last_changed_at: null },
        { flag: 'search-backend', default_variant: 'solr', served_value: 'solr', targeting: true },
      ],
    });
    expect(await t.flags.callTool('list_flags', { namespace: NS, deployment: 'web' })).toMatchObject({ ok: true, data: { flag_sets: [] } });
    expect(await t.flags.callTool('list_flags', { namespace: NS, deployment: 'nope' })).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('get_flag: the whole definition; a malformed file is a clear input_invalid error, an unknown flag not_found', async () => {
    const out = await t.flags.callTool('get_flag', { namespace: NS, config_map: 'orders-flags', flag: 'search-backend' });
    expect(out).toMatchObject({ ok: true, data: { definition: { variants: { solr: 'solr', opensearch: 'opensearch' }, targeting: { if: expect.any(Array) } }, referenced_by: ['orders'] } });
    const broken = await t.flags.callTool('get_flag', { namespace: NS, config_map: 'broken-flags', flag: 'beta' });
    expect(broken).toMatchObject({ ok: false, code: 'input_invalid' });
    expect(!broken.ok && broken.message).toMatch(/broken-flags key flags\.flagd\.json is not a valid flagd flag definition: not JSON/);
    expect(await t.flags.callTool('get_flag', { namespace: NS, config_map: 'orders-flags', flag: 'nope' })).toMatchObject({ ok: false, code: 'not_found', message: expect.stringMatching(/defined: dynamic-pricing, search-backend/) });
    expect(await t.flags.callTool('get_flag', { namespace: NS, config_map: 'web-config', flag: 'x' })).toMatchObject({ ok: false, code: 'not_found', message: expect.stringMatching(/no flags\.flagd\.json key/) });
  });

  it('get_flag_history: the flip, newest first, with the setting before, and the previous setting a rollback restores', async () => {
    await t.clock.advance(5 * 60_000);
    await t.flip('dynamic-pricing', { default_variant: 'on' });
    await t.clock.advance(60_000);
    await t.flip('search-backend', { default_variant: 'opensearch' }); // another flag: not in dynamic-pricing's history
    const out = await t.flags.callTool<{ versions: Array<Record<string, unknown>>; previous: unknown; tracking_since: string }>('get_flag_history', { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing' });
    if (!out.ok) throw new Error(out.message);
    expect(out.data.tracking_since).toBe(new Date(START).toISOString());
    expect(out.data.versions).toMatchObject([
      { kind: 'changed', observed_at: new Date(START + 5 * 60_000).toISOString(), before: OFF, after: ON },
      { kind: 'initial', before: null, after: OFF },
    ]);
    expect(out.data.previous).toMatchObject({ ...OFF, observed_at: new Date(START + 5 * 60_000).toISOString() });
    const list = await t.flags.callTool<{ flag_sets: Array<{ flags: Array<{ flag: string; last_changed_at: string | null; served_value: unknown }> }> }>('list_flags', { namespace: NS, deployment: 'orders' });
    if (!list.ok) throw new Error(list.message);
    expect(list.data.flag_sets[0]!.flags[0]).toMatchObject({ flag: 'dynamic-pricing', served_value: true, last_changed_at: new Date(START + 5 * 60_000).toISOString() });
  });
});

describe('set_flag', () => {
  const args = (over: Record<string, unknown> = {}) => ({ namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing', state: 'DISABLED', expected: OFF, ...over });

  it('refuses a call without a grant, with a grant for other arguments, another tool, server or tenant, and a reused grant', async () => {
    const a = args();
    expect(await t.flags.callTool('set_flag', a)).toMatchObject({ ok: false, code: 'invalid_arguments' });
    expect(await t.flags.callTool('set_flag', { ...a, grant: t.grant('set_flag', { ...a, state: 'ENABLED' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.flags.callTool('set_flag', { ...a, grant: t.grant('rollback_flag', a) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.flags.callTool('set_flag', { ...a, grant: t.grant('set_flag', a, { server: 'configmap' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.flags.callTool('set_flag', { ...a, grant: t.grant('set_flag', a, { agent: 'elastik' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.flags.callTool('set_flag', { ...a, grant: t.grant('set_flag', a, { ttlMs: -1 }) })).toMatchObject({ ok: false, code: 'grant_expired' });
    const nothing = { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing', expected: OFF };
    expect(await t.flags.callTool('set_flag', { ...nothing, grant: t.grant('set_flag', nothing) })).toMatchObject({ ok: false, code: 'invalid_arguments' });
    expect(t.file().flags['dynamic-pricing']!.state).toBe('ENABLED');

    const g = t.grant('set_flag', a);
    expect(await t.flags.callTool('set_flag', { ...a, grant: g })).toMatchObject({
      ok: true,
      data: { changed: true, previous: OFF, current: { state: 'DISABLED', default_variant: 'off' }, served_value_before: false, served_value_after: null },
    });
    expect(t.file().flags['dynamic-pricing']).toEqual({ state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'off' });
    await t.flip('dynamic-pricing', { state: 'ENABLED' }); // the precondition holds again
    // The same grant again: answered with its first outcome from the ledger, nothing written again.
    expect(await t.flags.callTool('set_flag', { ...a, grant: g })).toMatchObject({ ok: true, data: { changed: true }, raw: { response: { _meta: { [REPLAYED_META_KEY]: true } } } });
    expect(t.file().flags['dynamic-pricing']!.state).toBe('ENABLED');
  });

  it('changes only that flag: variants, targeting, other flags and other keys are kept, and the file is still valid flagd', async () => {
    const before = t.file();
    const a = args({ state: undefined, default_variant: 'on' });
    delete (a as Record<string, unknown>)['state'];
    expect(await t.flags.callTool('set_flag', { ...a, grant: t.grant('set_flag', a) })).toMatchObject({ ok: true, data: { current: ON, served_value_after: true } });
    const after = t.file();
    expect(after.flags['search-backend']).toEqual(before.flags['search-backend']);
    expect(after.flags['dynamic-pricing']).toEqual({ ...before.flags['dynamic-pricing'], defaultVariant: 'on' });
    expect(() => parseFlagFile(t.twin.getConfigMap(NS, 'orders-flags')!.data![FLAGS_KEY]!, 'x')).not.toThrow();
  });

  it('refuses a setting that is gone ("changed since proposed"), a variant the flag lacks, and a malformed file, writing nothing', async () => {
    await t.flip('dynamic-pricing', { default_variant: 'on' });
    const stale = args();
    const out = await t.flags.callTool('set_flag', { ...stale, grant: t.grant('set_flag', stale) });
    expect(out).toMatchObject({ ok: false, code: 'conflict', message: expect.stringMatching(/changed since proposed: it is ENABLED\/on, the change was decided on ENABLED\/off/) });

    const variant = args({ state: undefined, default_variant: 'maybe', expected: ON });
    delete (variant as Record<string, unknown>)['state'];
    expect(await t.flags.callTool('set_flag', { ...variant, grant: t.grant('set_flag', variant) })).toMatchObject({ ok: false, code: 'input_invalid', message: expect.stringMatching(/no variant 'maybe'/) });
    expect(t.file().flags['dynamic-pricing']!.defaultVariant).toBe('on');

    const broken = { namespace: NS, config_map: 'broken-flags', flag: 'beta', state: 'DISABLED', expected: ON };
    const refused = await t.flags.callTool('set_flag', { ...broken, grant: t.grant('set_flag', broken) });
    expect(refused).toMatchObject({ ok: false, code: 'input_invalid', message: expect.stringMatching(/not a valid flagd flag definition/) });
    expect(t.twin.getConfigMap(NS, 'broken-flags')!.data).toEqual({ [FLAGS_KEY]: '{"flags": {"beta": {"state": "ENABLED",', other: 'kept' });
  });

  it('refuses namespaces outside the session, whatever the grant', async () => {
    const a = { namespace: OTHER_NS, config_map: 'globex-flags', flag: 'new-invoice', state: 'ENABLED', expected: { state: 'DISABLED', default_variant: 'off' } };
    const g = t.grant('set_flag', a, { namespace: OTHER_NS, tenant: 'globex' });
    expect(await t.flags.callTool('set_flag', { ...a, grant: g })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await t.flags.callTool('get_flag', { namespace: OTHER_NS, config_map: 'globex-flags', flag: 'new-invoice' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await t.flags.callTool('list_flags', { namespace: OTHER_NS })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(t.file('globex-flags', OTHER_NS).flags['new-invoice']!.state).toBe('DISABLED');
    const globex = await connectMcp({ url: t.mcp.url, token: GLOBEX_TOKEN, name: 'configurer' });
    try {
      expect(await globex.callTool('get_flag', { namespace: OTHER_NS, config_map: 'globex-flags', flag: 'new-invoice' })).toMatchObject({ ok: true });
      expect(await globex.callTool('get_flag', { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    } finally {
      await globex.close();
    }
  });
});

describe('rollback_flag', () => {
  it('puts the flag back to the setting before its latest change, and refuses when none is known', async () => {
    const none = { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing', expected: OFF };
    expect(await t.flags.callTool('rollback_flag', { ...none, grant: t.grant('rollback_flag', none) })).toMatchObject({ ok: false, code: 'not_found', message: expect.stringMatching(/no earlier setting/) });

    await t.clock.advance(2 * 60_000);
    await t.flip('dynamic-pricing', { default_variant: 'on' });
    const a = { ...none, expected: ON };
    expect(await t.flags.callTool('rollback_flag', { ...a, grant: t.grant('rollback_flag', a) })).toMatchObject({ ok: true, data: { changed: true, previous: ON, current: OFF } });
    expect(t.file().flags['dynamic-pricing']!.defaultVariant).toBe('off');
    // The rollback is a change of its own: the history shows it, and a rollback of it goes back to 'on'.
    const deadline = Date.now() + 5_000;
    while (t.mcp.history.history(NS, 'orders-flags').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const h = await t.flags.callTool<{ versions: unknown[]; previous: unknown }>('get_flag_history', { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing' });
    expect(h).toMatchObject({ ok: true, data: { previous: ON } });
    expect(h.ok && h.data.versions).toHaveLength(3);
  });
});

/** The client end of a pipe pair, as the SDK's StdioClientTransport would be for a spawned process. */
class Pipe implements Transport {
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

describe('over stdio (governor mcp feature-flags --stdio)', () => {
  it('serves the typed tools to the identity it was started with', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const server = await runFeatureFlagMcpStdio({
      kube: t.kube, sharedState: new MemorySharedState(), clock: t.clock, grantPublicKeys: new Map(),
      session: { agent: 'configurer', namespaces: [NS] }, stdin, stdout,
    });
    const client = new Client({ name: 'configurer', version: '0' });
    await client.connect(new Pipe(stdin, stdout));
    try {
      const ok = await client.callTool({ name: 'get_flag', arguments: { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing' } });
      expect(ok.isError).toBeFalsy();
      expect(ok.structuredContent).toMatchObject({ default_variant: 'off' });
      const refused = await client.callTool({ name: 'get_flag', arguments: { namespace: OTHER_NS, config_map: 'globex-flags', flag: 'new-invoice' } });
      expect(refused.isError).toBe(true);
      expect((refused.content as Array<{ text: string }>)[0]!.text).toMatch(/^tenant_forbidden: /);
      // No grant key: every write is refused (fail closed).
      const a = { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing', state: 'DISABLED', expected: OFF };
      const w = await client.callTool({ name: 'set_flag', arguments: { ...a, grant: t.grant('set_flag', a) } });
      expect(w.isError).toBe(true);
      expect((w.content as Array<{ text: string }>)[0]!.text).toMatch(/^grant_/);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
