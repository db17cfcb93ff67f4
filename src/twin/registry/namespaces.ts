// PUT and PATCH of a namespace as the API server takes them (kubectl label / annotate namespace):
// labels and annotations, with the precondition; `kubernetes.io/metadata.name` is the API server's
// own and always equals the name, whatever the client sends. Nothing else about a namespace changes.
import type { StringMap } from '../kube-objects.ts';
import { canonicalJson } from '../../core/canonical-json.ts';
import { checkVersion, notFound, type MutationOptions } from '../twin-errors.ts';
import type { NamespaceState } from '../twin-state.ts';
import type { TwinStore } from '../twin-store.ts';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NamespaceUpdate {
  labels: StringMap;
  annotations: StringMap;
}

export function writeNamespace(store: TwinStore, name: string, update: NamespaceUpdate, opts: MutationOptions = {}): NamespaceState {
  const n = store.namespaces.get(name);
  if (!n) throw notFound('namespaces', name);
  checkVersion(opts.resourceVersion, n.rv, 'namespaces', name);
  const labels = { ...update.labels, [NAMESPACE_NAME_LABEL]: name };
  if (canonicalJson(labels) === canonicalJson(n.labels) && canonicalJson(update.annotations) === canonicalJson(n.annotations ?? {})) return n;
  n.labels = labels;
  n.annotations = { ...update.annotations };
  store.modified('namespaces', n);
  store.dirty = true;
  return n;
}
