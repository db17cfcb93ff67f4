// The Feature Flag MCP server: typed tools over the flagd flag files (flag-file.ts) kept in the
// `flags.flagd.json` key of config maps, for one session identity (an agent and the namespaces of
// its tenants). Reads: the flags of a namespace with what each serves, one flag's whole definition,
// and a flag's history as this server has seen it (the config-map history the ConfigMap server keeps,
// read flag by flag; Kubernetes keeps none). Two writes, each on one flag: set_flag (its state and/or
// default variant) and rollback_flag (back to the setting it had before its latest change). No
// rollout restart: flagd and its file-mode providers watch the mounted file and reload it in place.
// It is the last line of defence before the cluster, so it checks everything itself; it must never
// act outside the session's namespaces, write without a valid unused grant for exactly the call,
// create or delete a flag or a variant, write a file flagd would refuse, lose a malformed file (it is
// reported, never rewritten), or apply a change decided on a setting that is gone.
import type { KeyObject } from 'node:crypto';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { SharedStatePauseEpoch, type PauseEpochReader } from '../../src/governance/pause-epoch.ts';
import { toolErrorResult } from '../../src/mcp/tool-error.ts';
import { ConfigClient } from '../configmap/config-client.ts';
import type { ConfigHistory } from '../configmap/config-history.ts';
import { referencesTo } from '../configmap/references.ts';
import { keepGrantOutcomes } from '../shared/grant-ledger.ts';
import { GrantGate } from '../shared/grant-gate.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { grantArg as grantArgFor, namespaceArg as namespaceArgFor, objectNameArg } from '../shared/tool-args.ts';
import {
  FLAGS_KEY,
  diffFlags,
  flagHash,
  parseFlagFile,
  servedValue,
  settingOf,
  tryParse,
  withSetting,
  type FlagDefinition,
  type FlagFile,
  type FlagSetting,
} from './flag-file.ts';

/** The name grants carry in `server` for this server's tools. */
export const FEATURE_FLAGS_SERVER_NAME = 'feature-flags';

export interface FeatureFlagSession {
  agent: string;
  namespaces: readonly string[];
}

export interface FeatureFlagMcpDeps {
  kube: KubeConfig;
  sharedState: SharedState;
  clock: Clock;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  session: FeatureFlagSession;
  /** The config-map versions seen since this server process started (fed by configmap/config-watch.ts). */
  history: ConfigHistory;
  logger?: Logger;
  /** Default: the pause epoch in `sharedState`, where the autonomy manager writes it. */
  pauseEpoch?: PauseEpochReader;
}

const HISTORY_NOTE =
  'Kubernetes keeps no history of config maps: these are the versions of the flag this server has seen since tracking_since ' +
  '(its start). Changes before that are unknown; several changes made while it was down appear as one.';

const namespaceArg = namespaceArgFor('flag config map');
const configMapArg = objectNameArg(`Name of the v1 ConfigMap whose \`${FLAGS_KEY}\` key holds the flagd flag definitions.`);
const flagArg = z.string().min(1).max(253).describe('Key of the flag in the file\'s "flags" object.');
const grantArg = grantArgFor(FEATURE_FLAGS_SERVER_NAME);
const stateArg = z.enum(['ENABLED', 'DISABLED']);
const settingSchema = z.object({
  state: stateArg.describe('ENABLED: the flag serves its variants; DISABLED: flagd answers FLAG_NOT_FOUND and callers use their code default.'),
  default_variant: z.string().min(1).describe('The variant served when no targeting rule matches.'),
});
const expectedArg = settingSchema.describe(
  'The setting (state and default variant) the flag must have now: the one the change was decided on (from get_flag). Otherwise the call fails with conflict "changed since proposed".',
);

const definitionOut = z
  .object({
    state: stateArg,
    variants: z.record(z.string(), z.unknown()),
    defaultVariant: z.string(),
    targeting: z.unknown().optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('The flag exactly as the flagd file defines it.');

const listOut = z.object({
  namespace: z.string(),
  flag_sets: z.array(
    z.object({
      config_map: z.string(),
      resource_version: z.string(),
      referenced_by: z.array(z.string()).describe('Deployments whose pod templates read the config map.'),
      error: z.string().nullable().describe('Why the file is not a valid flagd definition (its flags are then not listed); null when valid.'),
      flags: z.array(
        z.object({
          flag: z.string(),
          state: stateArg,
          default_variant: z.string(),
          served_value: z.unknown().describe('What a caller no targeting rule matches gets; null when disabled.'),
          variants: z.array(z.string()),
          targeting: z.boolean().describe('Whether targeting rules can serve other variants to some callers.'),
          last_changed_at: z.string().nullable().describe('When this server last saw the flag\'s definition change (ISO 8601); null if not since tracking began.'),
        }),
      ),
    }),
  ),
});

const getOut = z.object({
  namespace: z.string(),
  config_map: z.string(),
  flag: z.string(),
  resource_version: z.string().describe('metadata.resourceVersion of the config map now.'),
  state: stateArg,
  default_variant: z.string(),
  served_value: z.unknown(),
  definition: definitionOut,
  definition_sha256: z.string().describe('SHA-256 of the canonical JSON of the definition.'),
  referenced_by: z.array(z.string()),
});

const flagVersionOut = z.object({
  resource_version: z.string(),
  observed_at: z.string().describe("When this server saw the version (ISO 8601, the run's clock)."),
  kind: z.enum(['initial', 'created', 'changed', 'deleted']).describe('initial: the flag when tracking began; created/deleted: the flag (or its file) appeared or went.'),
  before: settingSchema.nullable().describe('The setting before this version; null when the flag did not exist.'),
  after: settingSchema.nullable().describe('The setting of this version; null when the flag no longer exists.'),
  definition: definitionOut.nullable().describe('The whole definition of this version; null when the flag no longer exists.'),
});

const historyOut = z.object({
  namespace: z.string(),
  config_map: z.string(),
  flag: z.string(),
  tracking_since: z.string().nullable(),
  versions: z.array(flagVersionOut).describe('Newest first: only the versions in which this flag changed.'),
  previous: settingSchema
    .extend({ observed_at: z.string(), resource_version: z.string() })
    .nullable()
    .describe('The setting the flag had before it became what it is now: what rollback_flag restores. null when not known.'),
  note: z.string(),
});

const writeOut = z.object({
  namespace: z.string(),
  config_map: z.string(),
  flag: z.string(),
  changed: z.boolean().describe('False when the flag already had this setting (nothing written).'),
  from_resource_version: z.string(),
  resource_version: z.string(),
  previous: settingSchema.describe('The setting before the call: what a rollback puts back.'),
  current: settingSchema,
  served_value_before: z.unknown(),
  served_value_after: z.unknown(),
});

type FlagVersion = z.infer<typeof flagVersionOut>;

export function createFeatureFlagMcpServer(deps: FeatureFlagMcpDeps): McpServer {
  const { clock, session, history } = deps;
  const cluster = new ConfigClient(deps.kube);
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: FEATURE_FLAGS_SERVER_NAME });
  const gate = new GrantGate({
    server: FEATURE_FLAGS_SERVER_NAME,
    session,
    clock,
    sharedState: deps.sharedState,
    grantPublicKeys: deps.grantPublicKeys,
    pauseEpoch: deps.pauseEpoch ?? new SharedStatePauseEpoch(deps.sharedState),
  });

  const server = new McpServer(
    { name: 'governor-feature-flags', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        `Typed access to OpenFeature flagd flag definitions kept in the \`${FLAGS_KEY}\` key of Kubernetes config maps, for Governor agents. ` +
        'Read tools need only a namespace of this session; set_flag and rollback_flag also need a grant from the governance gateway for the exact call, ' +
        'and the setting the change was decided on (`expected`). Writes change one flag\'s state or default variant, never create or delete a flag or a variant, ' +
        'and never write a file flagd would refuse. Failures are isError results whose text starts with a code (tenant_forbidden, grant_invalid, grant_expired, ' +
        'grant_mismatch, grant_used, not_found, conflict, input_invalid — a malformed flag file among them —, invalid_arguments, upstream_unavailable). ' +
        'History is kept by this server from its start (Kubernetes keeps none).',
    },
  );
  // A grant carried out already is answered from the ledger, never carried out twice (grant-ledger.ts).
  keepGrantOutcomes(server, gate, log);

  const { assertNamespace, respond } = sessionScope(session, log);
  const where = (namespace: string, name: string) => `config map ${namespace}/${name} key ${FLAGS_KEY}`;

  const trackingSince = (): string | null => {
    const ms = history.trackingSinceMs();
    return ms === null ? null : new Date(ms).toISOString();
  };

  /** The flag file of a config map, parsed; not_found when the map has no flag file. */
  function fileOf(cm: V1ConfigMap, namespace: string, name: string): FlagFile {
    const text = cm.data?.[FLAGS_KEY];
    if (text === undefined) throw new GovernorError('not_found', `config map ${namespace}/${name} has no ${FLAGS_KEY} key (it holds no flagd flags)`);
    return parseFlagFile(text, where(namespace, name));
  }

  function flagOf(file: FlagFile, namespace: string, name: string, flag: string): FlagDefinition {
    const f = Object.hasOwn(file.flags, flag) ? file.flags[flag] : undefined;
    if (!f) throw new GovernorError('not_found', `flag '${flag}' is not defined in ${where(namespace, name)} (defined: ${Object.keys(file.flags).sort().join(', ') || 'none'})`);
    return f;
  }

  // Parsed past versions, by map and resourceVersion: list_flags reads every flag's history.
  const parsed = new Map<string, FlagFile | null>();
  const parsedVersion = (namespace: string, name: string, rv: string, text: string | undefined): FlagFile | null => {
    const k = `${namespace}/${name}@${rv}`;
    if (!parsed.has(k)) {
      if (parsed.size > 2_000) parsed.clear();
      parsed.set(k, tryParse(text));
    }
    return parsed.get(k)!;
  };

  /** The versions of one flag seen by this server, newest first: those in which its definition changed. */
  function flagVersions(namespace: string, name: string, flag: string): FlagVersion[] {
    const versions = history.history(namespace, name).reverse(); // oldest first
    const out: FlagVersion[] = [];
    let prev: FlagFile | null = null;
    for (const v of versions) {
      const file = parsedVersion(namespace, name, v.resource_version, v.data[FLAGS_KEY]);
      const change = v.kind === 'initial' ? null : diffFlags(prev, file).find((c) => c.flag === flag);
      const def = file?.flags[flag] ?? null;
      if (v.kind === 'initial' ? def !== null : change !== undefined) {
        const before = v.kind === 'initial' ? null : (change?.before ?? null);
        const kind: FlagVersion['kind'] = v.kind === 'initial' ? 'initial' : before === null ? 'created' : def === null ? 'deleted' : 'changed';
        out.push({
          resource_version: v.resource_version,
          observed_at: v.observed_at,
          kind,
          before: before && settingOf(before),
          after: def && settingOf(def),
          definition: def,
        });
      }
      // A malformed version is skipped, not treated as the flag's deletion: the next good one diffs against the last good one.
      if (file !== null || v.kind === 'deleted') prev = file;
    }
    return out.reverse();
  }

  /** The setting the flag had before it became `current`: the newest version seen whose setting differs. */
  function previousOf(versions: FlagVersion[], current: FlagDefinition) {
    const now = settingOf(current);
    for (const v of versions) {
      if (v.after && (v.after.state !== now.state || v.after.default_variant !== now.default_variant)) {
        return { ...v.after, observed_at: v.observed_at, resource_version: v.resource_version };
      }
      if (v.before && (v.before.state !== now.state || v.before.default_variant !== now.default_variant)) {
        return { ...v.before, observed_at: v.observed_at, resource_version: v.resource_version };
      }
    }
    return null;
  }

  server.registerTool(
    'list_flags',
    {
      title: 'Feature flags of a namespace',
      description:
        `The flagd flag files of one namespace (config maps with a \`${FLAGS_KEY}\` key): per file the deployments that read it, and per flag its state, ` +
        'default variant, the value it serves when no targeting rule matches, and when this server last saw it change. A malformed file is listed with ' +
        'its error instead of its flags. With `deployment`, only the files that deployment reads. Read-only.',
      inputSchema: {
        namespace: namespaceArg,
        deployment: objectNameArg('Only the flag files this apps/v1 Deployment\'s pod template reads.').optional(),
      },
      outputSchema: listOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment }) =>
      respond('list_flags', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const [maps, deployments] = await Promise.all([cluster.listConfigMaps(namespace), cluster.listDeployments(namespace)]);
        if (deployment !== undefined && !deployments.some((d) => d.metadata?.name === deployment)) {
          throw new GovernorError('not_found', `deployment ${namespace}/${deployment} not found`);
        }
        const flag_sets = maps
          .filter((cm) => cm.data?.[FLAGS_KEY] !== undefined)
          .map((cm) => {
            const name = cm.metadata?.name ?? '';
            const referenced_by = referencesTo(name, deployments).map((r) => r.deployment);
            let file: FlagFile | null = null;
            let error: string | null = null;
            try {
              file = parseFlagFile(cm.data![FLAGS_KEY]!, where(namespace, name));
            } catch (err) {
              error = err instanceof Error ? err.message : String(err);
            }
            const flags = Object.entries(file?.flags ?? {})
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([flag, f]) => ({
                flag,
                state: f.state,
                default_variant: f.defaultVariant,
                served_value: servedValue(f),
                variants: Object.keys(f.variants),
                targeting: f.targeting !== undefined && f.targeting !== null && Object.keys(f.targeting as object).length > 0,
                last_changed_at: flagVersions(namespace, name, flag).find((v) => v.kind !== 'initial')?.observed_at ?? null,
              }));
            return { config_map: name, resource_version: cm.metadata?.resourceVersion ?? '', referenced_by, error, flags };
          })
          .filter((s) => deployment === undefined || s.referenced_by.includes(deployment))
          .sort((a, b) => a.config_map.localeCompare(b.config_map));
        return { namespace, flag_sets };
      }),
  );

  server.registerTool(
    'get_flag',
    {
      title: 'Feature flag',
      description:
        'One flag: its whole flagd definition (state, variants, default variant, targeting, metadata), the value it serves when no targeting rule ' +
        'matches, the config map\'s resourceVersion, and the deployments that read the file. The state and default variant here are the `expected` ' +
        'setting set_flag and rollback_flag take. Read-only.',
      inputSchema: { namespace: namespaceArg, config_map: configMapArg, flag: flagArg },
      outputSchema: getOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, config_map, flag }) =>
      respond('get_flag', { namespace, config_map, flag }, async () => {
        assertNamespace(namespace);
        const [cm, deployments] = await Promise.all([cluster.readConfigMap(namespace, config_map), cluster.listDeployments(namespace)]);
        const f = flagOf(fileOf(cm, namespace, config_map), namespace, config_map, flag);
        return {
          namespace,
          config_map,
          flag,
          resource_version: cm.metadata?.resourceVersion ?? '',
          state: f.state,
          default_variant: f.defaultVariant,
          served_value: servedValue(f),
          definition: f,
          definition_sha256: flagHash(f),
          referenced_by: referencesTo(config_map, deployments).map((r) => r.deployment),
        };
      }),
  );

  server.registerTool(
    'get_flag_history',
    {
      title: 'Feature flag history',
      description:
        'The versions of one flag this server has seen, newest first — only those in which the flag\'s definition changed — each with when it was seen, ' +
        'the config map\'s resourceVersion, the setting before and after, and the whole definition; and `previous`, the setting the flag had before it ' +
        'became what it is now (what rollback_flag restores). Kubernetes keeps no config map history: the server records it from its own start ' +
        '(tracking_since), so earlier changes are unknown. Read-only.',
      inputSchema: { namespace: namespaceArg, config_map: configMapArg, flag: flagArg },
      outputSchema: historyOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, config_map, flag }) =>
      respond('get_flag_history', { namespace, config_map, flag }, async () => {
        assertNamespace(namespace);
        const cm = await cluster.readConfigMap(namespace, config_map);
        const current = flagOf(fileOf(cm, namespace, config_map), namespace, config_map, flag);
        const versions = flagVersions(namespace, config_map, flag);
        return { namespace, config_map, flag, tracking_since: trackingSince(), versions, previous: previousOf(versions, current), note: HISTORY_NOTE };
      }),
  );

  /** The write both mutating tools share: precondition, grant, the file rewritten on the map's resourceVersion. */
  async function write(tool: 'set_flag' | 'rollback_flag', args: { namespace: string; config_map: string; flag: string; expected: FlagSetting } & Record<string, unknown>, grant: unknown, decide: (current: FlagDefinition) => Partial<FlagSetting>) {
    const { namespace, config_map, flag, expected } = args;
    assertNamespace(namespace);
    const g = await gate.check(tool, args, grant);
    const [labels, cm] = await Promise.all([cluster.readNamespaceLabels(namespace), cluster.readConfigMap(namespace, config_map)]);
    gate.checkTenant(g, namespace, labels);
    const file = fileOf(cm, namespace, config_map);
    const current = flagOf(file, namespace, config_map, flag);
    const before = settingOf(current);
    if (before.state !== expected.state || before.default_variant !== expected.default_variant) {
      throw new GovernorError(
        'conflict',
        `flag '${flag}' in ${where(namespace, config_map)} changed since proposed: it is ${before.state}/${before.default_variant}, the change was decided on ${expected.state}/${expected.default_variant}`,
        { details: { status: 409 } },
      );
    }
    const setting = decide(current);
    const text = withSetting(file, flag, setting, where(namespace, config_map));
    const after = settingOf(parseFlagFile(text, where(namespace, config_map)).flags[flag]!);
    const rv = cm.metadata?.resourceVersion ?? '';
    const claim = await gate.consume(g);
    const base = { namespace, config_map, flag, from_resource_version: rv, previous: before, current: after, served_value_before: servedValue(current) };
    if (after.state === before.state && after.default_variant === before.default_variant) {
      log.info({ tool, namespace, config_map, flag, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, `flag '${flag}' already ${after.state}/${after.default_variant}`);
      return { ...base, changed: false, resource_version: rv, served_value_after: servedValue(current) };
    }
    let written: V1ConfigMap;
    try {
      written = await cluster.replaceData(cm, { ...(cm.data ?? {}), [FLAGS_KEY]: text }, rv);
    } catch (err) {
      await gate.releaseIfNotApplied(err, claim).catch((e: unknown) => log.warn({ err: e, key: claim.key }, 'could not release grant claim'));
      if (err instanceof GovernorError && err.code === 'conflict') {
        throw new GovernorError('conflict', `${where(namespace, config_map)} changed since proposed: it was written concurrently`, { details: { status: 409 }, cause: err });
      }
      throw err;
    }
    log.info(
      { tool, namespace, config_map, flag, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant },
      `flag '${flag}' ${before.state}/${before.default_variant} → ${after.state}/${after.default_variant} in ${namespace}/${config_map}`,
    );
    const next = { ...current, state: after.state, defaultVariant: after.default_variant };
    return { ...base, changed: true, resource_version: written.metadata?.resourceVersion ?? '', served_value_after: servedValue(next) };
  }

  server.registerTool(
    'set_flag',
    {
      title: 'Set a feature flag',
      description:
        "Sets one flag's state (ENABLED / DISABLED) and/or default variant, on the condition that it still has the `expected` setting: otherwise " +
        'the call fails with conflict "changed since proposed". Variants, targeting and every other flag are kept; the file is validated with flagd\'s ' +
        'own schema before it is written. The result says the previous setting (what a rollback restores). Requires a grant for exactly this call. ' +
        'Never creates a flag or a variant.',
      inputSchema: {
        namespace: namespaceArg,
        config_map: configMapArg,
        flag: flagArg,
        state: stateArg.optional().describe('The new state. DISABLED turns the flag off: callers get their code default.'),
        default_variant: z.string().min(1).optional().describe('The new default variant; must be one of the flag\'s variants.'),
        expected: expectedArg,
        grant: grantArg,
      },
      outputSchema: writeOut,
      // Not destructive: one flag's setting changes, the definition stays and the previous setting is in
      // the result and the history. Not idempotent: a repeat fails its precondition.
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ namespace, config_map, flag, state, default_variant, expected, grant }) => {
      if (state === undefined && default_variant === undefined) {
        return toolErrorResult({ code: 'invalid_arguments', message: 'give state, default_variant or both', retryable: false });
      }
      return respond('set_flag', { namespace, config_map, flag }, async () => {
        // Exactly the arguments the grant was issued for: an absent field is absent, not undefined.
        const args = {
          namespace,
          config_map,
          flag,
          ...(state === undefined ? {} : { state }),
          ...(default_variant === undefined ? {} : { default_variant }),
          expected,
        };
        return write('set_flag', args, grant, () => ({ ...(state === undefined ? {} : { state }), ...(default_variant === undefined ? {} : { default_variant }) }));
      });
    },
  );

  server.registerTool(
    'rollback_flag',
    {
      title: 'Roll a feature flag back',
      description:
        'Puts one flag back to the setting (state and default variant) it had before it became what it is now, as get_flag_history reports it in ' +
        '`previous`, on the condition that it still has the `expected` setting. Fails with not_found when this server has seen no earlier setting ' +
        '(history starts at tracking_since). Requires a grant for exactly this call.',
      inputSchema: { namespace: namespaceArg, config_map: configMapArg, flag: flagArg, expected: expectedArg, grant: grantArg },
      outputSchema: writeOut,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ namespace, config_map, flag, expected, grant }) =>
      respond('rollback_flag', { namespace, config_map, flag }, async () =>
        write('rollback_flag', { namespace, config_map, flag, expected }, grant, (current) => {
          const prev = previousOf(flagVersions(namespace, config_map, flag), current);
          if (!prev) throw new GovernorError('not_found', `no earlier setting of flag '${flag}' in ${where(namespace, config_map)} seen since ${trackingSince() ?? 'this server started'}`);
          return { state: prev.state, default_variant: prev.default_variant };
        }),
      ),
  );

  return server;
}
