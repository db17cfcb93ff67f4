// `governor mcp NAME --stdio | --port N`: one MCP server as its own process, against the cluster in
// KUBECONFIG (a real one, or the twin from `governor twin --kubeconfig FILE`) — or, for `pagerduty`,
// against PagerDuty (PAGERDUTY_*; no cluster, no grants: paging governs nothing), and for
// `prometheus` against PROMETHEUS_URL (read-only; every query confined to the session's tenants),
// `opa` over the policy bundle (read-only; no cluster) and `cloud` over the configured node groups.
//   --stdio: one session on stdin/stdout, whose identity (--agent, --namespaces) the launching
//            process vouches for; stdout belongs to the protocol, logs go to stderr.
//   --port:  Streamable HTTP; each session is bound by its bearer token to the identity given in
//            GOVERNOR_MCP_TOKENS_FILE. Prints `ready <url>` on stdout once it serves.
// Grants are verified with the public key in GOVERNOR_GRANT_PUBLIC_KEY_FILE: the server never holds
// the signing key, and without a key every mutating tool is refused (fail closed). Cooldowns, grant
// single-use and the pause epoch live in Redis (REDIS_URL), shared with every other replica and with
// the gateway; without it they are this process's alone, which it says.
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { loadConfig, type Config } from '../src/config.ts';
import { MemorySharedState } from '../src/bus/memory-shared-state.ts';
import { RedisSharedState } from '../src/bus/redis-shared-state.ts';
import type { SharedState } from '../src/bus/shared-state.ts';
import { RealClock } from '../src/core/clock.ts';
import { GovernorError, describeError } from '../src/core/errors.ts';
import { createLogger, type Logger } from '../src/core/logger.ts';
import { readKeyFile } from '../src/core/key-files.ts';
import { DEFAULT_TENANTS_FILE, loadTenants } from '../src/governance/tenants.ts';
import { SharedStatePauseEpoch } from '../src/governance/pause-epoch.ts';
import type { McpHttpHost } from '../src/mcp/mcp-http-host.ts';
import type { StdioSession } from '../src/mcp/mcp-stdio.ts';
import { startKubernetesMcpHttp } from '../mcp-servers/kubernetes/http.ts';
import { runKubernetesMcpStdio } from '../mcp-servers/kubernetes/stdio.ts';
import { startConfigMapMcpHttp } from '../mcp-servers/configmap/http.ts';
import { runConfigMapMcpStdio } from '../mcp-servers/configmap/stdio.ts';
import { startFeatureFlagMcpHttp } from '../mcp-servers/feature-flags/http.ts';
import { runFeatureFlagMcpStdio } from '../mcp-servers/feature-flags/stdio.ts';
import { startBillingMcpHttp } from '../mcp-servers/billing/http.ts';
import { runBillingMcpStdio } from '../mcp-servers/billing/stdio.ts';
import { startFinopsMcpHttp } from '../mcp-servers/finops/http.ts';
import { runFinopsMcpStdio } from '../mcp-servers/finops/stdio.ts';
import { startPagerDutyMcpHttp } from '../mcp-servers/pagerduty/http.ts';
import { runPagerDutyMcpStdio } from '../mcp-servers/pagerduty/stdio.ts';
import { PagerDutyRestClient } from '../mcp-servers/pagerduty/rest-client.ts';
import type { PagerDutyMcpDeps } from '../mcp-servers/pagerduty/server.ts';
import { MemoryPagingService } from '../src/paging/memory-paging.ts';
import { PdjsPagingService } from '../src/paging/pdjs-paging.ts';
import { startPrometheusMcpHttp } from '../mcp-servers/prometheus/http.ts';
import { runPrometheusMcpStdio } from '../mcp-servers/prometheus/stdio.ts';
import { loadSignals } from '../mcp-servers/prometheus/signals.ts';
import type { Tenants } from '../src/governance/tenants.ts';
import { startOpaMcpHttp } from '../mcp-servers/opa/http.ts';
import { runOpaMcpStdio } from '../mcp-servers/opa/stdio.ts';
import { cachedCatalog } from '../mcp-servers/opa/server.ts';
import { WasmPolicyEngine, DEFAULT_BUNDLE_PATH } from '../src/policy/wasm-policy-engine.ts';
import { openPolicyPublicKey } from '../src/policy/bundle-signature.ts';
import { readBundleCatalog } from '../src/policy/bundle-catalog.ts';
import { startCloudMcpHttp } from '../mcp-servers/cloud/http.ts';
import { runCloudMcpStdio } from '../mcp-servers/cloud/stdio.ts';
import { MemoryCloudProvider } from '../src/cloud/memory-cloud-provider.ts';
import { DEFAULT_NODE_GROUPS_FILE, loadNodeGroups } from '../src/cloud/node-groups.ts';

export const MCP_SERVERS = ['kubernetes', 'configmap', 'feature-flags', 'billing', 'finops', 'pagerduty', 'prometheus', 'opa', 'cloud'] as const;
type ServerName = (typeof MCP_SERVERS)[number];
type ClusterServerName = Exclude<ServerName, 'pagerduty' | 'prometheus' | 'opa' | 'cloud'>;

const Identity = z.object({ agent: z.string().min(1), namespaces: z.array(z.string().min(1)).min(1) });
/** GOVERNOR_MCP_TOKENS_FILE: bearer token → the identity its sessions are bound to. */
const TokensFile = z.record(z.string().min(16, 'a bearer token of at least 16 characters'), Identity);

export interface McpCommandOptions {
  stdio?: boolean;
  port?: number;
  /** With --port: the address to listen on (127.0.0.1 unless given; 0.0.0.0 in a pod). */
  host?: string;
  agent?: string;
  namespaces?: string;
}

export async function mcpServer(name: string, opts: McpCommandOptions, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (!(MCP_SERVERS as readonly string[]).includes(name)) {
    throw new GovernorError('config_invalid', `unknown MCP server '${name}'; known: ${MCP_SERVERS.join(', ')}`);
  }
  if (Boolean(opts.stdio) === (opts.port !== undefined)) throw new GovernorError('config_invalid', 'give exactly one of --stdio or --port N');
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65_535)) {
    throw new GovernorError('config_invalid', `--port must be a TCP port number, not '${opts.port}'`);
  }
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, name: `governor-mcp-${name}` });
  const tenants = loadTenants(config.tenantsFile ?? DEFAULT_TENANTS_FILE);
  const served =
    name === 'pagerduty' ? pagerDutyServer(config, logger, tenants)
      : name === 'prometheus' ? prometheusServer(config, logger, tenants)
        : name === 'opa' ? opaServer(config, logger, tenants)
          : name === 'cloud' ? cloudServer(config, logger)
        : clusterServer(name as ClusterServerName, config, logger, tenants);

  let stop: () => Promise<void>;
  let done: Promise<void>;
  if (opts.stdio) {
    const given = Identity.safeParse({ agent: opts.agent, namespaces: (opts.namespaces ?? '').split(',').map((s) => s.trim()).filter(Boolean) });
    if (!given.success) throw new GovernorError('config_invalid', '--stdio needs the identity the launching process vouches for: --agent NAME --namespaces ns1,ns2');
    const running = await served.stdio(given.data);
    stop = () => running.close();
    done = running.closed;
  } else {
    const tokens = readTokens(config);
    const running = await served.http(tokens, opts.port!, opts.host);
    process.stdout.write(`ready ${running.url}\n`);
    stop = () => running.close();
    done = new Promise<void>(() => {});
  }
  await new Promise<void>((resolve) => {
    const end = () => {
      process.off('SIGINT', end);
      process.off('SIGTERM', end);
      resolve();
    };
    process.on('SIGINT', end);
    process.on('SIGTERM', end);
    void done.then(end);
  });
  try {
    await stop();
  } finally {
    await served.close();
    logger.info({ server: name }, 'MCP server stopped');
  }
}

/** One server, ready to serve a stdio session or HTTP sessions, and what to close after it. */
interface Served {
  stdio(session: z.infer<typeof Identity>): Promise<StdioSession>;
  http(tokens: Map<string, z.infer<typeof Identity>>, port: number, host: string | undefined): Promise<McpHttpHost>;
  close(): Promise<void>;
}

function clusterServer(name: ClusterServerName, config: Config, logger: Logger, tenants: ReturnType<typeof loadTenants>): Served {
  if (!config.kubeconfig && !config.kubeInCluster) {
    throw new GovernorError('config_invalid', 'an MCP server talks to a cluster: set KUBECONFIG (for the twin: governor twin --scenario NAME --kubeconfig FILE), or run it in a pod with a ServiceAccount');
  }
  const kube = new KubeConfig();
  // Inside a pod without KUBECONFIG: the pod's ServiceAccount (the Helm install binds its Role there).
  if (config.kubeconfig) kube.loadFromFile(config.kubeconfig);
  else kube.loadFromCluster();
  const grantPublicKeys = readGrantKeys(config, logger);
  const sharedState = openSharedState(config, logger);
  const base: Base = { kube, sharedState, clock: new RealClock(), grantPublicKeys, logger, pauseEpoch: new SharedStatePauseEpoch(sharedState), tenants };
  return {
    stdio: (session) => runStdio(name, { ...base, session }),
    http: (tokens, port, host) => runHttp(name, { ...base, tokens, port, ...(host ? { host } : {}) }),
    close: () => sharedState.close(),
  };
}

/**
 * PagerDuty: pages through the Events API with PAGERDUTY_ROUTING_KEY (in memory without, which it
 * says: nobody is paged), reads through the REST API with PAGERDUTY_API_TOKEN (refused without).
 */
function pagerDutyServer(config: Config, logger: Logger, tenants: ReturnType<typeof loadTenants>): Served {
  const pd = config.pagerduty;
  if (!pd.routingKey) logger.warn('PAGERDUTY_ROUTING_KEY is not set: pages are kept in this process and reach nobody');
  if (!pd.apiToken) logger.warn('PAGERDUTY_API_TOKEN is not set: who_is_on_call and open_incidents are refused');
  const deps: Omit<PagerDutyMcpDeps, 'session'> = {
    paging: pd.routingKey ? new PdjsPagingService({ routingKey: pd.routingKey, host: pd.eventsHost }) : new MemoryPagingService(),
    reads: pd.apiToken ? new PagerDutyRestClient({ token: pd.apiToken, host: pd.apiHost }) : undefined,
    tenants,
    logger,
  };
  return {
    stdio: (session) => runPagerDutyMcpStdio({ ...deps, session }),
    http: (tokens, port, host) => startPagerDutyMcpHttp({ ...deps, tokens, port, ...(host ? { host } : {}) }),
    close: async () => {},
  };
}

/**
 * Prometheus at PROMETHEUS_URL (for the twin: `governor twin --metrics-port N` scraped by a real
 * Prometheus, or the twin's own query API). A session's tenant label matchers are those tenants all
 * of whose namespaces the session holds.
 */
function prometheusServer(config: Config, logger: Logger, tenants: Tenants): Served {
  if (!config.prometheusUrl) throw new GovernorError('config_invalid', 'the Prometheus MCP server queries a Prometheus: set PROMETHEUS_URL');
  const url = config.prometheusUrl;
  const signals = loadSignals(config.signalsFile);
  const withTenants = (s: z.infer<typeof Identity>) => ({
    ...s,
    tenants: Object.entries(tenants).filter(([, t]) => t.namespaces.every((ns) => s.namespaces.includes(ns))).map(([name]) => name),
  });
  return {
    stdio: (session) => runPrometheusMcpStdio({ prometheusUrl: url, clock: new RealClock(), session: withTenants(session), signals, logger }),
    http: (tokens, port, host) => startPrometheusMcpHttp({ prometheusUrl: url, clock: new RealClock(), tokens: new Map([...tokens].map(([k, v]) => [k, withTenants(v)])), port, ...(host ? { host } : {}), signals, logger }),
    close: async () => {},
  };
}

/**
 * The policy engine: the bundle GOVERNOR_POLICY_BUNDLE names (the committed one by default), loaded
 * only when its signature holds for the policy public key, as the gateway loads it. No cluster.
 */
function opaServer(config: Config, logger: Logger, tenants: Tenants): Served {
  const path = config.policyBundle ?? DEFAULT_BUNDLE_PATH;
  const engine = WasmPolicyEngine.fromBundle(path, { publicKey: openPolicyPublicKey(config.policyPublicKeyFile).key });
  // A failed load is reported by the first session that needs it, never as an unhandled rejection.
  engine.catch(() => undefined);
  const deps = async () => {
    const policy = await engine;
    return { policy, catalog: cachedCatalog(policy, () => readBundleCatalog(path)), logger };
  };
  return {
    stdio: async (session) => runOpaMcpStdio({ ...(await deps()), session: withTenants(tenants, session) }),
    http: async (tokens, port, host) => startOpaMcpHttp({ ...(await deps()), tokens: new Map([...tokens].map(([k, v]) => [k, withTenants(tenants, v)])), port, ...(host ? { host } : {}) }),
    close: async () => {},
  };
}

/**
 * The cloud provider's node groups (GOVERNOR_NODE_GROUPS_FILE, config/node-groups.json by default).
 * On its own process the server has no twin to add nodes to and no cloud API is wired yet: the groups
 * are held in memory, each at its minimum size, which it says. Inside `governor start` the twin's
 * node pools are the provider (src/runtime/system.ts). Grants, single use and the pause epoch as for
 * the cluster servers.
 */
function cloudServer(config: Config, logger: Logger): Served {
  const groups = loadNodeGroups(config.nodeGroupsFile ?? DEFAULT_NODE_GROUPS_FILE);
  logger.warn({ groups: Object.keys(groups) }, 'no cloud API is configured: node groups are held in this process (in memory), each starting at its min_nodes');
  const provider = new MemoryCloudProvider(groups);
  const grantPublicKeys = readGrantKeys(config, logger);
  const sharedState = openSharedState(config, logger);
  const base = { provider, groups, clock: new RealClock(), sharedState, grantPublicKeys, pauseEpoch: new SharedStatePauseEpoch(sharedState), logger };
  return {
    stdio: (session) => runCloudMcpStdio({ ...base, session }),
    http: (tokens, port, host) => startCloudMcpHttp({ ...base, tokens, port, ...(host ? { host } : {}) }),
    close: () => sharedState.close(),
  };
}

/** A session's tenants: those all of whose namespaces it holds. */
function withTenants<S extends z.infer<typeof Identity>>(tenants: Tenants, s: S): S & { tenants: string[] } {
  return { ...s, tenants: Object.entries(tenants).filter(([, t]) => t.namespaces.every((ns) => s.namespaces.includes(ns))).map(([name]) => name) };
}

type Base = {
  kube: KubeConfig;
  sharedState: SharedState;
  clock: RealClock;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  logger: Logger;
  pauseEpoch: SharedStatePauseEpoch;
  tenants: ReturnType<typeof loadTenants>;
};

function runStdio(name: ClusterServerName, d: Base & { session: z.infer<typeof Identity> }): Promise<StdioSession> {
  switch (name) {
    case 'kubernetes':
      return runKubernetesMcpStdio(d);
    case 'configmap':
      return runConfigMapMcpStdio(d);
    case 'feature-flags':
      return runFeatureFlagMcpStdio(d);
    case 'billing':
      return runBillingMcpStdio(d);
    case 'finops':
      return runFinopsMcpStdio(d);
  }
}

function runHttp(name: ClusterServerName, d: Base & { tokens: Map<string, z.infer<typeof Identity>>; port: number; host?: string }): Promise<McpHttpHost> {
  switch (name) {
    case 'kubernetes':
      return startKubernetesMcpHttp(d);
    case 'configmap':
      return startConfigMapMcpHttp(d);
    case 'feature-flags':
      return startFeatureFlagMcpHttp(d);
    case 'billing':
      return startBillingMcpHttp(d);
    case 'finops':
      return startFinopsMcpHttp(d);
  }
}

function readGrantKeys(config: Config, logger: Logger): ReadonlyMap<string, KeyObject> {
  if (!config.grantPublicKeyFile) {
    logger.warn('GOVERNOR_GRANT_PUBLIC_KEY_FILE is not set: no grant can be verified, so every mutating tool is refused');
    return new Map();
  }
  // The public half only: a server given the private key could mint the grants it checks.
  const key = readKeyFile(config.grantPublicKeyFile, { variable: 'GOVERNOR_GRANT_PUBLIC_KEY_FILE', half: 'public', algorithm: 'ed25519' });
  return new Map([[config.grantKeyId, key]]);
}

function readTokens(config: Config): Map<string, z.infer<typeof Identity>> {
  if (!config.mcpTokensFile) throw new GovernorError('config_invalid', 'an MCP server on a port needs GOVERNOR_MCP_TOKENS_FILE: bearer token → { agent, namespaces }');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(config.mcpTokensFile, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `GOVERNOR_MCP_TOKENS_FILE (${config.mcpTokensFile}) is not readable JSON: ${describeError(err)}`);
  }
  const parsed = TokensFile.safeParse(raw);
  if (!parsed.success) {
    // Never echo a token: the path names the entry only by its position.
    const problems = parsed.error.issues.map((i) => `  - entry ${i.path.length > 0 ? '#' + (Object.keys(raw as object).indexOf(String(i.path[0])) + 1) : '(file)'}${i.path.slice(1).map((p) => `.${String(p)}`).join('')}: ${i.message}`);
    throw new GovernorError('config_invalid', `GOVERNOR_MCP_TOKENS_FILE (${config.mcpTokensFile}) is not valid:\n${problems.join('\n')}`);
  }
  if (Object.keys(parsed.data).length === 0) throw new GovernorError('config_invalid', `GOVERNOR_MCP_TOKENS_FILE (${config.mcpTokensFile}) names no token`);
  return new Map(Object.entries(parsed.data));
}

function openSharedState(config: Config, logger: Logger): SharedState {
  if (config.redisUrl) return new RedisSharedState({ url: config.redisUrl, keyPrefix: 'governor:state:' });
  logger.warn('REDIS_URL is not set: cooldowns, single-use grants and the pause epoch are this process\'s alone; run one replica, beside no other writer');
  return new MemorySharedState();
}
