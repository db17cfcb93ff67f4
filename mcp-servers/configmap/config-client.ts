// The ConfigMap MCP server's only way to the cluster: a thin typed wrapper over
// @kubernetes/client-node for the reads and writes its tools need — config maps, the deployments
// that read them, and the rolling restart that makes running pods pick a change up. It takes its
// KubeConfig from the caller (never from the environment), turns API failures into coded
// GovernorErrors, and knows nothing of tenants or grants: deciding whether a write may happen is
// the server's job.
import {
  AppsV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { call } from '../kubernetes/kube-client.ts';

/** The annotation `kubectl rollout restart` stamps on the pod template (RFC 3339 time). */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

export class ConfigClient {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;

  constructor(kube: KubeConfig) {
    this.core = kube.makeApiClient(CoreV1Api);
    this.apps = kube.makeApiClient(AppsV1Api);
  }

  readConfigMap(namespace: string, name: string): Promise<V1ConfigMap> {
    return call(`config map ${namespace}/${name}`, () => this.core.readNamespacedConfigMap({ namespace, name }));
  }

  async listConfigMaps(namespace: string): Promise<V1ConfigMap[]> {
    const list = await call(`config maps in ${namespace}`, () => this.core.listNamespacedConfigMap({ namespace }));
    return list.items;
  }

  async listDeployments(namespace: string): Promise<V1Deployment[]> {
    const list = await call(`deployments in ${namespace}`, () => this.apps.listNamespacedDeployment({ namespace }));
    return list.items;
  }

  async readNamespaceLabels(namespace: string): Promise<Record<string, string>> {
    const ns = await call(`namespace ${namespace}`, () => this.core.readNamespace({ name: namespace }));
    return ns.metadata?.labels ?? {};
  }

  /**
   * Replaces the map's data (binaryData, labels and annotations are kept) on the condition that it is
   * still at `resourceVersion`: the API server answers 409 Conflict otherwise, so a decision made
   * on one version is never applied to another.
   */
  replaceData(current: V1ConfigMap, data: Record<string, string>, resourceVersion: string): Promise<V1ConfigMap> {
    const namespace = current.metadata?.namespace ?? '';
    const name = current.metadata?.name ?? '';
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      ...current,
      metadata: { ...current.metadata, resourceVersion },
      data,
    };
    return call(`config map ${namespace}/${name}`, () => this.core.replaceNamespacedConfigMap({ namespace, name, body }));
  }

  /**
   * What `kubectl rollout restart` does: a strategic merge patch stamping the pod template with the
   * restart time, so that the deployment controller rolls every pod (respecting maxUnavailable) and
   * the new pods read the config as it is now.
   */
  async restartDeployment(namespace: string, name: string, atIso: string): Promise<void> {
    const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: atIso } } } } };
    await call(`deployment ${namespace}/${name}`, () =>
      this.apps.patchNamespacedDeployment({ namespace, name, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
    );
  }
}

