// The only reader of the environment. Every key is validated once, at start, and every problem is
// reported together in words an operator understands. Nothing else in the code base touches
// process.env: components receive what they need from the Config object.
import { statSync } from 'node:fs';
import { z } from 'zod';
import { GovernorError } from './core/errors.ts';
import { checkKeyFile, type KeyFileSpec } from './core/key-files.ts';
import { loadTenants } from './governance/tenants.ts';
import { loadSignals } from '../mcp-servers/prometheus/signals.ts';

export const Phase = z.enum(['observe', 'advise', 'assist', 'govern']);
export type Phase = z.infer<typeof Phase>;

const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s === undefined || s === '' ? undefined : s));

const urlWithScheme = (schemes: string[], what: string) =>
  optionalString.refine((v) => v === undefined || schemes.some((s) => v.startsWith(`${s}://`)), {
    message: `must be a ${what} URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
  });

/** host[:port], no scheme and no path: pdjs always speaks HTTPS to `https://<host>/…`. */
const pagerDutyHost = optionalString.refine((v) => v === undefined || /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/.test(v), {
  message: 'must be host[:port] without a scheme or path (PagerDuty is always reached over HTTPS)',
});

const EnvSchema = z
  .object({
    REDIS_URL: urlWithScheme(['redis', 'rediss'], 'Redis'),
    DATABASE_URL: urlWithScheme(['postgres', 'postgresql'], 'PostgreSQL'),
    KUBECONFIG: optionalString,
    // Set by Kubernetes in every pod: without KUBECONFIG, the pod's ServiceAccount is the credential.
    KUBERNETES_SERVICE_HOST: optionalString,
    PROMETHEUS_URL: urlWithScheme(['http', 'https'], 'HTTP'),
    SLACK_BOT_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xoxb-'), {
      message: "must be a bot token starting with 'xoxb-'",
    }),
    SLACK_SIGNING_SECRET: optionalString,
    // Socket Mode: the app opens a WebSocket to Slack itself, so no public endpoint is needed.
    SLACK_APP_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xapp-'), {
      message: "must be an app-level token starting with 'xapp-' (the app's Basic Information → App-Level Tokens, scope connections:write)",
    }),
    SLACK_CHANNEL: optionalString.default('governor-approvals'),
    // Approvers moved to the tenants file (per tenant, per action class, M of N); a variable that
    // silently stopped restricting who approves would be worse than one that stops the start.
    SLACK_APPROVERS: optionalString.refine((v) => v === undefined, {
      message: 'is no longer read: approvers are configured in the tenants file (`approvers`, `approval_rules`, `operators`; see README)',
    }),
    SLACK_PORT: z.coerce.number().int().min(0).max(65535).default(3100),
    SLACK_HOST: optionalString,
    SLACK_API_URL: urlWithScheme(['http', 'https'], 'HTTP'),
    ANTHROPIC_API_KEY: optionalString,
    // The SDK's own base URL setting, read here (not by the SDK) so that this file stays the only reader.
    ANTHROPIC_BASE_URL: urlWithScheme(['http', 'https'], 'HTTP'),
    GOVERNOR_LLM_MODEL: optionalString.default('claude-sonnet-5-5'),
    // Past it the rules answer: the whole exchange (every step and tool call) must fit in it.
    GOVERNOR_LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(8_000),
    // PagerDuty (src/paging/, mcp-servers/pagerduty/). Both hosts are host[:port] and always spoken
    // to over HTTPS (pdjs builds the URL itself); a private CA is trusted through NODE_EXTRA_CA_CERTS.
    PAGERDUTY_ROUTING_KEY: optionalString.refine((v) => v === undefined || /^\S{32}$/.test(v), {
      message: 'must be the 32-character integration key of an Events API v2 integration',
    }),
    PAGERDUTY_EVENTS_HOST: pagerDutyHost.default('events.pagerduty.com'),
    PAGERDUTY_API_TOKEN: optionalString,
    PAGERDUTY_API_HOST: pagerDutyHost.default('api.pagerduty.com'),
    GOVERNOR_PHASE: optionalString.pipe(Phase.optional()).default('govern'),
    GOVERNOR_GRANT_KEY_FILE: optionalString,
    GOVERNOR_GRANT_KEY_ID: optionalString.default('governor'),
    GOVERNOR_GRANT_PUBLIC_KEY_FILE: optionalString,
    GOVERNOR_MCP_TOKENS_FILE: optionalString,
    // With the processes apart: where an agent's or the executor's MCP sessions are (src/runtime/mcp-layer.ts).
    GOVERNOR_MCP_ENDPOINTS_FILE: optionalString,
    // Set by the supervisor for its children when the cluster is its twin: the twin's query API.
    GOVERNOR_TWIN_QUERY_URL: urlWithScheme(['http', 'https'], 'HTTP'),
    GOVERNOR_TENANTS_FILE: optionalString,
    GOVERNOR_SIGNALS_FILE: optionalString,
    GOVERNOR_NODE_GROUPS_FILE: optionalString,
    GOVERNOR_POLICY_BUNDLE: optionalString,
    GOVERNOR_CONFIG_FILE: optionalString,
    GOVERNOR_DATA_DIR: optionalString.default('.governor'),
    GOVERNOR_AUDIT_KEY_FILE: optionalString,
    GOVERNOR_AUDIT_PUBLIC_KEY_FILE: optionalString,
    GOVERNOR_AUDIT_CHECKPOINT_FILE: optionalString,
    GOVERNOR_AUDIT_CHECKPOINT_INTERVAL_S: z.coerce.number().positive().max(86_400).default(60),
    GOVERNOR_POLICY_PUBLIC_KEY_FILE: optionalString,
    GOVERNOR_CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    LOG_LEVEL: optionalString
      .pipe(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional())
      .default('info'),
  });

export interface Config {
  redisUrl: string | undefined;
  databaseUrl: string | undefined;
  kubeconfig: string | undefined;
  /** No KUBECONFIG, inside a pod: the in-cluster configuration (the pod's ServiceAccount). */
  kubeInCluster: boolean;
  /** GOVERNOR_MCP_ENDPOINTS_FILE: the MCP sessions of a process whose servers run elsewhere. */
  mcpEndpointsFile: string | undefined;
  /** GOVERNOR_TWIN_QUERY_URL: the supervisor's twin, for the children it runs. */
  twinQueryUrl: string | undefined;
  prometheusUrl: string | undefined;
  slack:
    | {
        mode: 'real';
        /** `socket` when SLACK_APP_TOKEN is set (no public endpoint); else `http` on host:port. */
        connection: 'socket' | 'http';
        botToken: string;
        /** Required for HTTP mode; Socket Mode requests are not signed. */
        signingSecret: string | undefined;
        appToken: string | undefined;
        channel: string;
        port: number;
        host: string;
        apiUrl: string | undefined;
      }
    | { mode: 'sandbox'; channel: string; port: number };
  /** The language model (src/llm/); undefined without ANTHROPIC_API_KEY: the rules are in charge. */
  llm: LlmConfig | undefined;
  pagerduty: {
    /** Events API v2 integration key; without it pages stay in memory (src/paging/memory-paging.ts). */
    routingKey: string | undefined;
    /** host[:port] of the Events API. */
    eventsHost: string;
    /** REST API token for the read tools (who is on call, open incidents); they refuse without it. */
    apiToken: string | undefined;
    /** host[:port] of the REST API. */
    apiHost: string;
  };
  phase: Phase;
  grantKeyFile: string | undefined;
  grantKeyId: string;
  /** The Ed25519 public key (PEM) an MCP server run on its own verifies grants with: it never holds the signing key. */
  grantPublicKeyFile: string | undefined;
  /** Bearer token → { agent, namespaces } for `governor mcp NAME --port N` (a mounted Secret in a cluster). */
  mcpTokensFile: string | undefined;
  tenantsFile: string | undefined;
  /** The PromQL of each signal read from Prometheus (mcp-servers/prometheus/signals.ts); config/signals.json by default. */
  signalsFile: string | undefined;
  /** Node groups and their hard scaling bounds (config/node-groups.json by default). */
  nodeGroupsFile: string | undefined;
  policyBundle: string | undefined;
  /** The watched file holding the deployment phase (a ConfigMap mount in a cluster). */
  governorFile: string | undefined;
  dataDir: string;
  /** Evidence outside the database's reach: see src/audit/audit-key.ts and src/audit/checkpoints.ts. */
  audit: {
    /** The Ed25519 private key that seals records and signs checkpoints; generated in dataDir when unset. */
    keyFile: string | undefined;
    /** Its public half alone, for `governor audit verify` where the private key must not be. */
    publicKeyFile: string | undefined;
    /** Where checkpoints are appended; one file per schema in dataDir when unset. */
    checkpointFile: string | undefined;
    checkpointIntervalS: number;
  };
  /** The RSA public key policy bundles must be signed for; the committed development key when unset. */
  policyPublicKeyFile: string | undefined;
  consolePort: number;
  logLevel: string;
}

export interface LlmConfig {
  apiKey: string;
  /** The Messages API's base URL; Anthropic's own when unset. */
  baseUrl: string | undefined;
  model: string;
  /** The most one exchange may take, all steps included; past it the rules answer. */
  timeoutMs: number;
}

/** Reads and validates configuration; throws one `config_invalid` error listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const res = EnvSchema.safeParse(env);
  const issues = res.success ? [] : [...res.error.issues];
  // Checked on the raw environment so that it is reported together with any other problem.
  const hasToken = Boolean(env['SLACK_BOT_TOKEN']?.trim());
  const hasSecret = Boolean(env['SLACK_SIGNING_SECRET']?.trim());
  const hasAppToken = Boolean(env['SLACK_APP_TOKEN']?.trim());
  const slackIssue = (key: string, message: string) => issues.push({ code: 'custom', path: [key], message, input: undefined });
  if (hasToken && !hasSecret && !hasAppToken) {
    slackIssue('SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode) to receive clicks and commands; set neither for the sandbox');
  } else if (!hasToken && (hasSecret || hasAppToken)) {
    slackIssue('SLACK_BOT_TOKEN', `${hasAppToken ? 'SLACK_APP_TOKEN' : 'SLACK_SIGNING_SECRET'} goes with SLACK_BOT_TOKEN: set the bot token to talk to Slack, or neither for the sandbox`);
  }
  issues.push(...fileIssues(env));
  if (!res.success || issues.length > 0) {
    const lines = issues.map((i) => {
      const key = i.path.join('.') || '(environment)';
      const got = typeof i.path[0] === 'string' ? env[i.path[0]] : undefined;
      // Never a secret's value, and not a value the message already names (a file's path).
      const shown = got === undefined || /TOKEN|SECRET|KEY/.test(key) || i.message.includes(got.trim()) ? '' : ` (got '${got}')`;
      return `  - ${key}: ${i.message}${shown}`;
    });
    throw new GovernorError('config_invalid', `Configuration problems:\n${lines.join('\n')}`);
  }
  const e = res.data;
  return {
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    kubeconfig: e.KUBECONFIG,
    kubeInCluster: !e.KUBECONFIG && Boolean(e.KUBERNETES_SERVICE_HOST),
    mcpEndpointsFile: e.GOVERNOR_MCP_ENDPOINTS_FILE,
    twinQueryUrl: e.GOVERNOR_TWIN_QUERY_URL,
    prometheusUrl: e.PROMETHEUS_URL,
    slack:
      e.SLACK_BOT_TOKEN && (e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN)
        ? {
            mode: 'real',
            connection: e.SLACK_APP_TOKEN ? 'socket' : 'http',
            botToken: e.SLACK_BOT_TOKEN,
            signingSecret: e.SLACK_SIGNING_SECRET,
            appToken: e.SLACK_APP_TOKEN,
            channel: e.SLACK_CHANNEL,
            port: e.SLACK_PORT,
            // Slack must reach the endpoint: every interface unless told otherwise (DESIGN §8).
            host: e.SLACK_HOST ?? '0.0.0.0',
            apiUrl: e.SLACK_API_URL,
          }
        : { mode: 'sandbox', channel: e.SLACK_CHANNEL, port: e.SLACK_PORT },
    llm: e.ANTHROPIC_API_KEY
      ? { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL, model: e.GOVERNOR_LLM_MODEL ?? 'claude-sonnet-5-5', timeoutMs: e.GOVERNOR_LLM_TIMEOUT_MS }
      : undefined,
    pagerduty: {
      routingKey: e.PAGERDUTY_ROUTING_KEY,
      // An empty variable means the default too.
      eventsHost: e.PAGERDUTY_EVENTS_HOST ?? 'events.pagerduty.com',
      apiToken: e.PAGERDUTY_API_TOKEN,
      apiHost: e.PAGERDUTY_API_HOST ?? 'api.pagerduty.com',
    },
    phase: e.GOVERNOR_PHASE ?? 'govern',
    grantKeyFile: e.GOVERNOR_GRANT_KEY_FILE,
    grantKeyId: e.GOVERNOR_GRANT_KEY_ID,
    grantPublicKeyFile: e.GOVERNOR_GRANT_PUBLIC_KEY_FILE,
    mcpTokensFile: e.GOVERNOR_MCP_TOKENS_FILE,
    tenantsFile: e.GOVERNOR_TENANTS_FILE,
    signalsFile: e.GOVERNOR_SIGNALS_FILE,
    nodeGroupsFile: e.GOVERNOR_NODE_GROUPS_FILE,
    policyBundle: e.GOVERNOR_POLICY_BUNDLE,
    governorFile: e.GOVERNOR_CONFIG_FILE,
    dataDir: e.GOVERNOR_DATA_DIR,
    audit: {
      keyFile: e.GOVERNOR_AUDIT_KEY_FILE,
      publicKeyFile: e.GOVERNOR_AUDIT_PUBLIC_KEY_FILE,
      checkpointFile: e.GOVERNOR_AUDIT_CHECKPOINT_FILE,
      checkpointIntervalS: e.GOVERNOR_AUDIT_CHECKPOINT_INTERVAL_S,
    },
    policyPublicKeyFile: e.GOVERNOR_POLICY_PUBLIC_KEY_FILE,
    consolePort: e.GOVERNOR_CONSOLE_PORT,
    logLevel: e.LOG_LEVEL ?? 'info',
  };
}

/** What each key variable must hold: a public-key variable never the private key, a signing key of the right algorithm. */
const KEY_FILES: readonly KeyFileSpec[] = [
  { variable: 'GOVERNOR_GRANT_KEY_FILE', half: 'private', algorithm: 'ed25519' },
  { variable: 'GOVERNOR_GRANT_PUBLIC_KEY_FILE', half: 'public', algorithm: 'ed25519' },
  { variable: 'GOVERNOR_AUDIT_KEY_FILE', half: 'private', algorithm: 'ed25519' },
  { variable: 'GOVERNOR_AUDIT_PUBLIC_KEY_FILE', half: 'public', algorithm: 'ed25519' },
  { variable: 'GOVERNOR_POLICY_PUBLIC_KEY_FILE', half: 'public', algorithm: 'rsa' },
];

/**
 * The files configuration names, checked now rather than when something first opens them, so that
 * a wrong key, a missing bundle or an empty tenants file is reported at start with every other
 * problem, under the variable's name. Read from the raw environment: a file is checked even when
 * another key failed validation.
 */
function fileIssues(env: Record<string, string | undefined>): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const problem = (variable: string, message: string) => issues.push({ code: 'custom', path: [variable], message, input: undefined });
  const set = (variable: string) => env[variable]?.trim() || undefined;
  for (const spec of KEY_FILES) {
    const path = set(spec.variable);
    if (path === undefined) continue;
    const checked = checkKeyFile(path, spec);
    if ('problem' in checked) problem(spec.variable, `${path} ${checked.problem}`);
  }
  const bundle = set('GOVERNOR_POLICY_BUNDLE');
  if (bundle !== undefined) {
    let isFile = false;
    try {
      isFile = statSync(bundle).isFile();
    } catch {
      // reported below
    }
    if (!isFile) problem('GOVERNOR_POLICY_BUNDLE', `there is no policy bundle file at ${bundle}`);
  }
  const tenants = set('GOVERNOR_TENANTS_FILE');
  if (tenants !== undefined) {
    try {
      loadTenants(tenants);
    } catch (err) {
      problem('GOVERNOR_TENANTS_FILE', (err as Error).message.replaceAll('\n', '\n    '));
    }
  }
  const signals = set('GOVERNOR_SIGNALS_FILE');
  if (signals !== undefined) {
    try {
      loadSignals(signals);
    } catch (err) {
      problem('GOVERNOR_SIGNALS_FILE', (err as Error).message);
    }
  }
  return issues;
}
