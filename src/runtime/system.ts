// The composition root: the one file that knows every concrete implementation. It reads the
// validated Config, picks the real component or the embedded default for each layer, wires agents,
// gateway, MCP servers and the Slack app together, and reports what it chose and why. Nothing else
// imports concrete infrastructure; agents get interfaces.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_SIGNALS_FILE, loadSignals } from '../../mcp-servers/prometheus/signals.ts';
import type { TenantTools } from '../../agents/runtime/tenant-sessions.ts';
import { withPrometheusSignals } from '../../agents/runtime/prometheus-signals.ts';
import { OPA_TOOLS } from '../../mcp-servers/opa/server.ts';
import { DEFAULT_NODE_GROUPS_FILE, loadNodeGroups } from '../cloud/node-groups.ts';
import { CLOUD_TOOLS } from '../../agents/elastik/node-capacity.ts';
import { LiveBurnRates } from '../governance/live-burn.ts';
import { PrometheusReplicaTime, PrometheusSliSource } from './prometheus-sli.ts';
import { LiveSpend } from '../governance/live-spend.ts';
import { ArbitrationGate } from '../governance/arbitration-gate.ts';
import { KubeTenancyFacts } from './tenancy-facts.ts';
import { PriorityWatch } from '../../agents/arbitrator/priority-watch.ts';
import { startSweeps } from '../core/sweeps.ts';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config.ts';
import { STREAMS, type Decision, type Proposal } from '../contracts/events.ts';
import type { ApprovalRequirement } from '../audit/records.ts';
import type { Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { redactUrl } from '../core/redact-url.ts';
import type { Logger } from '../core/logger.ts';
import type { BusMessage, EventBus, Subscription } from '../bus/event-bus.ts';
import { McpSessions, startMcpServers, type McpEndpoints } from './mcp-layer.ts';
import { BusNotifier } from './bus-notifier.ts';
import type { SharedState } from '../bus/shared-state.ts';
import { MemoryEventBus } from '../bus/memory-event-bus.ts';
import { MemorySharedState } from '../bus/memory-shared-state.ts';
import { RedisEventBus } from '../bus/redis-event-bus.ts';
import { RedisSharedState } from '../bus/redis-shared-state.ts';
import { PrefixedEventBus } from '../bus/prefixed-event-bus.ts';
import { Redis } from 'ioredis';
import type { AuditStore } from '../audit/audit-store.ts';
import { PgAuditStore } from '../audit/pg-audit-store.ts';
import { startEmbeddedPostgres } from '../audit/embedded-postgres.ts';
import { OutboxRelay } from '../audit/outbox-relay.ts';
import { openAuditKey } from '../audit/audit-key.ts';
import { Checkpointer, checkpointFile } from '../audit/checkpoints.ts';
import { ReloadingPolicyEngine } from '../policy/reloading-policy-engine.ts';
import { openPolicyPublicKey } from '../policy/bundle-signature.ts';
import { RealClock } from '../core/clock.ts';
import type { AutonomyLevels } from '../governance/autonomy.ts';
import { AutonomyManager } from '../governance/autonomy-manager.ts';
import { PgAutonomyStore } from '../governance/autonomy-store.ts';
import { SharedStatePauseEpoch } from '../governance/pause-epoch.ts';
import { DEFAULT_GOVERNOR_FILE, PhaseFileWatcher } from '../governance/phase-file.ts';
import { AgentHealth } from '../governance/agent-health.ts';
import { Gateway } from '../governance/gateway.ts';
import type { ApprovalChannel, Notifier } from '../governance/channels.ts';
import { ApprovalDesk } from '../governance/approvals.ts';
import { ApprovalExpiry } from '../governance/approval-expiry.ts';
import { firstDecision } from '../governance/proposal-life.ts';
import { generateGrantKeys, grantKeysFromPem, type GrantKeys } from '../governance/grants.ts';
import { RESTRICTED_TIER, adoptAssumedTenants, unknownTenantReason } from '../governance/assumed-tenant.ts';
import { DEFAULT_TENANTS_FILE, loadGovernanceConfig, withSandboxGovernance, type GovernanceConfig, type Tenants } from '../governance/tenants.ts';
import { ClusterTwin } from '../twin/cluster-twin.ts';
import { startKubeApiServer } from '../twin/kube-api-server.ts';
import { loadKubeconfig } from '../twin/kubeconfig.ts';
import { ClusterDiscovery } from '../cluster/cluster-discovery.ts';
import { KubeBlastRadiusFacts } from '../cluster/cluster-facts.ts';
import { SLO_P99_ANNOTATION, TENANT_LABEL, type DiscoveredTarget } from '../cluster/watch-targets.ts';
import { buildScenario, type ScenarioName } from '../twin/scenarios/index.ts';
import { createSlackApp, type GovernorSlackApp } from '../slack/slack-app.ts';
import { httpTransport, socketModeTransport } from '../slack/slack-transport.ts';
import { COCKPIT_EVENTS, CockpitProjector } from '../slack/cockpit-projector.ts';
import { PgCockpitStore } from '../slack/cockpit-store.ts';
import { PrometheusMetricHistory, type MetricHistory } from '../slack/metric-history.ts';
import { ObservationAnswers, recordOnlyPager, type PageOnCall } from '../slack/observation-answers.ts';
import { AuditHome } from '../slack/app-home.ts';
import { RecordsIncidentQueries } from '../governance/incident-answers.ts';
import { LlmIncidentQueries } from '../llm/llm-incident-queries.ts';
import { llmReport, reasonerOf } from '../llm/from-config.ts';
import type { Reasoner } from '../llm/reasoner.ts';
import { startSampler } from '../twin/metrics/sampler.ts';
import { startQueryApiServer } from '../twin/metrics/query-api.ts';
import { startSlackSandbox } from '../sandbox/slack-sandbox.ts';
import type { SlackFake } from '../sandbox/slack-web-api-fake.ts';
import { AuditRecorder } from '../audit/recorder.ts';
import type { ToolClient } from '../../agents/runtime/tool-client.ts';
import { Watchtower, type WatchTarget } from '../../agents/watchtower/watchtower.ts';
import { Elastik } from '../../agents/elastik/elastik.ts';
import { Configurer } from '../../agents/configurer/configurer.ts';
import { CONFIGMAP_TOOLS } from '../../agents/configurer/config-views.ts';
import { Arbitrator } from '../../agents/arbitrator/arbitrator.ts';
import { BILLING_TOOLS } from '../../agents/arbitrator/billing-views.ts';
import { Strategist } from '../../agents/strategist/strategist.ts';
import { METRICS_TOOLS, routeTools } from '../../agents/runtime/tool-router.ts';
import { FEATURE_FLAG_TOOLS } from '../../agents/configurer/flag-views.ts';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import { WorkTracker } from '../core/work-tracker.ts';
import { MemoryPagingService } from '../paging/memory-paging.ts';
import { PdjsPagingService } from '../paging/pdjs-paging.ts';
import { PAGER_STREAMS, Pager } from '../paging/pager.ts';
import { requestedTrigger } from '../paging/paging-policy.ts';

/** What one process can run; `governor start` without REDIS_URL and DATABASE_URL runs them all in one. */
export const ROLES = ['gateway', 'executor', 'watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist'] as const;
export type Role = (typeof ROLES)[number];
export const AGENT_ROLES = ['watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist'] as const;

/** How a process names itself (in notices, logs): `agent elastik`, `gateway`, or `governor` for all of them. */
export function processName(roles: ReadonlySet<Role>): string {
  if (roles.size === ROLES.length) return 'governor';
  return ROLES.filter((r) => roles.has(r)).map((r) => ((AGENT_ROLES as readonly string[]).includes(r) ? `agent ${r}` : r)).join(' + ');
}

export interface SystemOptions {
  /** What this process runs (all of it by default). */
  roles?: readonly Role[];
  /**
   * The MCP servers run elsewhere (the supervisor, their own pods): connect with these sessions
   * instead of starting servers (GOVERNOR_MCP_ENDPOINTS_FILE).
   */
  mcpEndpoints?: McpEndpoints;
  /**
   * The cluster at KUBECONFIG is the twin of `scenario`, run by the supervisor: its targets and
   * tenants are the scenario's, and its Prometheus-compatible query API (not the metrics source
   * PROMETHEUS_URL would be) is at queryUrl.
   */
  twinElsewhere?: { queryUrl: string; /** Slack is the supervisor's sandbox: its people approve. */ sandboxSlack?: boolean };
  config: Config;
  clock: Clock;
  logger: Logger;
  /** Twin scenario to run when no KUBECONFIG is given. */
  scenario: ScenarioName;
  /** PostgreSQL schema for the audit log (the demo uses its own). */
  auditSchema?: string;
  /** Poll intervals in the run's clock. */
  pollMs?: number;
  /** Where the embedded database keeps its files when DATABASE_URL is unset; in memory when absent. */
  embeddedPgDataDir?: string;
  /**
   * Isolates a run on shared infrastructure: streams and shared state live under this prefix and are
   * deleted when the run stops (the demo and tests use it; `start` does not).
   */
  runId?: string;
  /** How long the language model's circuit breaker stays open before a probe (30 s by default; tests shorten it). */
  llmCooldownMs?: number;
}

export interface System {
  bus: EventBus;
  audit: AuditStore;
  tracker: WorkTracker;
  twin: ClusterTwin | undefined;
  slackFake: SlackFake | undefined;
  /** What was started, and what fell back to an embedded default, and why: for the first lines of output. */
  report: string[];
  targets: WatchTarget[];
  tenants: Tenants;
  autonomy: AutonomyLevels;
  policyVersion: string;
  /** The language model with its breaker, as the agents use it (no model without ANTHROPIC_API_KEY). */
  llm: Reasoner;
  /** True when no work is pending anywhere: bus, outbox, timers' work in flight. */
  idle(): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startSystem(opts: SystemOptions): Promise<System> {
  const { config, clock, logger } = opts;
  const roles: ReadonlySet<Role> = new Set(opts.roles ?? ROLES);
  const needs = (...r: Role[]) => r.some((x) => roles.has(x));
  const report: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (err) {
        logger.warn({ err: describeError(err) }, 'error while stopping');
      }
    }
  };

  try {
    // Bus and shared state live in the same backing store, so cooldowns agree wherever the bus reaches.
    let bus: EventBus & { close(): Promise<void> };
    let shared: SharedState;
    if (config.redisUrl) {
      const redisBus = new RedisEventBus({ url: config.redisUrl, logger });
      bus = opts.runId ? new PrefixedEventBus(redisBus, `${opts.runId}:`) : redisBus;
      shared = new RedisSharedState({ url: config.redisUrl, keyPrefix: `${opts.runId ?? 'governor'}:state:` });
      report.push(`bus: Redis Streams at ${redactUrl(config.redisUrl)}`);
      const redisUrl = config.redisUrl;
      if (opts.runId) closers.push(() => purgeRedisPrefix(redisUrl, `${opts.runId}:`));
    } else {
      bus = new MemoryEventBus({ logger });
      shared = new MemorySharedState();
      report.push('bus: in-memory (REDIS_URL is not set)');
    }
    closers.push(() => bus.close(), () => shared.close());

    let databaseUrl = config.databaseUrl;
    let poolSize = 10;
    if (databaseUrl) {
      report.push(`audit: PostgreSQL at ${redactUrl(databaseUrl)}`);
    } else {
      const embedded = await startEmbeddedPostgres({ logger, ...(opts.embeddedPgDataDir ? { dataDir: opts.embeddedPgDataDir } : {}) });
      closers.push(() => embedded.close());
      databaseUrl = embedded.connectionString;
      poolSize = 1;
      report.push(`audit: embedded PGlite over the Postgres wire protocol at ${databaseUrl} (DATABASE_URL is not set)`);
    }
    // Every record sealed with the audit key, which the database never holds; kept where
    // `audit verify` finds it when the log outlives this run.
    const durableLog = Boolean(config.databaseUrl ?? opts.embeddedPgDataDir);
    const auditKey = openAuditKey(config, durableLog);
    report.push(`audit key: ${auditKey.source}`);
    const audit = new PgAuditStore({ connectionString: databaseUrl, schema: opts.auditSchema ?? 'governor', poolSize, logger, auditKey: auditKey.key });
    closers.push(() => audit.close());
    await audit.migrate();

    // The bundle hot-reloads (a file change, or a ConfigMap mount swapping its data); a broken one is
    // refused, announced, and the previous one stays in force.
    let announce: (text: string) => void = () => {};
    // Only the gateway decides, and the OPA MCP server explains, with the policy: an agent's process
    // loads none.
    let policy: ReloadingPolicyEngine | undefined;
    if (needs('gateway') || !opts.mcpEndpoints) {
      // Only bundles signed for this key load, at start and on reload (src/policy/bundle-signature.ts).
      const policyKey = openPolicyPublicKey(config.policyPublicKeyFile);
      const p = await ReloadingPolicyEngine.open({
        ...(config.policyBundle ? { path: config.policyBundle } : {}),
        publicKey: policyKey.key,
        ...(opts.clock instanceof RealClock ? {} : { watch: false, pollIntervalMs: 0 }),
        onReload: (version) => {
          logger.info({ policy_version: version }, 'policy bundle reloaded');
          announce(`Policy bundle ${version.slice(0, 12)} is now in force.`);
        },
        onReloadError: (err) => {
          logger.error({ err: err.message }, 'policy bundle refused');
          announce(`A new policy bundle was refused; the previous one stays in force. ${err.message}`);
        },
      });
      closers.push(async () => p.close());
      report.push(
        `policy: OPA Wasm bundle ${p.version.slice(0, 12)} (reloads on change), signed for ${policyKey.development ? 'the DEVELOPMENT key, which anyone with the repository can sign with (set GOVERNOR_POLICY_PUBLIC_KEY_FILE to your own)' : policyKey.source}`,
      );
      policy = p;
    }

    // The cluster: a real one through KUBECONFIG, or the twin served as a Kubernetes API.
    let kube: KubeConfig;
    let twin: ClusterTwin | undefined;
    let targets: () => readonly WatchTarget[];
    let governance: GovernanceConfig;
    if (opts.twinElsewhere) {
      // The twin runs in the supervisor; this process knows its scenario (targets, tenants) without
      // running it, and reaches it as a cluster through KUBECONFIG, as every other process does.
      if (!config.kubeconfig) throw new GovernorError('config_invalid', 'a process of the twin needs the KUBECONFIG its supervisor wrote');
      const scenario = buildScenario(opts.scenario, clock);
      kube = new KubeConfig();
      kube.loadFromFile(config.kubeconfig);
      targets = () => scenario.targets;
      governance = config.tenantsFile ? loadGovernanceConfig(config.tenantsFile) : scenarioGovernance(scenario.tenants);
      report.push(`cluster: twin scenario '${opts.scenario}' run by the supervisor, at ${kube.getCurrentCluster()?.server ?? 'unknown'}`);
    } else if (config.kubeconfig || config.kubeInCluster) {
      governance = loadGovernanceConfig(config.tenantsFile ?? DEFAULT_TENANTS_FILE);
      kube = new KubeConfig();
      // A pod's own ServiceAccount when there is no KUBECONFIG inside a cluster (the Helm install).
      if (config.kubeconfig) kube.loadFromFile(config.kubeconfig);
      else kube.loadFromCluster();
      if (!needs('watchtower', 'gateway')) {
        // What is watched matters to Watchtower and the gateway alone: this process acts on the tenants
        // file's tenants, through its MCP sessions, and reads nothing of the cluster itself.
        targets = () => [];
        report.push(`cluster: ${kube.getCurrentCluster()?.server ?? 'unknown'} from ${config.kubeconfig ? 'KUBECONFIG' : 'the pod\'s ServiceAccount'}; this process reads it only through its MCP sessions`);
      } else {
        // What to watch comes from the cluster (DESIGN §8): annotated Deployments, tenants and
        // environments from namespace labels, through watches, so a change applies without a restart.
        // Tenants the file does not name are watched under the most restrictive tier; the sessions are
        // bound at start, so one that appears later is watched from the next start (and said so).
        let atStart: ReadonlySet<string> | undefined;
        const watchable = (t: DiscoveredTarget) => !t.assumedTier || atStart === undefined || atStart.has(t.namespace);
        const discovery = new ClusterDiscovery({
          kube, tenants: governance.tenants, logger,
          onChange: (d, previous) => {
            const names = (ts: readonly DiscoveredTarget[]) => new Set(ts.filter(watchable).map((t) => `${t.namespace}/${t.deployment}`));
            const before = names(previous.targets);
            const now = names(d.targets);
            for (const t of d.targets.filter((x) => !watchable(x) && !previous.targets.some((y) => y.namespace === x.namespace && y.deployment === x.deployment))) {
              logger.warn({ tenant: t.tenant }, `discovery: ${t.namespace}/${t.deployment}: tenant ${t.tenant} is not in the tenants file and appeared after start; watched under tier '${t.assumedTier}' from the next start`);
            }
            const added = [...now].filter((n) => !before.has(n));
            const removed = [...before].filter((n) => !now.has(n));
            if (added.length + removed.length > 0) logger.info({ added, removed }, `watch set: ${[...now].join(', ') || 'nothing'}`);
            for (const p of d.problems.filter((p) => !previous.problems.includes(p))) logger.warn({}, `discovery: ${p}`);
          },
        });
        const found = await discovery.start();
        closers.push(() => discovery.stop());
        const assumed = adoptAssumedTenants(governance.tenants, found.targets);
        atStart = new Set(found.targets.map((t) => t.namespace));
        targets = () => discovery.targets().filter(watchable);
        for (const name of assumed) logger.warn({ tenant: name }, unknownTenantReason(name));
        report.push(`cluster: ${kube.getCurrentCluster()?.server ?? 'unknown'} from ${config.kubeconfig ? 'KUBECONFIG' : 'the pod\'s ServiceAccount'}; watching Deployments annotated ${SLO_P99_ANNOTATION}, tenants from namespace label ${TENANT_LABEL}`);
        for (const p of found.problems) report.push(`discovery: ${p}`);
        if (found.unknownTenants.length > 0) report.push(`discovery: tenants not in the tenants file, watched under the most restrictive tier '${RESTRICTED_TIER}': ${found.unknownTenants.join(', ')}`);
      }
    } else {
      const scenario = buildScenario(opts.scenario, clock);
      twin = scenario.twin;
      twin.start();
      closers.push(async () => twin?.stop());
      // Served as a cluster would be: HTTPS with its own CA, which the clients verify, and a bearer token.
      const apiToken = randomBytes(24).toString('base64url');
      const api = await startKubeApiServer(twin, { logger, tls: true, token: apiToken });
      closers.push(() => api.close());
      kube = loadKubeconfig(api.kubeconfig('governor'));
      targets = () => scenario.targets;
      // The scenario's tenants are the ones that exist in its cluster; a tenants file, when given, wins.
      governance = config.tenantsFile ? loadGovernanceConfig(config.tenantsFile) : scenarioGovernance(scenario.tenants);
      report.push(`cluster: twin scenario '${opts.scenario}' served as a Kubernetes API over HTTPS at ${api.url} (KUBECONFIG is not set)`);
    }

    // The sandbox's people approve in the sandbox; a real workspace has only the approvers configured.
    if (config.slack.mode === 'sandbox' || opts.twinElsewhere?.sandboxSlack) governance = withSandboxGovernance(governance);
    const tenants: Tenants = governance.tenants;

    const keys: GrantKeys = config.grantKeyFile
      ? grantKeysFromPem(config.grantKeyId, readFileSync(config.grantKeyFile, 'utf8'))
      : generateGrantKeys('sandbox');
    if (!config.grantKeyFile && needs('gateway')) report.push('grants: Ed25519 key generated for this run (GOVERNOR_GRANT_KEY_FILE is not set)');
    const publicKeys = new Map<string, KeyObject>([[keys.keyId, keys.publicKey]]);

    const tracker = new WorkTracker();
    const pauseEpoch = new SharedStatePauseEpoch(shared);

    // The MCP layer (src/runtime/mcp-layer.ts): the servers started here, or — with the processes
    // apart — running in the supervisor (or their own pods), reached with the sessions this process
    // was given. One MCP session per agent, server and tenant where the agent's work is one tenant's
    // at a time (Watchtower, Elastik, the Configurer, the verifier, and the Arbitrator's reads of the
    // judged service): each bearer token binds its session to that tenant's namespaces alone, and the
    // server refuses anything beyond them (agents/runtime/tenant-sessions.ts picks the session). The
    // Arbitrator's Billing session and the Strategist's FinOps session serve every tenant: weighing
    // tenants against each other, and the whole cluster's capacity, is their job.
    //
    // Prometheus (PROMETHEUS_URL, or on the twin the twin's own Prometheus-compatible query API) and
    // its MCP server (mcp-servers/prometheus): with PROMETHEUS_URL, Prometheus is the metrics source,
    // each signal read with its configured PromQL (GOVERNOR_SIGNALS_FILE).
    let prometheusUrl: string | undefined = config.prometheusUrl ?? opts.twinElsewhere?.queryUrl;
    if (!prometheusUrl && twin) {
      const sampler = startSampler(twin);
      closers.push(async () => sampler.stop());
      const promApi = await startQueryApiServer(sampler.store, { now: () => clock.now() });
      closers.push(() => promApi.close());
      prometheusUrl = promApi.url;
    }
    const signals = loadSignals(config.signalsFile);
    let endpoints: McpEndpoints;
    if (opts.mcpEndpoints) {
      endpoints = opts.mcpEndpoints;
      report.push(`mcp: servers elsewhere (${Object.entries(endpoints.servers).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}); ${endpoints.sessions.length} sessions of this process's agents`);
    } else {
      const servers = await startMcpServers({
        kube, twin, shared, clock, grantPublicKeys: publicKeys, tenants, prometheusUrl, signals, policy: policy!, policyBundle: config.policyBundle, pauseEpoch, tracker, logger,
        ...(twin ? { nodeGroups: loadNodeGroups(config.nodeGroupsFile ?? DEFAULT_NODE_GROUPS_FILE) } : {}),
      });
      closers.push(() => servers.close());
      endpoints = servers.endpoints;
      report.push(
        ...servers.report.map((l) =>
          l.startsWith('mcp: Prometheus ') && endpoints.servers.prometheus
            ? `mcp: Prometheus ${endpoints.servers.prometheus} over ${config.prometheusUrl ? 'PROMETHEUS_URL, the metrics source (signals as configured in ' + (config.signalsFile ?? DEFAULT_SIGNALS_FILE) + ')' : "the twin's query API"}, one session per agent and tenant`
            : l,
        ),
      );
    }
    const mcp = new McpSessions(endpoints, tenants);
    closers.push(() => mcp.close());
    const tenantOfNamespace = (ns: string) => Object.entries(tenants).find(([, t]) => t.namespaces.includes(ns))?.[0];
    const promOf = async (agent: string): Promise<TenantTools | undefined> => (mcp.has('prometheus', agent) ? mcp.perTenant('prometheus', agent) : undefined);
    /** An agent's Kubernetes sessions, with the service signals from Prometheus when PROMETHEUS_URL names one. */
    const kubeSessions = async (agent: string): Promise<ToolClient> => {
      const k8s = await mcp.perTenant('kubernetes', agent);
      const prom = config.prometheusUrl ? await promOf(agent) : undefined;
      if (!prom) return k8s;
      return withPrometheusSignals(k8s, (ns) => {
        const tenant = tenantOfNamespace(ns);
        return tenant ? prom.forTenant(tenant) : undefined;
      });
    };
    // Each process connects only the sessions of the agents it runs.
    const watchtowerTools = needs('watchtower') ? await kubeSessions('watchtower') : undefined;
    const watchtowerMetrics = needs('watchtower') ? await promOf('watchtower') : undefined;
    // The Cloud Provider MCP server (mcp-servers/cloud) over the twin's node pools, with the bounds
    // of config/node-groups.json: Elastik adds nodes through it when pods are Pending for lack of
    // room. Node groups are the cluster's shared capacity: one session for all of Elastik's tenants
    // (the gateway counts every tenant on the group's nodes in the blast radius). A real cluster has
    // no cloud API wired yet: no server, and Elastik plans replicas only.
    let elastikTools: ToolClient | undefined;
    if (needs('elastik', 'executor')) {
      const elastikKube = await kubeSessions('elastik');
      elastikTools = elastikKube;
      if (mcp.has('cloud', 'elastik')) {
        elastikTools = routeTools([
          { client: elastikKube, tools: await mcp.toolNames('kubernetes', 'elastik') },
          { client: await mcp.single('cloud', 'elastik'), tools: CLOUD_TOOLS },
        ]);
      }
    }
    const verifierTools = needs('executor') ? await kubeSessions('verifier') : undefined;
    // The Configurer reads and acts through two servers of its own: config maps and feature flags.
    const configurerTools = needs('configurer', 'executor')
      ? routeTools([
          { client: await mcp.perTenant('configmap', 'configurer'), tools: CONFIGMAP_TOOLS },
          { client: await mcp.perTenant('feature-flags', 'configurer'), tools: FEATURE_FLAG_TOOLS },
        ])
      : undefined;
    // The OPA MCP server (mcp-servers/opa): the same engine the gateway decides with, for the
    // Arbitrator's session (its tools beside Billing's); people run `governor mcp opa --stdio`.
    let arbitratorTools: ToolClient | undefined;
    if (needs('arbitrator', 'executor')) {
      const billing = await mcp.single('billing', 'arbitrator');
      arbitratorTools = routeTools([
        { client: billing, tools: await billing.toolNames() },
        ...(mcp.has('opa', 'arbitrator') ? [{ client: await mcp.single('opa', 'arbitrator'), tools: OPA_TOOLS }] : []),
      ]);
    }
    const strategistTools = needs('strategist') ? await mcp.single('finops', 'strategist') : undefined;
    // What the Configurer's and the Arbitrator's executors reach: their own server's tools, and the
    // judged service's metrics through their own Kubernetes sessions.
    const configurerExec = needs('executor')
      ? routeTools([
          { client: configurerTools!, tools: [...CONFIGMAP_TOOLS, ...FEATURE_FLAG_TOOLS] },
          { client: await kubeSessions('configurer'), tools: METRICS_TOOLS },
        ])
      : undefined;
    const arbitratorExec = needs('executor')
      ? routeTools([
          { client: arbitratorTools!, tools: BILLING_TOOLS },
          { client: await kubeSessions('arbitrator'), tools: METRICS_TOOLS },
        ])
      : undefined;
    const relay = new OutboxRelay(audit, bus, logger);
    relay.start();
    closers.push(() => relay.stop());
    const recorder = new AuditRecorder(audit, () => void relay.nudge());

    // Autonomy: persisted in PostgreSQL, broadcast on the bus, applied in every process; the phase
    // follows a watched configuration file; a pause revokes grants issued before it.
    const autonomyStore = new PgAutonomyStore({ connectionString: databaseUrl, schema: opts.auditSchema ?? 'governor', poolSize: poolSize === 1 ? 1 : 4, logger });
    closers.push(() => autonomyStore.close());
    const autonomyManager = new AutonomyManager({ store: autonomyStore, recorder, bus, clock, logger, defaultPhase: config.phase, pauseEpoch });
    await autonomyManager.start();
    closers.push(async () => autonomyManager.stop());
    // The phase follows its file in the gateway's process; every other process hears the change on the bus.
    if (needs('gateway')) {
      const phaseWatcher = new PhaseFileWatcher({
        path: config.governorFile ?? DEFAULT_GOVERNOR_FILE, target: autonomyManager, logger,
        // Said in the channel as a refused policy bundle is: whoever changed the file learns it did not apply.
        onInvalid: (err) => announce(`A new phase file was refused; phase '${autonomyManager.phase}' stays in force. ${err.message}`),
      });
      const phaseCheck = await phaseWatcher.start();
      closers.push(async () => phaseWatcher.stop());
      if (phaseCheck.status === 'invalid') report.push(`autonomy: ${phaseCheck.error.message}; phase stays '${autonomyManager.phase}'`);
    }
    const autonomy = autonomyManager.levels;

    // The language model: where it may help (Watchtower's reading, Elastik's and the Configurer's
    // choice among their candidates, incident explain); the rules answer whenever it cannot.
    const reasoner = reasonerOf(config.llm, { logger, announce: (text) => announce(text), ...(opts.llmCooldownMs !== undefined ? { cooldownMs: opts.llmCooldownMs } : {}) });
    const subs: Subscription[] = [];
    const consumer = `p${process.pid}`;
    const sub = (stream: string, group: string, handler: (m: BusMessage) => Promise<void>) =>
      subs.push(bus.subscribe(stream, { group, consumer, blockMs: 200, claimIdleMs: 10_000 }, handler));
    // A process without the Slack app (an agent, the executor) tells the humans through the bus; the
    // gateway's process, which hosts the app, posts what it hears (src/runtime/bus-notifier.ts).
    let notifier: Notifier = new BusNotifier({ bus, source: processName(roles), clock, logger });
    let liveBurn: LiveBurnRates | undefined;
    // The Arbitrator's priorities follow every refresh of the burn rates (set once the notifier exists).
    let priorityWatch: PriorityWatch | undefined;
    let liveSpend: LiveSpend | undefined;
    let slackFake: SlackFake | undefined;

    // The gateway's process: approvals, the Slack app and its cockpit, paging, the audit checkpoints,
    // agent health, and the gateway itself.
    if (needs('gateway')) {
      // Approvals: who may approve what (the tenants file), and the one decision on each proposal.
      let slack: GovernorSlackApp | undefined;
      const desk = new ApprovalDesk({
        audit, recorder, tenants, defaults: governance.approvals, operators: governance.operators, clock, logger,
        // Groups resolve through Slack once the app exists; before that, no group has members (fail closed).
        directory: { membersOf: (g) => slack?.membersOf(g) ?? Promise.resolve([]) },
      });
      if (!desk.anyApprover) report.push('approvals: nobody can approve supervised actions (no approvers in the tenants file); they wait and expire');

      // Slack: the real workspace with credentials, else the local Web API fake and its console. The
      // cockpit (one thread per incident, src/slack/cockpit-projector.ts) reads the key metric for its
      // charts from Prometheus — PROMETHEUS_URL, or on the twin the twin's own Prometheus-compatible
      // query API — and keeps which message is which in the audit schema (slack_messages).
      let history: MetricHistory | undefined;
      if (prometheusUrl) history = new PrometheusMetricHistory(prometheusUrl);

      // Live burn rates for the policy input, from the tenants' SLIs in Prometheus (the configured figure
      // stands for a tenant whose SLIs cannot be read).
      // The Arbitrator's priorities follow every refresh of the burn rates (set once the notifier exists).
      if (prometheusUrl) {
        liveBurn = new LiveBurnRates({
          source: new PrometheusSliSource(prometheusUrl, signals), tenants, clock, logger, spawn: (fn, onError) => tracker.spawn(fn, onError),
          afterRefresh: async () => void (await priorityWatch?.tick()),
        });
        liveBurn.start();
        const lb = liveBurn;
        closers.push(async () => lb.stop());
        report.push('sla: burn rates computed every minute from the tenants\' SLIs in Prometheus (1 h and 5 min windows), the configured figure where they cannot be read');
      }
      // Live month-to-date spend for the cost layer: replica-time in Prometheus priced by the FinOps cost
      // model (live-spend.ts); never below the billed figure while Prometheus misses part of the month.
      if (prometheusUrl) {
        liveSpend = new LiveSpend({ source: new PrometheusReplicaTime(prometheusUrl, signals), tenants, clock, logger, spawn: (fn, onError) => tracker.spawn(fn, onError) });
        liveSpend.start();
        const ls = liveSpend;
        closers.push(async () => ls.stop());
        report.push('cost: month-to-date spend metered every 5 minutes from replica-time in Prometheus × each tenant\'s per-pod price (the billed figure where Prometheus misses part of the month)');
      }
      const cockpitStore = new PgCockpitStore({ connectionString: databaseUrl, schema: opts.auditSchema ?? 'governor', poolSize: poolSize === 1 ? 1 : 2, logger });
      closers.push(() => cockpitStore.close());
      let projector: CockpitProjector | undefined;
      const watched = () => targets().map((t) => ({ namespace: t.namespace, deployment: t.deployment }));
      // Paging: PagerDuty's Events API with a routing key, else kept in memory (the pager is below).
      const paging = config.pagerduty.routingKey
        ? new PdjsPagingService({ routingKey: config.pagerduty.routingKey, host: config.pagerduty.eventsHost })
        : new MemoryPagingService({ clock });
      // Page on-call from an incident's message: sent at once through PagerDuty (a failure is the
      // asker's to see and retry); without a routing key nobody is paged, and the answer says so.
      const pageOnCall: PageOnCall = config.pagerduty.routingKey
        ? async (req) => {
            const receipt = await paging.trigger(requestedTrigger({ ...req, at: new Date(clock.now()).toISOString() }));
            return { status: 'paged', detail: `PagerDuty took the page (${receipt.dedup_key})` };
          }
        : recordOnlyPager;
      const slackFeatures = {
        threadOf: (incidentId: string) => projector?.threadFor(incidentId) ?? Promise.resolve(undefined),
        observations: new ObservationAnswers({ audit, recorder, clock, pageOnCall, claims: shared, onAnswered: (id) => void projector?.refresh(id).catch(() => undefined) }),
        home: new AuditHome({
          audit, autonomy: autonomyManager, tenants, clock, ...(liveBurn ? { liveBurn } : {}), ...(liveSpend ? { liveSpend } : {}),
          coverage: async () => ({
            watched: watched().map((w) => `${w.namespace}/${w.deployment}`),
            reporting: history
              ? (await Promise.all(watched().map(async (w) => ((await history!.p99(w, clock.now() - 5 * 60_000, clock.now(), 15_000).catch(() => [])).length > 0 ? [`${w.namespace}/${w.deployment}`] : [])))).flat()
              : [],
          }),
        }),
        incidents: new LlmIncidentQueries({ rules: new RecordsIncidentQueries(audit), audit, reasoner, recorder, clock }),
      };
      if (config.slack.mode === 'real') {
        const s = config.slack;
        // One app, one set of listeners; only how requests arrive differs (src/slack/slack-transport.ts).
        const transport = s.connection === 'socket'
          ? socketModeTransport({ appToken: s.appToken!, ...(s.apiUrl ? { slackApiUrl: s.apiUrl } : {}), logger })
          : httpTransport({ signingSecret: s.signingSecret!, port: s.port, host: s.host, logger });
        slack = await createSlackApp({
          transport,
          botToken: s.botToken,
          ...(s.apiUrl ? { slackApiUrl: s.apiUrl } : {}),
          channel: s.channel,
          approvals: desk,
          replayGuard: shared,
          autonomy: autonomyManager,
          ...slackFeatures,
          logger,
        });
        const started = await slack.start();
        closers.push(() => slack!.stop());
        report.push(
          `slack: workspace via the Web API${s.apiUrl ? ` at ${s.apiUrl}` : ''}, channel #${s.channel}, ` +
            (s.connection === 'socket' ? `Socket Mode (SLACK_APP_TOKEN) connected to ${started.url}` : `interactions at ${started.url}`),
        );
      } else {
        const sandbox = await startSlackSandbox({
          channel: config.slack.channel,
          consolePort: config.consolePort,
          approvals: desk,
          replayGuard: shared,
          autonomy: autonomyManager,
          ...slackFeatures,
          logger,
        });
        closers.push(() => sandbox.stop());
        slack = sandbox.app;
        slackFake = sandbox.fake;
        report.push(`slack: sandbox console at ${sandbox.consoleUrl} (SLACK_BOT_TOKEN is not set)`);
      }
      const slackApp = slack;
      projector = new CockpitProjector({ audit, store: cockpitStore, slack: slackApp, ...(history ? { history } : {}), clock, logger });
      const cockpit = projector;

      const approvals: ApprovalChannel = {
        requestApproval: (p: Proposal, d: Decision, requirement: ApprovalRequirement) => slackApp.requestApproval(p, d, requirement),
      };
      notifier = {
        // What belongs to an incident goes into its thread (the thread shows its records as well, so
        // the channel holds one message per incident); the rest, and anything before a thread exists,
        // to the channel.
        notify: async (text, about) => {
          try {
            const thread = about?.incident_id ? await cockpit.threadFor(about.incident_id).catch(() => undefined) : undefined;
            await slackApp.notify(text, undefined, thread?.ts);
          } catch (err) {
            logger.warn({ err: describeError(err) }, 'slack notification failed');
          }
        },
      };
      const expiry = new ApprovalExpiry({
        desk,
        clock,
        logger,
        spawn: (fn, onError) => tracker.spawn(fn, onError),
        ended: async (life) => {
          const ref = life.request?.channel as { channel?: unknown; ts?: unknown } | undefined;
          const d = firstDecision(life)!;
          if (typeof ref?.channel === 'string' && typeof ref.ts === 'string') {
            await slackApp.approvalEnded({ channel: ref.channel, ts: ref.ts }, life.proposal, d, { outcome: 'expired', user_ids: [], at_ms: clock.now() }, life.request?.requirement);
          }
          await notifier.notify(`Approval of ${life.proposal.action} of ${life.proposal.target.name} (${life.proposal.tenant}) expired unanswered; nothing runs.`, { incident_id: life.proposal.incident_id });
          // An expiry travels no event: the incident's thread is told here.
          if (life.proposal.incident_id) {
            await cockpit.refresh(life.proposal.incident_id).catch((err: unknown) => logger.warn({ err: describeError(err), incident_id: life.proposal.incident_id }, 'incident thread not updated after an expiry'));
          }
        },
      });
      expiry.start();
      closers.push(async () => expiry.stop());
      announce = (text) => void notifier.notify(text);
      // The chain head, signed and published outside the database (a file, this channel) every
      // interval and at stop. Stopped after the consumers and before Slack: the last checkpoint
      // anchors the log's end, and is posted.
      if (durableLog) {
        const schema = opts.auditSchema ?? 'governor';
        const file = checkpointFile(config, schema);
        const checkpointer = new Checkpointer({ audit, key: auditKey.key, schema, file, notify: (text) => notifier.notify(text), clock: new RealClock(), intervalMs: config.audit.checkpointIntervalS * 1000, logger });
        const first = await checkpointer.start();
        closers.push(() => checkpointer.stop());
        report.push(`audit checkpoints: every ${config.audit.checkpointIntervalS} s and at stop, to ${file} and the Slack channel${first.status === 'discontinuous' ? `; ALERT: ${first.problem}` : ''}`);
      } else report.push('audit checkpoints: none (the log lives in memory and ends with this run)');
      // The language model: where it may help (Watchtower's reading, Elastik's and the Configurer's
      // choice among their candidates, incident explain); the rules answer whenever it cannot.
      report.push(llmReport(config.llm));

      // Blast radii computed from the target on the cluster, never taken on the agent's word alone.
      // The Arbitrator before every grant: priority and preemption, then the entitlement and co-tenant check.
      const gateway = new Gateway({
        audit, recorder, policy: policy!, autonomy, tenants, keys, clock, logger, approvals, desk, notifier, sharedState: shared,
        blastRadius: new KubeBlastRadiusFacts(kube), ...(liveBurn ? { liveBurn } : {}), ...(liveSpend ? { liveSpend } : {}),
        arbitration: new ArbitrationGate({ audit, tenants, facts: new KubeTenancyFacts(kube, tenants), clock, logger }),
      });
      if (liveBurn) priorityWatch = new PriorityWatch({ burns: liveBurn, tenants, recorder, clock, logger, notifier });
      // Preempted proposals resume (or expire) once the priority that held them back has ended.
      const resumes = startSweeps({
        clock, everyMs: 30_000, spawn: (fn, onError) => tracker.spawn(fn, onError), sweep: () => gateway.resumePreempted(),
        onError: (err) => logger.warn({ err: describeError(err) }, 'preempted proposals not resumed'),
      });
      closers.push(async () => resumes.stop());
      const health = new AgentHealth({ autonomy: autonomyManager, notifier, clock, logger });
      // The cockpit: every event that changes what an incident's Slack thread shows, in a group of its own.
      for (const type of COCKPIT_EVENTS) sub(STREAMS[type], 'cockpit', (m) => cockpit.onMessage(m));
      sub(STREAMS.proposal, 'gateway', (m) => gateway.onMessage(m));
      sub(STREAMS.approval, 'gateway', (m) => gateway.onMessage(m));
      sub(STREAMS.rollback, 'gateway', (m) => gateway.onMessage(m));
      // Agent rollback: the error-rate window lives in this process (the one running the gateway).
      for (const stream of [STREAMS.execution_result, STREAMS.verification, STREAMS.rollback]) sub(stream, 'agent-health', (m) => health.onMessage(m));
      // What the processes without Slack have to say (BusNotifier), posted as they would have.
      const posted = notifier;
      sub(STREAMS.notice, 'notices', async (m) => {
        if (m.event.type === 'notice') await posted.notify(m.event.text, { incident_id: m.event.incident_id });
      });

      // Paging (src/paging/): supervised proposals and critical incidents page the on-call — through
      // PagerDuty's Events API with a routing key, else kept in memory. Its own consumer group; sends
      // run in the background, so PagerDuty down holds up nothing. Stopped after its subscriptions.
      const pager = new Pager({ paging, audit, clock, logger, spawn: (fn, onError) => tracker.spawn(fn, onError) });
      for (const stream of PAGER_STREAMS) sub(stream, 'pager', (m) => pager.onMessage(m));
      pager.start();
      closers.push(() => pager.stop());
      report.push(`paging: ${config.pagerduty.routingKey ? paging.target : 'in memory, Slack only (PAGERDUTY_ROUTING_KEY is not set)'}`);
    }

    // Observe (DESIGN §2): agents read and publish observations, nothing else — the acting agents
    // let observations pass unanswered (the gateway refuses, silently, any proposal that slips by).
    const acting = (handle: (m: BusMessage) => Promise<void>) => (m: BusMessage) => (autonomyManager.phase === 'observe' ? Promise.resolve() : handle(m));
    const stops: (() => void)[] = [];
    if (needs('elastik')) {
      const elastik = new Elastik({ tools: elastikTools!, recorder, audit, clock, logger, tenants, tracker, notifier, reasoner });
      sub(STREAMS.observation, 'elastik', acting((m) => elastik.onMessage(m)));
      // What becomes of the proposals of the incidents Elastik works: it re-plans after each.
      for (const stream of [STREAMS.verification, STREAMS.decision, STREAMS.approval, STREAMS.execution_result]) sub(stream, 'elastik-incidents', acting((m) => elastik.onMessage(m)));
      elastik.start();
      stops.push(() => elastik.stop());
    }
    if (needs('configurer')) {
      const configurer = new Configurer({ tools: configurerTools!, featureFlags: true, recorder, audit, clock, logger, tenants, reasoner });
      sub(STREAMS.observation, 'configurer', acting((m) => configurer.onMessage(m)));
    }
    if (needs('arbitrator')) {
      const arbitrator = new Arbitrator({ tools: arbitratorTools!, recorder, audit, clock, logger, tenants });
      sub(STREAMS.observation, 'arbitrator', acting((m) => arbitrator.onMessage(m)));
    }
    if (needs('strategist')) {
      const strategist = new Strategist({ tools: strategistTools!, recorder, audit, clock, logger, tenants, tracker, mayPropose: () => autonomyManager.phase !== 'observe',
        // Every replica's schedule fires; the first to claim the review runs it (reviews are 15 min apart).
        claimReview: async () => (await shared.claimWindow('strategist:review', clock.now(), 10 * 60_000)).acquired,
      });
      strategist.start();
      stops.push(() => strategist.stop());
    }
    if (needs('executor')) {
      // Each grant is claimed in PostgreSQL before it is acted on: a redelivered grant never runs twice.
      const verifier = new Verifier({ tools: verifierTools!, recorder, audit, clock, tracker, logger, notifier });
      const executorOf = (agent: 'elastik' | 'configurer' | 'arbitrator', tools: ToolClient) =>
        new Executor({ agent, consumer: `${agent}-${process.pid}`, tools, audit, recorder, verifier, notifier, clock, logger, pauseEpoch });
      const executors = { elastik: executorOf('elastik', elastikTools!), configurer: executorOf('configurer', configurerExec!), arbitrator: executorOf('arbitrator', arbitratorExec!) };
      for (const [agent, executor] of Object.entries(executors)) sub(STREAMS.grant, `executor-${agent}`, (m) => executor.onMessage(m));
      // Verifications a previous process began and never finished (it died after executing); a
      // verification is written once whoever watches it (verifier.ts), so replicas may both resume.
      tracker.spawn(
        async () => {
          const { resumed, overdue } = await verifier.resume();
          if (resumed + overdue > 0) logger.info({ resumed, overdue }, 'verifications resumed from the audit log');
        },
        (err) => logger.error({ err: describeError(err) }, 'pending verifications could not be resumed'),
      );
    }
    if (needs('watchtower')) {
      // One Watchtower per target among replicas: a lease in the shared state (Redis with REDIS_URL).
      const watchOwner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
      const watchtower = new Watchtower({
        tools: watchtowerTools!, recorder, clock, tracker, logger, reasoner, lease: { state: shared, owner: watchOwner, audit },
        // The error-ratio objective: the deployment's annotation, else the tenant's (the burn-rate alert's budget).
        targets: () => targets().map((t) => (t.sloErrorRatio !== undefined ? t : { ...t, sloErrorRatio: governance.tenants[t.tenant]?.slo.error_ratio })),
        metrics: (tenant) => watchtowerMetrics?.forTenant(tenant),
        ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
      });
      watchtower.start();
      stops.push(() => watchtower.stop());
    }
    closers.push(async () => {
      for (const stop of stops) stop();
      await Promise.all(subs.map((s) => s.stop()));
    });
    const watching = `watchtower (watching ${targets().map((t) => `${t.namespace}/${t.deployment} (${t.tenant}, p99 ≤ ${t.sloP99Ms} ms)`).join(', ') || 'nothing yet: no Deployment carries ' + SLO_P99_ANNOTATION})`;
    const parts = ROLES.filter((r) => roles.has(r)).map((r) => (r === 'watchtower' ? watching : r === 'gateway' ? `gateway in phase '${config.phase}'` : r));
    report.push(roles.size === ROLES.length ? `agents: ${watching}, elastik, configurer, arbitrator, strategist; gateway in phase '${config.phase}'` : `this process: ${parts.join(', ')}`);

    return {
      bus,
      audit,
      tracker,
      twin,
      slackFake,
      report,
      get targets() {
        return [...targets()];
      },
      tenants,
      autonomy,
      policyVersion: policy?.version ?? 'none (this process loads no policy)',
      llm: reasoner,
      idle: async () => tracker.busy === 0 && (await bus.backlog()) === 0 && (await relay.pending()) === 0,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The scenario's tenants are the ones that exist in its cluster; anyone may pause, nobody is an approver but the sandbox's people. */
function scenarioGovernance(tenants: Tenants): GovernanceConfig {
  return { tenants, approvals: { approvers: [], rules: [] }, operators: { pause: ['*'], set_level: [], override_freeze: [] } };
}

async function purgeRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
