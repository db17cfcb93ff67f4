// A Prometheus-compatible HTTP query API over the twin's series store, answering as Prometheus's
// /api/v1 does — same paths, parameters, JSON shapes, error types and status codes — so that the
// Prometheus MCP server and operators' tools can be pointed at the twin or at a real Prometheus
// without knowing which (PROMETHEUS_URL). Endpoints: query, query_range, series, labels,
// label/<name>/values, metadata, status/buildinfo. The PromQL subset is the engine's; anything beyond
// it is a 400 bad_data error that names the construct (see README.md).
//
// It enforces no tenancy itself: it serves the whole twin, like an unauthenticated Prometheus. The
// Prometheus MCP server confines tenants with requireTenantMatcher (re-exported here) before it
// forwards a query. It must never mutate the store.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compareLabels, compareStrings, isValidLabelName, type Labels } from './labels.ts';
import { serveHandlers, type RequestHandler, type ServeOptions } from './http-serve.ts';
import { PromQLEngine, type QueryValue, type SeriesPoints } from './promql-engine.ts';
import { HTTP_STATUS_OF, PromQLError } from './promql-error.ts';
import { parseDuration, parsePromQL } from './promql-parser.ts';
import type { SeriesRef, SeriesStore } from './series-store.ts';
import { TWIN_METRIC_FAMILIES, type MetricFamily } from './twin-collector.ts';

export { requireTenantMatcher, assertTenantMatcher, type TenantCheck, type TenantScope } from './tenant-matcher.ts';

export interface QueryApiOptions {
  /** What "now" is when a query gives no time: the twin's clock. Default: the wall clock. */
  now?: () => number;
  lookbackMs?: number;
  /** HELP and TYPE for /api/v1/metadata. Default: the twin's families. */
  families?: readonly MetricFamily[];
  /** Path prefix when mounted under another server. Default '' (→ /api/v1/…). */
  prefix?: string;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits, never an exponent. */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const point = (dot < 0 ? mantissa.length : dot) + exp; // position of the decimal point in `digits`
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + out;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A `time`/`start`/`end` parameter: Unix seconds (float) or RFC 3339, in milliseconds. */
export function parseTime(s: string, param: string): number {
  if (FLOAT.test(s)) {
    const t = Number(s);
    const whole = Math.trunc(t);
    return whole * 1000 + Math.round((t - whole) * 1000);
  }
  if (RFC3339.test(s)) {
    const ms = Date.parse(s);
    if (Number.isFinite(ms)) return ms;
  }
  throw new PromQLError('bad_data', `invalid parameter ${JSON.stringify(param)}: cannot parse ${JSON.stringify(s)} to a valid timestamp`);
}

function parseStep(s: string, param: string): number {
  try {
    if (s === '') throw new Error();
    return parseDuration(s);
  } catch {
    throw new PromQLError('bad_data', `invalid parameter ${JSON.stringify(param)}: cannot parse ${JSON.stringify(s)} to a valid duration`);
  }
}

/** Labels as Prometheus marshals them: an object with the names in order. */
function labelsJson(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort(compareStrings)) out[k] = labels[k]!;
  return out;
}

const point = (t: number, v: number): [number, string] => [t / 1000, formatFloat(v)];

function resultJson(v: QueryValue, atMs: number): { resultType: string; result: unknown } {
  switch (v.type) {
    case 'scalar':
      return { resultType: 'scalar', result: point(atMs, v.value) };
    case 'vector':
      return { resultType: 'vector', result: v.samples.map((s) => ({ metric: labelsJson(s.labels), value: point(atMs, s.value) })) };
    case 'matrix':
      return { resultType: 'matrix', result: v.series.map(matrixSeriesJson) };
  }
}

const matrixSeriesJson = (s: SeriesPoints) => ({ metric: labelsJson(s.labels), values: s.ts.map((t, i) => point(t, s.vs[i]!)) });

type Params = URLSearchParams;

async function readParams(req: IncomingMessage, url: URL): Promise<Params> {
  const params = new URLSearchParams();
  if (req.method === 'POST') {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) params.append(k, v);
    }
  }
  // Go's ParseForm: body values first, then the URL's.
  for (const [k, v] of url.searchParams) params.append(k, v);
  return params;
}

const MIN_TIME = -9_223_372_036_854; // Prometheus's min/max API times, in ms (±2^63 ns)
const MAX_TIME = 9_223_372_036_854;

/** The /api/v1 handler. Returns false for paths it does not serve. */
export function queryApiHandler(store: SeriesStore, opts: QueryApiOptions = {}): RequestHandler {
  const prefix = `${opts.prefix ?? ''}/api/v1`;
  const now = opts.now ?? (() => Date.now());
  const engine = new PromQLEngine(store, { lookbackMs: opts.lookbackMs });
  const families = opts.families ?? TWIN_METRIC_FAMILIES;

  const selectSeries = (params: Params, required: boolean): SeriesRef[] => {
    const start = params.get('start') ? parseTime(params.get('start')!, 'start') : MIN_TIME;
    const end = params.get('end') ? parseTime(params.get('end')!, 'end') : MAX_TIME;
    const matches = params.getAll('match[]');
    if (required && matches.length === 0) throw new PromQLError('bad_data', 'no match[] parameter provided');
    let refs: SeriesRef[];
    if (matches.length === 0) refs = store.allSeries();
    else {
      const byId = new Map<number, SeriesRef>();
      for (const m of matches) {
        let expr;
        try {
          expr = parsePromQL(m);
        } catch (err) {
          throw new PromQLError('bad_data', `invalid parameter "match[]": ${(err as Error).message}`);
        }
        if (expr.kind !== 'vector' || expr.offsetMs !== 0) throw new PromQLError('bad_data', `invalid parameter "match[]": ${m} is not a series selector`);
        for (const r of store.select(expr.matchers)) byId.set(r.id, r);
      }
      refs = [...byId.values()];
    }
    return refs.filter((r) => store.hasSamplesBetween(r, start, end));
  };

  const routes: Record<string, { methods: string[]; run: (p: Params) => unknown }> = {
    '/query': {
      methods: ['GET', 'POST'],
      run: (p) => {
        const at = p.get('time') ? parseTime(p.get('time')!, 'time') : now();
        const expr = parseQuery(p.get('query') ?? '');
        return resultJson(engine.instant(expr, at), at);
      },
    },
    '/query_range': {
      methods: ['GET', 'POST'],
      run: (p) => {
        const start = parseTime(p.get('start') ?? '', 'start');
        const end = parseTime(p.get('end') ?? '', 'end');
        if (end < start) throw new PromQLError('bad_data', 'end timestamp must not be before start time');
        const step = parseStep(p.get('step') ?? '', 'step');
        if (!(step > 0)) throw new PromQLError('bad_data', 'zero or negative query resolution step widths are not accepted. Try a positive integer');
        const expr = parseQuery(p.get('query') ?? '');
        const m = engine.range(expr, start, end, step);
        return { resultType: 'matrix', result: m.series.map(matrixSeriesJson) };
      },
    },
    '/series': {
      methods: ['GET', 'POST'],
      run: (p) =>
        selectSeries(p, true)
          .map((r) => r.labels)
          .sort(compareLabels)
          .map(labelsJson),
    },
    '/labels': {
      methods: ['GET', 'POST'],
      run: (p) => {
        const names = new Set<string>();
        for (const r of selectSeries(p, false)) for (const k of Object.keys(r.labels)) names.add(k);
        return [...names].sort(compareStrings);
      },
    },
    '/metadata': {
      methods: ['GET'],
      run: (p) => {
        const metric = p.get('metric');
        const limit = p.get('limit') ? Number(p.get('limit')) : -1;
        const out: Record<string, { type: string; help: string; unit: string }[]> = {};
        for (const f of families) {
          if (metric && f.name !== metric) continue;
          if (limit >= 0 && Object.keys(out).length >= limit) break;
          out[f.name] = [{ type: f.type, help: f.help, unit: '' }];
        }
        return out;
      },
    },
    '/status/buildinfo': {
      methods: ['GET'],
      run: () => ({ version: '2.42.0-governor-twin', revision: 'twin', branch: 'twin', buildUser: 'governor', buildDate: '', goVersion: 'n/a' }),
    },
  };

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://twin');
    if (!url.pathname.startsWith(`${prefix}/`)) return false;
    const sub = url.pathname.slice(prefix.length);
    let route = routes[sub];
    const labelValues = /^\/label\/([^/]+)\/values$/.exec(sub);
    if (labelValues) {
      const name = decodeURIComponent(labelValues[1]!);
      route = {
        methods: ['GET'],
        run: (p) => {
          if (!isValidLabelName(name)) throw new PromQLError('bad_data', `invalid label name: ${JSON.stringify(name)}`);
          const values = new Set<string>();
          for (const r of selectSeries(p, false)) {
            const v = r.labels[name];
            if (v !== undefined) values.add(v);
          }
          return [...values].sort(compareStrings);
        },
      };
    }
    if (!route) return false;
    if (!route.methods.includes(req.method ?? '')) {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: route.methods.join(', ') }).end('Method Not Allowed\n');
      return true;
    }
    const r = route;
    void readParams(req, url)
      .then((params) => send(res, 200, { status: 'success', data: r.run(params) }))
      .catch((err: unknown) => {
        if (err instanceof PromQLError) send(res, HTTP_STATUS_OF[err.errorType], { status: 'error', errorType: err.errorType, error: err.message });
        else send(res, 500, { status: 'error', errorType: 'internal', error: (err as Error).message });
      });
    return true;
  };
}

function parseQuery(q: string) {
  try {
    return parsePromQL(q);
  } catch (err) {
    if (err instanceof PromQLError && err.errorType === 'bad_data') throw new PromQLError('bad_data', `invalid parameter "query": ${err.message}`);
    throw err;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
}

export interface QueryApiServer {
  /** The base URL a Prometheus client takes (PROMETHEUS_URL): http://127.0.0.1:PORT. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the query API (and nothing else) on its own loopback port. */
export async function startQueryApiServer(store: SeriesStore, opts: QueryApiOptions & ServeOptions = {}): Promise<QueryApiServer> {
  const server = await serveHandlers([queryApiHandler(store, opts)], opts);
  return { url: server.baseUrl, port: server.port, close: server.close };
}
