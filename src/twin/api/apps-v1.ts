// The apps/v1 group of the twin's API: deployments (read and watch; PUT and PATCH of replicas,
// template, labels and annotations, the selector immutable; /status; the /scale subresource as an
// autoscaling/v1 Scale) and replicasets (read). Writes end in the twin's one deployment write path;
// a dry run validates and answers without changing anything. It must never run a rollout itself.
import type { DeploymentUpdate } from '../registry/deployments.ts';
import { validateTemplate } from '../validation.ts';
import type { Deployment } from '../kube-objects.ts';
import { selectorString } from '../label-selector.ts';
import { nsName, type ApiContext, type ResourceDef } from './context.ts';
import { ApiError, conflictMessage, get, notFound, type Reply, type Request, type Route } from './http.ts';
import { checkBodyName, isDryRun, patchBody, putBody } from './request.ts';
import { one, resourceRoutes } from './resource-routes.ts';

const toScale = (d: Deployment) => ({
  kind: 'Scale',
  apiVersion: 'autoscaling/v1',
  metadata: {
    name: d.metadata.name,
    namespace: d.metadata.namespace,
    uid: d.metadata.uid,
    resourceVersion: d.metadata.resourceVersion,
    creationTimestamp: d.metadata.creationTimestamp,
  },
  spec: { replicas: d.spec.replicas },
  status: { replicas: d.status.replicas, selector: selectorString(d.spec.selector.matchLabels) },
});

const staleDeployment = (name: string) => new ApiError(409, 'Conflict', conflictMessage('deployments.apps', name), { name, group: 'apps', kind: 'deployments' });

/** Checks a whole Deployment a client wants to store and turns it into the twin's update. */
function deploymentUpdate(current: Deployment, next: unknown, name: string): { update: DeploymentUpdate; resourceVersion?: string } {
  if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new ApiError(400, 'BadRequest', 'the body must be a Deployment object');
  const d = next as Partial<Deployment> & { metadata?: Partial<Deployment['metadata']>; spec?: Partial<Deployment['spec']> };
  checkBodyName(d, name);
  if (d.kind !== undefined && d.kind !== 'Deployment') throw new ApiError(400, 'BadRequest', `the body is a ${String(d.kind)}, not a Deployment`);
  const replicas = d.spec?.replicas;
  if (replicas !== undefined && typeof replicas !== 'number') {
    throw new ApiError(400, 'BadRequest', `json: cannot unmarshal ${typeof replicas} into Go struct field DeploymentSpec.spec.replicas of type int32`);
  }
  if (d.spec?.selector !== undefined && JSON.stringify(d.spec.selector) !== JSON.stringify(current.spec.selector)) {
    throw new ApiError(422, 'Invalid', `Deployment.apps "${name}" is invalid: spec.selector: Invalid value: ${JSON.stringify(d.spec.selector)}: field is immutable`, {
      name,
      group: 'apps',
      kind: 'Deployment',
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: field is immutable', field: 'spec.selector' }],
    });
  }
  const update: DeploymentUpdate = {
    ...(replicas !== undefined ? { replicas } : {}),
    ...(d.spec?.template !== undefined ? { template: d.spec.template } : {}),
    labels: d.metadata?.labels ?? {},
    annotations: d.metadata?.annotations ?? {},
  };
  return { update, ...(d.metadata?.resourceVersion ? { resourceVersion: String(d.metadata.resourceVersion) } : {}) };
}

export function appsV1Routes(ctx: ApiContext): Route[] {
  const { twin } = ctx;

  const deployments: ResourceDef = {
    resource: 'deployments',
    kind: 'Deployment',
    listKind: 'DeploymentList',
    apiVersion: 'apps/v1',
    group: 'apps',
    namespaced: true,
    table: 'deployments',
    list: (ns) => twin.listDeployments(ns),
    get: (ns, name) => twin.getDeployment(nsName(ns), name),
  };

  const replicaSets: ResourceDef = {
    resource: 'replicasets',
    kind: 'ReplicaSet',
    listKind: 'ReplicaSetList',
    apiVersion: 'apps/v1',
    group: 'apps',
    namespaced: true,
    table: 'replicasets',
    list: (ns) => twin.listReplicaSets(ns),
    get: (ns, name) => twin.getReplicaSet(nsName(ns), name),
  };

  const deployment = (ns: string, name: string): Deployment => {
    const d = twin.getDeployment(ns, name);
    if (!d) throw notFound('deployments', name, 'apps');
    return d;
  };

  const write = (req: Request, ns: string, name: string, current: Deployment, next: unknown): Reply => {
    const { update, resourceVersion } = deploymentUpdate(current, next, name);
    if (isDryRun(req)) {
      if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) throw staleDeployment(name);
      if (update.replicas !== undefined && (!Number.isInteger(update.replicas) || update.replicas < 0)) {
        throw new ApiError(422, 'Invalid', `Deployment.apps "${name}" is invalid: spec.replicas: Invalid value: ${update.replicas}: must be greater than or equal to 0`);
      }
      if (update.template) validateTemplate(update.template, current.spec.selector.matchLabels, name);
      return { body: { ...current, spec: { ...current.spec, ...(update.replicas !== undefined ? { replicas: update.replicas } : {}), ...(update.template ? { template: update.template } : {}) } } };
    }
    return { body: twin.updateDeployment(ns, name, update, resourceVersion !== undefined ? { resourceVersion } : {}) };
  };

  const scaleWrite = (req: Request, ns: string, name: string, current: Deployment, next: unknown): Reply => {
    const s = next as { kind?: string; metadata?: { name?: string; resourceVersion?: string }; spec?: { replicas?: unknown } } | null;
    if (typeof s !== 'object' || s === null) throw new ApiError(400, 'BadRequest', 'the body must be a Scale object');
    checkBodyName(s, name);
    const replicas = s.spec?.replicas;
    if (typeof replicas !== 'number') {
      if (replicas === undefined) {
        throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Required value`);
      }
      throw new ApiError(400, 'BadRequest', `json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`);
    }
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${replicas}: must be greater than or equal to 0`, {
        name,
        group: 'autoscaling',
        kind: 'Scale',
        causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${replicas}: must be greater than or equal to 0`, field: 'spec.replicas' }],
      });
    }
    const rv = s.metadata?.resourceVersion;
    if (rv !== undefined && rv !== current.metadata.resourceVersion) throw staleDeployment(name);
    if (isDryRun(req)) return { body: { ...toScale(current), spec: { replicas } } };
    return { body: toScale(twin.scale(ns, name, replicas)) };
  };

  /** PUT and PATCH of one view of a deployment (itself, or its Scale): the body, or the patch applied to that view, handed to `write`. */
  const writes = (view: (d: Deployment) => unknown, write: (req: Request, ns: string, name: string, current: Deployment, next: unknown) => Reply): Route['methods'] => ({
    PUT: async (r, p) => {
      const current = deployment(p['ns']!, p['name']!);
      return write(r, p['ns']!, p['name']!, current, await putBody(r));
    },
    PATCH: async (r, p) => {
      const current = deployment(p['ns']!, p['name']!);
      return write(r, p['ns']!, p['name']!, current, await patchBody(r, view(current)));
    },
  });

  const item = ['apis', 'apps', 'v1', 'namespaces', ':ns', 'deployments', ':name'];
  return [
    ...resourceRoutes(ctx, deployments, { items: false }),
    {
      pattern: item,
      methods: {
        GET: (r, p) => one(ctx, r, deployment(p['ns']!, p['name']!), 'deployments'),
        ...writes((d) => d, write),
      },
    },
    { pattern: [...item, 'status'], methods: get((_r, p) => ({ body: deployment(p['ns']!, p['name']!) })) },
    {
      pattern: [...item, 'scale'],
      methods: {
        GET: (_r, p) => ({ body: toScale(deployment(p['ns']!, p['name']!)) }),
        ...writes(toScale, scaleWrite),
      },
    },
    ...resourceRoutes(ctx, replicaSets),
  ];
}
