// What the control-plane tests set up in the real cluster, through the Kubernetes API as an operator
// would: a kwok node, tenant namespaces labelled as DESIGN §8 says, deployments, an HPA, and a
// namespaced ServiceAccount whose token comes from the TokenRequest API. Every wait is bounded and
// says what it waited for when it gives up.
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type RequestContext,
  type V1Deployment,
} from '@kubernetes/client-node';
import { inject } from 'vitest';
import { loadKubeconfig, renderKubeconfig } from '../../src/twin/kubeconfig.ts';

export const TENANT_LABEL = 'governor.io/tenant';
export const ENVIRONMENT_LABEL = 'governor.io/environment';
export const KWOK_NODE = 'kwok-node-0';

export function adminKube(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(inject('controlplaneKubeconfig'));
  return kc;
}

export function serverOf(kc: KubeConfig): string {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the control plane kubeconfig names no server');
  return server;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const isConflictOrExists = (err: unknown) => (err as { code?: number }).code === 409;

/**
 * A node that kwok plays the kubelet for (it manages nodes annotated kwok.x-k8s.io/node=fake);
 * `taint` keeps every pod off it but those that tolerate `dedicated=<taint>:NoSchedule`.
 */
export async function ensureKwokNode(kc: KubeConfig, name = KWOK_NODE, taint?: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const resources = { cpu: '32', memory: '128Gi', pods: '110' };
  await core
    .createNode({
      body: {
        metadata: { name, annotations: { 'kwok.x-k8s.io/node': 'fake' }, labels: { 'kubernetes.io/hostname': name, type: 'kwok' } },
        spec: taint ? { taints: [{ key: 'dedicated', value: taint, effect: 'NoSchedule' }] } : {},
        status: { capacity: resources, allocatable: resources },
      },
    })
    .catch((err: unknown) => {
      if (!isConflictOrExists(err)) throw err;
    });
  await waitFor(`node ${name} Ready (kwok)`, async () => {
    const n = await core.readNode({ name });
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  });
}

export async function createTenantNamespace(kc: KubeConfig, name: string, tenant: string, environment = 'staging'): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels: { [TENANT_LABEL]: tenant, [ENVIRONMENT_LABEL]: environment } } } });
  // The controller-manager makes the namespace's default ServiceAccount; pods wait for it.
  await waitFor(`ServiceAccount default in ${name}`, () => kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ namespace: name, name: 'default' }));
}

export function deploymentSpec(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name, labels: { app: name }, annotations: { 'governor.io/slo-p99-ms': '300' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'registry.invalid/governor/app:1.0.0',
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            },
          ],
        },
      },
    },
  };
}

export async function createDeployment(kc: KubeConfig, namespace: string, name: string, replicas: number, onlyOnNode?: { node: string; taint: string }): Promise<void> {
  const body = deploymentSpec(name, replicas);
  if (onlyOnNode) {
    body.spec!.template.spec!.nodeSelector = { 'kubernetes.io/hostname': onlyOnNode.node };
    body.spec!.template.spec!.tolerations = [{ key: 'dedicated', operator: 'Equal', value: onlyOnNode.taint, effect: 'NoSchedule' }];
  }
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace, body });
  await waitForReadyReplicas(kc, namespace, name, replicas);
}

/** Waits until the deployment controller, the scheduler and kwok have brought `replicas` pods to Ready. */
export async function waitForReadyReplicas(kc: KubeConfig, namespace: string, name: string, replicas: number, timeoutMs = 90_000): Promise<V1Deployment> {
  const apps = kc.makeApiClient(AppsV1Api);
  return waitFor(
    `${namespace}/${name} at ${replicas} ready replicas`,
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace, name });
      const s = d.status;
      const done = d.spec?.replicas === replicas && s?.observedGeneration === d.metadata?.generation && (s?.readyReplicas ?? 0) === replicas && (s?.replicas ?? 0) === replicas && (s?.updatedReplicas ?? 0) === replicas;
      return done ? d : undefined;
    },
    timeoutMs,
  );
}

/** An autoscaling/v2 HPA on CPU utilisation (no metrics-server here: it can only hold its bounds). */
export async function createHpa(kc: KubeConfig, namespace: string, name: string, deployment: string, min: number, max: number): Promise<void> {
  await kc.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
    namespace,
    body: {
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
        minReplicas: min,
        maxReplicas: max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    },
  });
}

/**
 * A ServiceAccount of one namespace with what the Kubernetes MCP server needs there (a Role and
 * RoleBinding in that namespace, and `get` on that one namespace object for its labels), and a
 * kubeconfig holding a token from the TokenRequest API: the credentials a per-tenant server replica
 * would run with.
 */
export async function namespacedServiceAccountKube(admin: KubeConfig, namespace: string, name: string): Promise<{ kube: KubeConfig; user: string }> {
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [
        { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['deployments', 'deployments/scale'], verbs: ['patch', 'update'] },
        { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: ['get', 'list', 'watch', 'patch'] },
      ],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const clusterName = `${namespace}-${name}-namespace-reader`;
  await rbac.createClusterRole({ body: { metadata: { name: clusterName }, rules: [{ apiGroups: [''], resources: ['namespaces'], resourceNames: [namespace], verbs: ['get'] }] } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: clusterName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  const request = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = request.status?.token;
  if (!token) throw new Error('the TokenRequest API returned no token');
  const kube = loadKubeconfig(
    renderKubeconfig({ server: serverOf(admin), caPem: inject('controlplaneCaPem'), token, user: `${namespace}-${name}`, cluster: 'controlplane', namespace }),
  );
  return { kube, user: `system:serviceaccount:${namespace}:${name}` };
}

/**
 * The admin's kubeconfig with a hook that runs just before each request the client sends: where a
 * test writes to an object between the MCP server's read and its write, as another actor in a real
 * cluster would. The hook sees the method and URL.
 */
export class InterceptingKubeConfig extends KubeConfig {
  before: ((method: string, url: URL) => Promise<void>) | undefined;

  static from(base: KubeConfig): InterceptingKubeConfig {
    const kc = new InterceptingKubeConfig();
    kc.loadFromString(base.exportConfig());
    return kc;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const hook = this.before;
    if (hook) await hook(String(context.getHttpMethod()), new URL(context.getUrl()));
    return super.applySecurityAuthentication(context);
  }
}
