// The MCP layer as the composition root sees it: the servers (started here, or running elsewhere)
// and, for each agent, its sessions. What ties the two is one description, the endpoints: each
// server's URL and every session's bearer token with the agent and tenant it is bound to. One
// process (`governor start` without REDIS_URL and DATABASE_URL) starts the servers and connects to
// them itself; with the processes apart, the supervisor starts the servers, writes each child the
// endpoints of its own sessions alone (GOVERNOR_MCP_ENDPOINTS_FILE), and the child connects with
// those. A Helm install renders the same file from a Secret. Each server only ever learns the
// identities bound to its tokens, never the other way round.
import { randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { startConfigMapMcpHttp } from '../../mcp-servers/configmap/http.ts';
import { startFeatureFlagMcpHttp } from '../../mcp-servers/feature-flags/http.ts';
import { startBillingMcpHttp } from '../../mcp-servers/billing/http.ts';
import { startFinopsMcpHttp } from '../../mcp-servers/finops/http.ts';
import { startPrometheusMcpHttp } from '../../mcp-servers/prometheus/http.ts';
import type { SignalQueries } from '../../mcp-servers/prometheus/signals.ts';
import { startCloudMcpHttp } from '../../mcp-servers/cloud/http.ts';
import { startOpaMcpHttp } from '../../mcp-servers/opa/http.ts';
import { cachedCatalog } from '../../mcp-servers/opa/server.ts';
import { tenantSessions, type TenantTools } from '../../agents/runtime/tenant-sessions.ts';
import type { ToolClient } from '../../agents/runtime/tool-client.ts';
import { TwinCloudProvider } from '../cloud/twin-cloud-provider.ts';
import type { NodeGroups } from '../cloud/node-groups.ts';
import { readBundleCatalog } from '../policy/bundle-catalog.ts';
import type { ReloadingPolicyEngine } from '../policy/reloading-policy-engine.ts';
import type { SharedState } from '../bus/shared-state.ts';
import type { Clock } from '../core/clock.ts';
import { GovernorError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { WorkTracker } from '../core/work-tracker.ts';
import type { PauseEpochReader } from '../governance/pause-epoch.ts';
import type { Tenants } from '../governance/tenants.ts';
import type { ClusterTwin } from '../twin/cluster-twin.ts';
import { connectMcp } from '../mcp/mcp-client.ts';

export const MCP_LAYER_SERVERS = ['kubernetes', 'configmap', 'feature-flags', 'billing', 'finops', 'prometheus', 'opa', 'cloud'] as const;
export type McpLayerServer = (typeof MCP_LAYER_SERVERS)[number];

const Session = z.object({
  server: z.enum(MCP_LAYER_SERVERS),
  agent: z.string().min(1),
  /** The tenant the session is bound to; absent for a session that spans every tenant (Billing, FinOps, OPA, Cloud). */
  tenant: z.string().min(1).optional(),
  token: z.string().min(16, 'a bearer token of at least 16 characters'),
});
export const McpEndpoints = z.object({
  servers: z.partialRecord(z.enum(MCP_LAYER_SERVERS), z.string().url()),
  sessions: z.array(Session),
});
export type McpEndpoints = z.infer<typeof McpEndpoints>;
export type McpSession = z.infer<typeof Session>;

/** GOVERNOR_MCP_ENDPOINTS_FILE, checked whole: every problem named, nothing half-loaded. */
export function loadMcpEndpoints(file: string): McpEndpoints {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `GOVERNOR_MCP_ENDPOINTS_FILE ${file}: ${(err as Error).message}`);
  }
  const parsed = McpEndpoints.safeParse(raw);
  if (!parsed.success) {
    throw new GovernorError('config_invalid', `GOVERNOR_MCP_ENDPOINTS_FILE ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const unserved = parsed.data.sessions.filter((s) => !parsed.data.servers[s.server]);
  if (unserved.length > 0) {
    throw new GovernorError('config_invalid', `GOVERNOR_MCP_ENDPOINTS_FILE ${file}: sessions for servers without a URL: ${[...new Set(unserved.map((s) => s.server))].join(', ')}`);
  }
  return parsed.data;
}

/** The part of the endpoints a process running these agents may hold: their sessions, and the servers they reach. */
export function endpointsOf(all: McpEndpoints, agents: readonly string[]): McpEndpoints {
  const sessions = all.sessions.filter((s) => agents.includes(s.agent));
  const servers: McpEndpoints['servers'] = {};
  for (const s of sessions) servers[s.server] = all.servers[s.server];
  return { servers, sessions };
}

/** Who uses which server, and how: one session per tenant, or one for all of them. */
const SESSIONS: Record<McpLayerServer, { agents: readonly string[]; perTenant: boolean }> = {
  kubernetes: { agents: ['watchtower', 'elastik', 'configurer', 'arbitrator', 'verifier'], perTenant: true },
  configmap: { agents: ['configurer'], perTenant: true },
  'feature-flags': { agents: ['configurer'], perTenant: true },
  billing: { agents: ['arbitrator'], perTenant: false },
  finops: { agents: ['strategist'], perTenant: false },
  prometheus: { agents: ['watchtower', 'elastik', 'configurer', 'arbitrator', 'verifier'], perTenant: true },
  opa: { agents: ['arbitrator'], perTenant: false },
  cloud: { agents: ['elastik'], perTenant: false },
};

export interface McpServersDeps {
  kube: KubeConfig;
  /** The twin, when the cluster is the twin: the Cloud Provider server runs over its node pools. */
  twin?: ClusterTwin | undefined;
  nodeGroups?: NodeGroups | undefined;
  shared: SharedState;
  clock: Clock;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  tenants: Tenants;
  /** Prometheus to serve (PROMETHEUS_URL, or the twin's query API); no Prometheus server without it. */
  prometheusUrl?: string | undefined;
  signals: SignalQueries;
  policy: ReloadingPolicyEngine;
  policyBundle?: string | undefined;
  pauseEpoch: PauseEpochReader;
  tracker: WorkTracker;
  logger: Logger;
}

export interface McpServers {
  endpoints: McpEndpoints;
  report: string[];
  close(): Promise<void>;
}

/**
 * Every MCP server of the layer on loopback, with a fresh bearer token for each session the agents
 * hold: per tenant where an agent's work is one tenant's at a time (the token binds the session to
 * that tenant's namespaces), one across tenants where weighing them is the agent's job.
 */
export async function startMcpServers(deps: McpServersDeps): Promise<McpServers> {
  const { kube, shared, clock, grantPublicKeys, tenants, logger, pauseEpoch } = deps;
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  const namespaces = Object.values(tenants).flatMap((t) => t.namespaces);
  const sessions: McpSession[] = [];
  const servers: McpEndpoints['servers'] = {};
  type Identity = { agent: string; namespaces: readonly string[]; tenants?: string[] };
  const tokensOf = (server: McpLayerServer): Map<string, Identity> => {
    const { agents, perTenant } = SESSIONS[server];
    const map = new Map<string, Identity>();
    for (const agent of agents) {
      if (perTenant) {
        for (const [name, t] of Object.entries(tenants)) {
          const token = randomBytes(24).toString('base64url');
          map.set(token, { agent, namespaces: t.namespaces, tenants: [name] });
          sessions.push({ server, agent, tenant: name, token });
        }
      } else {
        const token = randomBytes(24).toString('base64url');
        map.set(token, { agent, namespaces, ...(server === 'opa' ? { tenants: Object.keys(tenants) } : {}) });
        sessions.push({ server, agent, token });
      }
    }
    return map;
  };
  try {
    const hosts: [McpLayerServer, { url: string; close(): Promise<void> }][] = [];
    hosts.push(['kubernetes', await startKubernetesMcpHttp({ kube, sharedState: shared, clock, grantPublicKeys, tokens: tokensOf('kubernetes'), logger })]);
    hosts.push(['configmap', await startConfigMapMcpHttp({ kube, sharedState: shared, clock, grantPublicKeys, tokens: tokensOf('configmap'), logger, pauseEpoch })]);
    hosts.push(['feature-flags', await startFeatureFlagMcpHttp({ kube, sharedState: shared, clock, grantPublicKeys, tokens: tokensOf('feature-flags'), logger, pauseEpoch })]);
    hosts.push(['billing', await startBillingMcpHttp({ kube, sharedState: shared, clock, grantPublicKeys, tokens: tokensOf('billing'), tenants, logger, pauseEpoch })]);
    hosts.push(['finops', await startFinopsMcpHttp({ kube, clock, tenants, tokens: tokensOf('finops'), logger, tracker: deps.tracker })]);
    if (deps.prometheusUrl) {
      hosts.push(['prometheus', await startPrometheusMcpHttp({ prometheusUrl: deps.prometheusUrl, clock, tokens: tokensOf('prometheus'), signals: deps.signals, logger })]);
    }
    const { policy } = deps;
    hosts.push(['opa', await startOpaMcpHttp({ policy, catalog: cachedCatalog(policy, () => readBundleCatalog(deps.policyBundle)), tokens: tokensOf('opa'), logger })]);
    // Node groups are the cluster's shared capacity; a real cluster has no cloud API wired yet.
    if (deps.twin && deps.nodeGroups) {
      hosts.push(['cloud', await startCloudMcpHttp({ provider: new TwinCloudProvider(deps.twin, deps.nodeGroups), groups: deps.nodeGroups, clock, sharedState: shared, grantPublicKeys, pauseEpoch, tokens: tokensOf('cloud'), logger })]);
    }
    for (const [name, host] of hosts) {
      servers[name] = host.url;
      closers.push(() => host.close());
    }
  } catch (err) {
    await close();
    throw err;
  }
  const url = (s: McpLayerServer) => servers[s] ?? 'none';
  const report = [
    `mcp: Kubernetes ${url('kubernetes')}, ConfigMap ${url('configmap')}, Feature Flag ${url('feature-flags')}, Billing ${url('billing')}, FinOps ${url('finops')}, OPA ${url('opa')} (evaluate, explain, list_policies over policy ${deps.policy.version.slice(0, 12)}); sessions per tenant for Watchtower, Elastik, the Configurer and the verifier`,
    ...(servers.prometheus ? [`mcp: Prometheus ${servers.prometheus}, one session per agent and tenant`] : []),
    ...(servers.cloud ? [`mcp: Cloud Provider ${servers.cloud} over the twin's node pools (${Object.keys(deps.nodeGroups ?? {}).join(', ')} configured)`] : []),
  ];
  return { endpoints: { servers, sessions: sessions.filter((s) => servers[s.server]) }, report, close };
}

/** The sessions of one process, connected on first use and closed with it. */
export class McpSessions {
  private readonly open: ToolClient[] = [];

  constructor(
    private readonly endpoints: McpEndpoints,
    private readonly tenants: Tenants,
  ) {}

  has(server: McpLayerServer, agent: string): boolean {
    return Boolean(this.endpoints.servers[server]) && this.endpoints.sessions.some((s) => s.server === server && s.agent === agent);
  }

  /** The agent's one session of a server that spans tenants. */
  async single(server: McpLayerServer, agent: string) {
    const s = this.endpoints.sessions.find((x) => x.server === server && x.agent === agent && !x.tenant);
    const url = this.endpoints.servers[server];
    if (!s || !url) throw new GovernorError('config_invalid', `no MCP session of ${agent} on the ${server} server in the endpoints`);
    const client = await connectMcp({ url, token: s.token, name: agent });
    this.open.push(client);
    return client;
  }

  /** The agent's sessions of a server, one per tenant, behind one client that picks by the call's tenant. */
  async perTenant(server: McpLayerServer, agent: string): Promise<TenantTools> {
    const url = this.endpoints.servers[server];
    const mine = this.endpoints.sessions.filter((x) => x.server === server && x.agent === agent && x.tenant);
    if (!url || mine.length === 0) throw new GovernorError('config_invalid', `no MCP session of ${agent} per tenant on the ${server} server in the endpoints`);
    const byTenant = new Map<string, ToolClient>();
    for (const s of mine) {
      const client = await connectMcp({ url, token: s.token, name: `${agent}-${s.tenant}` });
      this.open.push(client);
      byTenant.set(s.tenant!, client);
    }
    return tenantSessions(byTenant, (name) => this.tenants[name]?.namespaces ?? []);
  }

  /** The tools a server offers the agent (read through one of its sessions, closed again). */
  async toolNames(server: McpLayerServer, agent: string): Promise<string[]> {
    const s = this.endpoints.sessions.find((x) => x.server === server && x.agent === agent);
    const url = this.endpoints.servers[server];
    if (!s || !url) throw new GovernorError('config_invalid', `no MCP session of ${agent} on the ${server} server in the endpoints`);
    const client = await connectMcp({ url, token: s.token, name: `${agent}-lister` });
    try {
      return await client.toolNames();
    } finally {
      await client.close();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.open.map((c) => c.close()));
  }
}
