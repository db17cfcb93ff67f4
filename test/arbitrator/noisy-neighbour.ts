// Test fixture: a two-node cluster twin shared by three tenants, where initech's batch job can be
// switched on to burn 3.5 cores next to acme's checkout (node-a), served over HTTP as a Kubernetes
// API. globex also runs a pod on node-a, but no test session covers its namespace: its pod names
// must never come back from the Billing server.
import { VirtualClock } from '../../src/core/clock.ts';
import { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import type { PodTemplateSpec } from '../../src/twin/kube-objects.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { jvmTemplate } from '../../src/twin/scenarios/jvm-heap-regression.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';

export const START = Date.parse('2026-11-24T10:00:00Z');
const DAY = 86_400_000;

function pinned(tenant: string, name: string, node: string, cpu: { request: string; limit: string }): PodTemplateSpec {
  const t = jvmTemplate(name, `registry.example/${name}:1`, '-XX:MaxRAMPercentage=70 -XX:NewRatio=2');
  t.metadata!.labels = { app: name, 'governor.io/tenant': tenant };
  t.spec['nodeSelector'] = { 'kubernetes.io/hostname': node };
  t.spec.containers[0]!.resources = { requests: { cpu: cpu.request, memory: '2Gi' }, limits: { cpu: cpu.limit, memory: '2Gi' } };
  return t;
}

export interface NoisyCluster {
  clock: VirtualClock;
  twin: ClusterTwin;
  api: KubeApiServer;
  kube: ReturnType<typeof loadKubeconfig>;
  /** Starts initech's batch job on node-a: requests 500m, limit 4, burns 3.5 cores. */
  startBatch(): void;
  close(): Promise<void>;
}

export async function noisyCluster(opts: { batch?: boolean } = {}): Promise<NoisyCluster> {
  const clock = new VirtualClock(START);
  const twin = new ClusterTwin(clock, { seed: 7, nodes: [{ name: 'node-a', cpu: 4, memory: '16Gi' }, { name: 'node-b', cpu: 4, memory: '16Gi' }] });
  for (const [ns, tenant] of [['acme-prod', 'acme'], ['initech-prod', 'initech'], ['globex-prod', 'globex']] as const) {
    twin.addNamespace(ns, { 'governor.io/tenant': tenant, 'governor.io/environment': 'production' }, START - DAY);
  }
  const half = { request: '500m', limit: '1' };
  twin.addDeployment({ namespace: 'acme-prod', name: 'checkout', replicas: 2, rps: 300, revisions: [{ template: pinned('acme', 'checkout', 'node-a', half), createdAtMs: START - DAY }] });
  twin.addDeployment({ namespace: 'initech-prod', name: 'web', replicas: 4, rps: 200, revisions: [{ template: pinned('initech', 'web', 'node-b', half), createdAtMs: START - DAY }] });
  twin.addDeployment({
    namespace: 'globex-prod',
    name: 'api',
    replicas: 1,
    rps: 40,
    revisions: [{ template: pinned('globex', 'api', 'node-a', { request: '250m', limit: '500m' }), createdAtMs: START - DAY }],
  });
  const startBatch = () =>
    twin.addDeployment({
      namespace: 'initech-prod',
      name: 'batch',
      replicas: 1,
      rps: 0,
      workload: { backgroundCpuCores: 3.5 },
      revisions: [{ template: pinned('initech', 'batch', 'node-a', { request: '500m', limit: '4' }), createdAtMs: clock.now() }],
    });
  if (opts.batch) startBatch();
  twin.start(1_000);
  const api = await startKubeApiServer(twin, { port: 0 });
  return {
    clock,
    twin,
    api,
    kube: loadKubeconfig(api.kubeconfig()),
    startBatch,
    async close() {
      twin.stop();
      await api.close();
    },
  };
}
