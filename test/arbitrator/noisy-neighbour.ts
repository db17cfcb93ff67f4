// Test fixture: two nodes shared by three tenants (test/fixtures/scenarios/shared-node.json), where
// initech's batch job can be switched on to burn 3.5 cores next to acme's checkout (node-a), served
// over HTTP as a Kubernetes API. globex also runs a pod on node-a, but no test session covers its
// namespace: its pod names must never come back from the Billing server.
import { VirtualClock } from '../../src/core/clock.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildFixture } from '../fixtures/scenario.ts';

export const START = Date.parse('2026-11-24T10:00:00Z');

export interface NoisyCluster {
  clock: VirtualClock;
  twin: ClusterTwin;
  api: KubeApiServer;
  kube: ReturnType<typeof loadKubeconfig>;
  /** Switches initech's batch job on, on node-a: requests 500m, limit 4, burns 3.5 cores. */
  startBatch(): void;
  close(): Promise<void>;
}

export async function noisyCluster(opts: { batch?: boolean } = {}): Promise<NoisyCluster> {
  const clock = new VirtualClock(START);
  const { twin } = buildFixture('shared-node', clock);
  // The batch job is deployed with no replicas; switching it on is scaling it to its one pod.
  const startBatch = () => void twin.scale('initech-prod', 'batch', 1);
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
