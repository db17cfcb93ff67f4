// A watch as the API server streams it: a chunked response of {"type","object"} lines — the current
// objects first when no resourceVersion (or "0") is given, or every change after the given one from
// the watch log (a version the log no longer holds: one ERROR event with a 410 Expired Status);
// then each change as the twin reports it, as Table rows when the client asked for a Table, with
// BOOKMARKs every 10 s when allowed and the initial-events-end BOOKMARK for sendInitialEvents; closed
// after timeoutSeconds. It only relays what the twin reported and must never invent a change.
import type { StringMap } from '../kube-objects.ts';
import type { TwinObject } from '../twin-store.ts';
import { tableOf, type ApiContext, type ResourceDef } from './context.ts';
import { ApiError, TABLE_CONTENT_TYPE, statusBody, type Reply, type Request } from './http.ts';
import { wantsTable } from './tables.ts';
import { TooOldResourceVersionError, type WatchEvent } from './watch-hub.ts';

const BOOKMARK_EVERY_MS = 10_000;
const DEFAULT_WATCH_TIMEOUT_S = 1800;

export function watchStream(ctx: ApiContext, req: Request, def: ResourceDef, ns: string | undefined, matches: (o: TwinObject) => boolean): Reply {
  const { twin, hub } = ctx;
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
      // The headers go at once, as the API server sends them: a client waits for them before it
      // reads anything, and a quiet watch has nothing to write for a while.
      res.flushHeaders();
      let first = true;
      const write = (type: string, object: unknown) => {
        let o = object;
        if (table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
          const t = tableOf(ctx, req, table, [object as TwinObject]);
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
}
