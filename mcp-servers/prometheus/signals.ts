// The PromQL behind each signal Governor reads from Prometheus. Real exporters differ (a summary's
// quantile or a histogram's buckets, `deployment` or `app` labels, another JVM exporter), so each
// signal is a template in a JSON file (config/signals.json by default, GOVERNOR_SIGNALS_FILE to
// override) with placeholders that the server fills from validated arguments:
//   {{namespace}}         the namespace (an RFC 1123 label, checked before it is put in)
//   {{deployment}}        the deployment's name
//   {{pod_regex}}         a regex matching that deployment's pods (name-<replicaset hash>-<suffix>)
//   {{window}}            a range, e.g. 5m (burn-rate templates only)
// The sli and capacity templates are the namespace's (no {{deployment}}): the SLIs of all its
// deployments for the live burn rates (one series per deployment), and what its pods cost, their
// replica-time at the tenant's per-pod price (src/governance/live-spend.ts).
// A file is checked whole at load: every template parses with the official grammar once filled, and
// each of its series selectors names the namespace — a template that reads beyond the namespace it is
// asked about is refused at load, not at the first incident. Every problem is named.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { GovernorError } from '../../src/core/errors.ts';
import { assertTenantMatcher } from '../../src/twin/metrics/tenant-matcher.ts';

export const DEFAULT_SIGNALS_FILE = 'config/signals.json';

const template = z.string().min(1).max(2_000).refine((q) => q.includes('{{namespace}}'), 'must name {{namespace}} in its selectors');

export const SignalQueries = z.strictObject({
  service: z.strictObject({
    p50_ms: template.describe('The service\'s median latency, ms: one series (or the largest of several).'),
    p99_ms: template.describe('The service\'s p99 latency, ms.'),
    rps: template.describe('Requests per second.'),
    error_ratio: template.describe('Failed requests / requests, 0..1.'),
  }),
  pod: z.strictObject({
    memory_bytes: template.describe('Working set per pod: one series per pod, labelled `pod`.'),
    memory_limit_bytes: template.describe('Memory limit per pod.'),
    cpu_millicores: template.describe('CPU used per pod, millicores.'),
    gc_pause_ms_per_min: template.describe('GC pause time per pod, ms per minute.'),
    cpu_throttled_ratio: template.describe('Share of CFS periods in which the pod was throttled at its CPU limit, 0..1.'),
  }),
  sli: z.strictObject({
    p50_ms: template.describe('Median latency, ms, of every deployment of the namespace: one series per deployment, labelled `deployment`.'),
    p99_ms: template.describe('p99 latency, ms, one series per deployment.'),
    rps: template.describe('Requests per second, one series per deployment.'),
    errors_rps: template.describe('Failed requests per second, one series per deployment.'),
  }).describe('The namespace-wide SLIs the live burn rates are computed from (src/governance/live-burn.ts).'),
  capacity: z.strictObject({
    replicas: template.describe('Running replicas of all the namespace\'s deployments: one series.'),
  }),
  burn: z.strictObject({
    requests: template.refine((q) => q.includes('{{window}}'), 'must use {{window}}').describe('Requests over {{window}}.'),
    errors: template.refine((q) => q.includes('{{window}}'), 'must use {{window}}').describe('Failed requests over {{window}}.'),
  }),
});
export type SignalQueries = z.infer<typeof SignalQueries>;
export type ServiceSignal = keyof SignalQueries['service'];
export type PodSignal = keyof SignalQueries['pod'];

/** The exporters the twin imitates (src/twin/metrics/README.md): a summary with quantiles, cAdvisor, a JVM exporter. */
export const DEFAULT_SIGNALS: SignalQueries = {
  service: {
    p50_ms: 'max(http_request_duration_seconds{namespace="{{namespace}}",deployment="{{deployment}}",quantile="0.5"}) * 1000',
    p99_ms: 'max(http_request_duration_seconds{namespace="{{namespace}}",deployment="{{deployment}}",quantile="0.99"}) * 1000',
    rps: 'sum(rate(http_requests_total{namespace="{{namespace}}",deployment="{{deployment}}"}[1m]))',
    error_ratio:
      'sum(rate(http_request_errors_total{namespace="{{namespace}}",deployment="{{deployment}}"}[1m])) / sum(rate(http_requests_total{namespace="{{namespace}}",deployment="{{deployment}}"}[1m]))',
  },
  pod: {
    memory_bytes: 'sum by (pod) (container_memory_working_set_bytes{namespace="{{namespace}}",pod=~"{{pod_regex}}"})',
    memory_limit_bytes: 'sum by (pod) (container_spec_memory_limit_bytes{namespace="{{namespace}}",pod=~"{{pod_regex}}"})',
    cpu_millicores: 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="{{namespace}}",pod=~"{{pod_regex}}"}[1m])) * 1000',
    gc_pause_ms_per_min: 'sum by (pod) (rate(jvm_gc_pause_seconds_total{namespace="{{namespace}}",pod=~"{{pod_regex}}"}[1m])) * 60000',
    cpu_throttled_ratio:
      'sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{namespace="{{namespace}}",pod=~"{{pod_regex}}"}[1m])) / sum by (pod) (rate(container_cpu_cfs_periods_total{namespace="{{namespace}}",pod=~"{{pod_regex}}"}[1m]))',
  },
  sli: {
    p50_ms: 'http_request_duration_seconds{namespace="{{namespace}}",quantile="0.5"} * 1000',
    p99_ms: 'http_request_duration_seconds{namespace="{{namespace}}",quantile="0.99"} * 1000',
    rps: 'rate(http_requests_total{namespace="{{namespace}}"}[1m])',
    errors_rps: 'rate(http_request_errors_total{namespace="{{namespace}}"}[1m])',
  },
  capacity: {
    replicas: 'sum(kube_deployment_status_replicas{namespace="{{namespace}}"})',
  },
  burn: {
    requests: 'sum(increase(http_requests_total{namespace="{{namespace}}",deployment="{{deployment}}"}[{{window}}]))',
    errors: 'sum(increase(http_request_errors_total{namespace="{{namespace}}",deployment="{{deployment}}"}[{{window}}]))',
  },
};

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const WINDOW = /^[1-9][0-9]{0,4}[smhd]$/;

export interface SignalTarget {
  namespace: string;
  /** Absent for the namespace-wide templates (capacity). */
  deployment?: string;
  window?: string;
}

/** A template filled in for one deployment. Names are checked first, so nothing but a name goes in. */
export function fillSignal(q: string, t: SignalTarget): string {
  if (!NAME.test(t.namespace) || t.namespace.length > 63) throw new GovernorError('input_invalid', `'${t.namespace}' is not a namespace name`);
  const deployment = t.deployment ?? '';
  if (t.deployment !== undefined && (!NAME.test(deployment) || deployment.length > 253)) throw new GovernorError('input_invalid', `'${deployment}' is not a deployment name`);
  if (t.deployment === undefined && (q.includes('{{deployment}}') || q.includes('{{pod_regex}}'))) throw new GovernorError('input_invalid', 'a namespace-wide signal cannot name {{deployment}} or {{pod_regex}}');
  if (t.window !== undefined && !WINDOW.test(t.window)) throw new GovernorError('input_invalid', `'${t.window}' is not a range like 5m`);
  const podRegex = `${deployment.replaceAll('.', '\\\\.')}-[a-z0-9]+-[a-z0-9]+`;
  return q
    .replaceAll('{{namespace}}', t.namespace)
    .replaceAll('{{deployment}}', deployment)
    .replaceAll('{{pod_regex}}', podRegex)
    .replaceAll('{{window}}', t.window ?? '5m');
}

/** Every template filled for a sample deployment must parse and stay inside the sample namespace. */
export function checkSignals(raw: unknown, source: string): SignalQueries {
  const parsed = SignalQueries.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
    throw new GovernorError('config_invalid', `${source}: ${problems.join('; ')}`, { details: { problems } });
  }
  const problems: string[] = [];
  for (const [group, signals] of Object.entries(parsed.data)) {
    for (const [name, q] of Object.entries(signals as Record<string, string>)) {
      try {
        const target = group === 'capacity' || group === 'sli' ? { namespace: 'ns-check', window: '5m' } : { namespace: 'ns-check', deployment: 'svc-check', window: '5m' };
        assertTenantMatcher(fillSignal(q, target), { namespaces: ['ns-check'], tenants: [] });
      } catch (err) {
        problems.push(`${group}.${name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  if (problems.length > 0) throw new GovernorError('config_invalid', `${source}: ${problems.join('; ')}`, { details: { problems } });
  return parsed.data;
}

/** The signals file: GOVERNOR_SIGNALS_FILE, else config/signals.json, else the built-in defaults. */
export function loadSignals(path?: string): SignalQueries {
  const file = path ?? DEFAULT_SIGNALS_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (!path && (err as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_SIGNALS;
    throw new GovernorError('config_invalid', `signals file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new GovernorError('config_invalid', `signals file ${file} is not JSON: ${(err as Error).message}`);
  }
  return checkSignals(raw, `signals file ${file}`);
}
