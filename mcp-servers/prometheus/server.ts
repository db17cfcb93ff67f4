// The Prometheus MCP server: read-only metric queries for one session identity (an agent and the
// tenants it serves), against PROMETHEUS_URL or, in the sandbox, the twin's Prometheus-compatible
// query API. Every query — the caller's own PromQL, and the ones the helpers build — is parsed with
// the official grammar and refused unless each of its series selectors is confined to the session's
// namespaces or tenants (src/twin/metrics/tenant-matcher.ts, DESIGN §4): no `{__name__=~".+"}`, no
// `up or other_metric`, no wider regex, no second tenant's namespace, whatever functions or subqueries
// wrap it. It must never send an unconfined query to Prometheus.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { assertTenantMatcher } from '../../src/twin/metrics/tenant-matcher.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { deploymentArg, namespaceArg } from '../shared/tool-args.ts';
import type { PromClient, QueryData } from './prom-client.ts';
import { DEFAULT_SIGNALS, fillSignal, type PodSignal, type ServiceSignal, type SignalQueries } from './signals.ts';

export const PROMETHEUS_SERVER_NAME = 'prometheus';
/** Points one range query may return per series (Prometheus's own limit is 11,000). */
export const MAX_POINTS = 11_000;
export const MAX_QUERY_LENGTH = 4_096;

export interface PrometheusSession {
  agent: string;
  namespaces: readonly string[];
  /** Tenant names whose `tenant` label confines a selector as well as a namespace does. */
  tenants?: readonly string[];
}

export interface PrometheusMcpDeps {
  prom: PromClient;
  clock: Clock;
  session: PrometheusSession;
  /** The PromQL of each signal (config/signals.json); the twin's exporters by default. */
  signals?: SignalQueries;
  logger?: Logger;
}

/**
 * The multi-window, multi-burn-rate alerts of the SRE workbook (chapter 5, "Alerting on SLOs"):
 * a page when both the long and the short window burn faster than the factor, a ticket for the slow burns.
 */
export const BURN_ALERTS = [
  { severity: 'page', long_minutes: 60, short_minutes: 5, factor: 14.4 },
  { severity: 'page', long_minutes: 360, short_minutes: 30, factor: 6 },
  { severity: 'ticket', long_minutes: 1440, short_minutes: 120, factor: 3 },
  { severity: 'ticket', long_minutes: 4320, short_minutes: 360, factor: 1 },
] as const;

const queryArg = z.string().min(1).max(MAX_QUERY_LENGTH).describe(
  'PromQL. Every series selector must be confined to this session: namespace="<one of its namespaces>" (or namespace=~"a|b" naming only those), or tenant="<its tenant>".',
);
const sample = z.object({ t: z.number().describe('Unix seconds.'), v: z.number().nullable().describe('The value; null for NaN or ±Inf.') });
const seriesOut = z.object({ metric: z.record(z.string(), z.string()), points: z.array(sample) });
const queryOut = z.object({
  query: z.string(),
  result_type: z.enum(['vector', 'matrix', 'scalar', 'string']),
  series: z.array(seriesOut).describe('One entry per series; an instant query has one point per series. A scalar is one series without labels.'),
});
const windowOut = z.object({ minutes: z.number(), error_ratio: z.number().nullable(), burn_rate: z.number().nullable() });
const burnOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  slo_target: z.number(),
  error_budget: z.number().describe('1 − slo_target: the share of requests allowed to fail.'),
  windows: z.array(windowOut).describe('Error ratio and burn rate (error ratio / error budget) over each window ending now; null without traffic.'),
  alerts: z.array(z.object({ severity: z.enum(['page', 'ticket']), long_minutes: z.number(), short_minutes: z.number(), factor: z.number(), firing: z.boolean() })),
  sustainable: z.boolean().describe('No alert fires: the budget lasts the SLO period at this pace.'),
});
const sloOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  slo_p99_ms: z.number(),
  window_minutes: z.number(),
  p99_ms_now: z.number().nullable(),
  samples: z.number().int(),
  breaching_samples: z.number().int().describe('Samples of p99 above the SLO in the window.'),
  breaching_share: z.number().nullable().describe('breaching_samples / samples.'),
  slo_holds_now: z.boolean().nullable(),
});
const signalsOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  at: z.number().describe('Unix seconds the signals were read at.'),
  service: z.object({
    p50_ms: z.number().nullable(),
    p99_ms: z.number().nullable(),
    rps: z.number().nullable(),
    error_ratio: z.number().nullable(),
  }).describe('The service\'s signals now; null where Prometheus holds no sample (no traffic, not scraped).'),
  pods: z.array(z.object({
    pod: z.string(),
    memory_bytes: z.number().nullable(),
    memory_limit_bytes: z.number().nullable(),
    cpu_millicores: z.number().nullable(),
    gc_pause_ms_per_min: z.number().nullable(),
    cpu_throttled_ratio: z.number().nullable().describe('Share of CFS periods throttled at the CPU limit.'),
  })).describe('Per pod of the deployment that Prometheus has samples of, by name.'),
  queries: z.record(z.string(), z.string()).describe('The PromQL each signal was read with (the signals file\'s templates, filled in).'),
});

export function createPrometheusMcpServer(deps: PrometheusMcpDeps): McpServer {
  const { prom, clock, session } = deps;
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: PROMETHEUS_SERVER_NAME });
  const { assertNamespace, respond } = sessionScope(session, log);
  const scope = { namespaces: session.namespaces, tenants: session.tenants ?? [] };
  /** The one gate in front of Prometheus: every query passes it, the caller's and our own. */
  const confined = (query: string): string => {
    assertTenantMatcher(query, scope);
    return query;
  };
  const nowS = () => clock.now() / 1000;
  const signals = deps.signals ?? DEFAULT_SIGNALS;

  const server = new McpServer(
    { name: 'governor-prometheus', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        "Read-only Prometheus queries for Governor agents, confined to the session's tenants: query and query_range take PromQL whose every " +
        'series selector names one of the session\'s namespaces (namespace="…") or tenants (tenant="…"); slo_status and burn_rate compute a ' +
        "deployment's latency SLO and its error-budget burn (the SRE workbook's multi-window, multi-burn-rate alerts). Failures are isError " +
        'results whose text starts with a code (tenant_forbidden, input_invalid, upstream_unavailable).',
    },
  );

  server.registerTool(
    'query',
    {
      title: 'Instant query',
      description: 'Evaluates PromQL at one instant (default now). Refused (tenant_forbidden) unless every selector is confined to the session. Read-only.',
      inputSchema: { query: queryArg, time: z.number().optional().describe('Unix seconds; default now.') },
      outputSchema: queryOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ query, time }) => respond('query', { query }, async () => shape(query, await prom.instant(confined(query), time ?? nowS()))),
  );

  server.registerTool(
    'query_range',
    {
      title: 'Range query',
      description: `Evaluates PromQL over [start, end] every step seconds (at most ${MAX_POINTS} points a series). Refused unless every selector is confined to the session. Read-only.`,
      inputSchema: {
        query: queryArg,
        start: z.number().describe('Unix seconds.'),
        end: z.number().optional().describe('Unix seconds; default now.'),
        step: z.number().positive().describe('Seconds between points.'),
      },
      outputSchema: queryOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ query, start, end, step }) =>
      respond('query_range', { query }, async () => {
        const stop = end ?? nowS();
        if (!(stop >= start)) throw new GovernorError('input_invalid', `end (${stop}) is before start (${start})`);
        if ((stop - start) / step > MAX_POINTS) throw new GovernorError('input_invalid', `${Math.ceil((stop - start) / step)} points a series is more than ${MAX_POINTS}: use a larger step`);
        return shape(query, await prom.range(confined(query), start, stop, step));
      }),
  );

  server.registerTool(
    'slo_status',
    {
      title: 'Latency SLO of a deployment',
      description: "A deployment's p99 latency against its SLO now and over the last window_minutes: how many 15 s samples breached it. Read-only.",
      inputSchema: {
        namespace: namespaceArg(),
        deployment: deploymentArg,
        slo_p99_ms: z.number().positive().describe('The p99 latency objective, ms.'),
        window_minutes: z.number().int().min(1).max(1440).default(30),
      },
      outputSchema: sloOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, slo_p99_ms, window_minutes }) =>
      respond('slo_status', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const q = confined(fillSignal(signals.service.p99_ms, { namespace, deployment }));
        const end = nowS();
        const data = await prom.range(q, end - window_minutes * 60, end, 15);
        const points = data.resultType === 'matrix' ? (data.result[0]?.values ?? []).map(([, v]) => Number(v)).filter(Number.isFinite) : [];
        const breaching = points.filter((v) => v > slo_p99_ms).length;
        const now = points.at(-1) ?? null;
        return {
          namespace, deployment, slo_p99_ms, window_minutes,
          p99_ms_now: now === null ? null : round(now),
          samples: points.length,
          breaching_samples: breaching,
          breaching_share: points.length ? round(breaching / points.length, 4) : null,
          slo_holds_now: now === null ? null : now <= slo_p99_ms,
        };
      }),
  );

  server.registerTool(
    'burn_rate',
    {
      title: 'Error-budget burn rate',
      description:
        "A deployment's error ratio and error-budget burn rate over 5 min to 3 days, and which of the SRE workbook's multi-window, " +
        'multi-burn-rate alerts fire (page: 14.4x over 1 h and 5 min, 6x over 6 h and 30 min; ticket: 3x over 1 d and 2 h, 1x over 3 d and 6 h). Read-only.',
      inputSchema: {
        namespace: namespaceArg(),
        deployment: deploymentArg,
        slo_target: z.number().gt(0).lt(1).default(0.999).describe('Availability objective, e.g. 0.999.'),
      },
      outputSchema: burnOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, slo_target }) =>
      respond('burn_rate', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const budget = 1 - slo_target;
        const minutes = [...new Set(BURN_ALERTS.flatMap((a) => [a.short_minutes, a.long_minutes]))].sort((a, b) => a - b);
        const at = nowS();
        const windows = await Promise.all(
          minutes.map(async (m) => {
            const window = `${m}m`;
            const q = confined(`(${fillSignal(signals.burn.errors, { namespace, deployment, window })}) / (${fillSignal(signals.burn.requests, { namespace, deployment, window })})`);
            const data = await prom.instant(q, at);
            const v = data.resultType === 'vector' ? Number(data.result[0]?.value?.[1]) : data.resultType === 'scalar' ? Number(data.result[1]) : NaN;
            const ratio = Number.isFinite(v) ? v : null;
            return { minutes: m, error_ratio: ratio === null ? null : round(ratio, 6), burn_rate: ratio === null ? null : round(ratio / budget, 3) };
          }),
        );
        const rate = (m: number) => windows.find((w) => w.minutes === m)?.burn_rate ?? null;
        const alerts = BURN_ALERTS.map((a) => ({
          ...a,
          firing: (rate(a.long_minutes) ?? 0) > a.factor && (rate(a.short_minutes) ?? 0) > a.factor,
        }));
        return { namespace, deployment, slo_target, error_budget: round(budget, 6), windows, alerts, sustainable: !alerts.some((a) => a.firing) };
      }),
  );

  server.registerTool(
    'service_signals',
    {
      title: 'Signals of a deployment',
      description:
        "A deployment's signals now, each read with its configured PromQL (the signals file): p50 / p99 latency, request rate and error " +
        'ratio of the service, and per pod memory working set and limit, CPU, GC pause time and CFS throttling. What Watchtower detects on and the ' +
        'verifier judges by when Prometheus is the metrics source. Read-only.',
      inputSchema: { namespace: namespaceArg(), deployment: deploymentArg },
      outputSchema: signalsOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment }) =>
      respond('service_signals', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        const at = nowS();
        const queries: Record<string, string> = {};
        const read = async (name: string, template: string): Promise<QueryData> => {
          const q = confined(fillSignal(template, { namespace, deployment }));
          queries[name] = q;
          return prom.instant(q, at);
        };
        const serviceNames = Object.keys(signals.service) as ServiceSignal[];
        const podNames = Object.keys(signals.pod) as PodSignal[];
        const [serviceData, podData] = await Promise.all([
          Promise.all(serviceNames.map((n) => read(n, signals.service[n]))),
          Promise.all(podNames.map((n) => read(n, signals.pod[n]))),
        ]);
        const service = Object.fromEntries(serviceNames.map((n, i) => [n, scalarOf(serviceData[i]!, n === 'error_ratio' ? 6 : 2)])) as Record<ServiceSignal, number | null>;
        const pods = new Map<string, Record<PodSignal, number | null>>();
        podNames.forEach((n, i) => {
          const data = podData[i]!;
          if (data.resultType !== 'vector') return;
          for (const s of data.result) {
            const pod = s.metric['pod'];
            if (!pod) continue;
            const row = pods.get(pod) ?? { memory_bytes: null, memory_limit_bytes: null, cpu_millicores: null, gc_pause_ms_per_min: null, cpu_throttled_ratio: null };
            const v = Number(s.value?.[1]);
            row[n] = Number.isFinite(v) ? round(v, n === 'cpu_throttled_ratio' ? 4 : 2) : null;
            pods.set(pod, row);
          }
        });
        return {
          namespace, deployment, at, service,
          pods: [...pods.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([pod, row]) => ({ pod, ...row })),
          queries,
        };
      }),
  );

  return server;
}

/** One number from an instant query: a scalar, or the first (usually only) series of a vector. */
function scalarOf(data: QueryData, digits: number): number | null {
  const v = data.resultType === 'vector' ? Number(data.result[0]?.value?.[1]) : data.resultType === 'scalar' ? Number(data.result[1]) : NaN;
  return Number.isFinite(v) ? round(v, digits) : null;
}

function shape(query: string, data: QueryData): z.infer<typeof queryOut> {
  const num = (s: string): number | null => {
    const v = Number(s);
    return Number.isFinite(v) ? v : null;
  };
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    return { query, result_type: data.resultType, series: [{ metric: {}, points: [{ t: data.result[0], v: num(data.result[1]) }] }] };
  }
  return {
    query,
    result_type: data.resultType,
    series: data.result.map((s) => ({ metric: s.metric, points: (s.values ?? (s.value ? [s.value] : [])).map(([t, v]) => ({ t, v: num(v) })) })),
  };
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;
