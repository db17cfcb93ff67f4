// The deployment and ReplicaSet controllers. A new template gets its ReplicaSet under the next
// revision — or, when it equals an older revision's, that ReplicaSet comes back as the newest (what a
// rollback is); ten idle old ReplicaSets are kept. The rolling update follows Kubernetes' defaults
// (maxSurge and maxUnavailable 25%): the new ReplicaSet grows within the surge, old ones shrink
// oldest first as new pods become ready, unready pods first. Each ReplicaSet then gets as many pods
// as it wants (unscheduled, then not-ready, then the newest go first), and the status of both kinds
// is written when it changes. It must never bind pods or decide when they are ready: the scheduler
// and the kubelet do.
import { CHANGE_CAUSE_ANNOTATION, type PodTemplateSpec } from '../kube-objects.ts';
import { templateHash } from '../pod-template.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { renderReplicaSet, replicaSetStatus } from '../twin-render.ts';
import { clone, deploymentStatusCore, newReplicaSetOf, readyCount, rollingLimits, type DeploymentState, type ReplicaSetState } from '../twin-state.ts';
import { deploymentRef, recordEvent } from './events.ts';
import { createPod, removePod } from './pods.ts';

/** One pass of the deployment controller; true when it changed anything. */
export function rollout(store: TwinStore, d: DeploymentState): boolean {
  const newRs = newReplicaSetOf(d);
  if (!newRs) return false;
  const all = d.replicaSets;
  const old = all.filter((rs) => rs !== newRs && rs.replicas > 0).sort((a, b) => a.createdMs - b.createdMs);
  let changed = false;
  const setReplicas = (rs: ReplicaSetState, n: number) => {
    if (rs.replicas === n) return;
    const from = rs.replicas;
    rs.replicas = n;
    rs.generation++;
    store.modified('replicasets', rs);
    recordEvent(store, deploymentRef(d), 'Normal', 'ScalingReplicaSet', `Scaled ${n > from ? 'up' : 'down'} replica set ${rs.name} from ${from} to ${n}`, {
      component: 'deployment-controller',
    });
    changed = true;
  };
  if (old.length === 0) {
    setReplicas(newRs, d.replicas);
  } else {
    const { maxSurge, maxUnavailable } = rollingLimits(d.replicas);
    const total = () => all.reduce((s, rs) => s + rs.replicas, 0);
    if (newRs.replicas > d.replicas) setReplicas(newRs, d.replicas);
    else if (newRs.replicas < d.replicas) {
      const room = d.replicas + maxSurge - total();
      if (room > 0) setReplicas(newRs, Math.min(d.replicas, newRs.replicas + room));
    }
    const minAvailable = d.replicas - maxUnavailable;
    const newUnavailable = newRs.replicas - readyCount(newRs);
    let maxScaledDown = total() - minAvailable - newUnavailable;
    // First old pods that are not ready anyway, then ready ones while availability allows.
    for (const rs of old) {
      if (maxScaledDown <= 0) break;
      const unhealthy = Math.min(rs.replicas, rs.pods.size) - readyCount(rs);
      const down = Math.min(maxScaledDown, Math.max(0, unhealthy));
      if (down > 0) {
        setReplicas(rs, rs.replicas - down);
        maxScaledDown -= down;
      }
    }
    syncPods(store, d);
    const available = all.reduce((s, rs) => s + readyCount(rs), 0);
    let budget = available - minAvailable;
    for (const rs of old) {
      if (budget <= 0) break;
      const down = Math.min(rs.replicas, budget);
      if (down > 0) {
        setReplicas(rs, rs.replicas - down);
        budget -= down;
      }
    }
  }
  if (syncPods(store, d)) changed = true;
  return changed;
}

/** The ReplicaSet controller: pods to match each of the deployment's ReplicaSets. */
export function syncPods(store: TwinStore, d: DeploymentState): boolean {
  let changed = false;
  for (const rs of d.replicaSets) {
    const count = rs.pods.size;
    if (count < rs.replicas) {
      for (let i = count; i < rs.replicas; i++) createPod(store, rs, store.eventMs);
      changed = true;
    } else if (count > rs.replicas) {
      // Unscheduled before scheduled, not ready before ready, then the newest first.
      const victims = [...rs.pods]
        .sort(
          (a, b) =>
            Number(a.node !== undefined) - Number(b.node !== undefined) ||
            Number(a.readySinceMs !== undefined) - Number(b.readySinceMs !== undefined) ||
            b.createdMs - a.createdMs,
        )
        .slice(0, count - rs.replicas);
      for (const v of victims) removePod(store, v);
      changed = true;
    }
  }
  return changed;
}

/** A new template on `d`: its ReplicaSet (new, or an old one back as the newest revision), and old idle ones pruned. */
export function prepareNewReplicaSet(store: TwinStore, d: DeploymentState): void {
  const maxRevision = Math.max(0, ...d.replicaSets.map((rs) => rs.revision));
  const existing = newReplicaSetOf(d);
  const changeCause = d.annotations[CHANGE_CAUSE_ANNOTATION];
  if (existing) {
    // Kubernetes' rollback: the old ReplicaSet becomes the newest revision.
    if (existing.revision !== maxRevision) existing.revision = maxRevision + 1;
    if (changeCause !== undefined) existing.changeCause = changeCause;
    existing.annotations = copiedAnnotations(d.annotations);
    store.modified('replicasets', existing);
  } else {
    createReplicaSet(store, d, d.template, maxRevision + 1, changeCause, store.eventMs);
  }
  // revisionHistoryLimit: 10 old ReplicaSets with no pods are kept, older ones go.
  const idle = d.replicaSets.filter((rs) => rs.templateHash !== d.templateHash && rs.replicas === 0 && rs.pods.size === 0).sort((a, b) => a.revision - b.revision);
  for (const rs of idle.slice(0, Math.max(0, idle.length - 10))) {
    rs.rv = store.nextRv();
    const last = renderReplicaSet(rs);
    store.replicaSets.delete(key(rs.namespace, rs.name));
    d.replicaSets.splice(d.replicaSets.indexOf(rs), 1);
    store.touchDeleted('replicasets', rs.namespace, rs.name, () => last);
  }
}

// What the deployment controller leaves out when it copies a deployment's annotations to its ReplicaSet.
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deployment.kubernetes.io/revision',
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
  CHANGE_CAUSE_ANNOTATION,
]);

function copiedAnnotations(a: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(a).filter(([k]) => !NOT_COPIED.has(k)));
}

export function createReplicaSet(
  store: TwinStore,
  d: DeploymentState,
  template: PodTemplateSpec,
  revision: number,
  changeCause: string | undefined,
  createdMs: number,
): ReplicaSetState {
  const hash = templateHash(template);
  const rs: ReplicaSetState = {
    namespace: d.namespace,
    name: `${d.name}-${hash}`,
    uid: store.uids.uuid(),
    deployment: d.name,
    d,
    createdMs,
    rv: store.nextRv(),
    generation: 1,
    template: clone(template),
    templateHash: hash,
    revision,
    changeCause,
    annotations: copiedAnnotations(d.annotations),
    replicas: 0,
    statusJson: '',
    pods: new Set(),
    workload: undefined,
    workloadVersion: -1,
  };
  store.replicaSets.set(key(rs.namespace, rs.name), rs);
  d.replicaSets.push(rs);
  store.touch('replicasets', rs.namespace, rs.name, 'ADDED');
  return rs;
}

/** Writes the status of the deployment and its ReplicaSets when it changed (a new resourceVersion only then). */
export function updateDeploymentStatus(store: TwinStore, d: DeploymentState): void {
  for (const rs of d.replicaSets) {
    const s = JSON.stringify(replicaSetStatus(rs));
    if (s !== rs.statusJson) {
      if (rs.statusJson !== '') store.modified('replicasets', rs);
      rs.statusJson = s;
    }
  }
  const status = deploymentStatusCore(d);
  const s = JSON.stringify(status);
  if (s !== d.statusJson) {
    const prev = d.statusJson ? (JSON.parse(d.statusJson) as { available: boolean; complete: boolean }) : undefined;
    if (!prev || prev.available !== status.available) d.conditionSince['Available'] = store.simMs;
    if (!prev || prev.complete !== status.complete) d.conditionSince['Progressing'] = store.simMs;
    if (d.statusJson !== '') store.modified('deployments', d);
    d.statusJson = s;
  }
}
