// The cluster twin served as a Kubernetes API, so that the same client-node code and kubectl that
// talk to a real cluster talk to the twin (DESIGN §1: one code path). It translates HTTP to
// ClusterTwin calls and twin objects to Kubernetes JSON; it holds no cluster state of its own (the
// watch log in api/watch-hub.ts only remembers what the twin reported) and must never invent numbers
// the twin did not produce. It listens on 127.0.0.1 only unless told otherwise. This file is the
// server: transport, authentication, the legacy watch paths and routing; the routes live in api/, one
// file per API group (discovery, core-v1, apps-v1, autoscaling, resource-metrics, custom-metrics),
// built on the generic resource routes (api/resource-routes.ts) and the watch stream.
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
//        metric: jvm_gc_pause_ms_per_min, memory_utilisation_ratio, http_requests_per_second, cpu_throttled_ratio
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
import type { ClusterTwin } from './cluster-twin.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { generateTlsMaterial, type TlsMaterial } from './tls.ts';
import { appsV1Routes } from './api/apps-v1.ts';
import { autoscalingRoutes } from './api/autoscaling.ts';
import type { ApiContext } from './api/context.ts';
import { coreV1Routes } from './api/core-v1.ts';
import { customMetricsRoutes } from './api/custom-metrics.ts';
import { discoveryRoutes } from './api/discovery.ts';
import { ApiError, errorReply, match, noSuchPath, readJson, send, type Method, type Request, type Route } from './api/http.ts';
import { resourceMetricsRoutes } from './api/resource-metrics.ts';
import { WatchHub } from './api/watch-hub.ts';

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

export async function startKubeApiServer(twin: ClusterTwin, opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const logger = opts.logger;
  const tls = opts.tls === true ? await generateTlsMaterial({ hosts: [host] }) : opts.tls || undefined;
  let address = `${host}:0`;
  const hub = new WatchHub(twin);
  const ctx: ApiContext = { twin, hub, address: () => address };
  const routes = [...discoveryRoutes(ctx), ...coreV1Routes(ctx), ...appsV1Routes(ctx), ...autoscalingRoutes(ctx), ...resourceMetricsRoutes(ctx), ...customMetricsRoutes(ctx)];
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

