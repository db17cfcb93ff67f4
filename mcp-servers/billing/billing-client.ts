// The Billing MCP server's only way to the cluster: the reads (namespaces, nodes, deployments,
// ReplicaSets, pods, metrics.k8s.io) and the one write (a deployment's CPU limit and its annotation)
// its tools need, through @kubernetes/client-node, so that it works against the twin's API and a real
// cluster alike. It takes its KubeConfig from the caller, codes API failures like the Kubernetes
// server's client, and knows nothing of sessions, grants or tenants' entitlements.
import {
  AppsV1Api,
  CoreV1Api,
  Metrics,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { call, isLive } from '../kubernetes/kube-client.ts';
import { parseQuantity, quantityOrNull } from '../kubernetes/quantity.ts';
import type { ContainerCpu, DeploymentFacts, NodeFacts, PodFacts } from './tenancy.ts';

export class BillingClient {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly metrics: Metrics;

  constructor(kube: KubeConfig) {
    this.apps = kube.makeApiClient(AppsV1Api);
    this.core = kube.makeApiClient(CoreV1Api);
    this.metrics = new Metrics(kube);
  }

  readDeployment(namespace: string, name: string): Promise<V1Deployment> {
    return call(`deployment ${namespace}/${name}`, () => this.apps.readNamespacedDeployment({ name, namespace }));
  }

  async namespaceLabels(): Promise<Map<string, Record<string, string>>> {
    const list = await call('namespaces', () => this.core.listNamespace());
    return new Map(list.items.map((n) => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]));
  }

  async readNamespaceLabels(namespace: string): Promise<Record<string, string>> {
    const ns = await call(`namespace ${namespace}`, () => this.core.readNamespace({ name: namespace }));
    return ns.metadata?.labels ?? {};
  }

  /** Nodes with allocatable CPU and metrics-server's current use. */
  async nodes(names: readonly string[]): Promise<NodeFacts[]> {
    const [nodes, usage] = await Promise.all([
      Promise.all(names.map((name) => call(`node ${name}`, () => this.core.readNode({ name })))),
      call('node metrics', () => this.metrics.getNodeMetrics(), 'metrics'),
    ]);
    const useByNode = new Map(usage.items.map((m) => [m.metadata.name, parseQuantity(m.usage.cpu) * 1000]));
    return nodes.map((n) => {
      const name = n.metadata?.name ?? '';
      return {
        name,
        allocatable_cpu_millicores: (quantityOrNull(n.status?.allocatable?.['cpu']) ?? 0) * 1000,
        cpu_usage_millicores: useByNode.get(name) ?? null,
      };
    });
  }

  /** Live pods of one namespace, or of every namespace on one node, with their deployment and use. */
  async pods(scope: { namespace: string } | { node: string }): Promise<PodFacts[]> {
    const what = 'namespace' in scope ? `pods in ${scope.namespace}` : `pods on node ${scope.node}`;
    const [pods, replicaSets, usage] = await Promise.all([
      call(what, () =>
        'namespace' in scope
          ? this.core.listNamespacedPod({ namespace: scope.namespace })
          : this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${scope.node}` }),
      ),
      call('replicasets', () =>
        'namespace' in scope ? this.apps.listNamespacedReplicaSet({ namespace: scope.namespace }) : this.apps.listReplicaSetForAllNamespaces(),
      ),
      call('pod metrics', () => ('namespace' in scope ? this.metrics.getPodMetrics(scope.namespace) : this.metrics.getPodMetrics()), 'metrics'),
    ]);
    const deploymentOfRs = new Map<string, string>();
    for (const rs of replicaSets.items) {
      const owner = controllerOf(rs);
      if (owner?.kind === 'Deployment') deploymentOfRs.set(`${rs.metadata?.namespace}/${rs.metadata?.name}`, owner.name);
    }
    const useOf = new Map(
      usage.items.map((m) => [
        `${m.metadata.namespace}/${m.metadata.name}`,
        {
          cpu: m.containers.reduce((s, c) => s + parseQuantity(c.usage.cpu), 0) * 1000,
          memory: m.containers.reduce((s, c) => s + parseQuantity(c.usage.memory), 0),
        },
      ]),
    );
    return pods.items.filter(isLive).map((p) => {
      const ns = p.metadata?.namespace ?? '';
      const owner = controllerOf(p);
      const rs = owner?.kind === 'ReplicaSet' ? deploymentOfRs.get(`${ns}/${owner.name}`) : undefined;
      const use = useOf.get(`${ns}/${p.metadata?.name}`);
      const res = podResources(p.spec?.containers ?? []);
      return {
        namespace: ns,
        deployment: rs ?? null,
        node: p.spec?.nodeName || null,
        ...res,
        cpu_usage_millicores: use?.cpu ?? null,
        memory_usage_bytes: use?.memory ?? null,
      };
    });
  }

  async deployments(namespace: string): Promise<DeploymentFacts[]> {
    const list = await call(`deployments in ${namespace}`, () => this.apps.listNamespacedDeployment({ namespace }));
    return list.items.map((d) => {
      const res = podResources(d.spec?.template?.spec?.containers ?? []);
      return {
        namespace,
        name: d.metadata?.name ?? '',
        replicas: d.spec?.replicas ?? 0,
        containers: res.containers,
        pod_cpu_request_millicores: res.cpu_request_millicores,
        pod_cpu_limit_millicores: res.cpu_limit_millicores,
        pod_memory_request_bytes: res.memory_request_bytes,
        pod_memory_limit_bytes: res.memory_limit_bytes,
      };
    });
  }

  /**
   * Sets every container's CPU limit and the deployment's annotations in one JSON patch, applied only
   * to the version it was planned from. A template change: the deployment controller rolls the pods.
   */
  async setCpuLimit(d: V1Deployment, cpuLimit: string, annotations: Record<string, string>): Promise<void> {
    const namespace = d.metadata?.namespace ?? '';
    const name = d.metadata?.name ?? '';
    const containers = d.spec?.template?.spec?.containers ?? [];
    await call(`deployment ${namespace}/${name}`, () =>
      this.apps.patchNamespacedDeployment(
        {
          name,
          namespace,
          body: [
            ...(d.metadata?.resourceVersion ? [{ op: 'test', path: '/metadata/resourceVersion', value: d.metadata.resourceVersion }] : []),
            ...containers.map((_, i) => ({ op: 'replace', path: `/spec/template/spec/containers/${i}/resources/limits/cpu`, value: cpuLimit })),
            { op: 'add', path: '/metadata/annotations', value: annotations },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
  }
}

/** CPU request and limit of each container, millicores. */
export function containerCpu(d: V1Deployment): ContainerCpu[] {
  return (d.spec?.template?.spec?.containers ?? []).map((c) => {
    // A container with a limit and no request requests its limit (API defaulting).
    const limit = quantityOrNull(c.resources?.limits?.['cpu']);
    const request = quantityOrNull(c.resources?.requests?.['cpu']) ?? limit;
    return { name: c.name, request_millicores: request === null ? null : request * 1000, limit_millicores: limit === null ? null : limit * 1000 };
  });
}

type Container = NonNullable<V1Pod['spec']>['containers'][number];

function podResources(containers: readonly Container[]) {
  let cpuReq = 0;
  let memReq = 0;
  let cpuLim: number | null = 0;
  let memLim: number | null = 0;
  for (const c of containers) {
    const lc = quantityOrNull(c.resources?.limits?.['cpu']);
    const lm = quantityOrNull(c.resources?.limits?.['memory']);
    cpuReq += quantityOrNull(c.resources?.requests?.['cpu']) ?? lc ?? 0;
    memReq += quantityOrNull(c.resources?.requests?.['memory']) ?? lm ?? 0;
    cpuLim = cpuLim === null || lc === null ? null : cpuLim + lc;
    memLim = memLim === null || lm === null ? null : memLim + lm;
  }
  return {
    containers: containers.length,
    cpu_request_millicores: Math.round(cpuReq * 1000 * 10) / 10,
    cpu_limit_millicores: cpuLim === null ? null : Math.round(cpuLim * 1000 * 10) / 10,
    memory_request_bytes: memReq,
    memory_limit_bytes: memLim,
  };
}

function controllerOf(o: V1Pod | V1ReplicaSet) {
  return o.metadata?.ownerReferences?.find((r) => r.controller) ?? o.metadata?.ownerReferences?.[0];
}

