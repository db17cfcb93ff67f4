// The Billing MCP server: typed tools for tenant fairness — what each tenant requests, uses and
// costs, who shares a node with whom, and the one lever the Arbitrator has, a CPU-limit throttle
// (and its restore). It is the last line of defence before the cluster for those tools, so it
// checks everything itself: the session's namespaces, the gateway's grant against the exact call,
// and the throttle's hard rules against the live deployment.
//
// Session scope. A session is bound (by its bearer token, see http.ts) to an agent and a set of
// namespaces. The Arbitrator is the cross-tenant agent, so its session may span several tenants'
// namespaces; nothing else widens it:
//   - get_tenant_usage needs every namespace of the tenant in the session (a partial bill would lie);
//   - get_node_tenancy needs the deployment's namespace in the session; co-tenants on the node are
//     shown with per-deployment detail only where their namespaces are in the session, otherwise as
//     tenant name and totals; no pod name of any other namespace is ever returned;
//   - throttle_tenant and restore_tenant_limit need the namespace in the session and a grant.
// It must never offer a generic write, act outside the session's namespaces, mutate without a valid
// unused grant issued after the latest pause, raise a limit through throttle_tenant, set a limit
// below a container's request, or restore any value other than the one a throttle recorded.
import type { KeyObject } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { SharedStatePauseEpoch, type PauseEpochReader } from '../../src/governance/pause-epoch.ts';
import { tenantOfNamespace, type Tenants } from '../../src/governance/tenants.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { deploymentArg, grantArg as grantArgFor, namespaceArg as namespaceArgFor } from '../shared/tool-args.ts';
import { TENANT_LABEL } from '../kubernetes/guardrails.ts';
import { parseQuantity } from '../kubernetes/quantity.ts';
import { BillingClient, containerCpu } from './billing-client.ts';
import { keepGrantOutcomes } from '../shared/grant-ledger.ts';
import { GrantGate } from '../shared/grant-gate.ts';
import {
  THROTTLED_FROM_ANNOTATION,
  UNASSIGNED_TENANT,
  deploymentUsage,
  formatMillicores,
  nodeTenancy,
  planRestore,
  planThrottle,
  type LimitChange,
  type PodFacts,
} from './tenancy.ts';

/** The name grants carry in `server` for this server's tools. */
export const BILLING_SERVER_NAME = 'billing';

const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';

export interface BillingSession {
  agent: string;
  namespaces: readonly string[];
}

export interface BillingMcpDeps {
  kube: KubeConfig;
  sharedState: SharedState;
  clock: Clock;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  session: BillingSession;
  /** Tenants' entitlements and prices (config/tenants.json). */
  tenants: Tenants;
  logger?: Logger;
  /** Where the latest `/agents-pause` is read; default: the pause epoch in `sharedState`. */
  pauseEpoch?: PauseEpochReader;
}

const namespaceArg = namespaceArgFor();
const grantArg = grantArgFor('billing');
const cpuLimitArg = z
  .string()
  .regex(/^(\d+(\.\d{1,3})?|\d+m)$/, 'a CPU quantity: cores ("2", "1.5") or millicores ("500m")')
  .describe('New CPU limit of every container of the deployment, as a Kubernetes CPU quantity ("500m", "2").');

const deploymentUsageOut = z.object({
  namespace: z.string(),
  name: z.string(),
  replicas: z.number().int().describe('Desired replicas.'),
  running_pods: z.number().int().describe('Pods with a current usage sample.'),
  containers: z.number().int(),
  pod_cpu_request_millicores: z.number().describe('CPU one pod requests (all containers), millicores.'),
  pod_cpu_limit_millicores: z.number().nullable().describe('CPU limit of one pod (all containers), millicores; null when a container is unlimited.'),
  pod_memory_request_bytes: z.number(),
  pod_memory_limit_bytes: z.number().nullable(),
  cpu_usage_millicores: z.number().describe('CPU use of all its pods now (metrics.k8s.io), millicores.'),
  memory_usage_bytes: z.number().describe('Working-set memory of all its pods now (metrics.k8s.io), bytes.'),
  monthly_cost_usd: z.number().describe("replicas × the tenant's pod_monthly_cost_usd."),
});

const tenantUsageOut = z.object({
  tenant: z.string(),
  entitlements: z.object({
    tier: z.string(),
    max_replicas: z.number().int().describe('Replicas one deployment of the tenant is entitled to.'),
    monthly_budget_usd: z.number(),
    month_to_date_usd: z.number(),
    pod_monthly_cost_usd: z.number(),
  }),
  namespaces: z.array(z.string()),
  deployments: z.array(deploymentUsageOut),
  totals: z.object({
    replicas: z.number().int(),
    cpu_request_millicores: z.number().describe('Σ replicas × pod CPU request.'),
    cpu_limit_millicores: z.number().nullable().describe('Σ replicas × pod CPU limit; null when some deployment is unlimited.'),
    cpu_usage_millicores: z.number(),
    memory_usage_bytes: z.number(),
    monthly_cost_usd: z.number(),
  }),
});

const workloadOut = z.object({
  namespace: z.string(),
  deployment: z.string().nullable().describe('Owning deployment; null for pods no deployment owns.'),
  pods: z.number().int().describe('Its pods on this node.'),
  containers_per_pod: z.number().int(),
  pod_cpu_request_millicores: z.number(),
  pod_cpu_limit_millicores: z.number().nullable().describe('null when a container has no CPU limit.'),
  cpu_request_millicores: z.number().describe('Requests of its pods on this node.'),
  cpu_usage_millicores: z.number().describe('Use of its pods on this node now.'),
});

const nodeTenancyOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  tenant: z.string().describe("The deployment's tenant."),
  nodes: z.array(
    z.object({
      node: z.string(),
      allocatable_cpu_millicores: z.number(),
      cpu_usage_millicores: z.number().describe("The node's CPU use now (metrics.k8s.io), daemons included."),
      cpu_utilisation: z.number().describe('cpu_usage / allocatable; neighbours slow each other down above about 0.5.'),
      cpu_requested_millicores: z.number().describe('Sum of the requests of the pods bound to the node.'),
      deployment_pods: z.number().int().describe("The deployment's pods on this node."),
      tenants: z.array(
        z.object({
          tenant: z.string(),
          in_session: z.boolean().describe('False: the session does not cover this tenant here; only its totals are shown.'),
          pods: z.number().int(),
          cpu_request_millicores: z.number(),
          cpu_usage_millicores: z.number(),
          workloads: z.array(workloadOut).describe('Per deployment, only when in_session.'),
        }),
      ),
    }),
  ),
});

const limitChangeOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  from_cpu_limit: z.string().describe('CPU limit per container before the call.'),
  to_cpu_limit: z.string(),
  changed: z.boolean().describe('False when the deployment already had that limit (nothing was written; the grant is spent).'),
  throttled_from: z.string().nullable().describe(`Value of the ${THROTTLED_FROM_ANNOTATION} annotation after the call: what restore_tenant_limit may bring back.`),
});

export function createBillingMcpServer(deps: BillingMcpDeps): McpServer {
  const { session } = deps;
  const kube = new BillingClient(deps.kube);
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: BILLING_SERVER_NAME });
  const allowed = new Set(session.namespaces);
  const gate = new GrantGate({
    server: BILLING_SERVER_NAME,
    session,
    grantPublicKeys: deps.grantPublicKeys,
    sharedState: deps.sharedState,
    clock: deps.clock,
    pauseEpoch: deps.pauseEpoch ?? new SharedStatePauseEpoch(deps.sharedState),
  });

  const server = new McpServer(
    { name: 'governor-billing', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        "Tenant fairness for Governor's Arbitrator: tenants' usage, cost and entitlements, the tenants sharing a deployment's nodes, " +
        'and CPU-limit throttling of a noisy neighbour. Every call must stay within the namespaces this session is bound to. ' +
        'throttle_tenant and restore_tenant_limit need a grant from the governance gateway for the exact call; a throttle never goes below ' +
        'a container\'s request nor raises a limit, and a restore only brings back the value recorded by the throttle. Failures are isError ' +
        'results whose text starts with a code (tenant_forbidden, grant_invalid, grant_expired, grant_mismatch, grant_used, safety_violation, ' +
        'not_found, conflict, upstream_unavailable).',
    },
  );
  // A grant carried out already is answered from the ledger, never carried out twice (grant-ledger.ts).
  keepGrantOutcomes(server, gate, log);

  const { assertNamespace, respond } = sessionScope(session, log);

  /** The tenant a namespace belongs to: its label first (what the cluster says), else the configuration. */
  function tenantOfFn(labels: Map<string, Record<string, string>>): (ns: string) => string {
    return (ns) => labels.get(ns)?.[TENANT_LABEL] ?? tenantOfNamespace(deps.tenants, ns)?.[0] ?? UNASSIGNED_TENANT;
  }

  server.registerTool(
    'get_tenant_usage',
    {
      title: 'Tenant usage, cost and entitlements',
      description:
        "One tenant's deployments in all its namespaces: per deployment the CPU and memory one pod requests and is limited to, current use " +
        "of all its pods (metrics.k8s.io) and monthly cost at the tenant's pod price; totals; and the tenant's entitlements (tier, max replicas, " +
        'budget and month-to-date spend). Every namespace of the tenant must be in this session. Read-only.',
      inputSchema: { tenant: z.string().min(1).max(63).describe('Tenant name as in the tenants configuration.') },
      outputSchema: tenantUsageOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ tenant }) =>
      respond('get_tenant_usage', { tenant }, async () => {
        const spec = deps.tenants[tenant];
        if (!spec) throw new GovernorError('not_found', `tenant '${tenant}' is not in the tenants configuration`);
        const outside = spec.namespaces.filter((ns) => !allowed.has(ns));
        if (outside.length > 0) {
          throw new GovernorError('tenant_forbidden', `this session (agent '${session.agent}') is not bound to every namespace of tenant '${tenant}'`);
        }
        const per = await Promise.all(spec.namespaces.map(async (ns) => ({ deployments: await kube.deployments(ns), pods: await kube.pods({ namespace: ns }) })));
        const deployments = deploymentUsage(per.flatMap((x) => x.deployments), per.flatMap((x) => x.pods), spec.pod_monthly_cost_usd);
        const sum = (f: (d: (typeof deployments)[number]) => number) => Math.round(deployments.reduce((s, d) => s + f(d), 0) * 10) / 10;
        const unlimited = deployments.some((d) => d.pod_cpu_limit_millicores === null && d.replicas > 0);
        return {
          tenant,
          entitlements: {
            tier: spec.tier,
            max_replicas: spec.max_replicas,
            monthly_budget_usd: spec.monthly_budget_usd,
            month_to_date_usd: spec.month_to_date_usd,
            pod_monthly_cost_usd: spec.pod_monthly_cost_usd,
          },
          namespaces: [...spec.namespaces],
          deployments,
          totals: {
            replicas: deployments.reduce((s, d) => s + d.replicas, 0),
            cpu_request_millicores: sum((d) => d.replicas * d.pod_cpu_request_millicores),
            cpu_limit_millicores: unlimited ? null : sum((d) => d.replicas * (d.pod_cpu_limit_millicores ?? 0)),
            cpu_usage_millicores: sum((d) => d.cpu_usage_millicores),
            memory_usage_bytes: deployments.reduce((s, d) => s + d.memory_usage_bytes, 0),
            monthly_cost_usd: sum((d) => d.monthly_cost_usd),
          },
        };
      }),
  );

  server.registerTool(
    'get_node_tenancy',
    {
      title: 'Tenants sharing a deployment\'s nodes',
      description:
        "For each node running the deployment's pods: the node's CPU allocatable, use and utilisation, and the tenants sharing it with the CPU " +
        'they request and use there. Co-tenants whose namespaces are in this session are broken down per deployment (requests, limits, use); ' +
        'others are shown as tenant name and totals only. Never returns pod names. Read-only.',
      inputSchema: { namespace: namespaceArg, deployment: deploymentArg },
      outputSchema: nodeTenancyOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment }) =>
      respond('get_node_tenancy', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        await kube.readDeployment(namespace, deployment); // not_found before anything else
        const own = await kube.pods({ namespace });
        const nodeNames = [...new Set(own.filter((p) => p.deployment === deployment && p.node).map((p) => p.node!))].sort();
        const [labels, nodes, onNodes] = await Promise.all([
          kube.namespaceLabels(),
          kube.nodes(nodeNames),
          Promise.all(nodeNames.map((node) => kube.pods({ node }))),
        ]);
        const tenantOf = tenantOfFn(labels);
        const pods: PodFacts[] = onNodes.flat();
        return {
          namespace,
          deployment,
          tenant: tenantOf(namespace),
          nodes: nodeTenancy({ namespace, deployment, nodes, pods, tenantOf, visible: (ns) => allowed.has(ns) }),
        };
      }),
  );

  /** Shared by throttle and restore: check, plan against the live deployment, spend the grant, write. */
  async function changeLimit(
    tool: 'throttle_tenant' | 'restore_tenant_limit',
    args: { namespace: string; deployment: string; cpu_limit: string },
    grant: unknown,
  ) {
    const { namespace, deployment, cpu_limit } = args;
    assertNamespace(namespace);
    const g = await gate.check(tool, args, grant);
    gate.checkTenant(g, namespace, await kube.readNamespaceLabels(namespace));
    const live = await kube.readDeployment(namespace, deployment);
    const target = `${namespace}/${deployment}`;
    const toMillicores = parseQuantity(cpu_limit) * 1000;
    const annotations = { ...(live.metadata?.annotations ?? {}) };
    const recorded = annotations[THROTTLED_FROM_ANNOTATION];
    const plan: LimitChange =
      tool === 'throttle_tenant'
        ? planThrottle(target, containerCpu(live), toMillicores)
        : planRestore(target, containerCpu(live), recorded, toMillicores, parseQuantity);
    if (!plan.ok) throw new GovernorError(plan.code, plan.message);

    const claim = await gate.consume(g);
    const from = formatMillicores(plan.from_millicores);
    const to = formatMillicores(plan.to_millicores);
    if (tool === 'throttle_tenant') {
      // A second throttle keeps the first value: restoring must bring back the limit the tenant had, not an intermediate one.
      annotations[THROTTLED_FROM_ANNOTATION] = recorded ?? from;
    } else {
      delete annotations[THROTTLED_FROM_ANNOTATION];
    }
    if (plan.changed || annotations[THROTTLED_FROM_ANNOTATION] !== recorded) {
      annotations[CHANGE_CAUSE_ANNOTATION] = `governor ${tool}: CPU limit ${from} → ${to} (grant ${g.id}, proposal ${g.proposal_id})`;
      try {
        await kube.setCpuLimit(live, formatMillicores(plan.to_millicores), annotations);
      } catch (err) {
        await gate.releaseIfNotApplied(err, claim);
        throw err;
      }
    }
    log.info({ tool, namespace, deployment, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, plan.changed ? `CPU limit of ${target} ${from} → ${to}` : `${target} already had CPU limit ${to}`);
    return { namespace, deployment, from_cpu_limit: from, to_cpu_limit: to, changed: plan.changed, throttled_from: annotations[THROTTLED_FROM_ANNOTATION] ?? null };
  }

  server.registerTool(
    'throttle_tenant',
    {
      title: "Throttle a tenant's deployment",
      description:
        "Lowers the CPU limit of every container of a deployment (a pod-template change: the pods are replaced in a rolling update, as in " +
        `Kubernetes) and records the previous limit in the deployment's ${THROTTLED_FROM_ANNOTATION} annotation. Requires a grant for exactly this call. ` +
        "Refused, whatever the grant, below any container's CPU request, above the current limit (raising is restore_tenant_limit's job), " +
        'for containers without a CPU limit, or for containers with different limits.',
      inputSchema: { namespace: namespaceArg, deployment: deploymentArg, cpu_limit: cpuLimitArg, grant: grantArg },
      outputSchema: limitChangeOut,
      // Destructive: the rolling update replaces every pod.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, cpu_limit, grant }) =>
      respond('throttle_tenant', { namespace, deployment }, () => changeLimit('throttle_tenant', { namespace, deployment, cpu_limit }, grant)),
  );

  server.registerTool(
    'restore_tenant_limit',
    {
      title: "Restore a throttled deployment's CPU limit",
      description:
        `Undoes throttle_tenant: sets every container's CPU limit back to the value recorded in the deployment's ${THROTTLED_FROM_ANNOTATION} ` +
        'annotation and removes the annotation (a rolling update). Requires a grant for exactly this call. Refused when the deployment carries no ' +
        'such annotation, when cpu_limit differs from the recorded value, or when it would lower the current limit.',
      inputSchema: { namespace: namespaceArg, deployment: deploymentArg, cpu_limit: cpuLimitArg, grant: grantArg },
      outputSchema: limitChangeOut,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, cpu_limit, grant }) =>
      respond('restore_tenant_limit', { namespace, deployment }, () => changeLimit('restore_tenant_limit', { namespace, deployment, cpu_limit }, grant)),
  );

  return server;
}
