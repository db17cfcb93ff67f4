// Test helpers for the memory faults (memory-faults.test.ts, the node MCP tests): the memory cluster
// (test/fixtures/scenarios/memory-cluster.json: three 10 GiB nodes, acme's web and api and globex's
// shop, then an empty fourth node joining), a leaking release's template, and which pods run where.
import { VirtualClock } from '../../src/core/clock.ts';
import type { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { MEMORY_LEAK_ANNOTATION, type PodTemplateSpec } from '../../src/twin/kube-objects.ts';
import { serviceTemplate } from '../../src/twin/scenarios/service-template.ts';
import { buildFixture } from '../fixtures/scenario.ts';
import { HEALTHY_JVM } from './small-cluster.ts';

export const START = Date.parse('2026-11-24T10:00:00Z');
export const MINUTE = 60_000;

export const leakingTemplate = (name: string, image: string, mibPerMin: number): PodTemplateSpec =>
  serviceTemplate({ tenant: 'acme', name, image, jvmOptions: HEALTHY_JVM, annotations: { [MEMORY_LEAK_ANNOTATION]: String(mibPerMin) } });

export function memoryCluster(): { twin: ClusterTwin; clock: VirtualClock } {
  const clock = new VirtualClock(START);
  return { twin: buildFixture('memory-cluster', clock).twin, clock };
}

/** Pods of a namespace (Running only) on a node. */
export const runningOn = (twin: ClusterTwin, nodeName: string, namespace?: string) =>
  twin.listPods(namespace).filter((p) => p.status.phase === 'Running' && p.spec.nodeName === nodeName);
