// The FinOps MCP server: typed, read-only tools about what a tenant's workloads cost and how much of
// what they request they actually use, for one session identity (an agent and its namespaces). Costs
// come from the tenant configuration's per-pod price and the cluster's own state; utilisation from the
// history the shared UsageSampler keeps. It must never write to the cluster, answer about a namespace
// or tenant outside the session, or report utilisation without saying how much history it rests on.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import type { Tenants } from '../../src/governance/tenants.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { deploymentArg, namespaceArg as namespaceArgFor } from '../shared/tool-args.ts';
import type { ClusterUsageReader, DeploymentUsage } from './cluster-usage.ts';
import { costOfPodTime, forecastMonth, monthOf } from './cost-model.ts';
import type { UsageSampler } from './usage-sampler.ts';
import { round, summariseUtilisation } from './usage-stats.ts';

/** The name tool calls of this server carry in `server`. */
export const FINOPS_SERVER_NAME = 'finops';
export const MAX_WINDOW_MINUTES = 24 * 60;

export interface FinopsSession {
  agent: string;
  namespaces: readonly string[];
}

export interface FinopsMcpDeps {
  reader: Pick<ClusterUsageReader, 'namespaceUsage' | 'deploymentExists'>;
  sampler: UsageSampler;
  clock: Clock;
  tenants: Tenants;
  session: FinopsSession;
  logger?: Logger;
}

const namespaceArg = namespaceArgFor();

const spreadOut = z.object({ mean: z.number(), p95: z.number(), peak: z.number() });

const costDeploymentOut = z.object({
  namespace: z.string(),
  name: z.string(),
  replicas: z.number().int().describe('Desired replicas (spec.replicas): what is paid for from now on.'),
  ready_replicas: z.number().int(),
  cpu_request_millicores: z.number().describe('CPU requested by one pod of the current template, millicores.'),
  memory_request_bytes: z.number().describe('Memory requested by one pod of the current template, bytes.'),
  cpu_use_millicores: z.number().describe('CPU the running pods use now (metrics.k8s.io), summed, millicores.'),
  cpu_utilisation: z.number().nullable().describe('Current CPU use / CPU requests of the running pods (0.25 = 25%); null when they request no CPU.'),
  monthly_cost_usd: z.number().describe("replicas × the tenant's pod_monthly_cost_usd."),
  autoscaler: z
    .object({ name: z.string(), min_replicas: z.number().int(), max_replicas: z.number().int() })
    .nullable()
    .describe('The HorizontalPodAutoscaler that owns the replica count, if any.'),
});

const getCostReportOut = z.object({
  tenant: z.string(),
  currency: z.literal('USD'),
  as_of: z.string().describe('Time of the report (ISO 8601).'),
  environment: z.string(),
  pod_monthly_cost_usd: z.number().describe("The tenant's price of one pod per month (tenant configuration)."),
  deployments: z.array(costDeploymentOut).describe("The tenant's deployments in all its namespaces, by namespace and name."),
  totals: z.object({
    replicas: z.number().int(),
    monthly_run_rate_usd: z.number().describe('What the current replicas cost per month.'),
  }),
  budget: z.object({
    monthly_budget_usd: z.number(),
    month_to_date_usd: z.number(),
    month_to_date_basis: z.string().describe('Where the month-to-date figure comes from.'),
    forecast_month_end_usd: z.number().describe('Month-to-date plus the current run rate over the rest of the calendar month (UTC).'),
    forecast_pct_of_budget: z.number().nullable(),
    forecast_over_budget: z.boolean(),
    days_left_in_month: z.number(),
  }),
});

const getUtilisationOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  window_minutes: z.number().int(),
  samples: z.number().int().describe('Samples in the window.'),
  sample_interval_s: z.number().describe('How often this server samples metrics.k8s.io.'),
  history_minutes: z.number().describe('Span from the oldest to the newest sample in the window: the history the figures rest on. Less than window_minutes when the server has not watched that long.'),
  oldest_sample_at: z.string().nullable(),
  newest_sample_at: z.string().nullable(),
  newest_sample_age_s: z.number().nullable(),
  largest_gap_s: z.number().nullable().describe('Longest time between two consecutive samples in the window.'),
  replicas: z.number().int().nullable().describe('Desired replicas at the newest sample.'),
  cpu_request_millicores: z.number().nullable().describe('CPU requested by one pod of the current template, at the newest sample.'),
  cpu_millicores: spreadOut.nullable().describe('CPU use of all the deployment\'s running pods, per sample, summed: mean, p95 and peak over the window, millicores.'),
  utilisation: spreadOut.nullable().describe('CPU use / CPU requests of the running pods, per sample: mean, p95 and peak over the window (0.25 = 25%).'),
});

export function createFinopsMcpServer(deps: FinopsMcpDeps): McpServer {
  const { clock, session, sampler, reader, tenants } = deps;
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: FINOPS_SERVER_NAME });
  const allowed = new Set(session.namespaces);

  const server = new McpServer(
    { name: 'governor-finops', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        "Read-only cost and utilisation of a tenant's Kubernetes workloads for Governor agents. get_cost_report prices every deployment " +
        "at the tenant's per-pod monthly cost and forecasts the month against the budget; get_utilisation gives CPU use relative to " +
        'requests over a window from samples this server takes itself, and says how much history it actually has. ' +
        'Failures are isError results whose text starts with a code (tenant_forbidden, not_found, upstream_unavailable).',
    },
  );

  const { assertNamespace, respond } = sessionScope(session, log);

  server.registerTool(
    'get_cost_report',
    {
      title: 'Tenant cost report',
      description:
        "Every deployment of a tenant (all its namespaces) with desired and ready replicas, per-pod CPU and memory requests, the CPU its " +
        "running pods use now, and its monthly cost at the tenant's pod_monthly_cost_usd; the tenant's monthly run rate, month-to-date " +
        'spend, and a month-end forecast against its monthly budget. The session must be bound to every namespace of the tenant. Read-only.',
      inputSchema: {
        tenant: z.string().min(1).max(63).describe('Tenant name as in the tenant configuration (e.g. `acme`).'),
      },
      outputSchema: getCostReportOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ tenant }) =>
      respond('get_cost_report', { tenant }, async () => {
        const spec = Object.hasOwn(tenants, tenant) ? tenants[tenant] : undefined;
        // An unknown tenant and someone else's look the same: a session learns nothing about tenants it is not bound to.
        if (!spec || !spec.namespaces.every((ns) => allowed.has(ns))) {
          throw new GovernorError('tenant_forbidden', `this session (agent '${session.agent}') is not bound to tenant '${tenant}'`);
        }
        const nowMs = clock.now();
        const month = monthOf(nowMs);
        const usages = await Promise.all(spec.namespaces.map((ns) => reader.namespaceUsage(ns)));
        const deployments = usages.flatMap((u) => u.deployments).map((d) => costRow(d, spec.pod_monthly_cost_usd));
        const runRate = deployments.reduce((s, d) => s + d.monthly_cost_usd, 0);
        const observedPodMs = usages
          .flatMap((u) => u.deployments)
          .reduce((s, d) => s + sampler.podMsIn(d.namespace, d.name, month.key), 0);
        return {
          tenant,
          currency: 'USD' as const,
          as_of: new Date(nowMs).toISOString(),
          environment: spec.environment,
          pod_monthly_cost_usd: spec.pod_monthly_cost_usd,
          deployments,
          totals: { replicas: deployments.reduce((s, d) => s + d.replicas, 0), monthly_run_rate_usd: round(runRate, 2) },
          budget: forecastMonth({
            nowMs,
            monthlyBudgetUsd: spec.monthly_budget_usd,
            configuredMonthToDateUsd: spec.month_to_date_usd,
            configuredMonthKey: monthOf(sampler.startedAtMs).key,
            observedSinceUsd: costOfPodTime(observedPodMs, spec.pod_monthly_cost_usd, month),
            monthlyRunRateUsd: runRate,
          }),
        };
      }),
  );

  server.registerTool(
    'get_utilisation',
    {
      title: 'CPU utilisation over a window',
      description:
        "CPU use of a deployment's running pods relative to their CPU requests over the last window_minutes: mean, p95 and peak of the " +
        'per-sample totals, in millicores and as a share of requests. The figures come from metrics.k8s.io samples this server takes ' +
        'itself every sample_interval_s; history_minutes says how much history they rest on (less than the window when the server has ' +
        'not been watching that long). Read-only.',
      inputSchema: {
        namespace: namespaceArg,
        deployment: deploymentArg,
        window_minutes: z
          .number()
          .int()
          .min(1)
          .max(MAX_WINDOW_MINUTES)
          .default(60)
          .describe(`Length of the window ending now, minutes (1..${MAX_WINDOW_MINUTES}; default 60).`),
      },
      outputSchema: getUtilisationOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, window_minutes }) =>
      respond('get_utilisation', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const samples = sampler.samplesOf(namespace, deployment);
        if (samples.length === 0 && !(await reader.deploymentExists(namespace, deployment))) {
          throw new GovernorError('not_found', `deployment ${namespace}/${deployment} not found`);
        }
        const latest = sampler.latestOf(namespace, deployment);
        return {
          namespace,
          deployment,
          sample_interval_s: sampler.intervalMs / 1000,
          replicas: latest?.replicas ?? null,
          cpu_request_millicores: latest?.cpu_request_millicores ?? null,
          ...summariseUtilisation(samples, window_minutes, clock.now()),
        };
      }),
  );

  return server;
}

function costRow(d: DeploymentUsage, podMonthlyCostUsd: number): z.infer<typeof costDeploymentOut> {
  return {
    namespace: d.namespace,
    name: d.name,
    replicas: d.replicas,
    ready_replicas: d.ready_replicas,
    cpu_request_millicores: d.cpu_request_millicores,
    memory_request_bytes: d.memory_request_bytes,
    cpu_use_millicores: d.cpu_millicores,
    cpu_utilisation: d.cpu_request_measured_millicores > 0 ? round(d.cpu_millicores / d.cpu_request_measured_millicores, 4) : null,
    monthly_cost_usd: round(d.replicas * podMonthlyCostUsd, 2),
    autoscaler: d.autoscaler,
  };
}
