// The cluster twin served as a Kubernetes API over plain HTTP on loopback, so that the same
// client-node code and kubectl that talk to a real cluster talk to the twin (DESIGN §1: one code
// path). It translates HTTP to ClusterTwin calls and twin objects to Kubernetes JSON; it holds no
// state of its own and must never invent numbers the twin did not produce. Any bearer token is
// accepted for now (HTTPS and real authentication come later). Requests without one are accepted
// too unless `requireToken` is set: kubectl (client-go) never sends credentials over plain HTTP, and
// this is the API server's old loopback-only insecure port in spirit. It listens on 127.0.0.1 only
// unless told otherwise.
//
// Served subset (JSON only; protobuf, watch, YAML and server-side apply are not served):
//   GET  /version, /healthz, /livez, /readyz
//   GET  /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}        discovery
//   GET  /api/v1/namespaces[/{name}]                                         (labelSelector)
//   GET  /api/v1/pods, /api/v1/namespaces/{ns}/pods[/{name}]                 (labelSelector, e.g. app=checkout)
//   GET  /apis/apps/v1/deployments, /apis/apps/v1/namespaces/{ns}/deployments (labelSelector)
//   GET|PUT|PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}           PATCH: merge, strategic merge,
//                                                                            JSON patch; spec.replicas,
//                                                                            spec.template, labels, annotations
//   GET  /apis/apps/v1/namespaces/{ns}/deployments/{name}/status
//   GET|PUT|PATCH /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale     autoscaling/v1 Scale
//   GET  /apis/apps/v1/replicasets, /apis/apps/v1/namespaces/{ns}/replicasets[/{name}]  (labelSelector)
//   GET  /apis/metrics.k8s.io/v1beta1/pods, .../namespaces/{ns}/pods[/{name}]  PodMetrics(List): cpu "250m", memory "1532416Ki"
//   GET  /apis/custom.metrics.k8s.io/v1beta2/namespaces/{ns}/pods/{*|name}/{metric}?labelSelector=app=<name>
//          metric: jvm_gc_pause_ms_per_min, memory_utilisation_ratio        MetricValueList, describedObject per pod
//   GET  /apis/custom.metrics.k8s.io/v1beta2/namespaces/{ns}/deployments.apps/{name}/{metric}
//          metric: http_request_duration_p99_ms, http_request_duration_p50_ms, http_requests_per_second, http_error_ratio
// Lists and single objects of deployments, pods, replicasets and namespaces come as a meta.k8s.io/v1
// Table when the Accept header asks for one (kubectl get). `?dryRun=All` on PUT/PATCH validates and
// answers without changing anything. A pod's revision is its ReplicaSet's `deployment.kubernetes.io/revision`
// (ownerReferences / pod-template-hash), as on a real cluster.
// Errors are Status objects as a real API server sends them: 400 BadRequest, 401 Unauthorized,
// 404 NotFound, 405 MethodNotAllowed, 409 Conflict (stale metadata.resourceVersion), 413, 415
// UnsupportedMediaType, 422 Invalid (e.g. negative replicas, a template without containers).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.ts';
import { ClusterTwin, TwinError, validateTemplate, type DeploymentUpdate } from './cluster-twin.ts';
import { DEPLOYMENT_METRICS, GROUP_VERSIONS, POD_METRICS, SERVER_VERSION, apiGroup, apiGroupList, apiVersions } from './kube-api-discovery.ts';
import type { Deployment, Pod, StringMap } from './kube-objects.ts';
import { toTable, wantsTable } from './kube-tables.ts';
import { LabelSelectorError, parseLabelSelector, selectorString } from './label-selector.ts';
import { PATCH_TYPES, PatchError, applyPatch } from './patch.ts';
import { formatKibibytes, formatMetricValue, formatMillicores } from './quantity.ts';

export interface KubeApiServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** A failure in the API's own vocabulary; `send` turns it into a Status object. */
class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const REASON_CODE: Record<TwinError['reason'], number> = { NotFound: 404, AlreadyExists: 409, Conflict: 409, Invalid: 422 };

function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

const notFound = (resource: string, name: string, group?: string) =>
  new ApiError(404, 'NotFound', `${group ? `${resource}.${group}` : resource} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

const noSuchPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

interface Request {
  method: string;
  segments: string[];
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: () => Promise<unknown>;
}

interface Reply {
  status?: number;
  body: unknown;
  contentType?: string;
}

type Handler = (req: Request, params: Record<string, string>) => Reply | Promise<Reply>;

interface Route {
  pattern: string[];
  methods: Partial<Record<'GET' | 'PUT' | 'PATCH', Handler>>;
}

export async function startKubeApiServer(
  twin: ClusterTwin,
  opts: { host?: string; port?: number; logger?: Logger; requireToken?: boolean } = {},
): Promise<KubeApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger;
  let address = `${host}:0`;
  const routes = buildRoutes(twin, () => address);

  const server = createServer((req, res) => {
    const started = Date.now();
    handle(req, res, routes, opts.requireToken ?? false)
      .catch((err) => send(res, errorReply(err)))
      .then((status) => logger?.debug({ method: req.method, path: req.url?.split('?')[0], status, ms: Date.now() - started }, 'kube api request'))
      .catch(() => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger?.info({ url }, 'cluster twin serving the Kubernetes API');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Route[], requireToken: boolean): Promise<number> {
  const url = new URL(req.url ?? '/', 'http://twin');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return send(res, errorReply(new ApiError(400, 'BadRequest', 'malformed URL path')));
  }
  const segments = path.split('/').filter((s) => s.length > 0);
  const open = ['version', 'healthz', 'livez', 'readyz'].includes(segments[0] ?? '') && segments.length === 1;
  const auth = req.headers.authorization;
  if (!open && (auth !== undefined || requireToken) && !/^Bearer\s+\S+/i.test(auth ?? '')) {
    return send(res, errorReply(new ApiError(401, 'Unauthorized', 'Unauthorized')));
  }
  if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' || segments[2] === 'watch' || segments[1] === 'watch') {
    return send(res, errorReply(new ApiError(405, 'MethodNotAllowed', 'the cluster twin does not serve watch requests')));
  }
  const method = (req.method ?? 'GET').toUpperCase();
  for (const route of routes) {
    const params = match(route.pattern, segments);
    if (!params) continue;
    const handler = route.methods[method as keyof Route['methods']];
    if (!handler) {
      return send(res, errorReply(new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})));
    }
    const request: Request = { method, segments, query: url.searchParams, headers: req.headers, body: () => readJson(req) };
    return send(res, await handler(request, params));
  }
  return send(res, errorReply(noSuchPath()));
}

function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}

function send(res: ServerResponse, reply: Reply): number {
  const status = reply.status ?? 200;
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(status, {
    'content-type': reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'),
    'cache-control': 'no-cache, private',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
  return status;
}

function errorReply(err: unknown): Reply {
  if (err instanceof ApiError) return { status: err.code, body: statusBody(err.code, err.reason, err.message, err.details) };
  if (err instanceof TwinError) {
    const code = REASON_CODE[err.reason];
    return { status: code, body: statusBody(code, err.reason, err.message, err.details) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: statusBody(500, 'InternalError', `Internal error occurred: ${message}`) };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'BadRequest', 'the request body is empty');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
}

const mediaType = (h: string | undefined): string => (h ?? '').split(';')[0]!.trim().toLowerCase();

function selectorOf(req: Request) {
  try {
    return parseLabelSelector(req.query.get('labelSelector'));
  } catch (err) {
    if (err instanceof LabelSelectorError) throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${err.message}`);
    throw err;
  }
}

/** Field selectors the twin understands; anything else is refused, as the API server does. */
function fieldFilter(req: Request): (o: { metadata: { name: string; namespace?: string }; status?: unknown }) => boolean {
  const raw = req.query.get('fieldSelector');
  if (!raw) return () => true;
  const terms = raw.split(',').map((t) => {
    const m = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(t.trim());
    if (!m || !['metadata.name', 'metadata.namespace', 'status.phase'].includes(m[1]!)) {
      throw new ApiError(400, 'BadRequest', `"${t}" is not a known field selector: only "metadata.name", "metadata.namespace", "status.phase"`);
    }
    return { field: m[1]!, neq: m[2] === '!=', value: m[3]! };
  });
  return (o) =>
    terms.every((t) => {
      const v =
        t.field === 'metadata.name' ? o.metadata.name : t.field === 'metadata.namespace' ? o.metadata.namespace : (o.status as { phase?: string } | undefined)?.phase;
      return t.neq ? v !== t.value : v === t.value;
    });
}

const isDryRun = (req: Request) => req.query.getAll('dryRun').includes('All');

function buildRoutes(twin: ClusterTwin, address: () => string): Route[] {
  const nowIso = () => new Date(twin.clock.now()).toISOString();

  type Listed = { metadata: { name: string; namespace?: string; labels?: StringMap; creationTimestamp: string }; status?: unknown };
  const list = <T extends Listed>(req: Request, kind: string, apiVersion: string, items: T[], table?: 'deployments' | 'pods' | 'replicasets' | 'namespaces'): Reply => {
    const sel = selectorOf(req);
    const ff = fieldFilter(req);
    const chosen = items.filter((i) => sel.matches(i.metadata.labels) && ff(i));
    if (table && wantsTable(req.headers.accept)) {
      return {
        body: toTable(table, chosen as never[], { nowMs: twin.clock.now(), resourceVersion: twin.resourceVersion, includeObject: req.query.get('includeObject') }),
        contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      };
    }
    return { body: { kind, apiVersion, metadata: { resourceVersion: twin.resourceVersion }, items: chosen } };
  };
  const one = <T extends Listed>(req: Request, obj: T, table?: 'deployments' | 'pods' | 'replicasets' | 'namespaces'): Reply => {
    if (table && wantsTable(req.headers.accept)) {
      return {
        body: toTable(table, [obj as never], { nowMs: twin.clock.now(), resourceVersion: twin.resourceVersion, includeObject: req.query.get('includeObject') }),
        contentType: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      };
    }
    return { body: obj };
  };

  const deployment = (ns: string, name: string): Deployment => {
    const d = twin.getDeployment(ns, name);
    if (!d) throw notFound('deployments', name, 'apps');
    return d;
  };

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

  /** Checks a whole Deployment a client wants to store and turns it into the twin's update. */
  const deploymentUpdate = (current: Deployment, next: unknown, name: string): { update: DeploymentUpdate; resourceVersion?: string } => {
    if (typeof next !== 'object' || next === null || Array.isArray(next)) throw new ApiError(400, 'BadRequest', 'the body must be a Deployment object');
    const d = next as Partial<Deployment> & { metadata?: Partial<Deployment['metadata']>; spec?: Partial<Deployment['spec']> };
    if (d.metadata?.name !== undefined && d.metadata.name !== name) {
      throw new ApiError(400, 'BadRequest', `the name of the object (${d.metadata.name}) does not match the name on the URL (${name})`);
    }
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
  };

  const writeDeployment = (req: Request, ns: string, name: string, current: Deployment, next: unknown): Reply => {
    const { update, resourceVersion } = deploymentUpdate(current, next, name);
    if (isDryRun(req)) {
      if (resourceVersion !== undefined && resourceVersion !== current.metadata.resourceVersion) {
        throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
          name,
          group: 'apps',
          kind: 'deployments',
        });
      }
      if (update.replicas !== undefined && (!Number.isInteger(update.replicas) || update.replicas < 0)) {
        throw new ApiError(422, 'Invalid', `Deployment.apps "${name}" is invalid: spec.replicas: Invalid value: ${update.replicas}: must be greater than or equal to 0`);
      }
      if (update.template) validateTemplate(update.template, current.spec.selector.matchLabels, name);
      return { body: { ...current, spec: { ...current.spec, ...(update.replicas !== undefined ? { replicas: update.replicas } : {}), ...(update.template ? { template: update.template } : {}) } } };
    }
    return { body: twin.updateDeployment(ns, name, update, resourceVersion !== undefined ? { resourceVersion } : {}) };
  };

  const patchBody = async (req: Request, target: unknown): Promise<unknown> => {
    const type = mediaType(req.headers['content-type']);
    if (![PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic].includes(type as never)) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.json}, ${PATCH_TYPES.merge}, ${PATCH_TYPES.strategic}`,
      );
    }
    const patch = await req.body();
    try {
      return applyPatch(type, target, patch);
    } catch (err) {
      if (err instanceof PatchError) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`);
      throw err;
    }
  };

  const putBody = async (req: Request): Promise<unknown> => {
    const type = mediaType(req.headers['content-type']);
    if (type !== 'application/json') {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
    }
    return req.body();
  };

  const scaleWrite = (req: Request, ns: string, name: string, current: Deployment, next: unknown): Reply => {
    const s = next as { kind?: string; metadata?: { name?: string; resourceVersion?: string }; spec?: { replicas?: unknown } } | null;
    if (typeof s !== 'object' || s === null) throw new ApiError(400, 'BadRequest', 'the body must be a Scale object');
    if (s.metadata?.name !== undefined && s.metadata.name !== name) {
      throw new ApiError(400, 'BadRequest', `the name of the object (${s.metadata.name}) does not match the name on the URL (${name})`);
    }
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
    if (rv !== undefined && rv !== current.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`, {
        name,
        group: 'apps',
        kind: 'deployments',
      });
    }
    if (isDryRun(req)) return { body: { ...toScale(current), spec: { replicas } } };
    return { body: toScale(twin.scale(ns, name, replicas)) };
  };

  const podUsage = (ns: string, podName: string, labels: StringMap | undefined, containers: string[]) => {
    const m = twin.podMetricsOf(ns, podName)!;
    // The twin measures the pod; the first container is the workload, any others are negligible.
    return {
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: podName, namespace: ns, creationTimestamp: nowIso(), labels: { ...labels } },
      timestamp: nowIso(),
      window: '15s',
      containers: containers.map((c, i) => ({
        name: c,
        usage: i === 0 ? { cpu: formatMillicores(m.cpu_millicores), memory: formatKibibytes(m.memory_bytes) } : { cpu: '0', memory: '0' },
      })),
    };
  };

  const podMetricsItems = (req: Request, ns: string | undefined) => {
    const sel = selectorOf(req);
    return twin
      .listPods(ns)
      .filter((p) => sel.matches(p.metadata.labels))
      .map((p) => podUsage(p.metadata.namespace!, p.metadata.name, p.metadata.labels, p.spec.containers.map((c) => c.name)));
  };

  const metricValue = (kind: string, apiVersion: string, ns: string, name: string, metric: string, value: number) => ({
    describedObject: { kind, namespace: ns, name, apiVersion },
    metric: { name: metric },
    timestamp: nowIso(),
    windowSeconds: 60,
    value: formatMetricValue(value),
  });
  const metricList = (items: unknown[]) => ({ kind: 'MetricValueList', apiVersion: 'custom.metrics.k8s.io/v1beta2', metadata: {}, items });

  const podMetric = (metric: string, m: NonNullable<ReturnType<ClusterTwin['podMetricsOf']>>): number =>
    metric === 'jvm_gc_pause_ms_per_min' ? m.gc_pause_ms_per_min : m.memory_utilisation;

  const get = (h: Handler) => ({ GET: h });

  return [
    { pattern: ['version'], methods: get(() => ({ body: SERVER_VERSION })) },
    { pattern: ['healthz'], methods: get(() => ({ body: 'ok' })) },
    { pattern: ['livez'], methods: get(() => ({ body: 'ok' })) },
    { pattern: ['readyz'], methods: get(() => ({ body: 'ok' })) },
    { pattern: ['api'], methods: get(() => ({ body: apiVersions(address()) })) },
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

    // core/v1
    { pattern: ['api', 'v1', 'namespaces'], methods: get((r) => list(r, 'NamespaceList', 'v1', twin.namespaces(), 'namespaces')) },
    {
      pattern: ['api', 'v1', 'namespaces', ':name'],
      methods: get((r, p) => {
        const n = twin.getNamespace(p['name']!);
        if (!n) throw notFound('namespaces', p['name']!);
        return one(r, n, 'namespaces');
      }),
    },
    { pattern: ['api', 'v1', 'pods'], methods: get((r) => list(r, 'PodList', 'v1', twin.listPods(), 'pods')) },
    { pattern: ['api', 'v1', 'namespaces', ':ns', 'pods'], methods: get((r, p) => list(r, 'PodList', 'v1', twin.listPods(p['ns']), 'pods')) },
    {
      pattern: ['api', 'v1', 'namespaces', ':ns', 'pods', ':name'],
      methods: get((r, p) => {
        const pod = twin.getPod(p['ns']!, p['name']!);
        if (!pod) throw notFound('pods', p['name']!);
        return one(r, pod, 'pods');
      }),
    },

    // apps/v1
    { pattern: ['apis', 'apps', 'v1', 'deployments'], methods: get((r) => list(r, 'DeploymentList', 'apps/v1', twin.listDeployments(), 'deployments')) },
    {
      pattern: ['apis', 'apps', 'v1', 'namespaces', ':ns', 'deployments'],
      methods: get((r, p) => list(r, 'DeploymentList', 'apps/v1', twin.listDeployments(p['ns']), 'deployments')),
    },
    {
      pattern: ['apis', 'apps', 'v1', 'namespaces', ':ns', 'deployments', ':name'],
      methods: {
        GET: (r, p) => one(r, deployment(p['ns']!, p['name']!), 'deployments'),
        PUT: async (r, p) => {
          const current = deployment(p['ns']!, p['name']!);
          const body = await putBody(r);
          return writeDeployment(r, p['ns']!, p['name']!, current, body);
        },
        PATCH: async (r, p) => {
          const current = deployment(p['ns']!, p['name']!);
          const next = await patchBody(r, current);
          return writeDeployment(r, p['ns']!, p['name']!, current, next);
        },
      },
    },
    {
      pattern: ['apis', 'apps', 'v1', 'namespaces', ':ns', 'deployments', ':name', 'status'],
      methods: get((_r, p) => ({ body: deployment(p['ns']!, p['name']!) })),
    },
    {
      pattern: ['apis', 'apps', 'v1', 'namespaces', ':ns', 'deployments', ':name', 'scale'],
      methods: {
        GET: (_r, p) => ({ body: toScale(deployment(p['ns']!, p['name']!)) }),
        PUT: async (r, p) => {
          const current = deployment(p['ns']!, p['name']!);
          const body = await putBody(r);
          return scaleWrite(r, p['ns']!, p['name']!, current, body);
        },
        PATCH: async (r, p) => {
          const current = deployment(p['ns']!, p['name']!);
          const next = await patchBody(r, toScale(current));
          return scaleWrite(r, p['ns']!, p['name']!, current, next);
        },
      },
    },
    { pattern: ['apis', 'apps', 'v1', 'replicasets'], methods: get((r) => list(r, 'ReplicaSetList', 'apps/v1', twin.listReplicaSets(), 'replicasets')) },
    {
      pattern: ['apis', 'apps', 'v1', 'namespaces', ':ns', 'replicasets'],
      methods: get((r, p) => list(r, 'ReplicaSetList', 'apps/v1', twin.listReplicaSets(p['ns']), 'replicasets')),
    },
    {
      pattern: ['apis', 'apps', 'v1', 'namespaces', ':ns', 'replicasets', ':name'],
      methods: get((r, p) => {
        const rs = twin.getReplicaSet(p['ns']!, p['name']!);
        if (!rs) throw notFound('replicasets', p['name']!, 'apps');
        return one(r, rs, 'replicasets');
      }),
    },

    // metrics.k8s.io/v1beta1
    {
      pattern: ['apis', 'metrics.k8s.io', 'v1beta1', 'pods'],
      methods: get((r) => ({ body: { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: podMetricsItems(r, undefined) } })),
    },
    {
      pattern: ['apis', 'metrics.k8s.io', 'v1beta1', 'namespaces', ':ns', 'pods'],
      methods: get((r, p) => ({ body: { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: podMetricsItems(r, p['ns']) } })),
    },
    {
      pattern: ['apis', 'metrics.k8s.io', 'v1beta1', 'namespaces', ':ns', 'pods', ':name'],
      methods: get((_r, p) => {
        const pod = twin.getPod(p['ns']!, p['name']!);
        if (!pod) throw notFound('pods', p['name']!, 'metrics.k8s.io');
        return { body: podUsage(p['ns']!, pod.metadata.name, pod.metadata.labels, pod.spec.containers.map((c) => c.name)) };
      }),
    },

    // custom.metrics.k8s.io/v1beta2
    {
      pattern: ['apis', 'custom.metrics.k8s.io', 'v1beta2', 'namespaces', ':ns', 'pods', ':name', ':metric'],
      methods: get((r, p) => {
        const { ns, name, metric } = p as { ns: string; name: string; metric: string };
        if (!(POD_METRICS as readonly string[]).includes(metric)) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods`);
        let pods: Pod[];
        if (name === '*') {
          const sel = selectorOf(r);
          pods = twin.listPods(ns).filter((pod) => sel.matches(pod.metadata.labels));
        } else {
          const pod = twin.getPod(ns, name);
          if (!pod) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods ${name}`);
          pods = [pod];
        }
        return {
          body: metricList(
            pods.map((pod) => metricValue('Pod', '/v1', ns, pod.metadata.name, metric, podMetric(metric, twin.podMetricsOf(ns, pod.metadata.name)!))),
          ),
        };
      }),
    },
    {
      pattern: ['apis', 'custom.metrics.k8s.io', 'v1beta2', 'namespaces', ':ns', 'deployments.apps', ':name', ':metric'],
      methods: get((_r, p) => {
        const { ns, name, metric } = p as { ns: string; name: string; metric: string };
        if (!(DEPLOYMENT_METRICS as readonly string[]).includes(metric)) {
          throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for deployments.apps`);
        }
        if (!twin.getDeployment(ns, name)) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for deployments.apps ${name}`);
        const s = twin.serviceMetrics(ns, name);
        const value =
          metric === 'http_request_duration_p99_ms' ? s.p99_ms : metric === 'http_request_duration_p50_ms' ? s.p50_ms : metric === 'http_requests_per_second' ? s.rps : s.error_ratio;
        return { body: metricList([metricValue('Deployment', 'apps/v1', ns, name, metric, value)]) };
      }),
    },
  ];
}
