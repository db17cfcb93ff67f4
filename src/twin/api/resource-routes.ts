// The routes every resource gets from its ResourceDef (context.ts), as the API server's generic
// registry serves them: the collection across namespaces and in one (GET list, Table or watch; POST
// when the resource can be created) and the item (GET; PUT and PATCH when it can be replaced; DELETE
// with uid and resourceVersion preconditions when it can be removed), each answer in the resource's
// API version. What a write means is the def's to say; this file must never special-case a resource.
import type { TwinObject } from '../twin-store.ts';
import { tableOf, viewOf, type ApiContext, type ResourceDef } from './context.ts';
import { ApiError, TABLE_CONTENT_TYPE, notFound, type Params, type Reply, type Request, type Route } from './http.ts';
import { checkBodyNamespace, checkKind, fieldFilter, isDryRun, patchBody, putBody, selectorOf } from './request.ts';
import { wantsTable, type TableKind } from './tables.ts';
import { watchStream } from './watch-stream.ts';

/** One object: itself (in the def's view) or a one-row Table. */
export function one(ctx: ApiContext, req: Request, obj: TwinObject, table?: TableKind, view?: (o: TwinObject) => unknown): Reply {
  if (table && wantsTable(req.headers.accept)) return { body: tableOf(ctx, req, table, [obj]), contentType: TABLE_CONTENT_TYPE };
  return { body: view ? view(obj) : obj };
}

/** What a create checks before anything is stored, for a dry run that stores nothing: the namespace exists, the name is free. */
export function checkCreatable(ctx: ApiContext, def: ResourceDef, ns: string, name: string): void {
  if (!ctx.twin.getNamespace(ns)) throw notFound('namespaces', ns);
  if (def.get(ns, name)) {
    throw new ApiError(409, 'AlreadyExists', `${def.group ? `${def.resource}.${def.group}` : def.resource} "${name}" already exists`, {
      name,
      ...(def.group ? { group: def.group } : {}),
      kind: def.resource,
    });
  }
}

export function mustGet(def: ResourceDef, ns: string | undefined, name: string): TwinObject {
  const o = def.get(ns, name);
  if (!o) throw notFound(def.resource, name, def.group);
  return o;
}

/** GET on a collection: a list, a Table, or a watch stream. */
function collection(ctx: ApiContext, req: Request, def: ResourceDef, ns: string | undefined): Reply {
  const sel = selectorOf(req);
  const ff = fieldFilter(req, def.fields);
  const matches = (o: TwinObject) => (ns === undefined || o.metadata.namespace === ns) && sel.matches(o.metadata.labels) && ff(o);
  if (req.watch) return watchStream(ctx, req, def, ns, matches);
  const chosen = def.list(ns).filter(matches);
  if (def.table && wantsTable(req.headers.accept)) return { body: tableOf(ctx, req, def.table, chosen), contentType: TABLE_CONTENT_TYPE };
  return {
    body: { kind: def.listKind, apiVersion: def.apiVersion, metadata: { resourceVersion: ctx.twin.resourceVersion }, items: def.view ? chosen.map(def.view) : chosen },
  };
}

function itemMethods(ctx: ApiContext, def: ResourceDef, nsOf: (p: Params) => string | undefined): Route['methods'] {
  const replace = def.replace;
  const remove = def.remove;
  return {
    GET: (r, p) => one(ctx, r, mustGet(def, nsOf(p), p['name']!), def.table, def.view),
    ...(replace
      ? {
          PUT: async (r: Request, p: Params) => {
            mustGet(def, nsOf(p), p['name']!);
            const body = await putBody(r);
            checkKind(body, def.kind);
            checkBodyNamespace(body, nsOf(p));
            return { body: viewOf(def, replace(nsOf(p), p['name']!, body, isDryRun(r))) };
          },
          PATCH: async (r: Request, p: Params) => {
            const current = mustGet(def, nsOf(p), p['name']!);
            const next = await patchBody(r, viewOf(def, current));
            checkKind(next, def.kind);
            checkBodyNamespace(next, nsOf(p));
            return { body: viewOf(def, replace(nsOf(p), p['name']!, next, isDryRun(r))) };
          },
        }
      : {}),
    ...(remove
      ? {
          DELETE: async (r: Request, p: Params) => {
            const options = (await r.optionalBody()) as { preconditions?: { resourceVersion?: string; uid?: string } } | undefined;
            const current = mustGet(def, nsOf(p), p['name']!);
            const uid = options?.preconditions?.uid;
            if (uid !== undefined && uid !== current.metadata.uid) {
              throw new ApiError(409, 'Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid}`, {
                name: p['name'],
                kind: def.resource,
              });
            }
            const out = remove(nsOf(p), p['name']!, options?.preconditions?.resourceVersion, isDryRun(r));
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
  };
}

/** The collection and item routes of a resource, from what its def can do; `items: false` leaves the item routes to the caller. */
export function resourceRoutes(ctx: ApiContext, def: ResourceDef, opts: { items?: boolean } = {}): Route[] {
  const [group, version] = def.apiVersion.includes('/') ? def.apiVersion.split('/') : [undefined, def.apiVersion];
  const prefix = group ? ['apis', group, version!] : ['api', version!];
  const out: Route[] = [];
  const create = def.create;
  if (def.namespaced) {
    out.push({ pattern: [...prefix, def.resource], methods: { GET: (r) => collection(ctx, r, def, undefined) } });
    out.push({
      pattern: [...prefix, 'namespaces', ':ns', def.resource],
      methods: {
        GET: (r, p) => collection(ctx, r, def, p['ns']),
        ...(create
          ? {
              POST: async (r: Request, p: Params) => {
                const body = await putBody(r);
                checkKind(body, def.kind);
                checkBodyNamespace(body, p['ns']);
                return { status: 201, body: viewOf(def, create(p['ns']!, body, isDryRun(r))) };
              },
            }
          : {}),
      },
    });
    if (opts.items !== false) out.push({ pattern: [...prefix, 'namespaces', ':ns', def.resource, ':name'], methods: itemMethods(ctx, def, (p) => p['ns']) });
  } else {
    out.push({ pattern: [...prefix, def.resource], methods: { GET: (r) => collection(ctx, r, def, undefined) } });
    if (opts.items !== false) out.push({ pattern: [...prefix, def.resource, ':name'], methods: itemMethods(ctx, def, () => undefined) });
  }
  return out;
}

