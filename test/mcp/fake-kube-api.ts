// A small in-memory Kubernetes API for the MCP server's tests: exactly the subset the server uses
// (namespaces, deployments with scale and patch, ReplicaSets, pods, metrics.k8s.io and the custom
// metrics API), a toy deployment controller that keeps ReplicaSets and revisions the way the real
// one does, and failure injection. It seeds a jvm-heap-regression-like world: tenant acme's
// checkout in acme-prod at revision 2 (a heap change), and tenant globex's checkout in globex-prod.
// Not a twin: its numbers are fixed per revision, and nothing moves with time.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FakeKubeApi {
  url: string;
  /** Every request the fake served, as `METHOD path?query`. */
  requests: string[];
  deployment(namespace: string, name: string): Json | undefined;
  /** The next request matching method and path answers `status` instead. */
  failNext(method: string, pathPattern: RegExp, status: number): void;
  /** Runs `fn` just before the next request matching method and path is served (someone else acting in between). */
  beforeNext(method: string, pathPattern: RegExp, fn: () => void): void;
  /** Changes a deployment as another client would (bumps resourceVersion, reconciles). */
  mutate(namespace: string, name: string, fn: (d: Json) => void): void;
  close(): Promise<void>;
}

const JVM = {
  1: { heap: '-Xms1536m -Xmx1536m', cause: 'deploy checkout v1.41.0', gc: 42, mem: 0.71, image: 'acme/checkout:1.41.0' },
  2: { heap: '-Xms768m -Xmx768m -XX:+UseSerialGC', cause: 'deploy checkout v1.42.0: tune JVM heap', gc: 185, mem: 0.94, image: 'acme/checkout:1.42.0' },
} as const;

function template(app: string, rev: 1 | 2): Json {
  const j = JVM[rev];
  return {
    metadata: { labels: { app }, annotations: { 'governor.io/jvm-opts': j.heap } },
    spec: {
      containers: [
        {
          name: app,
          image: j.image,
          env: [{ name: 'JAVA_TOOL_OPTIONS', value: j.heap }],
          resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '2Gi' } },
        },
      ],
    },
  };
}

const hashOf = (t: Json): string => createHash('sha256').update(stable(stripHash(t))).digest('hex').slice(0, 10);

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Json)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function stripHash(t: Json): Json {
  const c = structuredClone(t);
  if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
  return c;
}

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const namespaces = new Map<string, Json>();
  const deployments = new Map<string, Json>(); // ns/name
  const replicaSets = new Map<string, Json[]>(); // ns/name → RS list
  const failures: Array<{ method: string; path: RegExp; status: number }> = [];
  const hooks: Array<{ method: string; path: RegExp; fn: () => void }> = [];
  const requests: string[] = [];
  let uid = 0;

  const addNamespace = (name: string, tenant: string) =>
    namespaces.set(name, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'governor.io/tenant': tenant, 'governor.io/environment': 'production' } },
    });

  function addDeployment(ns: string, name: string, replicas: number) {
    const d: Json = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns, uid: `uid-${++uid}`, annotations: {}, creationTimestamp: '2026-11-24T08:00:00Z', resourceVersion: '1' },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name, 1) },
      status: {},
    };
    deployments.set(`${ns}/${name}`, d);
    replicaSets.set(`${ns}/${name}`, []);
    reconcile(d, '2026-11-24T08:00:00Z', JVM[1].cause);
    d.spec.template = template(name, 2);
    reconcile(d, '2026-11-24T09:13:00Z', JVM[2].cause);
  }

  /** The deployment controller, instantly: the RS of the current template becomes the newest revision. */
  function reconcile(d: Json, at = '2026-11-24T10:00:00Z', cause?: string) {
    const key = `${d.metadata.namespace}/${d.metadata.name}`;
    const list = replicaSets.get(key)!;
    const hash = hashOf(d.spec.template);
    const maxRev = Math.max(0, ...list.map((rs) => Number(rs.metadata.annotations['deployment.kubernetes.io/revision'])));
    let current = list.find((rs) => rs.metadata.labels['pod-template-hash'] === hash);
    const changeCause = cause ?? d.metadata.annotations?.['kubernetes.io/change-cause'];
    if (!current) {
      const t = structuredClone(d.spec.template);
      t.metadata.labels = { ...t.metadata.labels, 'pod-template-hash': hash };
      current = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          labels: { ...d.spec.selector.matchLabels, 'pod-template-hash': hash },
          annotations: { 'deployment.kubernetes.io/revision': String(maxRev + 1), ...(changeCause ? { 'kubernetes.io/change-cause': changeCause } : {}) },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true }],
          creationTimestamp: at,
        },
        spec: { replicas: 0, selector: { matchLabels: { ...d.spec.selector.matchLabels, 'pod-template-hash': hash } }, template: t },
        status: { replicas: 0 },
      };
      list.push(current);
    } else if (Number(current.metadata.annotations['deployment.kubernetes.io/revision']) !== maxRev) {
      current.metadata.annotations['deployment.kubernetes.io/revision'] = String(maxRev + 1);
      if (changeCause) current.metadata.annotations['kubernetes.io/change-cause'] = changeCause;
    }
    for (const rs of list) {
      const n = rs === current ? d.spec.replicas : 0;
      rs.spec.replicas = n;
      rs.status.replicas = n;
    }
    d.metadata.annotations = { ...d.metadata.annotations, 'deployment.kubernetes.io/revision': current.metadata.annotations['deployment.kubernetes.io/revision'] };
    d.metadata.resourceVersion = String(Number(d.metadata.resourceVersion) + 1);
    d.status = { replicas: d.spec.replicas, readyReplicas: d.spec.replicas, updatedReplicas: d.spec.replicas };
  }

  function podsOf(d: Json): Json[] {
    const list = replicaSets.get(`${d.metadata.namespace}/${d.metadata.name}`)!;
    return list.flatMap((rs) =>
      Array.from({ length: rs.spec.replicas }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${rs.metadata.name}-${String(i).padStart(5, 'p')}`,
          namespace: d.metadata.namespace,
          labels: { ...rs.spec.template.metadata.labels },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: 'rs', controller: true }],
        },
        spec: rs.spec.template.spec,
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      })),
    );
  }

  const revOfPod = (d: Json, pod: Json): 1 | 2 => {
    const rs = replicaSets.get(`${d.metadata.namespace}/${d.metadata.name}`)!.find((r) => r.metadata.name === pod.metadata.ownerReferences[0].name)!;
    return rs.spec.template.metadata.annotations['governor.io/jvm-opts'] === JVM[1].heap ? 1 : 2;
  };

  addNamespace('acme-prod', 'acme');
  addNamespace('globex-prod', 'globex');
  addDeployment('acme-prod', 'checkout', 8);
  addDeployment('globex-prod', 'checkout', 4);

  const matches = (labels: Json | undefined, selector: string | null) =>
    !selector || selector.split(',').every((term) => {
      const [k, v] = term.split('=');
      return labels?.[k!] === v;
    });

  async function route(method: string, path: string, q: URLSearchParams, body: unknown): Promise<[number, unknown]> {
    let m: RegExpExecArray | null;
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(path)) && method === 'GET') {
      const ns = namespaces.get(m[1]!);
      return ns ? [200, ns] : notFound('namespaces', m[1]!);
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)) && method === 'GET') {
      const items = [...deployments.values()].filter((d) => d.metadata.namespace === m![1]).flatMap(podsOf);
      return [200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: items.filter((p) => matches(p.metadata.labels, q.get('labelSelector'))) }];
    }
    if ((m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments$/.exec(path)) && method === 'GET') {
      return [200, { kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: {}, items: [...deployments.values()].filter((d) => d.metadata.namespace === m![1]) }];
    }
    if ((m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/replicasets$/.exec(path)) && method === 'GET') {
      const items = [...replicaSets.entries()].filter(([k]) => k.startsWith(`${m![1]}/`)).flatMap(([, l]) => l);
      return [200, { kind: 'ReplicaSetList', apiVersion: 'apps/v1', metadata: {}, items: items.filter((rs) => matches(rs.metadata.labels, q.get('labelSelector'))) }];
    }
    if ((m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)(\/scale)?$/.exec(path))) {
      const d = deployments.get(`${m[1]}/${m[2]}`);
      if (!d) return notFound('deployments.apps', m[2]!);
      const scale = () => ({ kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: m![2], namespace: m![1] }, spec: { replicas: d.spec.replicas }, status: { replicas: d.status.replicas } });
      if (method === 'GET') return [200, m[3] ? scale() : d];
      if (method === 'PATCH' && m[3]) {
        const replicas = (body as Json)?.spec?.replicas;
        const precondition = (body as Json)?.metadata?.resourceVersion;
        if (precondition !== undefined && precondition !== d.metadata.resourceVersion) {
          return [409, { kind: 'Status', status: 'Failure', reason: 'Conflict', code: 409, message: 'Operation cannot be fulfilled on deployments.apps "' + m[2] + '": the object has been modified; please apply your changes to the latest version and try again' }];
        }
        if (!Number.isInteger(replicas)) return [422, { kind: 'Status', message: 'spec.replicas must be an integer', code: 422 }];
        d.spec.replicas = replicas;
        reconcile(d);
        return [200, scale()];
      }
      if (method === 'PATCH') {
        if (Array.isArray(body)) applyJsonPatch(d, body);
        else mergePatch(d, body as Json);
        reconcile(d);
        return [200, d];
      }
    }
    if ((m = /^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/pods$/.exec(path)) && method === 'GET') {
      const items = [...deployments.values()]
        .filter((d) => d.metadata.namespace === m![1])
        .flatMap((d) =>
          podsOf(d).map((p) => ({
            metadata: { name: p.metadata.name, namespace: m![1], labels: p.metadata.labels },
            timestamp: '2026-11-24T10:00:00Z',
            window: '30s',
            containers: [{ name: d.metadata.name, usage: { cpu: '412m', memory: `${Math.round(JVM[revOfPod(d, p)].mem * 2048)}Mi` } }],
          })),
        );
      return [200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items }];
    }
    if ((m = /^\/apis\/custom\.metrics\.k8s\.io\/v1beta2\/namespaces\/([^/]+)\/pods\/\*\/([^/]+)$/.exec(path)) && method === 'GET') {
      const metric = m[2]!;
      if (metric !== 'jvm_gc_pause_ms_per_min' && metric !== 'memory_utilisation_ratio') return notFound('metric', metric);
      const items = [...deployments.values()]
        .filter((d) => d.metadata.namespace === m![1])
        .flatMap((d) => podsOf(d).filter((p) => matches(p.metadata.labels, q.get('labelSelector'))).map((p) => ({ d, p })))
        .map(({ d, p }) => ({
          describedObject: { kind: 'Pod', namespace: m![1], name: p.metadata.name, apiVersion: '/v1' },
          metric: { name: metric },
          timestamp: '2026-11-24T10:00:00Z',
          windowSeconds: 60,
          value: metric === 'jvm_gc_pause_ms_per_min' ? String(JVM[revOfPod(d, p)].gc) : `${Math.round(JVM[revOfPod(d, p)].mem * 1000)}m`,
        }));
      return [200, { kind: 'MetricValueList', apiVersion: 'custom.metrics.k8s.io/v1beta2', metadata: {}, items }];
    }
    if ((m = /^\/apis\/custom\.metrics\.k8s\.io\/v1beta2\/namespaces\/([^/]+)\/deployments\.apps\/([^/]+)\/([^/]+)$/.exec(path)) && method === 'GET') {
      const d = deployments.get(`${m[1]}/${m[2]}`);
      if (!d) return notFound('deployments.apps', m[2]!);
      const bad = podsOf(d).some((p) => revOfPod(d, p) === 2);
      const values: Record<string, string> = {
        http_request_duration_p99_ms: bad ? '1240' : '180',
        http_request_duration_p50_ms: bad ? '210' : '45',
        http_requests_per_second: '850',
        http_error_ratio: bad ? '12m' : '1m',
      };
      const value = values[m[3]!];
      if (value === undefined) return notFound('metric', m[3]!);
      return [
        200,
        {
          kind: 'MetricValueList',
          apiVersion: 'custom.metrics.k8s.io/v1beta2',
          metadata: {},
          items: [{ describedObject: { kind: 'Deployment', namespace: m[1], name: m[2], apiVersion: 'apps/v1' }, metric: { name: m[3] }, timestamp: '2026-11-24T10:00:00Z', value }],
        },
      ];
    }
    return [404, { kind: 'Status', status: 'Failure', message: `the fake does not serve ${method} ${path}`, reason: 'NotFound', code: 404 }];
  }

  const http = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const method = req.method ?? 'GET';
    const hook = hooks.findIndex((h) => h.method === method && h.path.test(url.pathname));
    if (hook >= 0) hooks.splice(hook, 1)[0]!.fn();
    const failure = failures.findIndex((f) => f.method === method && f.path.test(url.pathname));
    let status: number;
    let payload: unknown;
    if (failure >= 0) {
      status = failures.splice(failure, 1)[0]!.status;
      payload = { kind: 'Status', status: 'Failure', message: 'injected failure', code: status };
    } else {
      try {
        [status, payload] = await route(method, url.pathname, url.searchParams, text ? JSON.parse(text) : undefined);
      } catch (err) {
        [status, payload] = [422, { kind: 'Status', status: 'Failure', message: String(err), code: 422 }];
      }
    }
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(payload));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    deployment: (ns, name) => deployments.get(`${ns}/${name}`),
    failNext: (method, path, status) => failures.push({ method, path, status }),
    beforeNext: (method, path, fn) => hooks.push({ method, path, fn }),
    mutate: (ns, name, fn) => {
      const d = deployments.get(`${ns}/${name}`)!;
      fn(d);
      reconcile(d);
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

function notFound(kind: string, name: string): [number, unknown] {
  return [404, { kind: 'Status', status: 'Failure', message: `${kind} "${name}" not found`, reason: 'NotFound', code: 404 }];
}

function mergePatch(target: Json, patch: Json): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object') mergePatch(target[k], v);
    else target[k] = structuredClone(v);
  }
}

function applyJsonPatch(doc: Json, ops: Json[]): void {
  for (const op of ops) {
    const parts = String(op.path).split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent = doc;
    for (const p of parts) parent = parent[p];
    if (op.op === 'replace' || op.op === 'add') parent[last] = structuredClone(op.value);
    else if (op.op === 'remove') delete parent[last];
    else if (op.op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
  }
}
