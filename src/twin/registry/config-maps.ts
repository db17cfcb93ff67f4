// Writes of ConfigMaps as the API server stores them: POST into an existing namespace, PUT of the
// whole object (its data frozen once it is immutable; a write that changes nothing keeps its
// resourceVersion), DELETE with its precondition. Validation is validation.ts's. What a change of
// data does to the services that read it is the model's business, never this file's: each write says
// whether the data changed and ClusterTwin lets the workloads follow.
import { canonicalJson } from '../../core/canonical-json.ts';
import type { ConfigMap } from '../kube-objects.ts';
import { prune } from '../pod-template.ts';
import { TwinError, alreadyExists, checkVersion, invalid, notFound, type MutationOptions } from '../twin-errors.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderConfigMap } from '../twin-render.ts';
import type { ConfigMapState } from '../twin-state.ts';
import { namespaceOf, validateConfigMap } from '../validation.ts';

export function createConfigMap(store: TwinStore, obj: unknown, opts: { namespace?: string; createdAtMs?: number } = {}): ConfigMapState {
  const namespace = opts.namespace ?? namespaceOf(obj);
  const c = validateConfigMap(obj);
  if (!store.namespaces.has(namespace)) throw notFound('namespaces', namespace);
  if (store.configMaps.has(key(namespace, c.name))) throw alreadyExists('configmaps', c.name);
  const s: ConfigMapState = {
    namespace,
    name: c.name,
    uid: store.otherUids.uuid(),
    createdMs: opts.createdAtMs ?? store.eventMs,
    rv: store.nextRv(),
    labels: c.labels,
    annotations: c.annotations,
    data: c.data,
    binaryData: c.binaryData,
    immutable: c.immutable,
  };
  store.configMaps.set(key(namespace, c.name), s);
  store.touch('configmaps', namespace, c.name, 'ADDED');
  return s;
}

/** `changed`: whether anything about it did (a new resourceVersion only then). */
export function replaceConfigMap(store: TwinStore, namespace: string, name: string, obj: unknown, opts: MutationOptions = {}): { state: ConfigMapState; changed: boolean } {
  const s = store.configMaps.get(key(namespace, name));
  if (!s) throw notFound('configmaps', name);
  const c = validateConfigMap(obj, name);
  if (c.name !== name) throw new TwinError('Invalid', `the name of the object (${c.name}) does not match the name on the URL (${name})`, { kind: 'ConfigMap', name });
  checkVersion(opts.resourceVersion ?? c.resourceVersion, s.rv, 'configmaps', name);
  if (s.immutable && (canonicalJson(c.data) !== canonicalJson(s.data) || canonicalJson(c.binaryData ?? {}) !== canonicalJson(s.binaryData ?? {}) || !c.immutable)) {
    throw invalid('ConfigMap', undefined, name, [{ field: 'data', message: 'Forbidden: field is immutable when `immutable` is set', reason: 'FieldValueForbidden' }]);
  }
  const next = { labels: c.labels, annotations: c.annotations, data: c.data, binaryData: c.binaryData, immutable: c.immutable };
  const before = { labels: s.labels, annotations: s.annotations, data: s.data, binaryData: s.binaryData, immutable: s.immutable };
  if (canonicalJson(prune(next) ?? {}) === canonicalJson(prune(before) ?? {})) return { state: s, changed: false };
  Object.assign(s, next);
  store.modified('configmaps', s);
  return { state: s, changed: true };
}

/** The config map as it was last. */
export function deleteConfigMap(store: TwinStore, namespace: string, name: string, opts: MutationOptions = {}): ConfigMap {
  const s = store.configMaps.get(key(namespace, name));
  if (!s) throw notFound('configmaps', name);
  checkVersion(opts.resourceVersion, s.rv, 'configmaps', name);
  s.rv = store.nextRv();
  const last = renderConfigMap(s);
  store.configMaps.delete(key(namespace, name));
  store.touchDeleted('configmaps', namespace, name, () => last);
  return last;
}
