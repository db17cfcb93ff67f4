// Test helper: a scenario-less cluster for tests of the twin itself — one namespace, one JVM
// deployment with a healthy heap, nothing going wrong — shaped per test through options (replicas,
// load, seed, nodes, noise), which is why it is code and not a scenario file. It must stay boring.
import type { Clock } from '../../src/core/clock.ts';
import { ClusterTwin, type ClusterTwinOptions } from '../../src/twin/cluster-twin.ts';
import { serviceTemplate } from '../../src/twin/scenarios/service-template.ts';

export const HEALTHY_JVM = '-XX:+UseG1GC -XX:MaxRAMPercentage=70 -XX:NewRatio=2';

export interface SmallClusterOptions extends ClusterTwinOptions {
  namespace?: string;
  deployment?: string;
  replicas?: number;
  /** Requests per second offered to the deployment. */
  rps?: number;
  jvmOptions?: string;
}

export function buildSmallCluster(clock: Clock, opts: SmallClusterOptions = {}): { twin: ClusterTwin; namespace: string; deployment: string } {
  const namespace = opts.namespace ?? 'team-a';
  const deployment = opts.deployment ?? 'web';
  const replicas = opts.replicas ?? 4;
  const twin = new ClusterTwin(clock, opts);
  const start = clock.now();
  twin.addNamespace(namespace, { 'governor.io/tenant': 'team-a', 'governor.io/environment': 'staging' }, start - 30 * 86_400_000);
  twin.addDeployment({
    namespace,
    name: deployment,
    replicas,
    rps: opts.rps ?? replicas * 150,
    revisions: [
      {
        template: serviceTemplate({ tenant: 'team-a', name: deployment, image: `registry.example/${deployment}:1.0.0`, jvmOptions: opts.jvmOptions ?? HEALTHY_JVM }),
        changeCause: 'release 1.0.0',
        createdAtMs: start - 86_400_000,
      },
    ],
  });
  return { twin, namespace, deployment };
}
