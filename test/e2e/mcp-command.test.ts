// `governor mcp NAME` as its own process against a cluster it reaches through KUBECONFIG (the twin
// served over HTTPS, as `governor twin` serves it): over stdio with the identity the launcher gives,
// over HTTP with bearer tokens from a file; grants checked with a public key only; bad
// configuration refused with exit 78 and never a token echoed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RealClock } from '../../src/core/clock.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startSampler } from '../../src/twin/metrics/sampler.ts';
import { startQueryApiServer } from '../../src/twin/metrics/query-api.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';

const BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;
const run = promisify(execFile);

let dir: string;
let twin: ClusterTwin;
let api: KubeApiServer;
let env: NodeJS.ProcessEnv;
const keys = generateGrantKeys('governor');
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'governor-mcp-'));
  twin = buildScenario('jvm-heap-regression', new RealClock()).twin;
  twin.start(1000);
  const token = randomBytes(16).toString('hex');
  api = await startKubeApiServer(twin, { tls: true, token, port: 0 });
  await writeFile(join(dir, 'kubeconfig'), api.kubeconfig('governor'), { mode: 0o600 });
  await writeFile(join(dir, 'grant.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  env = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    KUBECONFIG: join(dir, 'kubeconfig'),
    GOVERNOR_GRANT_PUBLIC_KEY_FILE: join(dir, 'grant.pub'),
    GOVERNOR_GRANT_KEY_ID: 'governor',
    LOG_LEVEL: 'warn',
  };
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  twin.stop();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

describe('governor mcp kubernetes --stdio', () => {
  it('serves one session for the identity it was launched with, and nothing outside it', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'kubernetes', '--stdio', '--agent', 'watchtower', '--namespaces', 'acme-prod'],
      env: env as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(expect.arrayContaining(['get_pod_metrics', 'scale_deployment', 'cordon_node']));
      const ok = await client.callTool({ name: 'get_pod_metrics', arguments: { namespace: 'acme-prod', deployment: 'checkout' } });
      expect(ok.isError).toBeFalsy();
      expect((ok.structuredContent as { deployment: { replicas: number } }).deployment.replicas).toBe(8);
      const other = await client.callTool({ name: 'get_pod_metrics', arguments: { namespace: 'globex-prod', deployment: 'storefront' } });
      expect(other.isError).toBe(true);
      expect(JSON.stringify(other.content)).toMatch(/tenant_forbidden/);
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('governor mcp feature-flags --stdio', () => {
  it('serves the flag tools, with output schemas, for the identity it was launched with, and nothing outside it', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'feature-flags', '--stdio', '--agent', 'configurer', '--namespaces', 'acme-prod'],
      env: env as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const tools = (await client.listTools()).tools;
      expect(tools.map((t) => t.name).sort()).toEqual(['get_flag', 'get_flag_history', 'list_flags', 'rollback_flag', 'set_flag']);
      expect(tools.every((t) => t.outputSchema?.type === 'object')).toBe(true);
      const ok = await client.callTool({ name: 'list_flags', arguments: { namespace: 'acme-prod' } });
      expect(ok.isError).toBeFalsy();
      expect(ok.structuredContent).toEqual({ namespace: 'acme-prod', flag_sets: [] });
      const other = await client.callTool({ name: 'list_flags', arguments: { namespace: 'globex-prod' } });
      expect(other.isError).toBe(true);
      expect(JSON.stringify(other.content)).toMatch(/tenant_forbidden/);
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('governor mcp prometheus --stdio', () => {
  it("answers the session's tenant's queries from PROMETHEUS_URL and refuses another tenant's, as an isError result", async () => {
    const sampler = startSampler(twin);
    const prom = await startQueryApiServer(sampler.store, { now: () => twin.clock.now() });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'prometheus', '--stdio', '--agent', 'watchtower', '--namespaces', 'acme-prod'],
      env: { ...env, PROMETHEUS_URL: prom.url } as Record<string, string>,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['burn_rate', 'query', 'query_range', 'service_signals', 'slo_status']);
      const ok = await client.callTool({ name: 'query', arguments: { query: 'kube_deployment_spec_replicas{namespace="acme-prod",deployment="checkout"}' } });
      expect(ok.isError).toBeFalsy();
      expect((ok.structuredContent as { series: { points: { v: number }[] }[] }).series[0]!.points[0]!.v).toBe(8);
      // The tenants file makes acme's tenant label usable too.
      const byTenant = await client.callTool({ name: 'query', arguments: { query: 'count(kube_deployment_spec_replicas{tenant="acme"})' } });
      expect(byTenant.isError).toBeFalsy();
      const other = await client.callTool({ name: 'query', arguments: { query: 'kube_deployment_spec_replicas{namespace="globex-prod"}' } });
      expect(other.isError).toBe(true);
      expect(JSON.stringify(other.content)).toMatch(/tenant_forbidden/);
    } finally {
      await client.close();
      await prom.close();
      sampler.stop();
    }
  }, 60_000);
});

describe('governor mcp billing --port', () => {
  it('prints ready with its URL, binds each session to its token, and verifies grants with the public key alone', async () => {
    const token = randomBytes(24).toString('base64url');
    await writeFile(join(dir, 'tokens.json'), JSON.stringify({ [token]: { agent: 'arbitrator', namespaces: ['acme-prod', 'globex-prod'] } }), { mode: 0o600 });
    const child = spawn(process.execPath, [BIN, 'mcp', 'billing', '--port', '0'], {
      env: { ...env, GOVERNOR_MCP_TOKENS_FILE: join(dir, 'tokens.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (l) => {
        const m = /^ready (http:\/\/\S+)$/.exec(l);
        if (m) resolve(m[1]!);
      });
      child.once('exit', (code) => reject(new Error(`governor mcp exited with ${code}`)));
    });
    const tools = await connectMcp({ url, token, name: 'arbitrator' });
    try {
      const usage = await tools.callTool<{ tenant: string }>('get_tenant_usage', { tenant: 'acme' });
      expect(usage).toMatchObject({ ok: true, data: { tenant: 'acme' } });
      // A grant signed by the gateway's key, for a throttle that is not one (a raise): verified, then refused by the server's own rule.
      const args = { namespace: 'globex-prod', deployment: 'storefront', cpu_limit: '64' };
      const grant = issueGrant(keys, {
        proposal_id: 'p1', agent: 'arbitrator', tenant: 'globex', namespace: 'globex-prod', server: 'billing', tool: 'throttle_tenant',
        args, basis: 'approval', nowMs: Date.now(), ttlMs: 60_000,
      });
      expect(await tools.callTool('throttle_tenant', { ...args, grant })).toMatchObject({ ok: false, code: 'safety_violation' });
      // A grant signed by any other key is refused before anything is read.
      const forged = issueGrant(generateGrantKeys('governor'), {
        proposal_id: 'p1', agent: 'arbitrator', tenant: 'globex', namespace: 'globex-prod', server: 'billing', tool: 'throttle_tenant',
        args, basis: 'approval', nowMs: Date.now(), ttlMs: 60_000,
      });
      expect(await tools.callTool('throttle_tenant', { ...args, grant: forged })).toMatchObject({ ok: false, code: 'grant_invalid' });
    } finally {
      await tools.close();
    }
    const wrong = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer not-a-token', 'content-type': 'application/json' }, body: '{}' });
    expect(wrong.status).toBe(401);
    child.kill('SIGTERM');
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
  }, 60_000);
});

describe('governor mcp configuration errors', () => {
  const governor = async (args: string[], extra: NodeJS.ProcessEnv) => {
    try {
      await run(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, timeout: 60_000 });
      return { code: 0, stderr: '' };
    } catch (err) {
      const e = err as { code: number; stderr: string };
      return { code: e.code, stderr: e.stderr };
    }
  };

  it('refuses to start without a cluster, with neither or both transports, and with a bad tokens file — exit 78, no token echoed', async () => {
    const noCluster = await governor(['mcp', 'kubernetes', '--stdio', '--agent', 'a', '--namespaces', 'n'], { KUBECONFIG: '' });
    expect(noCluster).toMatchObject({ code: 78, stderr: expect.stringContaining('set KUBECONFIG') });
    expect(await governor(['mcp', 'kubernetes'], {})).toMatchObject({ code: 78, stderr: expect.stringContaining('exactly one of --stdio or --port') });
    expect(await governor(['mcp', 'kubernetes', '--stdio'], {})).toMatchObject({ code: 78, stderr: expect.stringContaining('--agent NAME --namespaces') });
    expect(await governor(['mcp', 'grafana', '--stdio'], {})).toMatchObject({ code: 78, stderr: expect.stringContaining("unknown MCP server 'grafana'") });
    expect(await governor(['mcp', 'prometheus', '--stdio', '--agent', 'a', '--namespaces', 'n'], {})).toMatchObject({ code: 78, stderr: expect.stringContaining('set PROMETHEUS_URL') });
    const secret = 'short-secret';
    await writeFile(join(dir, 'bad-tokens.json'), JSON.stringify({ [secret]: { agent: 'x', namespaces: [] } }));
    const bad = await governor(['mcp', 'finops', '--port', '0'], { GOVERNOR_MCP_TOKENS_FILE: join(dir, 'bad-tokens.json') });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/entry #1/);
    expect(bad.stderr).not.toContain(secret);
  }, 120_000);

  it('refuses the grant signing key where only the public key belongs, naming the variable — exit 78', async () => {
    const privatePath = join(dir, 'grant-private.pem');
    await writeFile(privatePath, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    const r = await governor(['mcp', 'billing', '--port', '0'], { GOVERNOR_GRANT_PUBLIC_KEY_FILE: privatePath, GOVERNOR_MCP_TOKENS_FILE: join(dir, 'absent-tokens.json') });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`GOVERNOR_GRANT_PUBLIC_KEY_FILE: ${privatePath} holds a private key`);
    expect(r.stderr).not.toContain('PRIVATE KEY');
  }, 60_000);
});
