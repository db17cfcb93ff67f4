// The cluster twin served as a Kubernetes API, so that the same client-node code and kubectl that
// talk to a real cluster talk to the twin (DESIGN §1: one code path). It translates HTTP to
// ClusterTwin calls and twin objects to Kubernetes JSON; it holds no cluster state of its own (the
// watch log in watch-hub.ts only remembers what the twin reported) and must never invent numbers the
// twin did not produce. It listens on 127.0.0.1 only unless told otherwise.
//
// Transport: plain HTTP by default (what the in-process callers use); `tls: true` serves HTTPS with a
// CA and server certificate generated at start (tls.ts), and `kubeconfig()` renders a kubeconfig
// carrying that CA, so kubectl and client-node verify the server. Authentication: with `token` set,
// only `Authorization: Bearer <token>` is accepted (401 otherwise). Without it any bearer token is
// accepted, and requests without one too unless `requireToken` is set: kubectl (client-go) never
// sends credentials over plain HTTP, and this is the API server's old loopback-only insecure port in
// spirit.
//
// Served subset (JSON only; protobuf, YAML and server-side apply are not served):
//   GET  /version, /healthz, /livez, /readyz
//   GET  /api, /api/v1, /apis, /apis/{group}, /apis/{group}/{version}        discovery
//   core/v1
//     namespaces                 GET list|get
//     nodes                      GET list|get, PUT|PATCH spec.unschedulable (cordon), labels, annotations
//     pods                       GET list|get (all namespaces or one), DELETE (the ReplicaSet replaces it)
//     pods/eviction              POST policy/v1 (or v1beta1) Eviction, as kubectl drain sends it; 201
//                                (no PodDisruptionBudgets in the twin, so never 429)
//     events                     GET list|get (all namespaces or one)
//     configmaps                 GET list|get, POST, PUT, PATCH, DELETE
//   apps/v1
//     deployments                GET list|get, PUT, PATCH (spec.replicas, spec.template, labels, annotations)
//     deployments/status         GET
//     deployments/scale          GET, PUT, PATCH (autoscaling/v1 Scale)
//     replicasets                GET list|get
//   autoscaling/v2 (and v1, a CPU-target-only view of the same objects, which kubectl autoscale writes)
//     horizontalpodautoscalers   GET list|get, POST, PUT, PATCH, DELETE; /status GET
//   metrics.k8s.io/v1beta1       pods (list|get), nodes (list|get): cpu "250m", memory "1532416Ki"
//   custom.metrics.k8s.io/v1beta2
//     namespaces/{ns}/pods/{*|name}/{metric}?labelSelector=app=<name>
//        metric: jvm_gc_pause_ms_per_min, memory_utilisation_ratio, http_requests_per_second
//     namespaces/{ns}/deployments.apps/{name}/{metric}
//        metric: http_request_duration_p99_ms, http_request_duration_p50_ms, http_requests_per_second, http_error_ratio
// Every list takes labelSelector and fieldSelector (metadata.name, metadata.namespace, and per
// resource what the API server allows: pods status.phase and spec.nodeName, events involvedObject.*,
// reason, type and source, nodes spec.unschedulable) and `watch=true` (also the legacy /watch/
// paths): a chunked stream of {"type":"ADDED|MODIFIED|DELETED","object":...} lines, starting with the
// current objects when no resourceVersion (or "0") is given, or with every change after the given
// one; a version the watch log no longer holds gets an ERROR event with a 410 Expired Status. Also
// timeoutSeconds, allowWatchBookmarks (a BOOKMARK every 10 s) and sendInitialEvents (initial events,
// then a BOOKMARK annotated k8s.io/initial-events-end). PATCH takes JSON, merge and strategic merge
// patches. Lists, single objects and watch events come as meta.k8s.io/v1 Tables when the Accept
// header asks for one (kubectl get); ?dryRun=All on writes validates and answers without changing
// anything. Pagination (limit/continue) is not served: every list is complete.
// Errors are Status objects as a real API server sends them: 400 BadRequest, 401 Unauthorized,
// 404 NotFound, 405 MethodNotAllowed, 409 AlreadyExists / Conflict (stale metadata.resourceVersion or a
// failed delete precondition), 413, 415 UnsupportedMediaType, 422 Invalid.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.ts';
import { ClusterTwin, TwinError, validateTemplate, type DeploymentUpdate, type TwinKind, type TwinObject } from './cluster-twin.ts';
import { DEPLOYMENT_METRICS, GROUP_VERSIONS, POD_METRICS, SERVER_VERSION, apiGroup, apiGroupList, apiVersions } from './kube-api-discovery.ts';
import type { Deployment, HorizontalPodAutoscaler, MetricSpec, Pod, StringMap } from './kube-objects.ts';
import { toTable, wantsTable, type TableKind } from './kube-tables.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { LabelSelectorError, parseLabelSelector, selectorString, type LabelSelector } from './label-selector.ts';
import { PATCH_TYPES, PatchError, applyPatch } from './patch.ts';
import { formatKibibytes, formatMetricValue, formatMillicores } from './quantity.ts';
import { generateTlsMaterial, type TlsMaterial } from './tls.ts';
import { TooOldResourceVersionError, WatchHub, type WatchEvent } from './watch-hub.ts';

export interface KubeApiServerOptions {
  host?: string;
  port?: number;
  logger?: Logger;
  requireToken?: boolean;
  /** The one bearer token accepted; absent: any. */
  token?: string;
  /** Serve HTTPS: `true` generates a CA and server certificate now; or bring your own. */
  tls?: boolean | TlsMaterial;
}

export interface KubeApiServer {
  url: string;
  /** PEM of the CA that signed the server certificate (HTTPS only). */
  caPem?: string;
  /** A kubeconfig for this server: its address, CA (HTTPS) and token. */
  kubeconfig(user?: string): string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024;
const BOOKMARK_EVERY_MS = 10_000;
const DEFAULT_WATCH_TIMEOUT_S = 1800;

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
  /** The body if there is one (DELETE options). */
  optionalBody: () => Promise<unknown>;
  watch: boolean;
}

interface Reply {
  status?: number;
  body?: unknown;
  contentType?: string;
  /** A streaming answer (watch): it writes the head and keeps the response open. */
  stream?: (res: ServerResponse) => void;
}

type Handler = (req: Request, params: Record<string, string>) => Reply | Promise<Reply>;
type Method = 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

interface Route {
  pattern: string[];
  methods: Partial<Record<Method, Handler>>;
}

/** One resource the generic handlers serve: how to read and write it through the twin. */
interface ResourceDef {
  resource: TwinKind;
  kind: string;
  listKind: string;
  apiVersion: string;
  group?: string;
  namespaced: boolean;
  table?: TableKind;
  /** Field selector labels beyond metadata.name and metadata.namespace. */
  fields?: string[];
  list(ns: string | undefined): TwinObject[];
  get(ns: string | undefined, name: string): TwinObject | undefined;
  create?(ns: string, body: unknown, dryRun: boolean): TwinObject;
  replace?(ns: string | undefined, name: string, body: unknown, dryRun: boolean): TwinObject;
  /** The deleted object, and whether the API answers with a Status (true) or the object. */
  remove?(ns: string | undefined, name: string, resourceVersion: string | undefined, dryRun: boolean): { object: TwinObject; asStatus: boolean };
  /** How an object looks in this API version (autoscaling/v1 of a v2 HPA); absent: as the twin has it. */
  view?(o: TwinObject): unknown;
}

export async function startKubeApiServer(twin: ClusterTwin, opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger;
  const tls = opts.tls === true ? await generateTlsMaterial({ hosts: [host] }) : opts.tls || undefined;
  let address = `${host}:0`;
  const hub = new WatchHub(twin);
  const routes = buildRoutes(twin, hub, () => address);
  const auth = { requireToken: opts.requireToken ?? false, token: opts.token };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    handle(req, res, routes, auth)
      .catch((err) => send(res, errorReply(err)))
      .then((status) => logger?.debug({ method: req.method, path: req.url?.split('?')[0], status, ms: Date.now() - started }, 'kube api request'))
      .catch(() => {});
  };
  const server = tls ? createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, onRequest) : createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger?.info({ url }, 'cluster twin serving the Kubernetes API');
  return {
    url,
    ...(tls ? { caPem: tls.caPem } : {}),
    kubeconfig: (user = 'governor') => renderKubeconfig({ server: url, ...(tls ? { caPem: tls.caPem } : {}), token: opts.token ?? 'twin', user }),
    close: () =>
      new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Route[], auth: { requireToken: boolean; token: string | undefined }): Promise<number> {
  const url = new URL(req.url ?? '/', 'http://twin');
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return send(res, errorReply(new ApiError(400, 'BadRequest', 'malformed URL path')));
  }
  let segments = path.split('/').filter((s) => s.length > 0);
  const open = ['version', 'healthz', 'livez', 'readyz'].includes(segments[0] ?? '') && segments.length === 1;
  const header = req.headers.authorization;
  if (!open) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    const refused = auth.token !== undefined ? bearer !== auth.token : (header !== undefined || auth.requireToken) && bearer === undefined;
    if (refused) return send(res, errorReply(new ApiError(401, 'Unauthorized', 'Unauthorized')));
  }
  // The legacy watch paths: /api/v1/watch/..., /apis/{group}/{version}/watch/...
  let watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  const watchAt = segments[0] === 'api' ? 2 : segments[0] === 'apis' ? 3 : -1;
  if (watchAt > 0 && segments[watchAt] === 'watch') {
    segments = [...segments.slice(0, watchAt), ...segments.slice(watchAt + 1)];
    watch = true;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  for (const route of routes) {
    const params = match(route.pattern, segments);
    if (!params) continue;
    const handler = route.methods[method as Method];
    if (!handler) {
      return send(res, errorReply(new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})));
    }
    const request: Request = {
      method,
      segments,
      query: url.searchParams,
      headers: req.headers,
      body: () => readJson(req, true),
      optionalBody: () => readJson(req, false),
      watch,
    };
    const reply = await handler(request, params);
    if (reply.stream) {
      reply.stream(res);
      return 200;
    }
    return send(res, reply);
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

async function readJson(req: IncomingMessage, required: boolean): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    if (!required) return undefined;
    throw new ApiError(400, 'BadRequest', 'the request body is empty');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
}

const mediaType = (h: string | undefined): string => (h ?? '').split(';')[0]!.trim().toLowerCase();

function selectorOf(req: Request): LabelSelector {
  try {
    return parseLabelSelector(req.query.get('labelSelector'));
  } catch (err) {
    if (err instanceof LabelSelectorError) throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${err.message}`);
    throw err;
  }
}

/** The value a field selector label reads from an object: a dotted path, with the API server's few aliases. */
function fieldValue(o: unknown, field: string): string | undefined {
  if (field === 'source') return (o as { source?: { component?: string } }).source?.component;
  let cur: unknown = o;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (field === 'spec.unschedulable') return String(cur === true);
  return cur === undefined || cur === null ? (field === 'spec.nodeName' ? '' : undefined) : String(cur);
}

/** Field selectors the resource supports; anything else is refused, as the API server does. */
function fieldFilter(req: Request, allowed: readonly string[] = []): (o: TwinObject) => boolean {
  const raw = req.query.get('fieldSelector');
  if (!raw) return () => true;
  const fields = ['metadata.name', 'metadata.namespace', ...allowed];
  const terms = raw.split(',').map((t) => {
    const m = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(t.trim());
    if (!m || !fields.includes(m[1]!)) {
      throw new ApiError(400, 'BadRequest', `"${t}" is not a known field selector: only ${fields.map((f) => `"${f}"`).join(', ')}`);
    }
    return { field: m[1]!, neq: m[2] === '!=', value: m[3]! };
  });
  return (o) =>
    terms.every((t) => {
      const v = fieldValue(o, t.field);
      return t.neq ? v !== t.value : v === t.value;
    });
}

const isDryRun = (req: Request) => req.query.getAll('dryRun').includes('All');

const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

function buildRoutes(twin: ClusterTwin, hub: WatchHub, address: () => string): Route[] {
  const nowIso = () => new Date(twin.clock.now()).toISOString();
  const tableOf = (req: Request, kind: TableKind, objects: TwinObject[]) =>
    toTable(kind, objects, { nowMs: twin.clock.now(), resourceVersion: twin.resourceVersion, includeObject: req.query.get('includeObject') });

  const one = (req: Request, obj: TwinObject, table?: TableKind, view?: (o: TwinObject) => unknown): Reply => {
    if (table && wantsTable(req.headers.accept)) return { body: tableOf(req, table, [obj]), contentType: TABLE_CONTENT_TYPE };
    return { body: view ? view(obj) : obj };
  };

  /** GET on a collection: a list, a Table, or a watch stream. */
  const collection = (req: Request, def: ResourceDef, ns: string | undefined): Reply => {
    const sel = selectorOf(req);
    const ff = fieldFilter(req, def.fields);
    const matches = (o: TwinObject) => (ns === undefined || o.metadata.namespace === ns) && sel.matches(o.metadata.labels) && ff(o);
    if (req.watch) return watchStream(req, def, ns, matches);
    const chosen = def.list(ns).filter(matches);
    if (def.table && wantsTable(req.headers.accept)) return { body: tableOf(req, def.table, chosen), contentType: TABLE_CONTENT_TYPE };
    return {
      body: { kind: def.listKind, apiVersion: def.apiVersion, metadata: { resourceVersion: twin.resourceVersion }, items: def.view ? chosen.map(def.view) : chosen },
    };
  };

  const watchStream = (req: Request, def: ResourceDef, ns: string | undefined, matches: (o: TwinObject) => boolean): Reply => {
    const rvParam = req.query.get('resourceVersion');
    if (rvParam && rvParam !== '0' && !/^\d+$/.test(rvParam)) {
      throw new ApiError(400, 'BadRequest', `Invalid value: "${rvParam}": resourceVersion: must be a non-negative integer`);
    }
    const timeoutS = Number(req.query.get('timeoutSeconds') ?? DEFAULT_WATCH_TIMEOUT_S);
    const bookmarks = req.query.get('allowWatchBookmarks') === 'true';
    const initialEvents = req.query.get('sendInitialEvents') === 'true';
    const table = def.table && wantsTable(req.headers.accept) ? def.table : undefined;
    return {
      stream: (res) => {
        res.writeHead(200, { 'content-type': table ? TABLE_CONTENT_TYPE : 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
        let first = true;
        const write = (type: string, object: unknown) => {
          let o = object;
          if (table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
            const t = tableOf(req, table, [object as TwinObject]);
            // Column definitions once; kubectl re-uses them for the rows that follow.
            o = first ? t : { ...t, columnDefinitions: [] };
            first = false;
          } else if (def.view && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) o = def.view(object as TwinObject);
          res.write(`${JSON.stringify({ type, object: o })}\n`);
        };
        const bookmark = (annotations?: StringMap) =>
          write('BOOKMARK', { kind: def.kind, apiVersion: def.apiVersion, metadata: { resourceVersion: twin.resourceVersion, ...(annotations ? { annotations } : {}) } });
        twin.step();
        let from: number;
        if (!rvParam || rvParam === '0' || initialEvents) {
          for (const o of def.list(ns)) if (matches(o)) write('ADDED', o);
          from = Number(twin.resourceVersion);
          if (initialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
        } else from = Number(rvParam);
        let sub: { close(): void } | undefined;
        try {
          sub = hub.subscribe(def.resource, from, matches, (e: WatchEvent) => write(e.type, e.object));
        } catch (err) {
          if (!(err instanceof TooOldResourceVersionError)) throw err;
          write('ERROR', statusBody(410, 'Expired', err.message));
          res.end();
          return;
        }
        const timers = [setTimeout(() => res.end(), Math.max(1, timeoutS) * 1000)];
        if (bookmarks) timers.push(setInterval(() => bookmark(), BOOKMARK_EVERY_MS));
        res.on('close', () => {
          sub?.close();
          for (const t of timers) clearTimeout(t);
        });
      },
    };
  };

  const mustGet = (def: ResourceDef, ns: string | undefined, name: string): TwinObject => {
    const o = def.get(ns, name);
    if (!o) throw notFound(def.resource, name, def.group);
    return o;
  };

  const checkBodyNamespace = (body: unknown, ns: string | undefined) => {
    const bodyNs = (body as { metadata?: { namespace?: unknown } } | null)?.metadata?.namespace;
    if (ns !== undefined && bodyNs !== undefined && bodyNs !== '' && bodyNs !== ns) {
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
  };

  const checkKind = (body: unknown, def: ResourceDef) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'BadRequest', `the body must be a ${def.kind} object`);
    const kind = (body as { kind?: unknown }).kind;
    if (kind !== undefined && kind !== def.kind) throw new ApiError(400, 'BadRequest', `the body is a ${String(kind)}, not a ${def.kind}`);
  };

  /** The collection and item routes of a resource, from what its def can do. */
  const routesFor = (def: ResourceDef, opts: { items?: boolean } = {}): Route[] => {
    const [group, version] = def.apiVersion.includes('/') ? def.apiVersion.split('/') : [undefined, def.apiVersion];
    const prefix = group ? ['apis', group, version!] : ['api', version!];
    const out: Route[] = [];
    const itemMethods = (ns: (p: Record<string, string>) => string | undefined): Route['methods'] => ({
      GET: (r, p) => one(r, mustGet(def, ns(p), p['name']!), def.table, def.view),
      ...(def.replace
        ? {
            PUT: async (r: Request, p: Record<string, string>) => {
              mustGet(def, ns(p), p['name']!);
              const body = await putBody(r);
              checkKind(body, def);
              checkBodyNamespace(body, ns(p));
              return { body: viewOf(def, def.replace!(ns(p), p['name']!, body, isDryRun(r))) };
            },
            PATCH: async (r: Request, p: Record<string, string>) => {
              const current = mustGet(def, ns(p), p['name']!);
              const next = await patchBody(r, viewOf(def, current));
              checkKind(next, def);
              checkBodyNamespace(next, ns(p));
              return { body: viewOf(def, def.replace!(ns(p), p['name']!, next, isDryRun(r))) };
            },
          }
        : {}),
      ...(def.remove
        ? {
            DELETE: async (r: Request, p: Record<string, string>) => {
              const options = (await r.optionalBody()) as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined;
              const current = mustGet(def, ns(p), p['name']!);
              const uid = options?.preconditions?.uid;
              if (uid !== undefined && uid !== current.metadata.uid) {
                throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`, {
                  name: p['name'],
                  kind: def.resource,
                });
              }
              const out = def.remove!(ns(p), p['name']!, options?.preconditions?.resourceVersion, isDryRun(r));
              if (!out.asStatus) return { body: viewOf(def, out.object) };
              return {
                body: {
                  kind: 'Status',
                  apiVersion: 'v1',
                  metadata: {},
                  status: 'Success',
                  details: { name: p['name'], ...(def.group ? { group: def.group } : {}), kind: def.resource, uid: out.object.metadata.uid },
                },
              };
            },
          }
        : {}),
    });
    if (def.namespaced) {
      out.push({ pattern: [...prefix, def.resource], methods: { GET: (r) => collection(r, def, undefined) } });
      out.push({
        pattern: [...prefix, 'namespaces', ':ns', def.resource],
        methods: {
          GET: (r, p) => collection(r, def, p['ns']),
          ...(def.create
            ? {
                POST: async (r: Request, p: Record<string, string>) => {
                  const body = await putBody(r);
                  checkKind(body, def);
                  checkBodyNamespace(body, p['ns']);
                  return { status: 201, body: viewOf(def, def.create!(p['ns']!, body, isDryRun(r))) };
                },
              }
            : {}),
        },
      });
      if (opts.items !== false) out.push({ pattern: [...prefix, 'namespaces', ':ns', def.resource, ':name'], methods: itemMethods((p) => p['ns']) });
    } else {
      out.push({ pattern: [...prefix, def.resource], methods: { GET: (r) => collection(r, def, undefined) } });
      if (opts.items !== false) out.push({ pattern: [...prefix, def.resource, ':name'], methods: itemMethods(() => undefined) });
    }
    return out;
  };

  const nsName = (ns: string | undefined) => ns ?? '';

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
      if (n.metadata?.name !== undefined && n.metadata.name !== name) {
        throw new ApiError(400, 'BadRequest', `the name of the object (${n.metadata.name}) does not match the name on the URL (${name})`);
      }
      const unschedulable = n.spec?.unschedulable;
      if (unschedulable !== undefined && unschedulable !== null && typeof unschedulable !== 'boolean') {
        throw new ApiError(400, 'BadRequest', `json: cannot unmarshal ${typeof unschedulable} into Go struct field NodeSpec.spec.unschedulable of type bool`);
      }
      const rv = n.metadata?.resourceVersion;
      const current = twin.getNode(name)!;
      if (dryRun) {
        if (rv !== undefined && rv !== current.metadata.resourceVersion) throw new TwinError('Conflict', conflictMessage('nodes', name), { kind: 'nodes', name });
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
      const c = twin.validateConfigMap(body);
      if (!twin.getNamespace(ns)) throw notFound('namespaces', ns);
      if (twin.getConfigMap(ns, c.name)) throw new ApiError(409, 'AlreadyExists', `configmaps "${c.name}" already exists`, { name: c.name, kind: 'configmaps' });
      return { ...(body as object), metadata: { ...(body as { metadata: object }).metadata, namespace: ns } } as TwinObject;
    },
    replace: (ns, name, body, dryRun) => {
      if (!dryRun) return twin.replaceConfigMap(nsName(ns), name, body);
      const current = twin.getConfigMap(nsName(ns), name)!;
      const c = twin.validateConfigMap(body, name);
      if (c.resourceVersion !== undefined && c.resourceVersion !== current.metadata.resourceVersion) {
        throw new TwinError('Conflict', conflictMessage('configmaps', name), { kind: 'configmaps', name });
      }
      return { ...current, ...(body as object), metadata: current.metadata } as TwinObject;
    },
    remove: (ns, name, rv, dryRun) => ({
      object: dryRun ? twin.getConfigMap(nsName(ns), name)! : twin.deleteConfigMap(nsName(ns), name, rv !== undefined ? { resourceVersion: rv } : {}),
      asStatus: true,
    }),
  };

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
      if (!twin.getNamespace(ns)) throw notFound('namespaces', ns);
      if (twin.getHpa(ns, h.name)) {
        throw new ApiError(409, 'AlreadyExists', `horizontalpodautoscalers.autoscaling "${h.name}" already exists`, { name: h.name, group: 'autoscaling', kind: 'horizontalpodautoscalers' });
      }
      return { ...(body as object), metadata: { ...(body as { metadata: object }).metadata, namespace: ns }, spec: h.spec } as TwinObject;
    },
    replace: (ns, name, body, dryRun) => {
      if (!dryRun) return twin.replaceHpa(nsName(ns), name, body);
      const current = twin.getHpa(nsName(ns), name)!;
      const h = twin.validateHpa(body, name);
      if (h.resourceVersion !== undefined && h.resourceVersion !== current.metadata.resourceVersion) {
        throw new TwinError('Conflict', conflictMessage('horizontalpodautoscalers.autoscaling', name), { kind: 'horizontalpodautoscalers', group: 'autoscaling', name });
      }
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
        throw new ApiError(409, 'Conflict', conflictMessage('deployments.apps', name), { name, group: 'apps', kind: 'deployments' });
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
      throw new ApiError(409, 'Conflict', conflictMessage('deployments.apps', name), { name, group: 'apps', kind: 'deployments' });
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

  /** metrics-server has no sample for a pod that is not running (Pending). */
  const podMetricsItems = (req: Request, ns: string | undefined) => {
    const sel = selectorOf(req);
    return twin
      .listPods(ns)
      .filter((p) => p.status.phase === 'Running' && sel.matches(p.metadata.labels))
      .map((p) => podUsage(p.metadata.namespace!, p.metadata.name, p.metadata.labels, p.spec.containers.map((c) => c.name)));
  };

  const nodeUsage = (name?: string) => {
    const labels = new Map(twin.listNodes().map((n) => [n.metadata.name, n.metadata.labels]));
    return twin
      .nodeMetrics()
      .filter((m) => name === undefined || m.node === name)
      .map((m) => ({
        kind: 'NodeMetrics',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name: m.node, creationTimestamp: nowIso(), labels: { ...labels.get(m.node) } },
        timestamp: nowIso(),
        window: '20s',
        usage: { cpu: formatMillicores(m.cpu_millicores), memory: formatKibibytes(m.memory_bytes) },
      }));
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
    metric === 'jvm_gc_pause_ms_per_min' ? m.gc_pause_ms_per_min : metric === 'http_requests_per_second' ? m.rps : m.memory_utilisation;

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
    ...routesFor(namespaces),
    ...routesFor(nodes),
    ...routesFor(pods),
    ...routesFor(events),
    ...routesFor(configMaps),

    {
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
    },

    // apps/v1
    ...routesFor(deployments, { items: false }),
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
    ...routesFor(replicaSets),

    // autoscaling/v2
    ...routesFor(hpas),
    {
      pattern: ['apis', 'autoscaling', 'v2', 'namespaces', ':ns', 'horizontalpodautoscalers', ':name', 'status'],
      methods: get((_r, p) => ({ body: mustGet(hpas, p['ns'], p['name']!) })),
    },
    ...routesFor(hpasV1),
    {
      pattern: ['apis', 'autoscaling', 'v1', 'namespaces', ':ns', 'horizontalpodautoscalers', ':name', 'status'],
      methods: get((_r, p) => ({ body: hpaV1(mustGet(hpas, p['ns'], p['name']!)) })),
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
        if (!pod || pod.status.phase !== 'Running') throw notFound('pods', p['name']!, 'metrics.k8s.io');
        return { body: podUsage(p['ns']!, pod.metadata.name, pod.metadata.labels, pod.spec.containers.map((c) => c.name)) };
      }),
    },
    {
      pattern: ['apis', 'metrics.k8s.io', 'v1beta1', 'nodes'],
      methods: get((r) => {
        const sel = selectorOf(r);
        return { body: { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: nodeUsage().filter((n) => sel.matches(n.metadata.labels)) } };
      }),
    },
    {
      pattern: ['apis', 'metrics.k8s.io', 'v1beta1', 'nodes', ':name'],
      methods: get((_r, p) => {
        const item = nodeUsage(p['name'])[0];
        if (!item) throw notFound('nodes', p['name']!, 'metrics.k8s.io');
        return { body: item };
      }),
    },

    // custom.metrics.k8s.io/v1beta2
    {
      pattern: ['apis', 'custom.metrics.k8s.io', 'v1beta2', 'namespaces', ':ns', 'pods', ':name', ':metric'],
      methods: get((r, p) => {
        const { ns, name, metric } = p as { ns: string; name: string; metric: string };
        if (!(POD_METRICS as readonly string[]).includes(metric)) throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods`);
        let chosen: Pod[];
        if (name === '*') {
          const sel = selectorOf(r);
          // The adapters serve running pods only; an evicted (Failed) pod has no samples.
          chosen = twin.listPods(ns).filter((pod) => pod.status.phase === 'Running' && sel.matches(pod.metadata.labels));
        } else {
          const pod = twin.getPod(ns, name);
          if (!pod || pod.status.phase !== 'Running') throw new ApiError(404, 'NotFound', `the server could not find the metric ${metric} for pods ${name}`);
          chosen = [pod];
        }
        return {
          body: metricList(
            chosen.map((pod) => metricValue('Pod', '/v1', ns, pod.metadata.name, metric, podMetric(metric, twin.podMetricsOf(ns, pod.metadata.name)!))),
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

const viewOf = (def: ResourceDef, o: TwinObject): unknown => (def.view ? def.view(o) : o);

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

const conflictMessage = (resource: string, name: string) =>
  `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`;

/** Annotations the twin's kubelet puts on every node; a client sending them back changes nothing. */
function withoutNodeDefaults(a: StringMap): StringMap {
  const out = { ...a };
  delete out['node.alpha.kubernetes.io/ttl'];
  delete out['volumes.kubernetes.io/controller-managed-attach-detach'];
  return out;
}
