// The Kubernetes MCP server's only way to the cluster: a thin typed wrapper over
// @kubernetes/client-node for exactly the reads and writes the server's tools need. It speaks the
// Kubernetes API only through client-node (never raw HTTP), takes its KubeConfig from the caller
// (never from the environment), and turns API failures into coded GovernorErrors. It knows nothing
// of tenants, grants or guardrails: deciding whether a call may happen is the server's job.
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Metrics,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
  type V1Deployment,
  type V1LabelSelector,
  type V1Node,
  type V1Pod,
  type V1PodTemplateSpec,
  type V1ReplicaSet,
} from '@kubernetes/client-node';
import { GovernorError } from '../../src/core/errors.ts';
import { parseQuantity, quantityOrNull } from './quantity.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** Pod-level custom metrics (custom.metrics.k8s.io, per pod). */
export const POD_CUSTOM_METRICS = { gcPause: 'jvm_gc_pause_ms_per_min', memoryUtilisation: 'memory_utilisation_ratio', cpuThrottled: 'cpu_throttled_ratio' } as const;
/** Deployment-level custom metrics (custom.metrics.k8s.io, described object deployments.apps). */
export const SERVICE_METRICS = {
  p50_ms: 'http_request_duration_p50_ms',
  p99_ms: 'http_request_duration_p99_ms',
  rps: 'http_requests_per_second',
  error_ratio: 'http_error_ratio',
} as const;

// Annotations `kubectl rollout undo` keeps from the deployment rather than copying from the
// ReplicaSet: they describe the deployment's own bookkeeping, not the template being restored.
const ROLLBACK_SKIPPED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export interface PodMetricsView {
  pod: string;
  revision: number | null;
  ready: boolean;
  memory_bytes: number;
  memory_limit_bytes: number | null;
  memory_utilisation: number | null;
  cpu_millicores: number;
  cpu_limit_millicores: number | null;
  gc_pause_ms_per_min: number | null;
  cpu_throttled_ratio: number | null;
  restart_count: number;
  last_termination_reason: string | null;
}

export interface PodPendingMetricsView {
  pod: string;
  revision: number | null;
  ready: boolean;
}

export interface DeploymentMetricsView {
  namespace: string;
  deployment: string;
  pods: PodMetricsView[];
  pods_without_metrics: PodPendingMetricsView[];
  service: { p50_ms: number; p99_ms: number; rps: number; error_ratio: number } | null;
  deployment_status: {
    replicas: number;
    ready_replicas: number;
    revision: number | null;
    template_annotations: Record<string, string>;
    containers: ContainerResourcesView[];
  };
}

/** A container of the pod template with its requests and limits as written (null: not set). */
export interface ContainerResourcesView {
  name: string;
  requests: { cpu: string | null; memory: string | null };
  limits: { cpu: string | null; memory: string | null };
}

export interface RevisionView {
  revision: number;
  replica_set: string;
  created_at: string | null;
  change_cause: string | null;
  /** Annotations of the revision's pod template (where JVM flags and similar settings live). */
  annotations: Record<string, string>;
  replicas: number;
}

export interface RolloutHistoryView {
  namespace: string;
  deployment: string;
  current_revision: number | null;
  revisions: RevisionView[];
}

export interface RollbackPlan {
  namespace: string;
  deployment: string;
  from_revision: number | null;
  to_revision: number;
  change_cause: string | null;
  /** False when the deployment already runs the target revision's template. */
  changed: boolean;
  template: V1PodTemplateSpec;
  annotations: Record<string, string>;
  /** The deployment's resourceVersion the plan was computed from. */
  resourceVersion: string | undefined;
}

export interface NamespaceCapacityView {
  namespace: string;
  total_pods: number;
  deployments: Array<{ name: string; replicas: number; cpu_request_millicores: number; memory_request_bytes: number }>;
}

/** A pod bound to a node, as the node tools need it (every tenant's: the server filters). */
export interface NodePodView {
  namespace: string;
  name: string;
  phase: string;
  ready: boolean;
  /** The deployment the pod belongs to (its ReplicaSet's name without the pod-template hash); null for other pods. */
  owner: string | null;
  labels: Record<string, string>;
  memory_request_bytes: number;
  restart_count: number;
}

export interface NodeView {
  name: string;
  unschedulable: boolean;
  taints: Array<{ key: string; value: string | null; effect: string }>;
  conditions: Array<{ type: string; status: string; reason: string | null; message: string | null; since: string | null }>;
  annotations: Record<string, string>;
  capacity: { cpu_millicores: number; memory_bytes: number };
  allocatable: { cpu_millicores: number; memory_bytes: number };
  /** metrics.k8s.io; null when the node has no sample. */
  usage: { cpu_millicores: number; memory_bytes: number } | null;
}

interface MetricValue {
  describedObject?: { kind?: string; name?: string };
  value?: string | number;
}

export class KubeClient {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly metrics: Metrics;

  constructor(kube: KubeConfig) {
    this.apps = kube.makeApiClient(AppsV1Api);
    this.core = kube.makeApiClient(CoreV1Api);
    this.custom = kube.makeApiClient(CustomObjectsApi);
    this.metrics = new Metrics(kube);
  }

  readDeployment(namespace: string, name: string): Promise<V1Deployment> {
    return call(`deployment ${namespace}/${name}`, () => this.apps.readNamespacedDeployment({ name, namespace }));
  }

  async readNamespaceLabels(namespace: string): Promise<Record<string, string>> {
    const ns = await call(`namespace ${namespace}`, () => this.core.readNamespace({ name: namespace }));
    return ns.metadata?.labels ?? {};
  }

  /**
   * Sets spec.replicas through the scale subresource, as `kubectl scale` does. With the state it
   * was decided on, the write is refused (409, `conflict`) if the deployment's spec changed since:
   * a decision made on one state is never applied to another (see writeOnReadSpec). A write whose
   * answer was lost is settled (WriteSettlement): sent again with the same precondition until the
   * API server answers, so that a stalled network does not leave the grant spent on a change that
   * may or may not have happened.
   */
  async scale(namespace: string, name: string, replicas: number, basis?: ReadBasis, settleForMs?: number): Promise<number> {
    const scale = await writeOnReadSpec(
      basis,
      () => this.readDeployment(namespace, name),
      (resourceVersion) =>
        call(`scale of deployment ${namespace}/${name}`, () =>
          this.apps.patchNamespacedDeploymentScale(
            { name, namespace, body: { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), spec: { replicas } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
        ),
      3,
      // A lost answer is settled: the count is what was asked, or the write is sent again.
      { applied: (fresh) => (fresh.spec?.replicas === replicas ? { spec: { replicas } } : undefined), ...(settleForMs !== undefined ? { forMs: settleForMs } : {}) },
    );
    return scale.spec?.replicas ?? replicas;
  }

  async rolloutHistory(namespace: string, name: string): Promise<RolloutHistoryView> {
    const deployment = await this.readDeployment(namespace, name);
    const replicaSets = await this.ownedReplicaSets(deployment);
    return {
      namespace,
      deployment: name,
      current_revision: currentRevision(deployment, replicaSets),
      revisions: replicaSets
        .map((rs) => ({ rs, revision: revisionOf(rs) }))
        .filter((x): x is { rs: V1ReplicaSet; revision: number } => x.revision !== null)
        .sort((a, b) => a.revision - b.revision)
        .map(({ rs, revision }) => ({
          revision,
          replica_set: rs.metadata?.name ?? '',
          created_at: isoOrNull(rs.metadata?.creationTimestamp),
          change_cause: rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] ?? null,
          annotations: { ...(rs.spec?.template?.metadata?.annotations ?? {}) },
          replicas: rs.status?.replicas ?? rs.spec?.replicas ?? 0,
        })),
    };
  }

  /**
   * Works out what `kubectl rollout undo [--to-revision=N]` would write, without writing it, so
   * that the caller can refuse (unknown revision, paused deployment) before spending a grant.
   * Default target: the newest revision older than the current one.
   */
  async planRollback(namespace: string, name: string, toRevision?: number): Promise<RollbackPlan> {
    const deployment = await this.readDeployment(namespace, name);
    if (deployment.spec?.paused) {
      throw new GovernorError('conflict', `deployment ${namespace}/${name} is paused; resume it before rolling back`);
    }
    const replicaSets = await this.ownedReplicaSets(deployment);
    const current = currentRevision(deployment, replicaSets);
    const byRevision = new Map<number, V1ReplicaSet>();
    for (const rs of replicaSets) {
      const r = revisionOf(rs);
      if (r !== null) byRevision.set(r, rs);
    }
    let target: number | undefined = toRevision;
    if (target === undefined) {
      target = [...byRevision.keys()].filter((r) => current === null || r < current).sort((a, b) => b - a)[0];
      if (target === undefined) {
        throw new GovernorError('not_found', `deployment ${namespace}/${name} has no revision before ${current ?? 'the current one'} to roll back to`);
      }
    }
    const rs = byRevision.get(target);
    if (!rs?.spec?.template) {
      const known = [...byRevision.keys()].sort((a, b) => a - b).join(', ') || 'none';
      throw new GovernorError('not_found', `revision ${target} of deployment ${namespace}/${name} not found (revisions: ${known})`, {
        details: { revisions: [...byRevision.keys()] },
      });
    }
    const template = structuredClone(rs.spec.template);
    // The hash label belongs to the ReplicaSet; the deployment controller sets it on the new one.
    if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(deployment.metadata?.annotations ?? {})) {
      if (ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
    }
    for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) {
      if (!ROLLBACK_SKIPPED_ANNOTATIONS.has(k)) annotations[k] = v;
    }
    return {
      namespace,
      deployment: name,
      from_revision: current,
      to_revision: target,
      change_cause: rs.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] ?? null,
      changed: !sameTemplate(deployment.spec?.template, template),
      template,
      annotations,
      resourceVersion: deployment.metadata?.resourceVersion,
    };
  }

  /** Writes a planned rollback: the old template and its annotations, as one JSON patch. */
  async applyRollback(plan: RollbackPlan): Promise<void> {
    if (!plan.changed) return;
    await call(`deployment ${plan.namespace}/${plan.deployment}`, () =>
      this.apps.patchNamespacedDeployment(
        {
          name: plan.deployment,
          namespace: plan.namespace,
          body: [
            // Applied only to the state it was planned from; a concurrent change makes the patch fail whole.
            ...(plan.resourceVersion ? [{ op: 'test', path: '/metadata/resourceVersion', value: plan.resourceVersion }] : []),
            { op: 'replace', path: '/spec/template', value: plan.template },
            { op: 'replace', path: '/metadata/annotations', value: plan.annotations },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
  }

  /**
   * Usage from metrics.k8s.io, JVM and memory signals from the custom metrics API per pod, and the
   * service's latency / traffic / errors from the custom metrics API per deployment.
   */
  async deploymentMetrics(namespace: string, name: string, opts: { service?: boolean } = {}): Promise<DeploymentMetricsView> {
    const deployment = await this.readDeployment(namespace, name);
    const selector = selectorString(deployment.spec?.selector);
    const [pods, replicaSets, usage, gc, memRatio, throttled, service] = await Promise.all([
      call(`pods of ${namespace}/${name}`, () => this.core.listNamespacedPod({ namespace, labelSelector: selector })),
      this.ownedReplicaSets(deployment),
      call(`pod metrics in ${namespace}`, () => this.metrics.getPodMetrics(namespace), 'metrics'),
      this.podCustomMetric(namespace, selector, POD_CUSTOM_METRICS.gcPause),
      this.podCustomMetric(namespace, selector, POD_CUSTOM_METRICS.memoryUtilisation),
      this.podCustomMetric(namespace, selector, POD_CUSTOM_METRICS.cpuThrottled),
      opts.service === false ? Promise.resolve(null) : this.serviceMetrics(namespace, name),
    ]);
    const revisionByHash = new Map<string, number>();
    const revisionByName = new Map<string, number>();
    for (const rs of replicaSets) {
      const r = revisionOf(rs);
      if (r === null) continue;
      const hash = rs.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      if (hash) revisionByHash.set(hash, r);
      if (rs.metadata?.name) revisionByName.set(rs.metadata.name, r);
    }
    const usageByPod = new Map(usage.items.map((m) => [m.metadata.name, m]));

    const withMetrics: PodMetricsView[] = [];
    const withoutMetrics: PodPendingMetricsView[] = [];
    for (const pod of pods.items.filter(isLive)) {
      const podName = pod.metadata?.name ?? '';
      const revision = podRevision(pod, revisionByHash, revisionByName);
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const u = usageByPod.get(podName);
      if (!u) {
        withoutMetrics.push({ pod: podName, revision, ready });
        continue;
      }
      const memory = u.containers.reduce((sum, c) => sum + parseQuantity(c.usage.memory), 0);
      const cpu = u.containers.reduce((sum, c) => sum + parseQuantity(c.usage.cpu), 0);
      const limit = memoryLimit(pod);
      const ratio = memRatio.get(podName) ?? (limit ? memory / limit : null);
      withMetrics.push({
        pod: podName,
        revision,
        ready,
        memory_bytes: memory,
        memory_limit_bytes: limit,
        memory_utilisation: ratio === null ? null : round(ratio, 4),
        cpu_millicores: round(cpu * 1000, 1),
        cpu_limit_millicores: ((l) => (l === null ? null : round(l * 1000, 1)))(podLimit(pod, 'cpu')),
        gc_pause_ms_per_min: gc.get(podName) ?? null,
        cpu_throttled_ratio: throttled.get(podName) ?? null,
        ...restartsOf(pod),
      });
    }
    withMetrics.sort((a, b) => a.pod.localeCompare(b.pod));
    withoutMetrics.sort((a, b) => a.pod.localeCompare(b.pod));
    return {
      namespace,
      deployment: name,
      pods: withMetrics,
      pods_without_metrics: withoutMetrics,
      service,
      deployment_status: {
        replicas: deployment.spec?.replicas ?? 0,
        ready_replicas: deployment.status?.readyReplicas ?? 0,
        revision: currentRevision(deployment, replicaSets),
        template_annotations: { ...(deployment.spec?.template?.metadata?.annotations ?? {}) },
        containers: (deployment.spec?.template?.spec?.containers ?? []).map((c) => ({
          name: c.name,
          requests: { cpu: c.resources?.requests?.['cpu'] ?? null, memory: c.resources?.requests?.['memory'] ?? null },
          limits: { cpu: c.resources?.limits?.['cpu'] ?? null, memory: c.resources?.limits?.['memory'] ?? null },
        })),
      },
    };
  }

  async namespaceCapacity(namespace: string): Promise<NamespaceCapacityView> {
    const [deployments, pods] = await Promise.all([
      call(`deployments in ${namespace}`, () => this.apps.listNamespacedDeployment({ namespace })),
      call(`pods in ${namespace}`, () => this.core.listNamespacedPod({ namespace })),
    ]);
    return {
      namespace,
      total_pods: pods.items.filter(isLive).length,
      deployments: deployments.items
        .map((d) => {
          const containers = d.spec?.template?.spec?.containers ?? [];
          return {
            name: d.metadata?.name ?? '',
            replicas: d.spec?.replicas ?? 0,
            cpu_request_millicores: round(containers.reduce((s, c) => s + (quantityOrNull(c.resources?.requests?.['cpu']) ?? 0), 0) * 1000, 1),
            memory_request_bytes: containers.reduce((s, c) => s + (quantityOrNull(c.resources?.requests?.['memory']) ?? 0), 0),
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }

  /**
   * The node, with its usage when metrics.k8s.io has a sample. A cluster without a metrics server
   * (or one down) still has nodes to read and to cordon: the usage is then null, as the views say,
   * rather than the whole read failing.
   */
  async readNode(name: string): Promise<NodeView> {
    const [node, metrics] = await Promise.all([
      call(`node ${name}`, () => this.core.readNode({ name })),
      call('node metrics', () => this.metrics.getNodeMetrics(), 'metrics').catch((err: unknown) => {
        if (err instanceof GovernorError && err.code === 'upstream_unavailable') return { items: [] as Array<{ metadata: { name: string }; usage: { cpu: string; memory: string } }> };
        throw err;
      }),
    ]);
    const m = metrics.items.find((i) => i.metadata.name === name);
    return nodeView(node, m ? { cpu_millicores: round(parseQuantity(m.usage.cpu) * 1000, 1), memory_bytes: parseQuantity(m.usage.memory) } : null);
  }

  /** Every live pod bound to the node, of every namespace: the caller decides what a session may see. */
  async podsOnNode(node: string): Promise<NodePodView[]> {
    const list = await call(`pods on node ${node}`, () => this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
    return list.items.filter(isLive).map((p) => ({
      namespace: p.metadata?.namespace ?? '',
      name: p.metadata?.name ?? '',
      phase: p.status?.phase ?? 'Unknown',
      ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      owner: deploymentOf(p),
      labels: { ...(p.metadata?.labels ?? {}) },
      memory_request_bytes: (p.spec?.containers ?? []).reduce((s, c) => s + (quantityOrNull(c.resources?.requests?.['memory']) ?? 0), 0),
      restart_count: (p.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0),
    }));
  }

  /** The nodes the deployment's live pods are bound to, with how many pods on each. */
  async nodesOfDeployment(namespace: string, name: string): Promise<Map<string, number>> {
    const deployment = await this.readDeployment(namespace, name);
    const pods = await call(`pods of ${namespace}/${name}`, () => this.core.listNamespacedPod({ namespace, labelSelector: selectorString(deployment.spec?.selector) }));
    const out = new Map<string, number>();
    for (const p of pods.items.filter(isLive)) {
      const n = p.spec?.nodeName;
      if (n) out.set(n, (out.get(n) ?? 0) + 1);
    }
    return out;
  }

  /** Ready pods of a deployment, for the minimum-replica rule of a drain. */
  async readyPodsOfDeployment(namespace: string, name: string): Promise<string[]> {
    const deployment = await this.readDeployment(namespace, name);
    const pods = await call(`pods of ${namespace}/${name}`, () => this.core.listNamespacedPod({ namespace, labelSelector: selectorString(deployment.spec?.selector) }));
    return pods.items.filter((p) => isLive(p) && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)).map((p) => p.metadata?.name ?? '');
  }

  /**
   * spec.unschedulable as `kubectl cordon` / `uncordon` write it, plus annotations (null removes one),
   * as one merge patch applied only to the node's state at `resourceVersion` when given.
   */
  async setUnschedulable(name: string, unschedulable: boolean, annotations: Record<string, string | null>, resourceVersion?: string): Promise<void> {
    const body = { metadata: { ...(resourceVersion ? { resourceVersion } : {}), annotations }, spec: { unschedulable } };
    await call(`node ${name}`, () => this.core.patchNode({ name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
  }

  /** The pods/eviction subresource (policy/v1), as `kubectl drain` evicts. */
  async evictPod(namespace: string, name: string): Promise<void> {
    await call(`eviction of pod ${namespace}/${name}`, () =>
      this.core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } }),
    );
  }

  /**
   * ReplicaSets that make up the deployment's history: matched by its selector and controlled by
   * it, or orphaned (the deployment controller would adopt those). One controlled by something
   * else is never part of this deployment's history, whatever its labels say.
   */
  private async ownedReplicaSets(deployment: V1Deployment): Promise<V1ReplicaSet[]> {
    const namespace = deployment.metadata?.namespace ?? '';
    const name = deployment.metadata?.name ?? '';
    const uid = deployment.metadata?.uid;
    const list = await call(`replicasets of ${namespace}/${name}`, () =>
      this.apps.listNamespacedReplicaSet({ namespace, labelSelector: selectorString(deployment.spec?.selector) }),
    );
    return list.items.filter((rs) => {
      const controller = rs.metadata?.ownerReferences?.find((o) => o.controller) ?? rs.metadata?.ownerReferences?.[0];
      if (!controller) return true;
      return controller.kind === 'Deployment' && controller.name === name && (!uid || !controller.uid || controller.uid === uid);
    });
  }

  /** Per-pod values of one custom metric; an absent metric is an empty map, not a failure. */
  private async podCustomMetric(namespace: string, selector: string, metric: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    let list: { items?: MetricValue[] };
    try {
      list = await this.customMetric(namespace, 'pods', '*', metric, selector);
    } catch (err) {
      if (err instanceof GovernorError && err.code === 'not_found') return out;
      throw err;
    }
    for (const item of list.items ?? []) {
      const v = item.value === undefined ? null : quantityOrNull(item.value);
      if (item.describedObject?.name && v !== null) out.set(item.describedObject.name, v);
    }
    return out;
  }

  private async serviceMetrics(namespace: string, name: string): Promise<DeploymentMetricsView['service']> {
    const entries = await Promise.all(
      (Object.entries(SERVICE_METRICS) as Array<[keyof typeof SERVICE_METRICS, string]>).map(async ([field, metric]) => {
        let list: { items?: MetricValue[] };
        try {
          list = await this.customMetric(namespace, 'deployments.apps', name, metric);
        } catch (err) {
          // The deployment exists (it was just read): a 404 here means the adapter does not serve it.
          if (err instanceof GovernorError && err.code === 'not_found') {
            throw new GovernorError('upstream_unavailable', `custom metrics API has no ${metric} for deployment ${namespace}/${name}`, { retryable: true });
          }
          throw err;
        }
        const raw = list.items?.[0]?.value;
        const value = raw === undefined ? null : quantityOrNull(raw);
        if (value === null) {
          throw new GovernorError('upstream_unavailable', `custom metrics API returned no value of ${metric} for deployment ${namespace}/${name}`, { retryable: true });
        }
        return [field, round(value, 4)] as const;
      }),
    );
    return Object.fromEntries(entries) as DeploymentMetricsView['service'];
  }

  /**
   * GET /apis/custom.metrics.k8s.io/v1beta2/namespaces/{ns}/{resource}/{name}/{metric}. The custom
   * metrics API is not a custom resource, but its paths extend one by a segment; client-node's
   * CustomObjectsApi builds everything up to {name} (auth, TLS, errors) and a request middleware
   * appends the metric and the label selector.
   */
  private customMetric(namespace: string, resource: string, name: string, metric: string, labelSelector?: string): Promise<{ items?: MetricValue[] }> {
    const extend: ObservableMiddleware = {
      pre: (ctx: RequestContext) => {
        const url = new URL(ctx.getUrl());
        url.pathname = `${url.pathname}/${encodeURIComponent(metric)}`;
        if (labelSelector) url.searchParams.set('labelSelector', labelSelector);
        ctx.setUrl(url.toString());
        return new Observable(Promise.resolve(ctx));
      },
      post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
    };
    return call(
      `${metric} for ${resource}/${name} in ${namespace}`,
      () =>
        this.custom.getNamespacedCustomObject(
          { group: 'custom.metrics.k8s.io', version: 'v1beta2', namespace, plural: resource, name },
          { middleware: [extend], middlewareMergeStrategy: 'append' },
        ) as Promise<{ items?: MetricValue[] }>,
    );
  }
}

/** The version of an object a decision was read from: its resourceVersion and generation. */
export interface ReadBasis {
  resourceVersion?: string | undefined;
  generation?: number | undefined;
}

/**
 * A write applied only to the state it was decided on. The write carries the resourceVersion read,
 * which the API server takes as a precondition (409 when the object changed). On a real cluster
 * controllers write status all the time — a rollout in progress, kubelets reporting pods Ready, the
 * HPA's observations — and each such write is a new resourceVersion that changes nothing the
 * decision rests on: the spec, whose every change bumps metadata.generation. So a conflict is
 * retried, on the fresh resourceVersion, while the generation is still the one read; once the spec
 * changed, the conflict stands. Without a generation every conflict stands.
 */
export async function writeOnReadSpec<T, O extends { metadata?: { resourceVersion?: string; generation?: number } }>(
  basis: ReadBasis | undefined,
  reread: () => Promise<O>,
  write: (resourceVersion: string | undefined) => Promise<T>,
  attempts = 3,
  settle?: WriteSettlement<T, O>,
): Promise<T> {
  let resourceVersion = basis?.resourceVersion;
  // Until when a write whose answer was lost is sent again to learn its fate, and how often it was.
  let lost: { until: number; resends: number } | undefined;
  for (let attempt = 1; ; ) {
    try {
      return await write(resourceVersion);
    } catch (err) {
      if (settle && unanswered(err)) {
        lost ??= { until: Date.now() + (settle.forMs ?? SETTLE_MS), resends: 0 };
        if (Date.now() >= lost.until) throw err;
        // 0.5 s, 1 s, 2 s, then every 4 s; a resend is not one of the conflict's attempts.
        await new Promise((r) => setTimeout(r, Math.min(4_000, 500 * 2 ** lost!.resends++)));
        continue;
      }
      if (!(err instanceof GovernorError && err.code === 'conflict')) throw err;
      const mayRetry = resourceVersion !== undefined && basis?.generation !== undefined && attempt < attempts;
      if (!(lost && settle) && !mayRetry) throw err;
      const fresh = await reread();
      // The answer to an earlier try was lost, and the object has changed since: was it that try?
      if (lost && settle) {
        const applied = settle.applied(fresh);
        if (applied !== undefined) return applied;
      }
      if (!mayRetry || fresh.metadata?.generation !== basis?.generation) throw err;
      resourceVersion = fresh.metadata?.resourceVersion;
      attempt++;
    }
  }
}

/** How long a write whose answer was lost is tried again (the MCP client waits 60 s for the whole call). */
const SETTLE_MS = 30_000;

/**
 * How to learn the fate of a write whose answer was lost on the way (connection reset, API server
 * unreachable): the very same write is sent again, with the same precondition, for up to `forMs`.
 * If it goes through, it is applied once; if the API server refuses it as a conflict, the object
 * changed since it was read, and `applied` says, from the object read again, whether it now holds
 * what the write wanted (the lost try went through: its result) or not (undefined: the conflict
 * stands). Without an answer in time, the first error stands: the write may have happened.
 */
export interface WriteSettlement<T, O> {
  applied: (fresh: O) => T | undefined;
  forMs?: number;
}

/** A call that failed without an answer from the API server (no HTTP status): it may have been applied. */
export function unanswered(err: unknown): boolean {
  return err instanceof GovernorError && err.code === 'upstream_unavailable' && typeof err.details?.['status'] !== 'number';
}

/**
 * Runs one API call and codes its failure. `status` in the details is the HTTP status when the
 * API server answered: callers use its presence to know that a failed write did not happen.
 */
export async function call<T>(what: string, fn: () => Promise<T>, api = 'kubernetes'): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw codeApiError(what, err, api);
  }
}

export function codeApiError(what: string, err: unknown, api = 'kubernetes'): GovernorError {
  if (err instanceof GovernorError) return err;
  if (err instanceof ApiException) {
    const status = err.code;
    const reason = apiReason(err.body) ?? err.message.split('\n')[0];
    const details = { status, api };
    // The Metrics helper reports connection failures as a 500 with an empty body, and so too an
    // answer that is not JSON: a real API server that does not serve metrics.k8s.io (no
    // metrics-server) answers its plain-text "404 page not found", which the helper fails to parse.
    if (api === 'metrics' && status === 500 && err.body && typeof err.body === 'object' && Object.keys(err.body).length === 0) {
      const detail = /Message: (.*)/.exec(err.message)?.[1] ?? reason ?? err.message;
      const notAnApiObject = /JSON/.test(detail);
      const message = notAnApiObject ? `metrics.k8s.io answered with no API object (${detail}): does a metrics server serve it in this cluster?` : detail;
      return new GovernorError('upstream_unavailable', `${what}: ${message}`, { retryable: true, details: { api }, cause: err });
    }
    // A 404 from metrics.k8s.io means the API itself is not served (no metrics-server), not a missing object.
    if (status === 404 && api === 'metrics') {
      return new GovernorError('upstream_unavailable', `${what}: metrics.k8s.io is not served by this cluster`, { details, cause: err });
    }
    if (status === 404) return new GovernorError('not_found', `${what} not found`, { details, cause: err });
    if (status === 409) return new GovernorError('conflict', `${what}: ${reason}`, { retryable: true, details, cause: err });
    // The API server's validation or an admission policy refused the object: the same call fails again.
    if (status === 422) return new GovernorError('input_invalid', `${what}: the cluster refused it as invalid (422): ${reason}`, { details, cause: err });
    if (status === 401 || status === 403) {
      // The reason names the identity and what it may not do (RBAC): what an operator needs to fix it.
      return new GovernorError('upstream_unavailable', `${what}: the cluster refused this server's credentials (${status}): ${reason}`, { details, cause: err });
    }
    const retryable = status === 429 || status >= 500;
    return new GovernorError('upstream_unavailable', `${what}: cluster answered ${status}: ${reason}`, { retryable, details, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GovernorError('upstream_unavailable', `${what}: ${message}`, { retryable: true, details: { api }, cause: err });
}

function apiReason(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return apiReason(JSON.parse(body));
    } catch {
      return body.slice(0, 200) || undefined;
    }
  }
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return undefined;
}

export function selectorString(selector: V1LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  // An empty selector would select every pod in the namespace: refuse rather than over-report.
  if (parts.length === 0) throw new GovernorError('conflict', 'deployment has an empty selector');
  return parts.join(',');
}

function revisionOf(rs: V1ReplicaSet): number | null {
  const raw = rs.metadata?.annotations?.[REVISION_ANNOTATION];
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isInteger(n) ? n : null;
}

function currentRevision(deployment: V1Deployment, replicaSets: V1ReplicaSet[]): number | null {
  const raw = deployment.metadata?.annotations?.[REVISION_ANNOTATION];
  const n = raw === undefined ? NaN : Number(raw);
  if (Number.isInteger(n)) return n;
  const revisions = replicaSets.map(revisionOf).filter((r): r is number => r !== null);
  return revisions.length ? Math.max(...revisions) : null;
}

function podRevision(pod: V1Pod, byHash: Map<string, number>, byName: Map<string, number>): number | null {
  const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  if (hash && byHash.has(hash)) return byHash.get(hash)!;
  const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet');
  return owner && byName.has(owner.name) ? byName.get(owner.name)! : null;
}

/** A deployment's pod is owned by the ReplicaSet `<deployment>-<pod-template-hash>`. */
function deploymentOf(pod: V1Pod): string | null {
  const rs = pod.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet' && o.controller);
  const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
  if (!rs || !hash || !rs.name.endsWith(`-${hash}`)) return null;
  return rs.name.slice(0, -hash.length - 1);
}

function nodeView(node: V1Node, usage: NodeView['usage']): NodeView {
  const res = (r: Record<string, string> | undefined) => ({
    cpu_millicores: round((quantityOrNull(r?.['cpu']) ?? 0) * 1000, 1),
    memory_bytes: quantityOrNull(r?.['memory']) ?? 0,
  });
  return {
    name: node.metadata?.name ?? '',
    unschedulable: node.spec?.unschedulable === true,
    taints: (node.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? null, effect: t.effect })),
    conditions: (node.status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason ?? null,
      message: c.message ?? null,
      since: isoOrNull(c.lastTransitionTime),
    })),
    annotations: { ...(node.metadata?.annotations ?? {}) },
    capacity: res(node.status?.capacity),
    allocatable: res(node.status?.allocatable),
    usage,
  };
}

/** A pod that counts: not being deleted, not finished (an evicted or completed pod stays as an object). */
export function isLive(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
}

/** Sum of the containers' memory limits; null when any container is unlimited. */
/** The sum of the containers' limits of one resource; null when a container has none (unbounded). */
function podLimit(pod: V1Pod, resource: 'memory' | 'cpu'): number | null {
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) return null;
  let sum = 0;
  for (const c of containers) {
    const l = quantityOrNull(c.resources?.limits?.[resource]);
    if (l === null) return null;
    sum += l;
  }
  return sum;
}

const memoryLimit = (pod: V1Pod): number | null => podLimit(pod, 'memory');

function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec): boolean {
  const strip = (t: V1PodTemplateSpec | undefined) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
    return stableJson(c);
  };
  return strip(a) === strip(b);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function isoOrNull(v: Date | string | undefined): string | null {
  if (v === undefined) return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * How often the pod's containers restarted, and why the last one ended: an OOMKilled container is
 * reported as such even when another container ended last for another reason.
 */
function restartsOf(pod: V1Pod): { restart_count: number; last_termination_reason: string | null } {
  const statuses = pod.status?.containerStatuses ?? [];
  const reasons = statuses.map((c) => c.lastState?.terminated?.reason).filter((r): r is string => typeof r === 'string');
  return {
    restart_count: statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
    last_termination_reason: reasons.includes('OOMKilled') ? 'OOMKilled' : (reasons[0] ?? null),
  };
}
