// The metrics.k8s.io/v1beta1 group of the twin's API, as metrics-server serves it: PodMetrics per
// running pod (the first container carries the workload's use, any others are negligible) and
// NodeMetrics per node, cpu in millicores and memory in Ki, read from the twin's own numbers at the
// time of the request. A pod that is not running has no sample; nothing here is ever made up.
import type { StringMap } from '../kube-objects.ts';
import { formatKibibytes, formatMillicores } from '../quantity.ts';
import { nowIso, type ApiContext } from './context.ts';
import { get, notFound, type Request, type Route } from './http.ts';
import { selectorOf } from './request.ts';

export function resourceMetricsRoutes(ctx: ApiContext): Route[] {
  const { twin } = ctx;

  const podUsage = (ns: string, podName: string, labels: StringMap | undefined, containers: string[]) => {
    const m = twin.podMetricsOf(ns, podName)!;
    return {
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: podName, namespace: ns, creationTimestamp: nowIso(ctx), labels: { ...labels } },
      timestamp: nowIso(ctx),
      window: '15s',
      containers: containers.map((c, i) => ({
        name: c,
        usage: i === 0 ? { cpu: formatMillicores(m.cpu_millicores), memory: formatKibibytes(m.memory_bytes) } : { cpu: '0', memory: '0' },
      })),
    };
  };

  /** metrics-server has no sample for a pod that is not running (Pending). */
  const podMetricsItems = (req: Request, ns: string | undefined) => {
    const sel = selectorOf(req);
    return twin
      .listPods(ns)
      .filter((p) => p.status.phase === 'Running' && sel.matches(p.metadata.labels))
      .map((p) => podUsage(p.metadata.namespace!, p.metadata.name, p.metadata.labels, p.spec.containers.map((c) => c.name)));
  };
  const podList = (items: unknown[]) => ({ body: { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items } });

  const nodeUsage = (name?: string) => {
    const labels = new Map(twin.listNodes().map((n) => [n.metadata.name, n.metadata.labels]));
    return twin
      .nodeMetrics()
      .filter((m) => name === undefined || m.node === name)
      .map((m) => ({
        kind: 'NodeMetrics',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name: m.node, creationTimestamp: nowIso(ctx), labels: { ...labels.get(m.node) } },
        timestamp: nowIso(ctx),
        window: '20s',
        usage: { cpu: formatMillicores(m.cpu_millicores), memory: formatKibibytes(m.memory_bytes) },
      }));
  };

  const prefix = ['apis', 'metrics.k8s.io', 'v1beta1'];
  return [
    { pattern: [...prefix, 'pods'], methods: get((r) => podList(podMetricsItems(r, undefined))) },
    { pattern: [...prefix, 'namespaces', ':ns', 'pods'], methods: get((r, p) => podList(podMetricsItems(r, p['ns']))) },
    {
      pattern: [...prefix, 'namespaces', ':ns', 'pods', ':name'],
      methods: get((_r, p) => {
        const pod = twin.getPod(p['ns']!, p['name']!);
        if (!pod || pod.status.phase !== 'Running') throw notFound('pods', p['name']!, 'metrics.k8s.io');
        return { body: podUsage(p['ns']!, pod.metadata.name, pod.metadata.labels, pod.spec.containers.map((c) => c.name)) };
      }),
    },
    {
      pattern: [...prefix, 'nodes'],
      methods: get((r) => {
        const sel = selectorOf(r);
        return { body: { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: nodeUsage().filter((n) => sel.matches(n.metadata.labels)) } };
      }),
    },
    {
      pattern: [...prefix, 'nodes', ':name'],
      methods: get((_r, p) => {
        const item = nodeUsage(p['name'])[0];
        if (!item) throw notFound('nodes', p['name']!, 'metrics.k8s.io');
        return { body: item };
      }),
    },
  ];
}
