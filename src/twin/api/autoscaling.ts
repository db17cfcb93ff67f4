// The autoscaling group of the twin's API: HorizontalPodAutoscalers as autoscaling/v2 (read, watch,
// POST, PUT, PATCH, DELETE, /status) and the same objects seen through autoscaling/v1 — a CPU
// utilisation target only, as kubectl autoscale writes them — converted both ways so that a v1 write
// keeps the v2 metrics v1 cannot express. The controller's status is never written from here.
import type { HorizontalPodAutoscaler, MetricSpec } from '../kube-objects.ts';
import { checkVersion } from '../twin-errors.ts';
import type { TwinObject } from '../twin-store.ts';
import { nsName, type ApiContext, type ResourceDef } from './context.ts';
import { get, type Route } from './http.ts';
import { checkCreatable, mustGet, resourceRoutes } from './resource-routes.ts';

const isCpuUtilisation = (m: MetricSpec) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.type === 'Utilization';

/** An autoscaling/v2 HPA as autoscaling/v1 shows it. */
function hpaV1(o: TwinObject): unknown {
  const h = o as HorizontalPodAutoscaler;
  const cpu = h.spec.metrics?.find(isCpuUtilisation);
  const current = h.status.currentMetrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.current.averageUtilization;
  return {
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v1',
    metadata: h.metadata,
    spec: {
      scaleTargetRef: h.spec.scaleTargetRef,
      ...(h.spec.minReplicas !== undefined ? { minReplicas: h.spec.minReplicas } : {}),
      maxReplicas: h.spec.maxReplicas,
      ...(cpu ? { targetCPUUtilizationPercentage: cpu.resource!.target.averageUtilization } : {}),
    },
    status: {
      ...(h.status.observedGeneration !== undefined ? { observedGeneration: h.status.observedGeneration } : {}),
      ...(h.status.lastScaleTime ? { lastScaleTime: h.status.lastScaleTime } : {}),
      currentReplicas: h.status.currentReplicas,
      desiredReplicas: h.status.desiredReplicas,
      ...(current !== undefined ? { currentCPUUtilizationPercentage: current } : {}),
    },
  };
}

/** An autoscaling/v1 body as the v2 object the twin stores; the v2 metrics v1 cannot express are kept. */
function hpaV2(body: unknown, current: HorizontalPodAutoscaler | undefined): unknown {
  const b = body as { metadata?: unknown; spec?: { scaleTargetRef?: unknown; minReplicas?: unknown; maxReplicas?: unknown; targetCPUUtilizationPercentage?: unknown } };
  const target = b.spec?.targetCPUUtilizationPercentage;
  const others = (current?.spec.metrics ?? []).filter((m) => !isCpuUtilisation(m));
  const metrics = [
    ...(target !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }] : []),
    ...others,
  ];
  return {
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    metadata: b.metadata,
    spec: {
      scaleTargetRef: b.spec?.scaleTargetRef,
      ...(b.spec?.minReplicas !== undefined ? { minReplicas: b.spec.minReplicas } : {}),
      maxReplicas: b.spec?.maxReplicas,
      ...(metrics.length > 0 ? { metrics } : {}),
      ...(current?.spec.behavior ? { behavior: current.spec.behavior } : {}),
    },
  };
}

export function autoscalingRoutes(ctx: ApiContext): Route[] {
  const { twin } = ctx;

  const hpas: ResourceDef = {
    resource: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    listKind: 'HorizontalPodAutoscalerList',
    apiVersion: 'autoscaling/v2',
    group: 'autoscaling',
    namespaced: true,
    table: 'horizontalpodautoscalers',
    list: (ns) => twin.listHpas(ns),
    get: (ns, name) => twin.getHpa(nsName(ns), name),
    create: (ns, body, dryRun) => {
      if (!dryRun) return twin.createHpa(body, { namespace: ns });
      const h = twin.validateHpa(body);
      checkCreatable(ctx, hpas, ns, h.name);
      return { ...(body as object), metadata: { ...(body as { metadata: object }).metadata, namespace: ns }, spec: h.spec } as TwinObject;
    },
    replace: (ns, name, body, dryRun) => {
      if (!dryRun) return twin.replaceHpa(nsName(ns), name, body);
      const current = twin.getHpa(nsName(ns), name)!;
      const h = twin.validateHpa(body, name);
      checkVersion(h.resourceVersion, current.metadata.resourceVersion, 'horizontalpodautoscalers', name, 'autoscaling');
      return { ...current, spec: h.spec } as TwinObject;
    },
    remove: (ns, name, rv, dryRun) => ({
      object: dryRun ? twin.getHpa(nsName(ns), name)! : twin.deleteHpa(nsName(ns), name, rv !== undefined ? { resourceVersion: rv } : {}),
      asStatus: true,
    }),
  };

  /** autoscaling/v1: the same HPAs, seen through the v1 shape (a CPU utilisation target only), as kubectl autoscale writes them. */
  const hpasV1: ResourceDef = {
    ...hpas,
    apiVersion: 'autoscaling/v1',
    view: hpaV1,
    create: (ns, body, dryRun) => hpas.create!(ns, hpaV2(body, undefined), dryRun),
    replace: (ns, name, body, dryRun) => hpas.replace!(ns, name, hpaV2(body, twin.getHpa(nsName(ns), name)), dryRun),
  };

  const status = (version: string) => ['apis', 'autoscaling', version, 'namespaces', ':ns', 'horizontalpodautoscalers', ':name', 'status'];
  return [
    ...resourceRoutes(ctx, hpas),
    { pattern: status('v2'), methods: get((_r, p) => ({ body: mustGet(hpas, p['ns'], p['name']!) })) },
    ...resourceRoutes(ctx, hpasV1),
    { pattern: status('v1'), methods: get((_r, p) => ({ body: hpaV1(mustGet(hpas, p['ns'], p['name']!)) })) },
  ];
}
