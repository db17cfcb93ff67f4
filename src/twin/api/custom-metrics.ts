// The custom.metrics.k8s.io/v1beta2 group of the twin's API, as a Prometheus adapter would serve it
// to an HPA: per-pod metrics (GC pause, memory utilisation, requests per second, CFS throttling) of running pods, by
// name or `*` with a label selector, and a Deployment's service metrics (p99, p50, requests per
// second, error ratio). Values are the twin's own at the time of the request; an unknown metric is
// 404 as the adapter answers, never a made-up number.
import type { PodMetricsSample } from '../cluster-twin.ts';
import type { Pod } from '../kube-objects.ts';
import { formatMetricValue } from '../quantity.ts';
import { nowIso, type ApiContext } from './context.ts';
import { DEPLOYMENT_METRICS, POD_METRICS } from './discovery.ts';
import { ApiError, get, type Params, type Route } from './http.ts';
import { selectorOf } from './request.ts';

const podMetric = (metric: string, m: PodMetricsSample): number =>
  metric === 'jvm_gc_pause_ms_per_min'
    ? m.gc_pause_ms_per_min
    : metric === 'http_requests_per_second'
      ? m.rps
      : metric === 'cpu_throttled_ratio'
        ? m.cpu_throttled_ratio
        : m.memory_utilisation;

const metricList = (items: unknown[]) => ({ kind: 'MetricValueList', apiVersion: 'custom.metrics.k8s.io/v1beta2', metadata: {}, items });

export function customMetricsRoutes(ctx: ApiContext): Route[] {
  const { twin } = ctx;
  const metricValue = (kind: string, apiVersion: string, ns: string, name: string, metric: string, value: number) => ({
    describedObject: { kind, namespace: ns, name, apiVersion },
    metric: { name: metric },
    timestamp: nowIso(ctx),
    windowSeconds: 60,
    value: formatMetricValue(value),
  });

  const prefix = ['apis', 'custom.metrics.k8s.io', 'v1beta2', 'namespaces', ':ns'];
  return [
    {
      pattern: [...prefix, 'pods', ':name', ':metric'],
      methods: get((r, p) => {
        const { ns, name, metric } = p as Params & { ns: string; name: string; metric: string };
        if (!(POD_METRICS as readonly string[]).includes(metric)) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods`);
        let chosen: Pod[];
        if (name === '*') {
          const sel = selectorOf(r);
          // The adapters serve running pods only; an evicted (Failed) pod has no samples.
          chosen = twin.listPods(ns).filter((pod) => pod.status.phase === 'Running' && sel.matches(pod.metadata.labels));
        } else {
          const pod = twin.getPod(ns, name);
          if (!pod || pod.status.phase !== 'Running') throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods ${name}`);
          chosen = [pod];
        }
        return {
          body: metricList(chosen.map((pod) => metricValue('Pod', '/v1', ns, pod.metadata.name, metric, podMetric(metric, twin.podMetricsOf(ns, pod.metadata.name)!)))),
        };
      }),
    },
    {
      pattern: [...prefix, 'deployments.apps', ':name', ':metric'],
      methods: get((_r, p) => {
        const { ns, name, metric } = p as Params & { ns: string; name: string; metric: string };
        if (!(DEPLOYMENT_METRICS as readonly string[]).includes(metric)) {
          throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for deployments.apps`);
        }
        if (!twin.getDeployment(ns, name)) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for deployments.apps ${name}`);
        const s = twin.serviceMetrics(ns, name);
        const value =
          metric === 'http_request_duration_p99_ms' ? s.p99_ms : metric === 'http_request_duration_p50_ms' ? s.p50_ms : metric === 'http_requests_per_second' ? s.rps : s.error_ratio;
        return { body: metricList([metricValue('Deployment', 'apps/v1', ns, name, metric, value)]) };
      }),
    },
  ];
}
