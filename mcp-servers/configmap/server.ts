// The ConfigMap MCP server: typed tools over the config maps of one cluster, for one session
// identity (an agent and the namespaces of its tenants). Reads: a map with the deployments that read
// it, the maps of a namespace, and the history of a map as this server has seen it (Kubernetes keeps
// none; see config-history.ts for what that history can and cannot know). One write: update_config,
// which replaces a map's data on an optimistic-concurrency precondition and rolls the deployments
// that read the changed keys, as `kubectl rollout restart` does. It is the last line of defence
// before the cluster, so it checks everything itself; it must never act outside the session's
// namespaces, write without a valid unused grant for exactly the call, remove a key a pod template
// names (that breaks the next pod start), or apply a change decided on a version that is gone.
import type { KeyObject } from 'node:crypto';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { Clock } from '../../src/core/clock.ts';
import { hashOf } from '../../src/core/canonical-json.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { SharedStatePauseEpoch, type PauseEpochReader } from '../../src/governance/pause-epoch.ts';
import { toolErrorResult } from '../../src/mcp/tool-error.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { grantArg as grantArgFor, namespaceArg as namespaceArgFor, objectNameArg } from '../shared/tool-args.ts';
import { ConfigClient } from './config-client.ts';
import { diffData, type ConfigHistory, type KeyChange } from './config-history.ts';
import { keepGrantOutcomes } from '../shared/grant-ledger.ts';
import { GrantGate } from '../shared/grant-gate.ts';
import { referencedKeysRemoved, referencesTo, type ConfigReference } from './references.ts';

/** The name grants carry in `server` for this server's tools. */
export const CONFIGMAP_SERVER_NAME = 'configmap';

export interface ConfigMapSession {
  agent: string;
  namespaces: readonly string[];
}

export interface ConfigMapMcpDeps {
  kube: KubeConfig;
  sharedState: SharedState;
  clock: Clock;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  session: ConfigMapSession;
  /** The versions seen since this server process started (shared by all its sessions; fed by config-watch.ts). */
  history: ConfigHistory;
  logger?: Logger;
  /** Default: the pause epoch in `sharedState`, where the autonomy manager writes it. */
  pauseEpoch?: PauseEpochReader;
}

/** SHA-256 (hex) of the RFC 8785 canonical JSON of a map's data: the `expected_data_sha256` precondition. */
export const configDataHash = (data: Readonly<Record<string, string>>): string => hashOf(data);

const HISTORY_NOTE =
  'Kubernetes keeps no history of config maps: these are the versions this server has seen since tracking_since ' +
  '(its start). Changes before that are unknown; changes made while it was down appear as one change when it noticed them.';

const namespaceArg = namespaceArgFor('config map');
const nameArg = objectNameArg('Name of the v1 ConfigMap.');
const grantArg = grantArgFor('configmap');
const configKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/, "a config key: alphanumerics, '-', '_' or '.'");
const dataArg = z
  .record(configKey, z.string())
  .describe('The complete new data of the config map (every key it should hold afterwards, with string values). binaryData, labels and annotations are kept.');

const keyChangeOut = z.object({
  key: z.string(),
  before: z.string().nullable().describe('Value before the change; null when the key did not exist.'),
  after: z.string().nullable().describe('Value after the change; null when the key was removed.'),
});

const referenceOut = z.object({
  deployment: z.string(),
  wholesale: z.boolean().describe('The pod template takes every key (envFrom, or a volume without items).'),
  keys: z.array(z.string()).describe('Keys the pod template names (env configMapKeyRef, volume items).'),
  via: z.array(z.string()).describe('Where: envFrom, env:VAR, volume:NAME.'),
});

const getConfigOut = z.object({
  namespace: z.string(),
  name: z.string(),
  resource_version: z.string().describe('metadata.resourceVersion now: the precondition update_config expects.'),
  data: z.record(z.string(), z.string()),
  data_sha256: z.string().describe('SHA-256 of the canonical JSON of data: the alternative precondition update_config accepts.'),
  binary_keys: z.array(z.string()).describe('Keys of binaryData (values not shown; update_config keeps them).'),
  immutable: z.boolean(),
  referenced_by: z.array(referenceOut).describe('Deployments of the namespace whose pod templates read this map, sorted by name.'),
});

const versionOut = z.object({
  resource_version: z.string(),
  observed_at: z.string().describe('When this server saw the version (ISO 8601, the run\'s clock).'),
  kind: z.enum(['initial', 'created', 'changed', 'deleted']).describe('initial: the data when tracking began; its own past is unknown.'),
  changes: z.array(keyChangeOut).describe('Keys that differ from the previous version (every key for initial and created).'),
  data: z.record(z.string(), z.string()).describe('The whole data of this version.'),
});

const getHistoryOut = z.object({
  namespace: z.string(),
  name: z.string(),
  tracking_since: z.string().nullable().describe('When this server began tracking (ISO 8601); nothing earlier is known.'),
  versions: z.array(versionOut).describe('Newest first.'),
  note: z.string(),
});

const listConfigsOut = z.object({
  namespace: z.string(),
  config_maps: z.array(
    z.object({
      name: z.string(),
      resource_version: z.string(),
      keys: z.array(z.string()),
      referenced_by: z.array(z.string()).describe('Deployments whose pod templates read it.'),
      last_changed_at: z.string().nullable().describe('observed_at of its newest changed/created version seen by this server; null if none since tracking began.'),
    }),
  ),
});

const updateOut = z.object({
  namespace: z.string(),
  name: z.string(),
  changed: z.boolean().describe('False when the map already held exactly this data (nothing written, nothing restarted).'),
  from_resource_version: z.string(),
  resource_version: z.string(),
  changes: z.array(keyChangeOut),
  restarted: z.array(z.string()).describe('Deployments rolled (pod template stamped with kubectl.kubernetes.io/restartedAt) because they read a changed key.'),
  not_restarted: z
    .array(z.object({ deployment: z.string(), reason: z.string() }))
    .describe('Deployments that read the map but were not rolled, and why (reads none of the changed keys, paused, or the patch failed).'),
});

export function createConfigMapMcpServer(deps: ConfigMapMcpDeps): McpServer {
  const { clock, session, history } = deps;
  const cluster = new ConfigClient(deps.kube);
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: CONFIGMAP_SERVER_NAME });
  const gate = new GrantGate({
    server: CONFIGMAP_SERVER_NAME,
    session,
    clock,
    sharedState: deps.sharedState,
    grantPublicKeys: deps.grantPublicKeys,
    pauseEpoch: deps.pauseEpoch ?? new SharedStatePauseEpoch(deps.sharedState),
  });

  const server = new McpServer(
    { name: 'governor-configmap', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Typed access to Kubernetes config maps for Governor agents. Read tools need only a namespace of this session; ' +
        'update_config also needs a grant from the governance gateway for the exact call, and a precondition (the resourceVersion, or the ' +
        'SHA-256 of the data, the change was decided on). update_config never removes a key a pod template names, and rolls the deployments ' +
        'that read a changed key. Failures are isError results whose text starts with a code (tenant_forbidden, grant_invalid, grant_expired, ' +
        'grant_mismatch, grant_used, safety_violation, not_found, conflict, invalid_arguments, upstream_unavailable). ' +
        'History is kept by this server from its start (Kubernetes keeps none).',
    },
  );
  // A grant carried out already is answered from the ledger, never carried out twice (grant-ledger.ts).
  keepGrantOutcomes(server, gate, log);

  const { assertNamespace, respond } = sessionScope(session, log);

  const trackingSince = (): string | null => {
    const ms = history.trackingSinceMs();
    return ms === null ? null : new Date(ms).toISOString();
  };

  server.registerTool(
    'list_configs',
    {
      title: 'Config maps of a namespace',
      description:
        'The config maps of one namespace: per map its resourceVersion, keys, the deployments whose pod templates read it, and when this ' +
        'server last saw its data change. With `deployment`, only the maps that deployment reads. Read-only.',
      inputSchema: {
        namespace: namespaceArg,
        deployment: nameArg.optional().describe('Only the config maps this deployment\'s pod template reads.'),
      },
      outputSchema: listConfigsOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment }) =>
      respond('list_configs', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const [maps, deployments] = await Promise.all([cluster.listConfigMaps(namespace), cluster.listDeployments(namespace)]);
        if (deployment !== undefined && !deployments.some((d) => d.metadata?.name === deployment)) {
          throw new GovernorError('not_found', `deployment ${namespace}/${deployment} not found`);
        }
        const config_maps = maps
          .map((cm) => {
            const name = cm.metadata?.name ?? '';
            const readers = referencesTo(name, deployments).map((r) => r.deployment);
            const lastChange = history.history(namespace, name).find((v) => v.kind === 'changed' || v.kind === 'created');
            return {
              name,
              resource_version: cm.metadata?.resourceVersion ?? '',
              keys: Object.keys(cm.data ?? {}).sort(),
              referenced_by: readers,
              last_changed_at: lastChange?.observed_at ?? null,
            };
          })
          .filter((m) => deployment === undefined || m.referenced_by.includes(deployment))
          .sort((a, b) => a.name.localeCompare(b.name));
        return { namespace, config_maps };
      }),
  );

  server.registerTool(
    'get_config',
    {
      title: 'Config map',
      description:
        'One config map: its data, resourceVersion and data hash (the preconditions update_config takes), and the deployments of the ' +
        'namespace whose pod templates read it (env valueFrom, envFrom, volumes), with the keys they name. Read-only.',
      inputSchema: { namespace: namespaceArg, name: nameArg },
      outputSchema: getConfigOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, name }) =>
      respond('get_config', { namespace, config_map: name }, async () => {
        assertNamespace(namespace);
        const [cm, deployments] = await Promise.all([cluster.readConfigMap(namespace, name), cluster.listDeployments(namespace)]);
        return configView(namespace, name, cm, referencesTo(name, deployments));
      }),
  );

  server.registerTool(
    'get_config_history',
    {
      title: 'Config map history',
      description:
        'The versions of one config map this server has seen, newest first, each with when it was seen, its resourceVersion, the keys ' +
        'that changed (before → after) and its whole data. Kubernetes keeps no config map history: the server records it from its own ' +
        'start (tracking_since), so earlier changes are unknown. Read-only.',
      inputSchema: { namespace: namespaceArg, name: nameArg },
      outputSchema: getHistoryOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, name }) =>
      respond('get_config_history', { namespace, config_map: name }, async () => {
        assertNamespace(namespace);
        const versions = history.history(namespace, name);
        // Never seen: either it does not exist (say so) or it is not tracked yet (an empty history).
        if (versions.length === 0) await cluster.readConfigMap(namespace, name);
        return { namespace, name, tracking_since: trackingSince(), versions, note: HISTORY_NOTE };
      }),
  );

  server.registerTool(
    'update_config',
    {
      title: 'Update a config map',
      description:
        "Replaces a config map's data, on the condition that it is still at `expected_resource_version` (or that its data still hashes to " +
        '`expected_data_sha256`): otherwise the call fails with conflict "changed since proposed". Because running pods read config when ' +
        'they start, every deployment that reads a changed key is then rolled as `kubectl rollout restart` does. Requires a grant for exactly ' +
        'this call. Refused, whatever the grant, when it would remove a key that a pod template names (the next pod start would fail).',
      inputSchema: {
        namespace: namespaceArg,
        name: nameArg,
        data: dataArg,
        expected_resource_version: z
          .string()
          .min(1)
          .optional()
          .describe('resourceVersion the change was decided on (from get_config). Give this or expected_data_sha256.'),
        expected_data_sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/, 'a SHA-256 hex digest')
          .optional()
          .describe(
            'SHA-256 (hex) of the canonical JSON of the data the map must hold now. For a change decided before the version it applies to exists ' +
              '(a compensating action). Give this or expected_resource_version.',
          ),
        grant: grantArg,
      },
      outputSchema: updateOut,
      // Not destructive: no referenced key is removed, the previous version stays in the history, and a
      // rolling restart keeps the deployment available. Not idempotent: a repeat fails its precondition.
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ namespace, name, data, expected_resource_version, expected_data_sha256, grant }) => {
      if ((expected_resource_version === undefined) === (expected_data_sha256 === undefined)) {
        return toolErrorResult({
          code: 'invalid_arguments',
          message: 'give exactly one precondition: expected_resource_version or expected_data_sha256',
          retryable: false,
        });
      }
      return respond('update_config', { namespace, config_map: name }, async () => {
        assertNamespace(namespace);
        // Exactly the arguments the grant was issued for: an absent precondition is absent, not undefined.
        const args = {
          namespace,
          name,
          data,
          ...(expected_resource_version === undefined ? {} : { expected_resource_version }),
          ...(expected_data_sha256 === undefined ? {} : { expected_data_sha256 }),
        };
        const g = await gate.check('update_config', args, grant);
        const [labels, current, deployments] = await Promise.all([
          cluster.readNamespaceLabels(namespace),
          cluster.readConfigMap(namespace, name),
          cluster.listDeployments(namespace),
        ]);
        gate.checkTenant(g, namespace, labels);
        const rv = current.metadata?.resourceVersion ?? '';
        const before = { ...(current.data ?? {}) };
        if (expected_resource_version !== undefined && expected_resource_version !== rv) {
          throw changedSinceProposed(namespace, name, `it is at resourceVersion ${rv}, the change was decided on ${expected_resource_version}`);
        }
        if (expected_data_sha256 !== undefined && configDataHash(before) !== expected_data_sha256) {
          throw changedSinceProposed(namespace, name, 'its data is no longer the data the change was decided on');
        }
        if (current.immutable) throw new GovernorError('conflict', `config map ${namespace}/${name} is immutable; its data cannot change`);
        const references = referencesTo(name, deployments);
        const removed = referencedKeysRemoved(before, data, references);
        if (removed.length > 0) {
          throw new GovernorError(
            'safety_violation',
            `non_destructive_config: ${removed.map((r) => `key '${r.key}' is named by ${r.deployments.join(', ')}`).join('; ')}; removing it would fail their next pod start`,
            { details: { violations: removed.map((r) => ({ rule: 'non_destructive_config', key: r.key, deployments: r.deployments })) } },
          );
        }
        const changes = diffData(before, data);
        const claim = await gate.consume(g);
        if (changes.length === 0) {
          log.info({ tool: 'update_config', namespace, config_map: name, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, `${namespace}/${name} already holds this data`);
          return { namespace, name, changed: false, from_resource_version: rv, resource_version: rv, changes, restarted: [], not_restarted: [] };
        }
        let written: V1ConfigMap;
        try {
          written = await cluster.replaceData(current, data, rv);
        } catch (err) {
          await gate.releaseIfNotApplied(err, claim).catch((e: unknown) => log.warn({ err: e, key: claim.key }, 'could not release grant claim'));
          if (err instanceof GovernorError && err.code === 'conflict') throw changedSinceProposed(namespace, name, 'it was written concurrently', err);
          throw err;
        }
        const restart = await restartReaders(namespace, references, changes);
        log.info(
          { tool: 'update_config', namespace, config_map: name, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant, keys: changes.map((c) => c.key) },
          `updated ${namespace}/${name} (${changes.length} keys); restarted ${restart.restarted.join(', ') || 'nothing'}`,
        );
        return {
          namespace,
          name,
          changed: true,
          from_resource_version: rv,
          resource_version: written.metadata?.resourceVersion ?? '',
          changes,
          ...restart,
        };
      });
    },
  );

  /**
   * Rolls the deployments that read a changed key. The config is already written when this runs, so
   * a failed restart is reported in the result (and logged), not turned into a failure of the call.
   */
  async function restartReaders(namespace: string, references: ConfigReference[], changes: KeyChange[]) {
    const changed = new Set(changes.map((c) => c.key));
    // kubectl stamps RFC 3339 seconds; the run's clock, so that virtual-time runs read consistently.
    const at = new Date(Math.floor(clock.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const restarted: string[] = [];
    const not_restarted: Array<{ deployment: string; reason: string }> = [];
    const deployments = await cluster.listDeployments(namespace);
    for (const ref of references) {
      if (!ref.wholesale && !ref.keys.some((k) => changed.has(k))) {
        not_restarted.push({ deployment: ref.deployment, reason: 'reads none of the changed keys' });
        continue;
      }
      if (deployments.find((d) => d.metadata?.name === ref.deployment)?.spec?.paused) {
        not_restarted.push({ deployment: ref.deployment, reason: 'paused (kubectl rollout restart refuses a paused deployment); resume it to pick the change up' });
        continue;
      }
      try {
        await cluster.restartDeployment(namespace, ref.deployment, at);
        restarted.push(ref.deployment);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        log.warn({ namespace, deployment: ref.deployment, err: reason }, 'rollout restart after a config change failed');
        not_restarted.push({ deployment: ref.deployment, reason: `restart failed: ${reason}` });
      }
    }
    return { restarted, not_restarted };
  }

  return server;
}

function configView(namespace: string, name: string, cm: V1ConfigMap, referenced_by: ConfigReference[]) {
  const data = { ...(cm.data ?? {}) };
  return {
    namespace,
    name,
    resource_version: cm.metadata?.resourceVersion ?? '',
    data,
    data_sha256: configDataHash(data),
    binary_keys: Object.keys(cm.binaryData ?? {}).sort(),
    immutable: cm.immutable === true,
    referenced_by,
  };
}

function changedSinceProposed(namespace: string, name: string, why: string, cause?: unknown): GovernorError {
  return new GovernorError('conflict', `config map ${namespace}/${name} changed since proposed: ${why}`, {
    details: { status: 409 },
    ...(cause === undefined ? {} : { cause }),
  });
}
