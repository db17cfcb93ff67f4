// Writes of Deployments as the API server stores them (PUT, PATCH, the scale subresource, and the
// HPA's rescale): the resourceVersion precondition, validation, then the spec, labels and
// annotations. A new pod template takes its ReplicaSet at once (the deployment controller's
// prepareNewReplicaSet), so revision numbers and versions come out in the order clients have always
// seen; the rollout itself is left to the controllers. It must never touch pods.
import { canonicalJson } from '../../core/canonical-json.ts';
import { REVISION_ANNOTATION, type PodTemplateSpec, type StringMap } from '../kube-objects.ts';
import { templateHash } from '../pod-template.ts';
import { checkVersion, type MutationOptions } from '../twin-errors.ts';
import type { TwinStore } from '../twin-store.ts';
import type { DeploymentState } from '../twin-state.ts';
import { validateReplicas, validateTemplate } from '../validation.ts';
import { prepareNewReplicaSet } from '../controllers/deployment.ts';

export interface DeploymentUpdate {
  replicas?: number;
  template?: PodTemplateSpec;
  labels?: StringMap;
  annotations?: StringMap;
}

/** The one write path for deployments; bumps the resourceVersion only when something changed, the generation only for the spec. */
export function writeDeployment(store: TwinStore, namespace: string, name: string, update: DeploymentUpdate, opts: MutationOptions = {}): DeploymentState {
  const d = store.mustGetDeployment(namespace, name);
  checkVersion(opts.resourceVersion, d.rv, 'deployments', name, 'apps');
  if (update.replicas !== undefined) validateReplicas(update.replicas, name);
  const template = update.template !== undefined ? validateTemplate(update.template, d.selector, name) : undefined;
  let changed = false;
  let specChanged = false;
  if (update.replicas !== undefined && update.replicas !== d.replicas) {
    d.replicas = update.replicas;
    specChanged = true;
  }
  if (update.labels !== undefined && canonicalJson(update.labels) !== canonicalJson(d.labels)) {
    d.labels = { ...update.labels };
    changed = true;
  }
  if (update.annotations !== undefined) {
    // The revision annotation belongs to the controller; a client's copy of it is ignored.
    const next = { ...update.annotations };
    delete next[REVISION_ANNOTATION];
    if (canonicalJson(next) !== canonicalJson(d.annotations)) {
      d.annotations = next;
      changed = true;
    }
  }
  if (template !== undefined) {
    const hash = templateHash(template);
    if (hash !== d.templateHash) {
      d.template = template;
      d.templateHash = hash;
      specChanged = true;
      prepareNewReplicaSet(store, d);
    }
  }
  if (specChanged) d.generation++;
  if (changed || specChanged) store.modified('deployments', d);
  return d;
}
