// The FinOps server's only way to the cluster: per namespace, its deployments with their requests and
// what their running pods use right now (metrics.k8s.io), and which of them an autoscaler owns. Read
// only, through @kubernetes/client-node (so it works against the twin's API and a real cluster
// alike), KubeConfig from the caller. It must never write, and never attribute a pod to a deployment
// whose selector does not match it.
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  Metrics,
  type KubeConfig,
  type V1Deployment,
  type V1LabelSelector,
  type V1Pod,
} from '@kubernetes/client-node';
import { GovernorError } from '../../src/core/errors.ts';
import { call, codeApiError, isLive } from '../kubernetes/kube-client.ts';
import { parseQuantity, quantityOrNull } from '../kubernetes/quantity.ts';

export interface DeploymentUsage {
  namespace: string;
  name: string;
  replicas: number;
  ready_replicas: number;
  /** Requests of one pod of the current template. */
  cpu_request_millicores: number;
  memory_request_bytes: number;
  /** Pods of the deployment that metrics.k8s.io has a sample for. */
  pods_measured: number;
  cpu_millicores: number;
  /** Requests of the measured pods, summed (pods of an older template may request differently). */
  cpu_request_measured_millicores: number;
  memory_bytes: number;
  /** The HorizontalPodAutoscaler that sets this deployment's replicas, if any. */
  autoscaler: { name: string; min_replicas: number; max_replicas: number } | null;
}

export interface NamespaceUsage {
  namespace: string;
  deployments: DeploymentUsage[];
}

export class ClusterUsageReader {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly autoscaling: AutoscalingV2Api;
  private readonly metrics: Metrics;

  constructor(kube: KubeConfig) {
    this.apps = kube.makeApiClient(AppsV1Api);
    this.core = kube.makeApiClient(CoreV1Api);
    this.autoscaling = kube.makeApiClient(AutoscalingV2Api);
    this.metrics = new Metrics(kube);
  }

  async deploymentExists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.apps.readNamespacedDeployment({ namespace, name });
      return true;
    } catch (err) {
      const coded = codeApiError(`deployment ${namespace}/${name}`, err);
      if (coded.code === 'not_found') return false;
      throw coded;
    }
  }

  async namespaceUsage(namespace: string): Promise<NamespaceUsage> {
    const [deployments, pods, usage, hpas] = await Promise.all([
      call(`deployments in ${namespace}`, () => this.apps.listNamespacedDeployment({ namespace })),
      call(`pods in ${namespace}`, () => this.core.listNamespacedPod({ namespace })),
      call(`pod metrics in ${namespace}`, () => this.metrics.getPodMetrics(namespace), 'metrics'),
      this.autoscalers(namespace),
    ]);
    const usageByPod = new Map(usage.items.map((m) => [m.metadata.name, m]));
    const live = pods.items.filter(isLive);
    return {
      namespace,
      deployments: deployments.items
        .map((d): DeploymentUsage => {
          const name = d.metadata?.name ?? '';
          const mine = live.filter((p) => belongsTo(p, d));
          let measured = 0;
          let cpu = 0;
          let requested = 0;
          let memory = 0;
          for (const pod of mine) {
            const u = usageByPod.get(pod.metadata?.name ?? '');
            if (!u) continue;
            measured++;
            cpu += u.containers.reduce((s, c) => s + parseQuantity(c.usage.cpu), 0) * 1000;
            memory += u.containers.reduce((s, c) => s + parseQuantity(c.usage.memory), 0);
            requested += cpuRequestMillicores(pod.spec?.containers ?? []);
          }
          const containers = d.spec?.template?.spec?.containers ?? [];
          return {
            namespace,
            name,
            replicas: d.spec?.replicas ?? 0,
            ready_replicas: d.status?.readyReplicas ?? 0,
            cpu_request_millicores: round1(cpuRequestMillicores(containers)),
            memory_request_bytes: containers.reduce((s, c) => s + (quantityOrNull(c.resources?.requests?.['memory']) ?? 0), 0),
            pods_measured: measured,
            cpu_millicores: round1(cpu),
            cpu_request_measured_millicores: round1(requested),
            memory_bytes: memory,
            autoscaler: hpas.get(name) ?? null,
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /** Deployments an HPA scales, by name. A cluster without autoscaling/v2 has none. */
  private async autoscalers(namespace: string): Promise<Map<string, { name: string; min_replicas: number; max_replicas: number }>> {
    const out = new Map<string, { name: string; min_replicas: number; max_replicas: number }>();
    let list;
    try {
      list = await this.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace });
    } catch (err) {
      const coded = codeApiError(`autoscalers in ${namespace}`, err);
      if (coded.code === 'not_found') return out;
      throw coded;
    }
    for (const h of list.items) {
      const ref = h.spec?.scaleTargetRef;
      if (ref?.kind !== 'Deployment' || !ref.name) continue;
      out.set(ref.name, { name: h.metadata?.name ?? '', min_replicas: h.spec?.minReplicas ?? 1, max_replicas: h.spec?.maxReplicas ?? 0 });
    }
    return out;
  }
}

/**
 * A pod is the deployment's when the deployment's selector matches it and, if it names a ReplicaSet
 * as its owner, that ReplicaSet is one of the deployment's (`<deployment>-<hash>`): two deployments
 * with overlapping selectors must not both be billed for one pod.
 */
export function belongsTo(pod: V1Pod, deployment: V1Deployment): boolean {
  if (!selectorMatches(deployment.spec?.selector, pod.metadata?.labels ?? {})) return false;
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner || owner.kind !== 'ReplicaSet') return true;
  return owner.name.startsWith(`${deployment.metadata?.name ?? ''}-`);
}

/** Label selector semantics of the API server; an empty selector matches nothing here (it would bill every pod). */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries(selector?.matchLabels ?? {});
  const expressions = selector?.matchExpressions ?? [];
  if (matchLabels.length === 0 && expressions.length === 0) return false;
  for (const [k, v] of matchLabels) if (labels[k] !== v) return false;
  for (const e of expressions) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new GovernorError('conflict', `unknown label selector operator '${e.operator}'`);
    }
  }
  return true;
}

function cpuRequestMillicores(containers: ReadonlyArray<{ resources?: { requests?: Record<string, string> } }>): number {
  return containers.reduce((s, c) => s + (quantityOrNull(c.resources?.requests?.['cpu']) ?? 0), 0) * 1000;
}

const round1 = (v: number): number => Math.round(v * 10) / 10;
