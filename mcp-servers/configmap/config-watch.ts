// Feeds the config history (config-history.ts) from the cluster: lists the ConfigMaps of each
// watched namespace, then watches them (client-node Watch, resuming from the last resourceVersion,
// relisting when the API server has forgotten it). One list-watch per namespace, so the server needs
// read access to config maps only in the namespaces it serves, never cluster-wide. It must never
// write to the cluster, and never stop tracking silently: a failed watch is retried and logged.
import { CoreV1Api, Watch, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import type { Clock } from '../../src/core/clock.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { codeApiError } from '../kubernetes/kube-client.ts';
import type { ConfigHistory } from './config-history.ts';

export interface ConfigWatchDeps {
  kube: KubeConfig;
  namespaces: readonly string[];
  history: ConfigHistory;
  clock: Clock;
  logger?: Logger;
  /** Real-time pause before a failed watch is retried (transport backoff, not simulated time). */
  retryMs?: number;
}

export interface ConfigWatch {
  /** Stops every watch; the history keeps what it has. */
  stop(): Promise<void>;
}

/**
 * Lists every namespace once (so that the history holds each map's initial version before the first
 * tool call), marks the start of tracking, and keeps watching until stopped.
 */
export async function startConfigWatch(deps: ConfigWatchDeps): Promise<ConfigWatch> {
  const { history, clock } = deps;
  const core = deps.kube.makeApiClient(CoreV1Api);
  const watcher = new Watch(deps.kube);
  const log = (deps.logger ?? silentLogger()).child({ component: 'configmap-watch' });
  const retryMs = deps.retryMs ?? 1_000;
  let stopped = false;
  const controllers = new Set<AbortController>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const dataOf = (cm: V1ConfigMap): Record<string, string> => ({ ...(cm.data ?? {}) });

  /** A complete listing of one namespace; maps missing from it were deleted while unwatched. */
  async function list(namespace: string): Promise<string> {
    let res;
    try {
      res = await core.listNamespacedConfigMap({ namespace });
    } catch (err) {
      throw codeApiError(`config maps in ${namespace}`, err);
    }
    const now = clock.now();
    const seen = new Set<string>();
    for (const cm of res.items) {
      const name = cm.metadata?.name;
      if (!name) continue;
      seen.add(name);
      history.observe(namespace, name, cm.metadata?.resourceVersion ?? '', dataOf(cm), now, true);
    }
    const listRv = res.metadata?.resourceVersion ?? '';
    for (const name of history.liveNames(namespace)) if (!seen.has(name)) history.observeDeleted(namespace, name, listRv, now);
    return listRv;
  }

  function watch(namespace: string, fromRv: string): void {
    if (stopped) return;
    let rv = fromRv;
    let relist = false;
    const onEvent = (type: string, obj: V1ConfigMap & { code?: number }): void => {
      const name = obj?.metadata?.name;
      const objRv = obj?.metadata?.resourceVersion;
      if (type === 'BOOKMARK') {
        if (objRv) rv = objRv;
        return;
      }
      if (type === 'ERROR') {
        // 410 Gone / Expired: the API server no longer holds our resourceVersion; only a relist catches up.
        relist = true;
        log.info({ namespace, code: obj?.code }, 'config map watch expired; relisting');
        return;
      }
      if (!name || !objRv) return;
      rv = objRv;
      const now = clock.now();
      if (type === 'DELETED') history.observeDeleted(namespace, name, objRv, now);
      else if (type === 'ADDED' || type === 'MODIFIED') {
        const v = history.observe(namespace, name, objRv, dataOf(obj), now, false);
        if (v) log.info({ namespace, config_map: name, resource_version: objRv, keys: v.changes.map((c) => c.key) }, `config map ${namespace}/${name} ${v.kind}`);
      }
    };
    const onDone = (err: unknown): void => {
      if (stopped) return;
      if (err) {
        relist = true;
        log.warn({ namespace, err: err instanceof Error ? err.message : String(err) }, 'config map watch failed; retrying');
      }
      resume(namespace, relist ? null : rv, err ? retryMs : 0);
    };
    watcher
      .watch(`/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`, { resourceVersion: rv || undefined, allowWatchBookmarks: true }, onEvent, onDone)
      .then((controller) => {
        if (stopped) controller.abort();
        else {
          controllers.add(controller);
          controller.signal.addEventListener('abort', () => controllers.delete(controller));
        }
      })
      .catch(onDone);
  }

  /** Resumes a namespace's watch: from `rv`, or after a fresh listing when `rv` is null. */
  function resume(namespace: string, rv: string | null, delayMs: number): void {
    const run = (): void => {
      if (stopped) return;
      if (rv !== null) return watch(namespace, rv);
      list(namespace).then(
        (listRv) => watch(namespace, listRv),
        (err: unknown) => {
          log.warn({ namespace, err: err instanceof Error ? err.message : String(err) }, 'config map relist failed; retrying');
          resume(namespace, null, retryMs);
        },
      );
    };
    if (delayMs <= 0) return run();
    const t = setTimeout(() => {
      timers.delete(t);
      run();
    }, delayMs);
    t.unref?.();
    timers.add(t);
  }

  const listed = await Promise.all(deps.namespaces.map(async (ns) => [ns, await list(ns)] as const));
  history.markTracking(clock.now());
  for (const [ns, rv] of listed) watch(ns, rv);
  log.info({ namespaces: deps.namespaces }, 'tracking config map history');

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const c of controllers) c.abort();
      controllers.clear();
    },
  };
}
