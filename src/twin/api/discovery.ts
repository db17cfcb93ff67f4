// Discovery in the twin's Kubernetes API (/version, /api, /apis and each group version's
// APIResourceList, and the health endpoints): what kubectl and client-node read to find out which
// resources exist, which verbs they take, and that deployments/scale is an autoscaling/v1 Scale. The
// documents must list only what the route groups beside this file actually serve.
import type { ApiContext } from './context.ts';
import { get, noSuchPath, type Route } from './http.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0-governor-twin',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.22.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/** Pod-level custom metrics the twin serves (also what an HPA's Pods metrics can name). */
export const POD_METRICS = ['jvm_gc_pause_ms_per_min', 'memory_utilisation_ratio', 'http_requests_per_second', 'cpu_throttled_ratio'] as const;
/** Deployment-level custom metrics. */
export const DEPLOYMENT_METRICS = [
  'http_request_duration_p99_ms',
  'http_request_duration_p50_ms',
  'http_requests_per_second',
  'http_error_ratio',
] as const;

interface ApiResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
  shortNames?: string[];
  categories?: string[];
}

const resourceList = (groupVersion: string, resources: ApiResource[]) => ({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources });

const WATCHABLE = ['get', 'list', 'watch'];

const HPA_RESOURCES: ApiResource[] = [
  {
    name: 'horizontalpodautoscalers',
    singularName: 'horizontalpodautoscaler',
    namespaced: true,
    kind: 'HorizontalPodAutoscaler',
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['hpa'],
    categories: ['all'],
  },
  { name: 'horizontalpodautoscalers/status', singularName: '', namespaced: true, kind: 'HorizontalPodAutoscaler', verbs: ['get'] },
];

export const GROUP_VERSIONS: Record<string, ReturnType<typeof resourceList>> = {
  v1: resourceList('v1', [
    { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['cm'] },
    { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: WATCHABLE, shortNames: ['ev'] },
    { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: WATCHABLE, shortNames: ['ns'] },
    { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: ['get', 'list', 'patch', 'update', 'watch'], shortNames: ['no'] },
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['delete', 'get', 'list', 'watch'], shortNames: ['po'], categories: ['all'] },
  ]),
  'apps/v1': resourceList('apps/v1', [
    {
      name: 'deployments',
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      verbs: ['get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['deploy'],
      categories: ['all'],
    },
    { name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
    { name: 'deployments/status', singularName: '', namespaced: true, kind: 'Deployment', verbs: ['get'] },
    { name: 'replicasets', singularName: 'replicaset', namespaced: true, kind: 'ReplicaSet', verbs: WATCHABLE, shortNames: ['rs'], categories: ['all'] },
  ]),
  // The same objects in both versions (autoscaling.ts converts).
  'autoscaling/v2': resourceList('autoscaling/v2', HPA_RESOURCES),
  'autoscaling/v1': resourceList('autoscaling/v1', HPA_RESOURCES),
  'metrics.k8s.io/v1beta1': resourceList('metrics.k8s.io/v1beta1', [
    { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
    { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
  ]),
  'custom.metrics.k8s.io/v1beta2': resourceList('custom.metrics.k8s.io/v1beta2', [
    ...POD_METRICS.map((m) => ({ name: `pods/${m}`, singularName: '', namespaced: true, kind: 'MetricValueList', verbs: ['get'] })),
    ...DEPLOYMENT_METRICS.map((m) => ({ name: `deployments.apps/${m}`, singularName: '', namespaced: true, kind: 'MetricValueList', verbs: ['get'] })),
  ]),
};

/** Each group with its versions, the preferred one first. */
const GROUPS = [
  { name: 'apps', versions: ['v1'] },
  { name: 'autoscaling', versions: ['v2', 'v1'] },
  { name: 'metrics.k8s.io', versions: ['v1beta1'] },
  { name: 'custom.metrics.k8s.io', versions: ['v1beta2'] },
];

export function apiGroup(name: string) {
  const g = GROUPS.find((x) => x.name === name);
  if (!g) return undefined;
  const versions = g.versions.map((version) => ({ groupVersion: `${g.name}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: g.name, versions, preferredVersion: versions[0]! };
}

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map((g) => ({ ...apiGroup(g.name)!, kind: undefined, apiVersion: undefined })) };
}

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function discoveryRoutes(ctx: ApiContext): Route[] {
  return [
    { pattern: ['version'], methods: get(() => ({ body: SERVER_VERSION })) },
    { pattern: ['healthz'], methods: get(() => ({ body: 'ok' })) },
    { pattern: ['livez'], methods: get(() => ({ body: 'ok' })) },
    { pattern: ['readyz'], methods: get(() => ({ body: 'ok' })) },
    { pattern: ['api'], methods: get(() => ({ body: apiVersions(ctx.address()) })) },
    { pattern: ['api', 'v1'], methods: get(() => ({ body: GROUP_VERSIONS['v1'] })) },
    { pattern: ['apis'], methods: get(() => ({ body: apiGroupList() })) },
    {
      pattern: ['apis', ':group'],
      methods: get((_r, p) => {
        const g = apiGroup(p['group']!);
        if (!g) throw noSuchPath();
        return { body: g };
      }),
    },
    {
      pattern: ['apis', ':group', ':version'],
      methods: get((_r, p) => {
        const gv = GROUP_VERSIONS[`${p['group']}/${p['version']}`];
        if (!gv) throw noSuchPath();
        return { body: gv };
      }),
    },
  ];
}
