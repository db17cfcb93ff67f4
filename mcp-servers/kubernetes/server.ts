// The Kubernetes MCP server: typed tools over one cluster, for one session identity (an agent and
// the namespaces of its tenants). It is the last line of defence before the cluster, so it checks
// everything itself: the namespace against the session, the gateway's grant against the exact call,
// and the hard limits of DESIGN §4 against the live cluster. It must never offer a generic
// kubectl, take the caller's word for cluster state, act outside the session's namespaces, mutate
// without a valid unused grant issued after the latest pause, or let any grant lift a hard limit.
import type { KeyObject } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode as McpErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import type { Grant } from '../../src/contracts/events.ts';
import { SharedStatePauseEpoch, type PauseEpochReader } from '../../src/governance/pause-epoch.ts';
import { keepGrantOutcomes } from '../shared/grant-ledger.ts';
import { GrantGate } from '../shared/grant-gate.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { deploymentArg, grantArg as grantArgFor, namespaceArg as namespaceArgFor, objectNameArg } from '../shared/tool-args.ts';
import {
  CORDONED_BY_ANNOTATION,
  ENVIRONMENT_LABEL,
  SCALE_COOLDOWN_MS,
  cooldownKey,
  cooldownViolation,
  drainPlan,
  scaleLimitViolations,
  type GuardrailViolation,
} from './guardrails.ts';
import { KubeClient, type NodePodView, type NodeView } from './kube-client.ts';
import { KubeAutoscaling } from './kube-autoscaling.ts';
import { registerAutoscalingTools } from './autoscaling-tools.ts';

/** The name grants carry in `server` for this server's tools. */
export const KUBERNETES_SERVER_NAME = 'kubernetes';


export interface KubernetesSession {
  agent: string;
  namespaces: readonly string[];
}

export interface KubernetesMcpDeps {
  kube: KubeConfig;
  sharedState: SharedState;
  clock: Clock;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  session: KubernetesSession;
  logger?: Logger;
  /**
   * Where the time of the latest `/agents-pause` is read: a grant issued at or before it is refused.
   * Default: the pause epoch in `sharedState`, where the autonomy manager writes it.
   */
  pauseEpoch?: PauseEpochReader;
}

const namespaceArg = namespaceArgFor();
const grantArg = grantArgFor('kubernetes');
const nodeArg = objectNameArg('Name of the core/v1 Node.');


const nodeStatusOut = z.object({
  nodes: z.array(
    z.object({
      name: z.string(),
      unschedulable: z.boolean().describe('spec.unschedulable: cordoned, takes no new pods.'),
      cordoned_by: z.string().nullable().describe('Namespace whose cordon_node grant cordoned the node (governor.io/cordoned-by); null when not cordoned by Governor.'),
      taints: z.array(z.object({ key: z.string(), value: z.string().nullable(), effect: z.string() })),
      conditions: z
        .array(z.object({ type: z.string(), status: z.string(), reason: z.string().nullable(), message: z.string().nullable(), since: z.string().nullable() }))
        .describe('Kubelet conditions: MemoryPressure, DiskPressure, PIDPressure, Ready.'),
      memory_pressure: z.boolean().describe('The MemoryPressure condition is True.'),
      memory: z.object({
        capacity_bytes: z.number(),
        allocatable_bytes: z.number(),
        used_bytes: z.number().nullable().describe('Working set of everything on the node (metrics.k8s.io), null without a sample.'),
        available_bytes: z.number().nullable().describe("capacity - used: the kubelet's memory.available signal."),
        used_ratio: z.number().nullable().describe('used / capacity, 0..1.'),
      }),
      cpu: z.object({ capacity_millicores: z.number(), allocatable_millicores: z.number(), used_millicores: z.number().nullable() }),
      pods: z
        .array(z.object({ namespace: z.string(), pod: z.string(), deployment: z.string().nullable(), ready: z.boolean(), restart_count: z.number().int() }))
        .describe("This session's pods on the node (its namespaces only)."),
      other_tenants_pods: z.number().int().describe("Pods of namespaces outside this session on the node: a count only, never who they are."),
      other_tenants: z.number().int().describe('How many other namespaces (tenants) have pods on the node: a count, for the blast radius of a node-wide action.'),
      other_services: z.number().int().describe("How many other tenants' deployments have pods on the node: a count."),
      session_pods_here: z.number().int().optional().describe('With a deployment: how many of its pods run on this node.'),
    }),
  ),
});

const cordonOut = z.object({
  node: z.string(),
  unschedulable: z.boolean(),
  was_unschedulable: z.boolean().describe('The node was already cordoned before this call.'),
  evicted: z.array(z.object({ namespace: z.string(), pod: z.string(), deployment: z.string().nullable() })).describe("The session's pods evicted (drain)."),
  kept: z.array(z.object({ namespace: z.string(), pod: z.string(), reason: z.string() })).describe('Pods the drain left in place, and why.'),
  other_tenants_pods: z.number().int().describe('Pods of other tenants on the node, untouched.'),
});

const uncordonOut = z.object({ node: z.string(), unschedulable: z.boolean(), was_unschedulable: z.boolean() });

const podMetricsOut = z.object({
  pod: z.string().describe('Pod name.'),
  revision: z.number().int().nullable().describe('Deployment revision the pod runs (from its ReplicaSet), null when unknown.'),
  ready: z.boolean().describe('The pod reports the Ready condition.'),
  memory_bytes: z.number().describe('Working-set memory of all containers (metrics.k8s.io), bytes.'),
  memory_limit_bytes: z.number().nullable().describe('Sum of container memory limits, bytes; null when a container has no limit.'),
  memory_utilisation: z
    .number()
    .nullable()
    .describe('Memory use relative to the limit, 0..1: the custom metric memory_utilisation_ratio when served, else memory_bytes / memory_limit_bytes.'),
  cpu_millicores: z.number().describe('CPU use of all containers (metrics.k8s.io), millicores.'),
  cpu_limit_millicores: z.number().nullable().describe('Sum of container CPU limits, millicores; null when a container has no limit. With cpu_millicores: how saturated the pod is.'),
  gc_pause_ms_per_min: z.number().nullable().describe('JVM garbage-collection pause time per minute (custom metric jvm_gc_pause_ms_per_min), null when not served.'),
  cpu_throttled_ratio: z
    .number()
    .nullable()
    .describe('Share of CFS periods in which the pod was throttled at its CPU limit, 0..1 (custom metric cpu_throttled_ratio, as from cAdvisor nr_throttled / nr_periods), null when not served.'),
  restart_count: z.number().int().describe("Restarts of the pod's containers since the pod started."),
  last_termination_reason: z
    .string()
    .nullable()
    .describe("Why a container last ended (lastState.terminated.reason), OOMKilled first when any container was; null when none has restarted."),
});

const getPodMetricsOut = z.object({
  namespace: z.string(),
  deployment: z.object({
    name: z.string(),
    replicas: z.number().int().describe('Desired replicas (spec.replicas).'),
    ready_replicas: z.number().int(),
    revision: z.number().int().nullable().describe('Current revision (deployment.kubernetes.io/revision).'),
    template_annotations: z.record(z.string(), z.string()).describe('Annotations of the current pod template.'),
    containers: z
      .array(
        z.object({
          name: z.string(),
          requests: z.object({ cpu: z.string().nullable(), memory: z.string().nullable() }),
          limits: z.object({ cpu: z.string().nullable(), memory: z.string().nullable() }),
        }),
      )
      .describe("The pod template's containers with their requests and limits as written (null: not set): what patch_resource_limits changes."),
  }),
  pods: z.array(podMetricsOut).describe('Live pods of the deployment that have a usage sample, sorted by name.'),
  pods_without_metrics: z
    .array(z.object({ pod: z.string(), revision: z.number().int().nullable(), ready: z.boolean() }))
    .describe('Live pods the metrics API has no sample for yet (typically just started).'),
  service: z
    .object({
      p50_ms: z.number().describe('Median request latency, ms (http_request_duration_p50_ms).'),
      p99_ms: z.number().describe('99th percentile request latency, ms (http_request_duration_p99_ms).'),
      rps: z.number().describe('Requests per second (http_requests_per_second).'),
      error_ratio: z.number().describe('Share of requests failing, 0..1 (http_error_ratio).'),
    })
    .nullable()
    .describe('Service-level signals of the deployment from the custom metrics API; null when asked without them (service_metrics: false).'),
});

const revisionOut = z.object({
  revision: z.number().int(),
  replica_set: z.string(),
  created_at: z.string().nullable().describe('Creation time of the revision\'s ReplicaSet (ISO 8601).'),
  change_cause: z.string().nullable().describe('kubernetes.io/change-cause of the revision.'),
  annotations: z.record(z.string(), z.string()).describe('Annotations of the revision\'s pod template.'),
  replicas: z.number().int().describe('Pods currently running this revision.'),
});

const getRolloutHistoryOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  current_revision: z.number().int().nullable(),
  revisions: z.array(revisionOut).describe('Revisions still in the deployment\'s history, oldest first.'),
});

const getNamespaceCapacityOut = z.object({
  namespace: z.string(),
  total_pods: z.number().int().describe('Live pods in the namespace.'),
  deployments: z.array(
    z.object({
      name: z.string(),
      replicas: z.number().int(),
      cpu_request_millicores: z.number().describe('CPU requested by one pod, millicores.'),
      memory_request_bytes: z.number().describe('Memory requested by one pod, bytes.'),
    }),
  ),
});

const scaleOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  from_replicas: z.number().int(),
  to_replicas: z.number().int(),
});

const rollbackOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  from_revision: z.number().int().nullable(),
  to_revision: z.number().int().describe('The historical revision whose pod template is now the deployment\'s template.'),
  change_cause: z.string().nullable().describe('change-cause of the revision rolled back to.'),
  changed: z.boolean().describe('False when the deployment already ran that template (nothing was written).'),
});

export function createKubernetesMcpServer(deps: KubernetesMcpDeps): McpServer {
  const { sharedState, clock, session } = deps;
  const kube = new KubeClient(deps.kube);
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: KUBERNETES_SERVER_NAME });
  const allowed = new Set(session.namespaces);
  const gate = new GrantGate({
    server: KUBERNETES_SERVER_NAME,
    session,
    clock,
    sharedState,
    grantPublicKeys: deps.grantPublicKeys,
    pauseEpoch: deps.pauseEpoch ?? new SharedStatePauseEpoch(sharedState),
  });
  /** A grant for a node tool: its namespace (the proposal's) must be one of this session's, and its tenant that namespace's owner. */
  const nodeGrant = async (tool: string, args: Record<string, unknown>, grant: unknown): Promise<Grant> => {
    const g = await gate.checkScoped(tool, args, grant, allowed);
    gate.checkTenant(g, g.namespace, await kube.readNamespaceLabels(g.namespace));
    return g;
  };

  const server = new McpServer(
    { name: 'governor-kubernetes', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Typed access to Kubernetes deployments and the nodes they run on for Governor agents. Read tools need only a namespace of this session; ' +
        'scale_deployment, set_hpa_bounds, patch_resource_limits, rollback_deployment, cordon_node and uncordon_node also need a grant from the governance gateway for the exact call. ' +
        'A deployment whose replica count a HorizontalPodAutoscaler owns (get_hpa_status) is scaled through the HPA\'s bounds (set_hpa_bounds), never against it. ' +
        'Node tools act only for the session\'s tenants: a node is visible and cordonable only while it runs pods of the session, a drain evicts only ' +
        'the session\'s pods (never another tenant\'s), and uncordon_node undoes only a cordon made with a grant of the session. ' +
        'Hard limits (at most 3x scale-up per call, at least 2 replicas in production, 300 s between scaling actions on a deployment) ' +
        'are enforced here and cannot be lifted by any grant. Failures are isError results whose text starts with a code ' +
        '(tenant_forbidden, grant_invalid, grant_expired, grant_mismatch, grant_used, safety_violation, input_invalid, not_found, conflict, upstream_unavailable). ' +
        'A grant issued before the latest /agents-pause is refused as grant_invalid.',
    },
  );
  // A grant carried out already is answered from the ledger, never carried out twice (grant-ledger.ts).
  keepGrantOutcomes(server, gate, log);

  const scope = sessionScope(session, log);
  const { assertNamespace, respond } = scope;
  const autoscaling = new KubeAutoscaling(deps.kube);
  registerAutoscalingTools(server, { kube, autoscaling, gate, scope, clock, log, namespaceArg, grantArg });

  server.registerTool(
    'get_pod_metrics',
    {
      title: 'Deployment and pod metrics',
      description:
        'Current state of one deployment: per pod its revision, readiness, memory and CPU use (metrics.k8s.io) and JVM GC pauses and ' +
        'memory utilisation (custom metrics API); the service\'s p50 / p99 latency, request rate and error ratio; and the deployment\'s ' +
        'desired and ready replicas, current revision and pod-template annotations. Read-only.',
      inputSchema: {
        namespace: namespaceArg,
        deployment: deploymentArg,
        service_metrics: z.boolean().default(true).describe(
          'Read the service\'s latency, rate and errors from the custom metrics API; false when they come from Prometheus instead (a cluster without a metrics adapter).',
        ),
      },
      outputSchema: getPodMetricsOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, service_metrics }) =>
      respond('get_pod_metrics', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const m = await kube.deploymentMetrics(namespace, deployment, { service: service_metrics });
        return {
          namespace,
          deployment: { name: deployment, ...m.deployment_status },
          pods: m.pods,
          pods_without_metrics: m.pods_without_metrics,
          service: m.service,
        };
      }),
  );

  server.registerTool(
    'get_rollout_history',
    {
      title: 'Rollout history',
      description:
        'Revisions of a deployment still in its history (its ReplicaSets), oldest first, each with creation time, change-cause and ' +
        'pod-template annotations, and the current revision. The same information as `kubectl rollout history`. Read-only.',
      inputSchema: { namespace: namespaceArg, deployment: deploymentArg },
      outputSchema: getRolloutHistoryOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment }) =>
      respond('get_rollout_history', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        return kube.rolloutHistory(namespace, deployment);
      }),
  );

  server.registerTool(
    'get_namespace_capacity',
    {
      title: 'Namespace capacity',
      description:
        'Capacity of one namespace: live pods, and per deployment its replicas and the CPU and memory one pod requests. ' +
        'The basis for computing the capacity change of a scaling proposal. Read-only.',
      inputSchema: { namespace: namespaceArg },
      outputSchema: getNamespaceCapacityOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace }) =>
      respond('get_namespace_capacity', { namespace }, async () => {
        assertNamespace(namespace);
        return kube.namespaceCapacity(namespace);
      }),
  );

  server.registerTool(
    'scale_deployment',
    {
      title: 'Scale a deployment',
      description:
        'Sets the number of replicas of a deployment through its scale subresource. Requires a grant for exactly this call. ' +
        'Refused (conflict) for a deployment a HorizontalPodAutoscaler scales: use set_hpa_bounds. ' +
        'Refused, whatever the grant, when the new count is more than 3x the current one, below 2 in a namespace labelled ' +
        '`governor.io/environment: production`, or within 300 s of the previous scaling action on the same deployment ' +
        '(cooldown shared by every server replica). Scaling down terminates pods.',
      inputSchema: {
        namespace: namespaceArg,
        deployment: deploymentArg,
        replicas: z.number().int().min(0).max(100_000).describe('Desired number of replicas.'),
        grant: grantArg,
      },
      outputSchema: scaleOut,
      // Destructive because a scale-down terminates pods; idempotent because repeating a call changes nothing more.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, replicas, grant }) =>
      respond('scale_deployment', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const g = await gate.check('scale_deployment', { namespace, deployment, replicas }, grant);
        const target = `${namespace}/${deployment}`;
        const [live, labels, hpa] = await Promise.all([kube.readDeployment(namespace, deployment), kube.readNamespaceLabels(namespace), autoscaling.hpaOf(namespace, deployment)]);
        const current = live.spec?.replicas ?? 0;
        gate.checkTenant(g, namespace, labels);
        // The HPA would set the count straight back: scaling against it only fights it.
        if (hpa) {
          throw new GovernorError('conflict', `${namespace}/${deployment} is scaled by HorizontalPodAutoscaler ${hpa.name} (${hpa.min_replicas}-${hpa.max_replicas} replicas); change its bounds with set_hpa_bounds instead`, { details: { hpa: hpa.name } });
        }
        const violations = scaleLimitViolations({
          namespace,
          deployment,
          currentReplicas: current,
          requestedReplicas: replicas,
          production: labels[ENVIRONMENT_LABEL] === 'production',
        });
        if (violations.length > 0) throw safetyViolation(violations);

        if (replicas === current) {
          // Nothing to change: the grant is spent, but no cooldown starts, so a real action is not held up.
          await gate.consume(g);
          return { namespace, deployment, from_replicas: current, to_replicas: replicas };
        }
        await gate.applyInCooldown(
          g,
          { key: cooldownKey(namespace, deployment), windowMs: SCALE_COOLDOWN_MS, refused: (since, now) => safetyViolation([cooldownViolation(target, since, now)]) },
          () => kube.scale(namespace, deployment, replicas, { resourceVersion: live.metadata?.resourceVersion, generation: live.metadata?.generation }),
        );
        log.info({ tool: 'scale_deployment', namespace, deployment, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, `scaled ${target} ${current} → ${replicas}`);
        return { namespace, deployment, from_replicas: current, to_replicas: replicas };
      }),
  );

  server.registerTool(
    'rollback_deployment',
    {
      title: 'Roll back a deployment',
      description:
        'Restores the pod template of an earlier revision, as `kubectl rollout undo` does: the template of that revision\'s ReplicaSet ' +
        '(without its pod-template-hash label) and its change-cause become the deployment\'s, and the deployment controller rolls the pods. ' +
        'Default target: the newest revision older than the current one. Requires a grant for exactly this call. ' +
        'Refused for a paused deployment or a revision no longer in the history.',
      inputSchema: {
        namespace: namespaceArg,
        deployment: deploymentArg,
        to_revision: z.number().int().min(1).optional().describe('Revision to restore; omit for the previous revision.'),
        grant: grantArg,
      },
      outputSchema: rollbackOut,
      // Not idempotent: without to_revision, a repeated call moves to yet another revision.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ namespace, deployment, to_revision, grant }) =>
      respond('rollback_deployment', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        // Exactly the arguments the grant was issued for: an absent to_revision is absent, not undefined.
        const args = { namespace, deployment, ...(to_revision === undefined ? {} : { to_revision }) };
        const g = await gate.check('rollback_deployment', args, grant);
        gate.checkTenant(g, namespace, await kube.readNamespaceLabels(namespace));
        const plan = await kube.planRollback(namespace, deployment, to_revision);
        const claim = await gate.consume(g);
        try {
          await kube.applyRollback(plan);
        } catch (err) {
          await gate.releaseIfNotApplied(err, claim);
          throw err;
        }
        log.info(
          { tool: 'rollback_deployment', namespace, deployment, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant },
          plan.changed ? `rolled back ${namespace}/${deployment} from revision ${plan.from_revision} to ${plan.to_revision}` : `${namespace}/${deployment} already runs revision ${plan.to_revision}'s template`,
        );
        return {
          namespace,
          deployment,
          from_revision: plan.from_revision,
          to_revision: plan.to_revision,
          change_cause: plan.change_cause,
          changed: plan.changed,
        };
      }),
  );

  // ---- nodes ---------------------------------------------------------------------------------
  // Tenant scope of node-wide actions. A node is shared: cordoning it changes scheduling for every
  // tenant with pods there, which is why the gateway always supervises cordon_node and the blast
  // radius counts those tenants. What the server enforces on its own: a session sees a node only
  // while it runs pods of the session's namespaces (no probing of other tenants' nodes), and then
  // other tenants' pods only as a count; it may cordon only a node running pods of the grant's
  // namespace; a drain evicts only pods of the session's namespaces, never another tenant's; and
  // uncordon_node undoes only a cordon that a grant of the session's namespaces made (the node's
  // governor.io/cordoned-by annotation), never an operator's or another tenant's.

  function sessionPods(pods: NodePodView[]): NodePodView[] {
    return pods.filter((p) => allowed.has(p.namespace));
  }

  function describeNode(node: NodeView, pods: NodePodView[], deployment?: { namespace: string; name: string }) {
    const mine = sessionPods(pods);
    const used = node.usage?.memory_bytes ?? null;
    const cap = node.capacity.memory_bytes;
    return {
      name: node.name,
      unschedulable: node.unschedulable,
      cordoned_by: node.annotations[CORDONED_BY_ANNOTATION] ?? null,
      taints: node.taints,
      conditions: node.conditions,
      memory_pressure: node.conditions.some((c) => c.type === 'MemoryPressure' && c.status === 'True'),
      memory: {
        capacity_bytes: cap,
        allocatable_bytes: node.allocatable.memory_bytes,
        used_bytes: used,
        available_bytes: used === null ? null : cap - used,
        used_ratio: used === null || cap <= 0 ? null : Math.round((used / cap) * 10_000) / 10_000,
      },
      cpu: { capacity_millicores: node.capacity.cpu_millicores, allocatable_millicores: node.allocatable.cpu_millicores, used_millicores: node.usage?.cpu_millicores ?? null },
      pods: mine
        .map((p) => ({ namespace: p.namespace, pod: p.name, deployment: p.owner, ready: p.ready, restart_count: p.restart_count }))
        .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod)),
      other_tenants_pods: pods.length - mine.length,
      other_tenants: new Set(pods.filter((p) => !allowed.has(p.namespace)).map((p) => p.namespace)).size,
      other_services: new Set(pods.filter((p) => !allowed.has(p.namespace)).map((p) => `${p.namespace}/${p.owner ?? p.name}`)).size,
      ...(deployment ? { session_pods_here: mine.filter((p) => p.namespace === deployment.namespace && p.owner === deployment.name).length } : {}),
    };
  }

  server.registerTool(
    'get_node_status',
    {
      title: 'Node status',
      description:
        'Health of one node, or of every node a deployment\'s pods run on: kubelet conditions (MemoryPressure, DiskPressure, PIDPressure, Ready), ' +
        'cordon state and taints, memory and CPU capacity, allocatable and current use (memory.available as the kubelet computes it), and the pods ' +
        'of this session\'s namespaces on it; other tenants\' pods appear only as a count. Give `node`, or `namespace` and `deployment`. ' +
        'A node that runs no pod of this session is refused (tenant_forbidden). Read-only.',
      inputSchema: {
        node: nodeArg.optional(),
        namespace: namespaceArg.optional(),
        deployment: deploymentArg.optional(),
      },
      outputSchema: nodeStatusOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ node, namespace, deployment }) => {
      // Protocol misuse (the arguments do not say what to read), not a tool failure: thrown, as the SDK expects.
      if ((node === undefined) === (namespace === undefined || deployment === undefined)) {
        throw new McpError(McpErrorCode.InvalidParams, 'get_node_status: give either `node`, or both `namespace` and `deployment`');
      }
      return respond('get_node_status', { node, namespace, deployment }, async () => {
        if (node !== undefined) {
          const pods = await kube.podsOnNode(node);
          if (sessionPods(pods).length === 0) throw new GovernorError('tenant_forbidden', `node '${node}' runs no pod of this session's namespaces`);
          return { nodes: [describeNode(await kube.readNode(node), pods)] };
        }
        assertNamespace(namespace!);
        const names = [...(await kube.nodesOfDeployment(namespace!, deployment!)).keys()].sort();
        const nodes = await Promise.all(
          names.map(async (n) => describeNode(await kube.readNode(n), await kube.podsOnNode(n), { namespace: namespace!, name: deployment! })),
        );
        return { nodes };
      });
    },
  );

  server.registerTool(
    'cordon_node',
    {
      title: 'Cordon (and drain) a node',
      description:
        'Marks a node unschedulable, as `kubectl cordon` does, so that no new pod lands on it; with `drain`, also evicts (pods/eviction, policy/v1) ' +
        'the pods of this session\'s namespaces on it, so that their ReplicaSets recreate them on other nodes. Other tenants\' pods are never evicted. ' +
        'A ready pod of a deployment in a production namespace is kept when evicting it would leave fewer than 2 ready pods. ' +
        'Requires a grant for exactly this call (`node`, `drain`), issued for a namespace of this session that has pods on the node. ' +
        'The compensating action is uncordon_node.',
      inputSchema: {
        node: nodeArg,
        drain: z.boolean().describe('Also evict the session\'s pods on the node (kubectl drain, limited to this session\'s namespaces).'),
        grant: grantArg,
      },
      outputSchema: cordonOut,
      // Destructive: a drain terminates pods; not idempotent: a second drain evicts the replacements that landed meanwhile.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ node, drain, grant }) =>
      respond('cordon_node', { node }, async () => {
        const g = await nodeGrant('cordon_node', { node, drain }, grant);
        const [live, pods] = await Promise.all([kube.readNode(node), kube.podsOnNode(node)]);
        if (!pods.some((p) => p.namespace === g.namespace)) {
          throw new GovernorError('tenant_forbidden', `node '${node}' runs no pod of namespace '${g.namespace}': a tenant may cordon only a node its workload runs on`);
        }
        const claim = await gate.consume(g);
        if (!live.unschedulable) {
          try {
            await kube.setUnschedulable(node, true, { [CORDONED_BY_ANNOTATION]: g.namespace });
          } catch (err) {
            await gate.releaseIfNotApplied(err, claim);
            throw err;
          }
        }
        const mine = sessionPods(pods);
        const evicted: Array<{ namespace: string; pod: string; deployment: string | null }> = [];
        const kept: Array<{ namespace: string; pod: string; reason: string }> = [];
        if (drain) {
          const deployments = [...new Set(mine.filter((p) => p.owner !== null).map((p) => `${p.namespace}/${p.owner}`))];
          const namespaces = [...new Set(mine.map((p) => p.namespace))];
          const [ready, labels] = await Promise.all([
            Promise.all(deployments.map(async (k) => [k, (await kube.readyPodsOfDeployment(k.split('/')[0]!, k.split('/')[1]!)).length] as const)),
            Promise.all(namespaces.map(async (ns) => [ns, await kube.readNamespaceLabels(ns)] as const)),
          ]);
          const plan = drainPlan({
            pods: mine.map((p) => ({ namespace: p.namespace, name: p.name, deployment: p.owner, ready: p.ready })),
            readyReplicas: new Map(ready),
            production: new Set(labels.filter(([, l]) => l[ENVIRONMENT_LABEL] === 'production').map(([ns]) => ns)),
          });
          for (const k of plan.keep) kept.push({ namespace: k.namespace, pod: k.name, reason: k.reason });
          for (const p of plan.evict) {
            try {
              await kube.evictPod(p.namespace, p.name);
              evicted.push({ namespace: p.namespace, pod: p.name, deployment: p.deployment });
            } catch (err) {
              // Gone meanwhile (evicted by the kubelet, replaced): nothing left to move.
              if (err instanceof GovernorError && err.code === 'not_found') continue;
              const e = err instanceof GovernorError ? err : undefined;
              kept.push({ namespace: p.namespace, pod: p.name, reason: `eviction failed: ${e ? `${e.code}: ${e.message}` : String(err)}` });
            }
          }
        }
        log.info(
          { tool: 'cordon_node', node, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant },
          `cordoned ${node}${drain ? `, evicted ${evicted.length} pod(s), kept ${kept.length}` : ''}`,
        );
        return { node, unschedulable: true, was_unschedulable: live.unschedulable, evicted, kept, other_tenants_pods: pods.length - mine.length };
      }),
  );

  server.registerTool(
    'uncordon_node',
    {
      title: 'Uncordon a node',
      description:
        'Makes a node schedulable again, as `kubectl uncordon` does: the compensating action of cordon_node. Only a cordon made by cordon_node with a grant ' +
        'for one of this session\'s namespaces (annotation governor.io/cordoned-by) is undone; an operator\'s or another tenant\'s cordon is refused. ' +
        'Evicted pods are not moved back. Requires a grant for exactly this call (`node`).',
      inputSchema: { node: nodeArg, grant: grantArg },
      outputSchema: uncordonOut,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ node, grant }) =>
      respond('uncordon_node', { node }, async () => {
        const g = await nodeGrant('uncordon_node', { node }, grant);
        const live = await kube.readNode(node);
        const by = live.annotations[CORDONED_BY_ANNOTATION];
        if (live.unschedulable && (by === undefined || !allowed.has(by))) {
          throw new GovernorError('tenant_forbidden', `node '${node}' was not cordoned by this session's tenants (${by === undefined ? 'no governor.io/cordoned-by' : `cordoned by '${by}'`}); leaving it cordoned`);
        }
        const claim = await gate.consume(g);
        if (live.unschedulable) {
          try {
            await kube.setUnschedulable(node, false, { [CORDONED_BY_ANNOTATION]: null });
          } catch (err) {
            await gate.releaseIfNotApplied(err, claim);
            throw err;
          }
        }
        log.info({ tool: 'uncordon_node', node, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, `uncordoned ${node}`);
        return { node, unschedulable: false, was_unschedulable: live.unschedulable };
      }),
  );

  return server;
}

function safetyViolation(violations: GuardrailViolation[]): GovernorError {
  return new GovernorError('safety_violation', violations.map((v) => `${v.rule}: ${v.message}`).join('; '), {
    details: { violations },
  });
}
