// The core/v1 group of the twin's API: namespaces (read; PUT and PATCH of labels and annotations —
// kubectl label / annotate namespace), nodes (read; PUT and PATCH of
// spec.unschedulable, labels and annotations — kubectl cordon), pods (read; PUT and PATCH of labels and
// annotations; DELETE, and the eviction
// subresource kubectl drain posts), events (read) and config maps (read and write). Each resource is
// a ResourceDef over the twin's own methods; nothing here holds state or makes numbers up.
import type { StringMap } from '../kube-objects.ts';
import { checkVersion, invalid } from '../twin-errors.ts';
import { labelCauses } from '../validation.ts';
import type { TwinObject } from '../twin-store.ts';
import { nsName, type ApiContext, type ResourceDef } from './context.ts';
import { ApiError, notFound, type Route } from './http.ts';
import { checkBodyName, checkBodyNamespace, isDryRun, putBody } from './request.ts';
import { checkCreatable, resourceRoutes } from './resource-routes.ts';

/** Annotations the twin's kubelet puts on every node; a client sending them back changes nothing. */
function withoutNodeDefaults(a: StringMap): StringMap {
  const out = { ...a };
  delete out['node.alpha.kubernetes.io/ttl'];
  delete out['volumes.kubernetes.io/controller-managed-attach-detach'];
  return out;
}

/**
 * The metadata a PUT or PATCH of a namespace or pod may change: labels and annotations (string to
 * string, as the API server's validation insists), with the precondition.
 */
function metadataOf(body: unknown, name: string, kind: 'namespaces' | 'pods'): { labels: StringMap; annotations: StringMap; rv: string | undefined } {
  const o = body as { metadata?: { name?: string; labels?: unknown; annotations?: unknown; resourceVersion?: string } };
  checkBodyName(o, name);
  const map = (v: unknown, field: string): StringMap => {
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'BadRequest', `json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field ObjectMeta.metadata.${field} of type map[string]string`);
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') throw new ApiError(400, 'BadRequest', `json: cannot unmarshal ${typeof x} into Go struct field ObjectMeta.metadata.${field} of type string (key ${k})`);
    }
    return { ...(v as StringMap) };
  };
  const labels = map(o.metadata?.labels, 'labels');
  const causes = labelCauses(labels);
  if (causes.length > 0) throw invalid(kind, undefined, name, causes);
  return { labels, annotations: map(o.metadata?.annotations, 'annotations'), rv: o.metadata?.resourceVersion };
}

export function coreV1Routes(ctx: ApiContext): Route[] {
  const { twin } = ctx;

  const namespaces: ResourceDef = {
    resource: 'namespaces',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    apiVersion: 'v1',
    namespaced: false,
    table: 'namespaces',
    fields: ['status.phase'],
    list: () => twin.namespaces(),
    get: (_ns, name) => twin.getNamespace(name),
    replace: (_ns, name, body, dryRun) => {
      const { labels, annotations, rv } = metadataOf(body, name, 'namespaces');
      const current = twin.getNamespace(name)!;
      if (dryRun) {
        checkVersion(rv, current.metadata.resourceVersion, 'namespaces', name);
        return { ...current, metadata: { ...current.metadata, labels: { ...labels, 'kubernetes.io/metadata.name': name }, annotations } } as TwinObject;
      }
      return twin.updateNamespace(name, { labels, annotations }, rv !== undefined ? { resourceVersion: rv } : {});
    },
  };

  const nodes: ResourceDef = {
    resource: 'nodes',
    kind: 'Node',
    listKind: 'NodeList',
    apiVersion: 'v1',
    namespaced: false,
    table: 'nodes',
    fields: ['spec.unschedulable'],
    list: () => twin.listNodes(),
    get: (_ns, name) => twin.getNode(name),
    replace: (_ns, name, body, dryRun) => {
      const n = body as { metadata?: { name?: string; labels?: StringMap; annotations?: StringMap; resourceVersion?: string }; spec?: { unschedulable?: unknown } };
      checkBodyName(n, name);
      const unschedulable = n.spec?.unschedulable;
      if (unschedulable !== undefined && unschedulable !== null && typeof unschedulable !== 'boolean') {
        throw new ApiError(400, 'BadRequest', `json: cannot unmarshal ${typeof unschedulable} into Go struct field NodeSpec.spec.unschedulable of type bool`);
      }
      const rv = n.metadata?.resourceVersion;
      const current = twin.getNode(name)!;
      if (dryRun) {
        checkVersion(rv, current.metadata.resourceVersion, 'nodes', name);
        return { ...current, spec: { ...current.spec, unschedulable: unschedulable === true } } as TwinObject;
      }
      return twin.updateNode(
        name,
        { unschedulable: unschedulable === true, labels: n.metadata?.labels ?? {}, annotations: withoutNodeDefaults(n.metadata?.annotations ?? {}) },
        rv !== undefined ? { resourceVersion: rv } : {},
      );
    },
  };

  const pods: ResourceDef = {
    resource: 'pods',
    kind: 'Pod',
    listKind: 'PodList',
    apiVersion: 'v1',
    namespaced: true,
    table: 'pods',
    fields: ['status.phase', 'spec.nodeName', 'spec.restartPolicy', 'status.podIP'],
    list: (ns) => twin.listPods(ns),
    get: (ns, name) => twin.getPod(nsName(ns), name),
    replace: (ns, name, body, dryRun) => {
      const { labels, annotations, rv } = metadataOf(body, name, 'pods');
      const current = twin.getPod(nsName(ns), name)!;
      if (dryRun) {
        checkVersion(rv, current.metadata.resourceVersion, 'pods', name);
        return { ...current, metadata: { ...current.metadata, labels, annotations } } as TwinObject;
      }
      return twin.updatePodMetadata(nsName(ns), name, { labels, annotations }, rv !== undefined ? { resourceVersion: rv } : {});
    },
    remove: (ns, name, rv, dryRun) => {
      if (dryRun) return { object: twin.getPod(nsName(ns), name)!, asStatus: false };
      return { object: twin.deletePod(nsName(ns), name, rv !== undefined ? { resourceVersion: rv } : {}), asStatus: false };
    },
  };

  const events: ResourceDef = {
    resource: 'events',
    kind: 'Event',
    listKind: 'EventList',
    apiVersion: 'v1',
    namespaced: true,
    table: 'events',
    fields: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
    list: (ns) => twin.listEvents(ns),
    get: (ns, name) => twin.getEvent(nsName(ns), name),
  };

  const configMaps: ResourceDef = {
    resource: 'configmaps',
    kind: 'ConfigMap',
    listKind: 'ConfigMapList',
    apiVersion: 'v1',
    namespaced: true,
    table: 'configmaps',
    list: (ns) => twin.listConfigMaps(ns),
    get: (ns, name) => twin.getConfigMap(nsName(ns), name),
    create: (ns, body, dryRun) => {
      if (!dryRun) return twin.createConfigMap(body, { namespace: ns });
      checkCreatable(ctx, configMaps, ns, twin.validateConfigMap(body).name);
      return { ...(body as object), metadata: { ...(body as { metadata: object }).metadata, namespace: ns } } as TwinObject;
    },
    replace: (ns, name, body, dryRun) => {
      if (!dryRun) return twin.replaceConfigMap(nsName(ns), name, body);
      const current = twin.getConfigMap(nsName(ns), name)!;
      checkVersion(twin.validateConfigMap(body, name).resourceVersion, current.metadata.resourceVersion, 'configmaps', name);
      return { ...current, ...(body as object), metadata: current.metadata } as TwinObject;
    },
    remove: (ns, name, rv, dryRun) => ({
      object: dryRun ? twin.getConfigMap(nsName(ns), name)! : twin.deleteConfigMap(nsName(ns), name, rv !== undefined ? { resourceVersion: rv } : {}),
      asStatus: true,
    }),
  };

  const eviction: Route = {
    pattern: ['api', 'v1', 'namespaces', ':ns', 'pods', ':name', 'eviction'],
    methods: {
      POST: async (r, p) => {
        const ns = p['ns']!;
        const name = p['name']!;
        const body = (await putBody(r)) as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
        if (typeof body !== 'object' || body === null || body.kind !== 'Eviction') throw new ApiError(400, 'BadRequest', 'the body must be a policy/v1 Eviction object');
        if (body.metadata?.name !== undefined && body.metadata.name !== name) {
          throw new ApiError(400, 'BadRequest', `name in URL does not match name in Eviction object`);
        }
        checkBodyNamespace(body, ns);
        if (!twin.getPod(ns, name)) throw notFound('pods', name);
        if (!isDryRun(r)) twin.evictPod(ns, name);
        return { status: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
      },
    },
  };

  return [
    ...resourceRoutes(ctx, namespaces),
    ...resourceRoutes(ctx, nodes),
    ...resourceRoutes(ctx, pods),
    ...resourceRoutes(ctx, events),
    ...resourceRoutes(ctx, configMaps),
    eviction,
  ];
}
