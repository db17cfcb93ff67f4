// What the exporters of a real cluster would report about the twin, as Prometheus samples: the
// service's request metrics (what an ingress or service mesh exports), kube-state-metrics' view of
// Deployments, cAdvisor's view of containers, and the JVM exporter's GC time. It only reads the
// twin (never mutates it, never reads the wall clock): the twin's clock is the sample timestamp.
//
// Names follow Prometheus's conventions and the exporters they imitate: base units (seconds, bytes),
// `_total` for counters, a summary for latency. Every series carries `namespace` and `tenant` (the
// namespace's `governor.io/tenant` label; a namespace without it gives series without `tenant`, as
// an empty label is no label in Prometheus).
//
// The twin reports rates (requests/s, GC ms per minute, millicores); counters are their integral over
// the twin's time, by the trapezoid rule between two collections, so `rate(x_total[1m])` reads back
// the twin's rate. A series that disappears (a deleted pod) and comes back starts again from 0, as a
// restarted process does.
import type { ClusterTwin } from '../cluster-twin.ts';
import type { Sample } from './series-store.ts';

export type MetricType = 'gauge' | 'counter' | 'summary';

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  /** Labels besides `__name__` (and `quantile` for summaries). */
  labels: readonly string[];
}

export const TENANT_LABEL = 'governor.io/tenant';

const DEPLOYMENT = ['namespace', 'tenant', 'deployment'] as const;
const CONTAINER = ['namespace', 'tenant', 'pod', 'container'] as const;

/** Every metric family the twin exports, in exposition order. */
export const TWIN_METRIC_FAMILIES: readonly MetricFamily[] = [
  {
    name: 'http_request_duration_seconds',
    type: 'summary',
    help: 'Latency of the requests a deployment served (quantiles over the traffic of its ready pods).',
    labels: DEPLOYMENT,
  },
  { name: 'http_requests_total', type: 'counter', help: 'Requests offered to a deployment.', labels: DEPLOYMENT },
  { name: 'http_request_errors_total', type: 'counter', help: 'Requests a deployment answered with an error (shed under saturation, or no ready pod).', labels: DEPLOYMENT },
  { name: 'kube_deployment_spec_replicas', type: 'gauge', help: 'Number of desired pods for a deployment.', labels: DEPLOYMENT },
  { name: 'kube_deployment_status_replicas', type: 'gauge', help: 'The number of replicas per deployment.', labels: DEPLOYMENT },
  { name: 'kube_deployment_status_replicas_ready', type: 'gauge', help: 'The number of ready replicas per deployment.', labels: DEPLOYMENT },
  { name: 'container_memory_working_set_bytes', type: 'gauge', help: 'Current working set of the container in bytes.', labels: CONTAINER },
  { name: 'container_spec_memory_limit_bytes', type: 'gauge', help: 'Memory limit for the container in bytes.', labels: CONTAINER },
  { name: 'container_cpu_usage_seconds_total', type: 'counter', help: 'Cumulative CPU time consumed by the container in seconds.', labels: CONTAINER },
  { name: 'container_cpu_cfs_periods_total', type: 'counter', help: 'Number of elapsed enforcement period intervals.', labels: CONTAINER },
  { name: 'container_cpu_cfs_throttled_periods_total', type: 'counter', help: 'Number of throttled period intervals.', labels: CONTAINER },
  { name: 'jvm_gc_pause_seconds_total', type: 'counter', help: 'Time the JVM spent in garbage-collection pauses, in seconds.', labels: CONTAINER },
];

/** The read side of the twin the collector needs (ClusterTwin satisfies it). */
export type TwinReader = Pick<ClusterTwin, 'clock' | 'namespaces' | 'listDeployments' | 'serviceMetrics' | 'podMetrics'>;

interface Integral {
  total: number;
  rate: number;
  atMs: number;
  seenAt: number;
}

/** z of the 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

export class TwinCollector {
  private readonly integrals = new Map<string, Integral>();
  private generation = 0;

  constructor(readonly twin: TwinReader) {}

  /** The samples of every family at the twin's current time. */
  collect(): { timestampMs: number; samples: Sample[] } {
    const twin = this.twin;
    const now = twin.clock.now();
    const gen = ++this.generation;
    const samples: Sample[] = [];
    const gauge = (name: string, labels: Record<string, string>, value: number) => samples.push({ labels: { __name__: name, ...labels }, value });
    const counter = (name: string, labels: Record<string, string>, ratePerS: number) =>
      samples.push({ labels: { __name__: name, ...labels }, value: this.integrate(name, labels, ratePerS, now, gen) });

    const tenants = new Map<string, string>();
    for (const ns of twin.namespaces()) tenants.set(ns.metadata.name, ns.metadata.labels?.[TENANT_LABEL] ?? '');

    const byFamily = new Map<string, Sample[]>();
    const deployments = twin.listDeployments();
    for (const d of deployments) {
      const namespace = d.metadata.namespace ?? '';
      const labels = { deployment: d.metadata.name, namespace, tenant: tenants.get(namespace) ?? '' };
      const m = twin.serviceMetrics(namespace, d.metadata.name);
      gauge('http_request_duration_seconds', { deployment: labels.deployment, namespace, quantile: '0.5', tenant: labels.tenant }, msToSeconds(m.p50_ms));
      gauge('http_request_duration_seconds', { deployment: labels.deployment, namespace, quantile: '0.99', tenant: labels.tenant }, msToSeconds(m.p99_ms));
      counter('http_request_duration_seconds_sum', labels, m.rps * meanLatencyS(m.p50_ms, m.p99_ms));
      counter('http_request_duration_seconds_count', labels, m.rps);
      counter('http_requests_total', labels, m.rps);
      counter('http_request_errors_total', labels, m.rps * m.error_ratio);
      gauge('kube_deployment_spec_replicas', labels, d.spec.replicas);
      gauge('kube_deployment_status_replicas', labels, d.status.replicas ?? 0);
      gauge('kube_deployment_status_replicas_ready', labels, d.status.readyReplicas ?? 0);
    }
    for (const d of deployments) {
      const namespace = d.metadata.namespace ?? '';
      const tenant = tenants.get(namespace) ?? '';
      // The container is the template's first (the one the twin models); cAdvisor names it so.
      const container = d.spec.template.spec.containers[0]?.name ?? d.metadata.name;
      for (const p of twin.podMetrics(namespace, d.metadata.name)) {
        // Keys in label order, so that the store need not sort them.
        const labels = { container, namespace, pod: p.pod, tenant };
        gauge('container_memory_working_set_bytes', labels, p.memory_bytes);
        gauge('container_spec_memory_limit_bytes', labels, p.memory_limit_bytes);
        counter('container_cpu_usage_seconds_total', labels, p.cpu_millicores / 1000);
        // A container with a CPU limit runs in 100 ms CFS periods: ten a second.
        counter('container_cpu_cfs_periods_total', labels, p.ready ? 10 : 0);
        counter('container_cpu_cfs_throttled_periods_total', labels, p.ready ? 10 * p.cpu_throttled_ratio : 0);
        counter('jvm_gc_pause_seconds_total', labels, p.gc_pause_ms_per_min / 60_000);
      }
    }
    // Forget the integrals of series that are gone, so that they restart from 0 if they come back.
    for (const [k, v] of this.integrals) if (v.seenAt !== gen) this.integrals.delete(k);
    // Group by family (the exposition format wants a family's samples together).
    for (const s of samples) {
      const fam = familyOf(s.labels.__name__!);
      let list = byFamily.get(fam);
      if (!list) byFamily.set(fam, (list = []));
      list.push(s);
    }
    const ordered: Sample[] = [];
    for (const f of TWIN_METRIC_FAMILIES) ordered.push(...(byFamily.get(f.name) ?? []));
    return { timestampMs: now, samples: ordered };
  }

  private integrate(name: string, labels: Record<string, string>, rate: number, now: number, gen: number): number {
    const key = `${name}\u0000${labels.namespace}\u0000${labels.deployment ?? ''}\u0000${labels.pod ?? ''}`;
    const it = this.integrals.get(key);
    if (!it) {
      this.integrals.set(key, { total: 0, rate, atMs: now, seenAt: gen });
      return 0;
    }
    if (now > it.atMs) it.total += ((it.rate + rate) / 2) * ((now - it.atMs) / 1000);
    it.rate = rate;
    it.atMs = now;
    it.seenAt = gen;
    return it.total;
  }
}

/** 52.9 ms → 0.0529 s, not 0.052899999999999996 (the twin rounds latencies to 0.1 ms). */
const msToSeconds = (ms: number) => Math.round(ms * 1000) / 1_000_000;

/** The family a sample name belongs to (a summary's _sum and _count belong to the summary). */
export function familyOf(sampleName: string): string {
  for (const suffix of ['_sum', '_count']) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      if (TWIN_METRIC_FAMILIES.some((f) => f.name === base && f.type === 'summary')) return base;
    }
  }
  return sampleName;
}

/**
 * Mean request latency in seconds, assuming a log-normal distribution through the median and the
 * 99th percentile (the twin reports quantiles, a summary also wants a sum).
 */
export function meanLatencyS(p50Ms: number, p99Ms: number): number {
  if (!(p50Ms > 0)) return 0;
  const sigma = p99Ms > p50Ms ? Math.log(p99Ms / p50Ms) / Z99 : 0;
  return (p50Ms * Math.exp((sigma * sigma) / 2)) / 1000;
}
