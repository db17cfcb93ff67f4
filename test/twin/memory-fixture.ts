// Test fixture: a small cluster for the memory faults (memory-faults.test.ts, the node MCP tests).
// Three 10 GiB nodes carry tenant acme's web (6 pods) and api (3 pods) and tenant globex's shop
// (3 pods), one of each service's pods per node or two; then a fourth, empty node joins (what the
// cluster autoscaler would add), so that moved pods have somewhere to go. All JVM pods of 2 GiB.
import { VirtualClock } from '../../src/core/clock.ts';
import { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { MEMORY_LEAK_ANNOTATION, type PodTemplateSpec } from '../../src/twin/kube-objects.ts';
import { jvmTemplate } from '../../src/twin/scenarios/jvm-heap-regression.ts';

export const HEALTHY_JVM = '-XX:+UseG1GC -XX:MaxRAMPercentage=70 -XX:NewRatio=2';
export const START = Date.parse('2026-11-24T10:00:00Z');
export const MINUTE = 60_000;
const node = (name: string) => ({ name, cpu: 8, memory: '10Gi', allocatable: { cpu: '7800m', memory: '9Gi' } });

export function leakingTemplate(name: string, image: string, mibPerMin: number): PodTemplateSpec {
  const t = jvmTemplate(name, image, HEALTHY_JVM);
  t.metadata!.annotations![MEMORY_LEAK_ANNOTATION] = String(mibPerMin);
  return t;
}

export function memoryCluster(seed = 7): { twin: ClusterTwin; clock: VirtualClock } {
  const clock = new VirtualClock(START);
  const twin = new ClusterTwin(clock, { seed, nodes: ['n1', 'n2', 'n3'].map(node) });
  twin.addNamespace('acme-prod', { 'governor.io/tenant': 'acme', 'governor.io/environment': 'production' });
  twin.addNamespace('globex-prod', { 'governor.io/tenant': 'globex', 'governor.io/environment': 'production' });
  const hourAgo = START - 60 * MINUTE;
  twin.addDeployment({ namespace: 'acme-prod', name: 'web', replicas: 6, rps: 6 * 170, revisions: [{ template: jvmTemplate('web', 'r/web:1', HEALTHY_JVM), changeCause: 'release 1', createdAtMs: hourAgo }] });
  twin.addDeployment({ namespace: 'acme-prod', name: 'api', replicas: 3, rps: 3 * 170, revisions: [{ template: jvmTemplate('api', 'r/api:1', HEALTHY_JVM), changeCause: 'release 1', createdAtMs: hourAgo }] });
  const shop = jvmTemplate('shop', 'r/shop:1', HEALTHY_JVM);
  shop.metadata!.labels!['governor.io/tenant'] = 'globex';
  twin.addDeployment({ namespace: 'globex-prod', name: 'shop', replicas: 3, rps: 3 * 120, revisions: [{ template: shop, changeCause: 'release 1', createdAtMs: hourAgo }] });
  twin.addNode(node('n4'));
  return { twin, clock };
}

/** Pods of a namespace (Running only) on a node. */
export const runningOn = (twin: ClusterTwin, nodeName: string, namespace?: string) =>
  twin.listPods(namespace).filter((p) => p.status.phase === 'Running' && p.spec.nodeName === nodeName);
