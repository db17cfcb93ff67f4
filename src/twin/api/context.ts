// What every group of the twin's API routes shares: the twin they serve, the watch log, the server's
// address (discovery reports it), and the description of one resource that the generic list, get,
// watch and write routes are built from (resource-routes.ts). Shapes and a few renderings; it must
// never change the twin.
import type { ClusterTwin } from '../cluster-twin.ts';
import type { TwinKind, TwinObject } from '../twin-store.ts';
import type { Request } from './http.ts';
import { toTable, type TableKind } from './tables.ts';
import type { WatchHub } from './watch-hub.ts';

export interface ApiContext {
  twin: ClusterTwin;
  hub: WatchHub;
  /** host:port the server listens on. */
  address: () => string;
}

/** One resource the generic handlers serve: how to read and write it through the twin. */
export interface ResourceDef {
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

export const viewOf = (def: ResourceDef, o: TwinObject): unknown => (def.view ? def.view(o) : o);

/** Namespaced resources are keyed by namespace; the twin names the cluster scope ''. */
export const nsName = (ns: string | undefined) => ns ?? '';

export const nowIso = (ctx: ApiContext) => new Date(ctx.twin.clock.now()).toISOString();

/** Objects as the meta.k8s.io/v1 Table kubectl asks for. */
export const tableOf = (ctx: ApiContext, req: Request, kind: TableKind, objects: TwinObject[]) =>
  toTable(kind, objects, { nowMs: ctx.twin.clock.now(), resourceVersion: ctx.twin.resourceVersion, includeObject: req.query.get('includeObject') });
