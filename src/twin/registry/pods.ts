// DELETE of a pod as the API server does it (kubectl delete pod, and the eviction subresource, which
// without PodDisruptionBudgets comes to the same): the precondition, then the pod is gone at once —
// the twin has no graceful termination. A pod the kubelet evicted is only an object by then and just
// goes; a live one leaves room its ReplicaSet will fill. It must never create the replacement itself.
import type { Pod } from '../kube-objects.ts';
import { checkVersion, notFound, type MutationOptions } from '../twin-errors.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderPod } from '../twin-render.ts';
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
