// PUT and PATCH of a pod's labels and annotations (kubectl label / annotate pod), and
// DELETE of a pod as the API server does it (kubectl delete pod, and the eviction subresource, which
// without PodDisruptionBudgets comes to the same): the precondition, then the pod is gone at once —
// the twin has no graceful termination. A pod the kubelet evicted is only an object by then and just
// goes; a live one leaves room its ReplicaSet will fill. It must never create the replacement itself.
import type { Pod, StringMap } from '../kube-objects.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import { checkVersion, invalid, notFound, type MutationOptions } from '../twin-errors.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderPod, templateWithHash } from '../twin-render.ts';
import { removePod } from '../controllers/pods.ts';

/** The pod as it was last; `replace` when it was running and its ReplicaSet should replace it. */
export function deletePod(store: TwinStore, namespace: string, name: string, opts: MutationOptions = {}): { object: Pod; replace: boolean } {
  const failed = store.failedPods.get(key(namespace, name));
  if (failed) {
    // A terminated pod: nothing runs any more, the object just goes.
    checkVersion(opts.resourceVersion, failed.metadata.resourceVersion, 'pods', name);
    store.failedPods.delete(key(namespace, name));
    const last = { ...failed, metadata: { ...failed.metadata, resourceVersion: String(store.nextRv()) } };
    store.touchDeleted('pods', namespace, name, () => last);
    return { object: last, replace: false };
  }
  const p = store.pods.get(key(namespace, name));
  if (!p) throw notFound('pods', name);
  checkVersion(opts.resourceVersion, p.rv, 'pods', name);
  const last = renderPod(p, store.simMs);
  removePod(store, p);
  return { object: last, replace: true };
}

/**
 * A pod's metadata as a client wants it: what differs from its template's labels and annotations
 * becomes the pod's own. A template label (its ReplicaSet selects on them) cannot be removed or
 * changed here: a real API server would take it and the ReplicaSet would orphan the pod and start
 * another; the twin does not model orphans, so it refuses with Invalid and says so.
 */
export function writePodMetadata(store: TwinStore, namespace: string, name: string, update: { labels: StringMap; annotations: StringMap }, opts: MutationOptions = {}): Pod {
  const p = store.pods.get(key(namespace, name));
  if (!p) throw notFound('pods', name);
  checkVersion(opts.resourceVersion, p.rv, 'pods', name);
  const template = templateWithHash(p.rs).metadata ?? {};
  const own = (wanted: StringMap, fromTemplate: StringMap | undefined, field: string): StringMap => {
    const out: StringMap = {};
    for (const [k, v] of Object.entries(fromTemplate ?? {})) {
      if (field === 'labels' && wanted[k] !== v) {
        throw invalid('pods', undefined, name, [{ field: `metadata.labels[${k}]`, reason: 'FieldValueForbidden', message: `the cluster twin keeps a pod's template labels (its ReplicaSet ${p.rs.name} selects on them)` }]);
      }
    }
    for (const [k, v] of Object.entries(wanted)) if (fromTemplate?.[k] !== v) out[k] = v;
    return out;
  };
  const labels = own(update.labels, template.labels, 'labels');
  // A template annotation the client leaves out is the template's still: only additions and changes are the pod's own.
  const annotations = own(update.annotations, template.annotations, 'annotations');
  if (canonicalJson(labels) === canonicalJson(p.ownLabels ?? {}) && canonicalJson(annotations) === canonicalJson(p.ownAnnotations ?? {})) return renderPod(p, store.simMs);
  p.ownLabels = labels;
  p.ownAnnotations = annotations;
  store.modified('pods', p);
  store.dirty = true;
  return renderPod(p, store.simMs);
}
