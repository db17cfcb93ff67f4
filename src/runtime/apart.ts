// `governor start` with REDIS_URL and DATABASE_URL: every agent, the gateway and the executor in a
// process of its own, supervised (restarted with backoff; a crash loop announced in Slack). This
// process — the supervisor — keeps what the children share and cannot restart without losing:
//   - the MCP servers, each child holding only its own agents' sessions (a file per child, 0600);
//   - on the sandbox, the cluster twin (a Kubernetes API over HTTPS and its query API, which the
//     children reach as any cluster, with the kubeconfig written here), and the Slack fake with its
//     console, to which the gateway's process talks as to Slack (Web API, signed interactions);
//   - the grant signing key, written for the gateway's process alone when none is configured.
// Everything else the children share lives in Redis and PostgreSQL.
import { randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { RealClock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { WorkTracker } from '../core/work-tracker.ts';
import { freePort } from '../core/ports.ts';
import { RedisEventBus } from '../bus/redis-event-bus.ts';
import { RedisSharedState } from '../bus/redis-shared-state.ts';
import { openAuditKey } from '../audit/audit-key.ts';
import { openPolicyPublicKey } from '../policy/bundle-signature.ts';
import { ReloadingPolicyEngine } from '../policy/reloading-policy-engine.ts';
import { SharedStatePauseEpoch } from '../governance/pause-epoch.ts';
import { generateGrantKeys, grantKeysFromPem } from '../governance/grants.ts';
import { DEFAULT_TENANTS_FILE, loadGovernanceConfig, type Tenants } from '../governance/tenants.ts';
import { loadSignals } from '../../mcp-servers/prometheus/signals.ts';
import { DEFAULT_NODE_GROUPS_FILE, loadNodeGroups } from '../cloud/node-groups.ts';
import { buildScenario, type ScenarioName } from '../twin/scenarios/index.ts';
import { startKubeApiServer } from '../twin/kube-api-server.ts';
import { loadKubeconfig } from '../twin/kubeconfig.ts';
import type { ClusterTwin } from '../twin/cluster-twin.ts';
import { startSampler } from '../twin/metrics/sampler.ts';
import { startQueryApiServer } from '../twin/metrics/query-api.ts';
import { SANDBOX_CHANNEL, SANDBOX_USERS, startSlackWebApiFake, type SlackFake } from '../sandbox/slack-web-api-fake.ts';
import { INTERACTIONS_PATH } from '../slack/slack-transport.ts';
import { endpointsOf, startMcpServers } from './mcp-layer.ts';
import { BusNotifier } from './bus-notifier.ts';
import { AGENT_ROLES, type Role } from './system.ts';
import { Supervisor, type ChildSpec, type SupervisorEvent } from './supervisor.ts';

export interface ApartOptions {
  config: Config;
  logger: Logger;
  scenario: ScenarioName;
  /** How many processes of each role (2 in the replica tests). */
  replicas?: number;
  /** The `governor` entry point the children run (bin/governor.mjs). */
  bin: string;
  /** Where this run keeps the files it writes for its children (kubeconfig, keys, endpoints). */
  runDir: string;
  /** The environment the children inherit (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** A line for the operator. */
  out: (line: string) => void;
  /**
   * Where the processes reach the twin's Kubernetes API instead of its own address (the drills put a
   * proxy there that they can stall): given the API's URL, the URL to use.
   */
  kubeApiVia?: (url: string) => Promise<string>;
  /** Supervision timings (tests shorten them). */
  supervision?: { initialBackoffMs?: number; maxBackoffMs?: number; healthyAfterMs?: number; crashLoopExits?: number; crashLoopWindowMs?: number };
}

export interface Apart {
  supervisor: Supervisor;
  /** The sandbox console, when Slack is the sandbox's. */
  consoleUrl: string | undefined;
  slackFake: SlackFake | undefined;
  twin: ClusterTwin | undefined;
  /** The children, by name, with the role each runs. */
  children: { name: string; role: Role }[];
  report: string[];
  stop(): Promise<void>;
}

/** Which agents' MCP sessions a role's process holds. */
const SESSIONS_OF: Record<Role, readonly string[]> = {
  gateway: [],
  executor: ['elastik', 'configurer', 'arbitrator', 'verifier'],
  watchtower: ['watchtower'],
  elastik: ['elastik'],
  configurer: ['configurer'],
  arbitrator: ['arbitrator'],
  strategist: ['strategist'],
};

/** Settings a sandbox run apart (a drill, the pipeline bench) must not inherit from its caller's environment. */
const NOT_INHERITED = [
  'KUBECONFIG', 'PROMETHEUS_URL', 'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL', 'SLACK_PORT', 'SLACK_HOST', 'SLACK_CHANNEL',
  'GOVERNOR_GRANT_KEY_FILE', 'GOVERNOR_AUDIT_KEY_FILE', 'GOVERNOR_AUDIT_CHECKPOINT_FILE', 'GOVERNOR_MCP_ENDPOINTS_FILE', 'GOVERNOR_TWIN_QUERY_URL', 'GOVERNOR_TENANTS_FILE',
  'GOVERNOR_PHASE', 'GOVERNOR_CONFIG_FILE', 'GOVERNOR_SANDBOX_SLACK', 'GOVERNOR_GRANT_PUBLIC_KEY_FILE', 'GOVERNOR_MCP_TOKENS_FILE', 'KUBERNETES_SERVICE_HOST',
  'PAGERDUTY_ROUTING_KEY', 'PAGERDUTY_API_TOKEN', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'NODE_OPTIONS',
];

/**
 * The environment of a run apart on the sandbox (the twin, the Slack fake, embedded keys), whatever
 * the caller's environment points at: `base` without anything that would take it elsewhere, plus `set`.
 */
export function sandboxEnv(base: NodeJS.ProcessEnv, set: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of NOT_INHERITED) delete env[k];
  return Object.assign(env, set);
}

export const SUPERVISED_ROLES: readonly Role[] = [...AGENT_ROLES, 'gateway', 'executor'];

export async function startApart(opts: ApartOptions): Promise<Apart> {
  const { config, logger, out } = opts;
  if (!config.redisUrl || !config.databaseUrl) throw new Error('the processes apart need REDIS_URL and DATABASE_URL');
  const clock: Clock = new RealClock();
  const closers: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const c of closers.reverse()) await c().catch((err: unknown) => logger.warn({ err: describeError(err) }, 'error while stopping'));
  };
  const report: string[] = [];
  mkdirSync(opts.runDir, { recursive: true, mode: 0o700 });
  const secretFile = (name: string, content: string) => {
    const path = join(opts.runDir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  try {
    const shared = new RedisSharedState({ url: config.redisUrl, keyPrefix: 'governor:state:' });
    closers.push(() => shared.close());
    const bus = new RedisEventBus({ url: config.redisUrl, logger });
    closers.push(() => bus.close());
    // The audit key exists before any child opens it (each would otherwise race to create it).
    const auditKey = openAuditKey(config, true);
    report.push(`audit key: ${auditKey.source}`);

    const base: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
    const childEnv: Record<'all' | 'gateway', NodeJS.ProcessEnv> = { all: {}, gateway: {} };

    // The cluster.
    let kube: KubeConfig;
    let twin: ClusterTwin | undefined;
    let tenants: Tenants;
    let prometheusUrl = config.prometheusUrl;
    if (config.kubeconfig || config.kubeInCluster) {
      kube = new KubeConfig();
      if (config.kubeconfig) kube.loadFromFile(config.kubeconfig);
      else kube.loadFromCluster();
      tenants = loadGovernanceConfig(config.tenantsFile ?? DEFAULT_TENANTS_FILE).tenants;
      report.push(`cluster: ${kube.getCurrentCluster()?.server ?? 'unknown'}; each process reaches it with ${config.kubeconfig ? 'KUBECONFIG' : "the pod's ServiceAccount"}`);
    } else {
      const scenario = buildScenario(opts.scenario, clock);
      twin = scenario.twin;
      twin.start();
      const t = twin;
      closers.push(async () => t.stop());
      const api = await startKubeApiServer(twin, { logger, tls: true, token: randomBytes(24).toString('base64url') });
      closers.push(() => api.close());
      let kubeconfigText = api.kubeconfig('governor');
      if (opts.kubeApiVia) {
        const via = await opts.kubeApiVia(api.url);
        kubeconfigText = kubeconfigText.split(api.url).join(via);
      }
      const kubeconfigFile = secretFile('kubeconfig', kubeconfigText);
      kube = loadKubeconfig(kubeconfigText);
      const sampler = startSampler(twin);
      closers.push(async () => sampler.stop());
      const query = await startQueryApiServer(sampler.store, { now: () => clock.now() });
      closers.push(() => query.close());
      prometheusUrl ??= query.url;
      tenants = config.tenantsFile ? loadGovernanceConfig(config.tenantsFile).tenants : scenario.tenants;
      Object.assign(childEnv.all, { KUBECONFIG: kubeconfigFile, GOVERNOR_TWIN_QUERY_URL: query.url });
      report.push(`cluster: twin scenario '${opts.scenario}' served as a Kubernetes API over HTTPS at ${api.url}; the children reach it with ${kubeconfigFile}`);
    }

    // The grant key: the gateway's process signs, the MCP servers (here) verify.
    let publicKeys: Map<string, KeyObject>;
    if (config.grantKeyFile) {
      const keys = grantKeysFromPem(config.grantKeyId, readFileSync(config.grantKeyFile, 'utf8'));
      publicKeys = new Map([[keys.keyId, keys.publicKey]]);
    } else {
      const keys = generateGrantKeys(config.grantKeyId);
      publicKeys = new Map([[keys.keyId, keys.publicKey]]);
      childEnv.gateway['GOVERNOR_GRANT_KEY_FILE'] = secretFile('grant-key.pem', keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      report.push('grants: Ed25519 key generated for this run, for the gateway\'s process alone (GOVERNOR_GRANT_KEY_FILE is not set)');
    }

    // The MCP servers, for every child.
    const policyKey = openPolicyPublicKey(config.policyPublicKeyFile);
    const policy = await ReloadingPolicyEngine.open({ ...(config.policyBundle ? { path: config.policyBundle } : {}), publicKey: policyKey.key });
    closers.push(async () => policy.close());
    const tracker = new WorkTracker();
    const servers = await startMcpServers({
      kube, twin, shared, clock, grantPublicKeys: publicKeys, tenants, prometheusUrl, signals: loadSignals(config.signalsFile), policy, policyBundle: config.policyBundle,
      pauseEpoch: new SharedStatePauseEpoch(shared), tracker, logger,
      ...(twin ? { nodeGroups: loadNodeGroups(config.nodeGroupsFile ?? DEFAULT_NODE_GROUPS_FILE) } : {}),
    });
    closers.push(() => servers.close());
    report.push(...servers.report.map((l) => `${l} (in the supervisor)`));

    // Slack: the workspace with credentials (the gateway's process connects); else the fake and its
    // console here, which the gateway's process talks to as it would to Slack.
    let slackFake: SlackFake | undefined;
    let slackPorts: number[] = [];
    const replicas = Math.max(1, opts.replicas ?? 1);
    if (config.slack.mode === 'sandbox') {
      const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
      const signingSecret = randomBytes(32).toString('hex');
      const fake = await startSlackWebApiFake({ botToken, signingSecret, port: config.consolePort, channels: [SANDBOX_CHANNEL], users: SANDBOX_USERS, logger });
      closers.push(() => fake.close());
      slackFake = fake;
      slackPorts = await Promise.all(Array.from({ length: replicas }, () => freePort()));
      // Slack delivers to one URL; with replicas, a load balancer would spread it. The first gateway takes it here.
      fake.setInteractionsUrl(`http://127.0.0.1:${slackPorts[0]}${INTERACTIONS_PATH}`);
      Object.assign(childEnv.gateway, {
        SLACK_BOT_TOKEN: botToken, SLACK_SIGNING_SECRET: signingSecret, SLACK_API_URL: fake.apiUrl, SLACK_HOST: '127.0.0.1', SLACK_CHANNEL: SANDBOX_CHANNEL.id,
        GOVERNOR_SANDBOX_SLACK: '1',
      });
      report.push(`slack: sandbox console at ${fake.consoleUrl} (in the supervisor; SLACK_BOT_TOKEN is not set)`);
    }

    // The children.
    const children: { name: string; role: Role }[] = [];
    const specs: ChildSpec[] = [];
    for (const role of SUPERVISED_ROLES) {
      const endpointsFile = SESSIONS_OF[role].length > 0 ? secretFile(`mcp-${role}.json`, JSON.stringify(endpointsOf(servers.endpoints, SESSIONS_OF[role]))) : undefined;
      for (let i = 1; i <= replicas; i++) {
        const name = replicas === 1 ? role : `${role}-${i}`;
        const env: NodeJS.ProcessEnv = { ...base, ...childEnv.all, ...(role === 'gateway' ? childEnv.gateway : {}), GOVERNOR_SUPERVISED: '1' };
        if (role !== 'gateway') {
          // Only the gateway signs grants and talks to Slack.
          delete env['GOVERNOR_GRANT_KEY_FILE'];
          for (const k of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN']) delete env[k];
        } else if (slackPorts.length > 0) {
          env['SLACK_PORT'] = String(slackPorts[i - 1]);
        }
        if (endpointsFile) env['GOVERNOR_MCP_ENDPOINTS_FILE'] = endpointsFile;
        else delete env['GOVERNOR_MCP_ENDPOINTS_FILE'];
        const args = (AGENT_ROLES as readonly string[]).includes(role) ? ['agent', role] : [role];
        specs.push({ name, args: [...args, '--scenario', opts.scenario], env });
        children.push({ name, role });
      }
    }

    const notices = new BusNotifier({ bus, source: 'supervisor', clock, logger });
    const onEvent = (e: SupervisorEvent) => {
      switch (e.kind) {
        case 'started':
          out(`governor: ${e.name} ${e.restarts === 0 ? 'started' : `restarted (${e.restarts})`}, pid ${e.pid}`);
          break;
        case 'exited':
          out(`governor: ${e.name} (pid ${e.pid}) exited ${e.signal ? `on ${e.signal}` : `with code ${e.code}`}; restarting in ${(e.restartInMs / 1000).toFixed(1)} s`);
          break;
        case 'crash_loop': {
          const text = `${e.name} is crash-looping: ${e.exits} exits in ${Math.round(e.windowMs / 1000)} s (last: ${e.last}); restarting in ${(e.restartInMs / 1000).toFixed(1)} s. Its logs are on the supervisor's stderr.`;
          out(`governor: ${text}`);
          logger.error({ child: e.name, exits: e.exits }, text);
          void notices.notify(text);
          break;
        }
      }
    };
    const supervisor = new Supervisor({
      command: process.execPath,
      baseArgs: [opts.bin],
      children: specs,
      onEvent,
      onLine: (name, stream, line) => (stream === 'stdout' ? out(`[${name}] ${line}`) : process.stderr.write(`[${name}] ${line}\n`)),
      ...opts.supervision,
    });
    supervisor.start();
    closers.push(() => supervisor.stop());
    report.push(`processes: ${children.map((c) => c.name).join(', ')} (each restarted with backoff; a crash loop is said in Slack)`);
    return { supervisor, consoleUrl: slackFake?.consoleUrl, slackFake, twin, children, report, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
