// The Kubernetes MCP server's way to what sits beside a deployment: the HorizontalPodAutoscaler that
// owns its replica count (autoscaling/v2), its events, and its containers' resources. A thin typed
// wrapper over @kubernetes/client-node like kube-client.ts, and under the same rules: the KubeConfig
// from the caller, failures coded, every write applied only to the version it was planned from. It
// knows nothing of tenants, grants or hard limits: the server decides whether a call may happen.
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type V1Deployment,
  type V2HorizontalPodAutoscaler,
  type V2MetricSpec,
  type V2MetricStatus,
} from '@kubernetes/client-node';
import { GovernorError } from '../../src/core/errors.ts';
import { call, writeOnReadSpec, type ReadBasis } from './kube-client.ts';
import { quantityOrNull } from './quantity.ts';

export interface HpaView {
  name: string;
  min_replicas: number;
  max_replicas: number;
  current_replicas: number | null;
  desired_replicas: number | null;
  last_scale_time: string | null;
  at_max: boolean;
  metrics: Array<{ type: string; name: string; target: string; current: string | null }>;
  conditions: Array<{ type: string; status: string; reason: string | null; message: string | null }>;
  resource_version: string | null;
}

export interface EventView {
  type: string;
  reason: string;
  message: string;
  object: { kind: string; name: string };
  count: number;
  first_seen: string | null;
  last_seen: string | null;
  source: string | null;
}

export interface ContainerResources {
  container: string;
  requests: { cpu: number | null; memory: number | null };
  limits: { cpu: number | null; memory: number | null };
}

const iso = (v: Date | string | undefined | null): string | null => {
  if (v === undefined || v === null) return null;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
};

function metricName(m: V2MetricSpec | V2MetricStatus): string {
  return m.resource?.name ?? m.containerResource?.name ?? m.pods?.metric.name ?? m.object?.metric.name ?? m.external?.metric.name ?? m.type;
}

function targetText(m: V2MetricSpec): string {
  const t = m.resource?.target ?? m.containerResource?.target ?? m.pods?.target ?? m.object?.target ?? m.external?.target;
  if (!t) return 'unknown';
  if (t.averageUtilization !== undefined) return `${t.averageUtilization}% utilisation`;
  if (t.averageValue !== undefined) return `${t.averageValue} average`;
  return `${t.value ?? '?'} value`;
}

function currentText(m: V2MetricStatus | undefined): string | null {
  const c = m?.resource?.current ?? m?.containerResource?.current ?? m?.pods?.current ?? m?.object?.current ?? m?.external?.current;
  if (!c) return null;
  if (c.averageUtilization !== undefined) return `${c.averageUtilization}% utilisation`;
  if (c.averageValue !== undefined) return `${c.averageValue} average`;
  return c.value !== undefined ? `${c.value} value` : null;
}

export function hpaView(h: V2HorizontalPodAutoscaler): HpaView {
  const min = h.spec?.minReplicas ?? 1;
  const max = h.spec?.maxReplicas ?? min;
  const current = h.status?.currentReplicas ?? null;
  return {
    name: h.metadata?.name ?? '',
    min_replicas: min,
    max_replicas: max,
    current_replicas: current,
    desired_replicas: h.status?.desiredReplicas ?? null,
    last_scale_time: iso(h.status?.lastScaleTime),
    at_max: current !== null && current >= max,
    metrics: (h.spec?.metrics ?? []).map((m) => ({
      type: m.type,
      name: metricName(m),
      target: targetText(m),
      current: currentText(h.status?.currentMetrics?.find((c) => c.type === m.type && metricName(c) === metricName(m))),
    })),
    conditions: (h.status?.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason ?? null, message: c.message ?? null })),
    resource_version: h.metadata?.resourceVersion ?? null,
  };
}

export class KubeAutoscaling {
  private readonly autoscaling: AutoscalingV2Api;
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(kube: KubeConfig) {
    this.autoscaling = kube.makeApiClient(AutoscalingV2Api);
    this.core = kube.makeApiClient(CoreV1Api);
    this.apps = kube.makeApiClient(AppsV1Api);
  }

  /** The HPA whose scaleTargetRef is the Deployment, if any; two HPAs on one target is a misconfiguration, refused. */
  async hpaOf(namespace: string, deployment: string): Promise<HpaView | null> {
    const list = await call(`HorizontalPodAutoscalers in ${namespace}`, () => this.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }));
    const owning = list.items.filter((h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === deployment);
    if (owning.length > 1) {
      throw new GovernorError('conflict', `${owning.length} HorizontalPodAutoscalers (${owning.map((h) => h.metadata?.name).join(', ')}) target deployment ${namespace}/${deployment}; they fight each other — leave one`);
    }
    return owning[0] ? hpaView(owning[0]) : null;
  }

  async readHpa(namespace: string, name: string): Promise<{ view: HpaView; target: { kind: string; name: string }; basis: ReadBasis }> {
    const h = await this.readHpaObject(namespace, name);
    return {
      view: hpaView(h),
      target: { kind: h.spec?.scaleTargetRef?.kind ?? '', name: h.spec?.scaleTargetRef?.name ?? '' },
      basis: { resourceVersion: h.metadata?.resourceVersion, generation: h.metadata?.generation },
    };
  }

  private readHpaObject(namespace: string, name: string): Promise<V2HorizontalPodAutoscaler> {
    return call(`HorizontalPodAutoscaler ${namespace}/${name}`, () => this.autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace, name }));
  }

  /**
   * Sets minReplicas and maxReplicas, only on the version read: the patch carries that
   * resourceVersion, which the API server takes as a precondition and refuses (409 Conflict) if the
   * HPA changed since. (A JSON-patch `test` of the resourceVersion would be refused as 422 Invalid,
   * which reads as a bad request rather than as a race.)
   */
  async setHpaBounds(namespace: string, name: string, min: number, max: number, basis: ReadBasis | undefined): Promise<HpaView> {
    const h = await writeOnReadSpec(basis, () => this.readHpaObject(namespace, name), (resourceVersion) =>
      call(`HorizontalPodAutoscaler ${namespace}/${name}`, () =>
        this.autoscaling.patchNamespacedHorizontalPodAutoscaler(
          {
            namespace,
            name,
            body: [
              ...(resourceVersion ? [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }] : []),
              { op: 'replace', path: '/spec/minReplicas', value: min },
              { op: 'replace', path: '/spec/maxReplicas', value: max },
            ],
          },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        ),
      ),
    );
    return hpaView(h);
  }

  /** Events of the namespace, optionally about one object, newest first. */
  async events(namespace: string, about?: { kind?: string; name?: string }): Promise<EventView[]> {
    const fields = [
      ...(about?.kind ? [`involvedObject.kind=${about.kind}`] : []),
      ...(about?.name ? [`involvedObject.name=${about.name}`] : []),
    ];
    const list = await call(`events in ${namespace}`, () => this.core.listNamespacedEvent({ namespace, ...(fields.length ? { fieldSelector: fields.join(',') } : {}) }));
    const last = (e: CoreV1Event) => iso(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp);
    return list.items
      .map((e) => ({
        type: e.type ?? 'Normal',
        reason: e.reason ?? '',
        message: e.message ?? '',
        object: { kind: e.involvedObject?.kind ?? '', name: e.involvedObject?.name ?? '' },
        count: e.count ?? 1,
        first_seen: iso(e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp),
        last_seen: last(e),
        source: e.source?.component ?? e.reportingComponent ?? null,
      }))
      .sort((a, b) => (b.last_seen ?? '').localeCompare(a.last_seen ?? ''));
  }

  async readDeployment(namespace: string, name: string): Promise<V1Deployment> {
    return call(`deployment ${namespace}/${name}`, () => this.apps.readNamespacedDeployment({ namespace, name }));
  }

  /** Writes one container's requests and limits into the deployment's template (a rollout follows), only on the version read (409 otherwise). */
  async patchContainerResources(
    namespace: string,
    deployment: V1Deployment,
    index: number,
    resources: { requests: Record<string, string>; limits: Record<string, string> },
  ): Promise<void> {
    const name = deployment.metadata?.name ?? '';
    const basis = { resourceVersion: deployment.metadata?.resourceVersion, generation: deployment.metadata?.generation };
    await writeOnReadSpec(basis, () => this.readDeployment(namespace, name), (rv) =>
      call(`deployment ${namespace}/${name}`, () =>
        this.apps.patchNamespacedDeployment(
          {
            namespace,
            name,
            body: [
              ...(rv ? [{ op: 'replace', path: '/metadata/resourceVersion', value: rv }] : []),
              { op: 'replace', path: `/spec/template/spec/containers/${index}/resources`, value: resources },
            ],
          },
          setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
        ),
      ),
    );
  }
}

/** A container's requests and limits as numbers (cores, bytes); null where unset. */
export function containerResources(d: V1Deployment, container: string): { index: number; current: ContainerResources } {
  const containers = d.spec?.template?.spec?.containers ?? [];
  const index = containers.findIndex((c) => c.name === container);
  if (index < 0) {
    throw new GovernorError('not_found', `deployment ${d.metadata?.namespace}/${d.metadata?.name} has no container '${container}' (containers: ${containers.map((c) => c.name).join(', ') || 'none'})`);
  }
  const r = containers[index]!.resources ?? {};
  return {
    index,
    current: {
      container,
      requests: { cpu: quantityOrNull(r.requests?.['cpu']), memory: quantityOrNull(r.requests?.['memory']) },
      limits: { cpu: quantityOrNull(r.limits?.['cpu']), memory: quantityOrNull(r.limits?.['memory']) },
    },
  };
}
