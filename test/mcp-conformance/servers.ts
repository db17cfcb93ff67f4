// The one list of Governor's MCP servers that the client-facing checks iterate over: the output-schema
// test, the MCP Inspector CLI smoke test and the conformance run (scripts/mcp-conformance.ts). Each
// entry says how any MCP client starts the server — `governor mcp NAME`, over stdio or Streamable
// HTTP, exactly as the README tells a new user — which sandbox backend it needs, and one read call
// inside its session's tenant and one outside it. Adding a server is one entry here (a test fails
// while `governor mcp` knows a server this list does not); a server whose backend is none of these
// adds its kind to Backend and its fake to startSandbox. It must never reach anything but the
// sandbox: the twin's Kubernetes API, its Prometheus-compatible query API and a local PagerDuty fake.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RealClock } from '../../src/core/clock.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { startQueryApiServer } from '../../src/twin/metrics/query-api.ts';
import { startSampler } from '../../src/twin/metrics/sampler.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { FAKE_API_TOKEN, FAKE_ROUTING_KEY, startPagerDutyFake } from '../paging/pagerduty-fake.ts';

export const GOVERNOR_BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;

/** What of the sandbox a server's command needs in its environment. */
export type Backend = 'cluster' | 'prometheus' | 'pagerduty' | 'none';

/** One tool call, with arguments as an Inspector CLI user types them (`--tool-arg k=v`; an object as JSON). */
export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
}

export interface McpServerEntry {
  /** As in `governor mcp NAME`. */
  name: string;
  backend: Backend;
  /** The session identity the launcher vouches for (stdio) or its bearer token is bound to (HTTP). */
  agent: string;
  namespaces: string[];
  /** A read-only call inside the session's tenant: it succeeds with structured content. */
  read: ToolCall;
  /**
   * The same kind of call about another tenant: an `isError` result with code tenant_forbidden; or,
   * for a server with no tenant-scoped call, why not (where its isolation is tested instead).
   */
  crossTenant: ToolCall | { none: string };
}

/**
 * The session is acme's (acme-prod); another tenant is globex (globex-prod, in the seed scenario) or, for
 * the servers that name tenants as configured, initech (config/tenants.json).
 */
export const MCP_SERVER_ENTRIES: readonly McpServerEntry[] = [
  {
    name: 'kubernetes', backend: 'cluster', agent: 'elastik', namespaces: ['acme-prod'],
    read: { tool: 'get_pod_metrics', args: { namespace: 'acme-prod', deployment: 'checkout' } },
    crossTenant: { tool: 'get_pod_metrics', args: { namespace: 'globex-prod', deployment: 'storefront' } },
  },
  {
    name: 'configmap', backend: 'cluster', agent: 'configurer', namespaces: ['acme-prod'],
    read: { tool: 'list_configs', args: { namespace: 'acme-prod' } },
    crossTenant: { tool: 'list_configs', args: { namespace: 'globex-prod' } },
  },
  {
    name: 'feature-flags', backend: 'cluster', agent: 'configurer', namespaces: ['acme-prod'],
    read: { tool: 'list_flags', args: { namespace: 'acme-prod' } },
    crossTenant: { tool: 'list_flags', args: { namespace: 'globex-prod' } },
  },
  {
    name: 'billing', backend: 'cluster', agent: 'arbitrator', namespaces: ['acme-prod'],
    read: { tool: 'get_tenant_usage', args: { tenant: 'acme' } },
    crossTenant: { tool: 'get_tenant_usage', args: { tenant: 'initech' } },
  },
  {
    name: 'finops', backend: 'cluster', agent: 'strategist', namespaces: ['acme-prod'],
    read: { tool: 'get_cost_report', args: { tenant: 'acme' } },
    crossTenant: { tool: 'get_cost_report', args: { tenant: 'initech' } },
  },
  {
    name: 'pagerduty', backend: 'pagerduty', agent: 'watchtower', namespaces: ['acme-prod'],
    read: { tool: 'who_is_on_call', args: {} },
    crossTenant: { tool: 'open_incidents', args: { namespace: 'globex-prod' } },
  },
  {
    name: 'opa', backend: 'none', agent: 'arbitrator', namespaces: ['acme-prod'],
    read: { tool: 'list_policies', args: {} },
    crossTenant: { tool: 'evaluate', args: { input: otherTenantInput() } },
  },
  {
    name: 'cloud', backend: 'none', agent: 'elastik', namespaces: ['acme-prod'],
    read: { tool: 'list_node_groups', args: {} },
    crossTenant: {
      none: "node groups are the cluster's shared capacity, so no read is tenant-scoped; a scale's grant must name one of the session's namespaces (test/mcp/cloud-mcp.test.ts)",
    },
  },
  {
    name: 'prometheus', backend: 'prometheus', agent: 'watchtower', namespaces: ['acme-prod'],
    read: { tool: 'query', args: { query: 'kube_deployment_spec_replicas{namespace="acme-prod",deployment="checkout"}' } },
    crossTenant: { tool: 'query', args: { query: 'kube_deployment_spec_replicas{namespace="globex-prod"}' } },
  },
];

/** The DESIGN §5 example policy input, moved to another tenant's namespace. */
function otherTenantInput(): Record<string, unknown> {
  const fixture = JSON.parse(readFileSync(new URL('../../policies/fixtures/design-example-allow.json', import.meta.url), 'utf8')) as { input: { proposal: Record<string, unknown> } };
  return { ...fixture.input, proposal: { ...fixture.input.proposal, tenant: 'globex', namespace: 'globex-prod' } };
}

/** The backends every entry may need, started once, and the environment each server's command gets. */
export interface Sandbox {
  dir: string;
  /** The environment of `governor mcp NAME` for this entry: only what it needs, and nothing of this process's. */
  envFor(entry: McpServerEntry): Record<string, string>;
  close(): Promise<void>;
}

export async function startSandbox(): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'governor-mcp-clients-'));
  const closers: (() => Promise<void> | void)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    // The seed scenario in real time, served as `governor twin` serves it: HTTPS with a token.
    const twin = buildScenario('jvm-heap-regression', new RealClock()).twin;
    twin.start(1000);
    closers.push(() => twin.stop());
    const api = await startKubeApiServer(twin, { tls: true, token: randomBytes(16).toString('hex'), port: 0 });
    closers.push(() => api.close());
    await writeFile(join(dir, 'kubeconfig'), api.kubeconfig('governor'), { mode: 0o600 });
    const sampler = startSampler(twin);
    closers.push(() => sampler.stop());
    const prom = await startQueryApiServer(sampler.store, { now: () => twin.clock.now() });
    closers.push(() => prom.close());
    const pd = await startPagerDutyFake();
    closers.push(() => pd.close());
    pd.setOnCall([{ user: { id: 'PU1', name: 'Alice' }, escalation_policy: { id: 'PEP1', name: 'Platform' }, escalation_level: 1 }]);
    await writeFile(join(dir, 'pagerduty-ca.pem'), pd.caPem);

    const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? dir, LOG_LEVEL: 'warn' };
    const byBackend: Record<Backend, Record<string, string>> = {
      cluster: { KUBECONFIG: join(dir, 'kubeconfig') },
      none: {},
      prometheus: { PROMETHEUS_URL: prom.url },
      pagerduty: {
        PAGERDUTY_ROUTING_KEY: FAKE_ROUTING_KEY,
        PAGERDUTY_EVENTS_HOST: pd.host,
        PAGERDUTY_API_TOKEN: FAKE_API_TOKEN,
        PAGERDUTY_API_HOST: pd.host,
        NODE_EXTRA_CA_CERTS: join(dir, 'pagerduty-ca.pem'),
      },
    };
    return { dir, envFor: (entry) => ({ ...base, ...byBackend[entry.backend] }), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The stdio command line of an entry: what an MCP client's server configuration holds. */
export function stdioCommand(entry: McpServerEntry): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: [GOVERNOR_BIN, 'mcp', entry.name, '--stdio', '--agent', entry.agent, '--namespaces', entry.namespaces.join(',')],
  };
}

export interface HttpServer {
  url: string;
  /** The bearer token its sessions are bound to the entry's identity with. */
  token: string;
  close(): Promise<void>;
}

/** `governor mcp NAME --port 0` with a tokens file binding one fresh token to the entry's identity. */
export async function startHttpServer(entry: McpServerEntry, sandbox: Sandbox): Promise<HttpServer> {
  const token = randomBytes(24).toString('base64url');
  const tokensFile = join(sandbox.dir, `tokens-${entry.name}.json`);
  await writeFile(tokensFile, JSON.stringify({ [token]: { agent: entry.agent, namespaces: entry.namespaces } }), { mode: 0o600 });
  const child = spawn(process.execPath, [GOVERNOR_BIN, 'mcp', entry.name, '--port', '0'], {
    env: { ...sandbox.envFor(entry), GOVERNOR_MCP_TOKENS_FILE: tokensFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000);
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`governor mcp ${entry.name} printed no ready line in 60 s`)), 60_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^ready (http:\/\/\S+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`governor mcp ${entry.name} exited with ${code}: ${stderr}`));
      });
    });
    return { url, token, close: () => stop(child) };
  } catch (err) {
    await stop(child);
    throw err;
  }
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
