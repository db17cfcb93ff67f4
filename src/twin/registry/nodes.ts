// Writes of Nodes a client may make (kubectl cordon / uncordon, label, annotate): labels, annotations
// and spec.unschedulable, with the resourceVersion precondition and the kubelet's
// NodeNotSchedulable / NodeSchedulable event. Everything else about a node — capacity, conditions,
// memory pressure — is the kubelet's (controllers/kubelet.ts) and must never be written here.
import { canonicalJson } from '../../core/canonical-json.ts';
import type { StringMap } from '../kube-objects.ts';
import { checkVersion, notFound, type MutationOptions } from '../twin-errors.ts';
import type { TwinStore } from '../twin-store.ts';
import type { NodeState } from '../twin-state.ts';
import { nodeRef, recordEvent } from '../controllers/events.ts';

export interface NodeUpdate {
  unschedulable?: boolean;
  labels?: StringMap;
  annotations?: StringMap;
}

/** `changed` when anything did: the scheduler then looks at pending pods again. */
export function writeNode(store: TwinStore, name: string, update: NodeUpdate, opts: MutationOptions = {}): { node: NodeState; changed: boolean } {
  const n = store.nodes.get(name);
  if (!n) throw notFound('nodes', name);
  checkVersion(opts.resourceVersion, n.rv, 'nodes', name);
  let changed = false;
  if (update.labels !== undefined && canonicalJson(update.labels) !== canonicalJson(n.labels)) {
    n.labels = { ...update.labels };
    changed = true;
  }
  if (update.annotations !== undefined && canonicalJson(update.annotations) !== canonicalJson(n.annotations)) {
    n.annotations = { ...update.annotations };
    changed = true;
  }
  if (update.unschedulable !== undefined && update.unschedulable !== n.unschedulable) {
    n.unschedulable = update.unschedulable;
    n.unschedulableSinceMs = store.eventMs;
    changed = true;
    const status = n.unschedulable ? 'NodeNotSchedulable' : 'NodeSchedulable';
    recordEvent(store, nodeRef(n), 'Normal', status, `Node ${n.name} status is now: ${status}`, { component: 'kubelet', host: n.name });
  }
  if (changed) {
    store.modified('nodes', n);
    store.dirty = true;
  }
  return { node: n, changed };
}
