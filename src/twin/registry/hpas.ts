// Writes of HorizontalPodAutoscalers as the API server stores them: POST with validation and
// defaulting (validation.ts), PUT of spec, labels and annotations (the generation follows the spec;
// the status stays the controller's), DELETE with its precondition. It must never compute a
// recommendation: controllers/hpa.ts does, on its own schedule.
import { canonicalJson } from '../../core/canonical-json.ts';
import type { HorizontalPodAutoscaler } from '../kube-objects.ts';
import { emptyHistory } from '../hpa-algorithm.ts';
import { TwinError, alreadyExists, checkVersion, notFound, type MutationOptions } from '../twin-errors.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderHpa } from '../twin-render.ts';
import type { HpaState } from '../twin-state.ts';
import { namespaceOf, validateHpa } from '../validation.ts';

export function createHpa(store: TwinStore, obj: unknown, opts: { namespace?: string } = {}): HpaState {
  const namespace = opts.namespace ?? namespaceOf(obj);
  const h = validateHpa(obj);
  if (!store.namespaces.has(namespace)) throw notFound('namespaces', namespace);
  if (store.hpas.has(key(namespace, h.name))) throw alreadyExists('horizontalpodautoscalers', h.name, 'autoscaling');
  const s: HpaState = {
    namespace,
    name: h.name,
    uid: store.otherUids.uuid(),
    createdMs: store.eventMs,
    rv: store.nextRv(),
    generation: 1,
    labels: h.labels,
    annotations: h.annotations,
    spec: h.spec,
    status: { currentReplicas: 0, desiredReplicas: 0 },
    conditions: new Map(),
    history: emptyHistory(),
    lastScaleMs: undefined,
    statusJson: '',
  };
  store.hpas.set(key(namespace, h.name), s);
  store.touch('horizontalpodautoscalers', namespace, h.name, 'ADDED');
  return s;
}

export function replaceHpa(store: TwinStore, namespace: string, name: string, obj: unknown, opts: MutationOptions = {}): HpaState {
  const s = store.hpas.get(key(namespace, name));
  if (!s) throw notFound('horizontalpodautoscalers', name, 'autoscaling');
  const h = validateHpa(obj, name);
  if (h.name !== name) {
    throw new TwinError('Invalid', `the name of the object (${h.name}) does not match the name on the URL (${name})`, { kind: 'HorizontalPodAutoscaler', group: 'autoscaling', name });
  }
  checkVersion(opts.resourceVersion ?? h.resourceVersion, s.rv, 'horizontalpodautoscalers', name, 'autoscaling');
  let changed = false;
  if (canonicalJson(h.spec) !== canonicalJson(s.spec)) {
    s.spec = h.spec;
    s.generation++;
    changed = true;
  }
  if (canonicalJson({ l: h.labels, a: h.annotations }) !== canonicalJson({ l: s.labels, a: s.annotations })) {
    s.labels = h.labels;
    s.annotations = h.annotations;
    changed = true;
  }
  if (changed) store.modified('horizontalpodautoscalers', s);
  return s;
}

/** The HPA as it was last. */
export function deleteHpa(store: TwinStore, namespace: string, name: string, opts: MutationOptions = {}): HorizontalPodAutoscaler {
  const s = store.hpas.get(key(namespace, name));
  if (!s) throw notFound('horizontalpodautoscalers', name, 'autoscaling');
  checkVersion(opts.resourceVersion, s.rv, 'horizontalpodautoscalers', name, 'autoscaling');
  s.rv = store.nextRv();
  const last = renderHpa(s);
  store.hpas.delete(key(namespace, name));
  store.touchDeleted('horizontalpodautoscalers', namespace, name, () => last);
  return last;
}
