// The gateway's read of the cluster for computing blast radii (src/governance/blast-radius.ts):
// a namespace's deployments with their replicas and CPU requests, and the live pods on a node with
// their tenants. Straight through @kubernetes/client-node with the gateway's own kubeconfig; it only
// reads. A failure the cluster may recover from is retryable (the decision waits for it); a missing
// object is not (the caller fails closed).
import { ApiException, AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { GovernorError } from '../core/errors.ts';
import type { BlastRadiusFacts, NodeGroupFacts, NodePodFacts, WorkloadFacts } from '../governance/blast-radius.ts';
import { NODE_GROUP_LABEL } from '../cloud/node-groups.ts';
import { TENANT_LABEL } from './watch-targets.ts';

function coded(what: string, err: unknown): GovernorError {
  if (err instanceof ApiException) {
    if (err.code === 404) return new GovernorError('not_found', `${what} not found`, { details: { status: 404 } });
    const retryable = err.code === 429 || err.code >= 500;
    return new GovernorError('upstream_unavailable', `${what}: the cluster answered ${err.code}`, { retryable, details: { status: err.code } });
  }
  return new GovernorError('upstream_unavailable', `${what}: ${err instanceof Error ? err.message : String(err)}`, { retryable: true });
}

async function read<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw coded(what, err);
  }
}

/** Millicores of a CPU quantity ("500m", "1", "1.5"); 0 when unset or unreadable. */
function cpuMillicores(q: string | undefined): number {
  if (!q) return 0;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(m|)$/.exec(q.trim());
  return m ? Number(m[1]) * (m[2] === 'm' ? 1 : 1000) : 0;
}

const live = (p: V1Pod) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata?.deletionTimestamp;

/** The deployment a pod belongs to: its ReplicaSet's name without the pod-template-hash. */
function workloadOf(p: V1Pod): string {
  const rs = p.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet' && o.controller);
  const hash = p.metadata?.labels?.['pod-template-hash'];
  if (rs && hash && rs.name.endsWith(`-${hash}`)) return rs.name.slice(0, -hash.length - 1);
  return rs?.name ?? p.metadata?.name ?? '';
}

export class KubeBlastRadiusFacts implements BlastRadiusFacts {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;

  constructor(kube: KubeConfig) {
    this.apps = kube.makeApiClient(AppsV1Api);
    this.core = kube.makeApiClient(CoreV1Api);
  }

  async workloads(namespace: string): Promise<WorkloadFacts[]> {
    const list = await read(`deployments in ${namespace}`, () => this.apps.listNamespacedDeployment({ namespace }));
    return list.items.map((d) => ({
      name: d.metadata?.name ?? '',
      replicas: d.spec?.replicas ?? 0,
      cpu_request_millicores: (d.spec?.template?.spec?.containers ?? []).reduce((s, c) => s + cpuMillicores(c.resources?.requests?.['cpu']), 0),
    }));
  }

  async nodeGroup(group: string): Promise<NodeGroupFacts> {
    const [members, all, pods, namespaces] = await Promise.all([
      read(`nodes of group ${group}`, () => this.core.listNode({ labelSelector: `${NODE_GROUP_LABEL}=${group}` })),
      read('nodes', () => this.core.listNode()),
      read('pods', () => this.core.listPodForAllNamespaces()),
      read('namespaces', () => this.core.listNamespace()),
    ]);
    const nodes = members.items.map((n) => n.metadata?.name ?? '');
    const on = new Set(nodes);
    const tenantOf = new Map(namespaces.items.map((n) => [n.metadata?.name ?? '', n.metadata?.labels?.[TENANT_LABEL] || n.metadata?.name || '']));
    return {
      nodes,
      cluster_nodes: all.items.length,
      pods: pods.items.filter((p) => live(p) && on.has(p.spec?.nodeName ?? '')).map((p) => {
        const namespace = p.metadata?.namespace ?? '';
        return { namespace, tenant: tenantOf.get(namespace) ?? namespace, workload: workloadOf(p) };
      }),
    };
  }

  async podsOnNode(node: string): Promise<NodePodFacts[]> {
    const [pods, namespaces] = await Promise.all([
      read(`pods on node ${node}`, () => this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })),
      read('namespaces', () => this.core.listNamespace()),
    ]);
    const tenantOf = new Map(namespaces.items.map((n) => [n.metadata?.name ?? '', n.metadata?.labels?.[TENANT_LABEL] || n.metadata?.name || '']));
    return pods.items.filter(live).map((p) => {
      const namespace = p.metadata?.namespace ?? '';
      return { namespace, tenant: tenantOf.get(namespace) ?? namespace, workload: workloadOf(p) };
    });
  }
}
