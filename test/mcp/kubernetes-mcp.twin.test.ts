// The shared MCP suite against the cluster twin's Kubernetes API (scenario jvm-heap-regression):
// the same HTTP API, the same client-node, the numbers the demo runs on.
import { describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { JVM_OPTIONS_ANNOTATION } from '../../src/twin/kube-objects.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { kubernetesMcpSuite, type ClusterUnderTest } from './kubernetes-mcp.case.ts';

async function twinCluster(): Promise<ClusterUnderTest> {
  const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
  const scenario = buildScenario('jvm-heap-regression', clock);
  const target = scenario.targets[0]!;
  scenario.twin.start();
  const api = await startKubeApiServer(scenario.twin, { port: 0 });
  return {
    kube: loadKubeconfig(api.kubeconfig()),
    clock,
    tenant: target.tenant,
    namespace: target.namespace,
    deployment: target.deployment,
    otherNamespace: 'globex-prod',
    advance: (ms) => clock.advance(ms),
    async truth() {
      const service = scenario.twin.serviceMetrics(target.namespace, target.deployment);
      const pods = Object.fromEntries(
        scenario.twin
          .podMetrics(target.namespace, target.deployment)
          .map((p) => [p.pod, { gc_pause_ms_per_min: p.gc_pause_ms_per_min, memory_utilisation: p.memory_utilisation }]),
      );
      return { p99_ms: service.p99_ms, rps: service.rps, pods };
    },
    async close() {
      scenario.twin.stop();
      await api.close();
    },
  };
}

kubernetesMcpSuite('cluster twin, jvm-heap-regression', twinCluster, () => new MemorySharedState());

describe('rollback_deployment on the twin brings back the healthy JVM settings', () => {
  it('restores revision 1 (JVM options) and the SLO, as seen through get_pod_metrics', async () => {
    const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
    const scenario = buildScenario('jvm-heap-regression', clock);
    const slo = scenario.targets[0]!.sloP99Ms;
    const goodTemplate = scenario.twin.templateOfRevision('acme-prod', 'checkout', 1)!;
    const sickPods = scenario.sickPods['acme-prod/checkout']!;
    scenario.twin.start();
    const api = await startKubeApiServer(scenario.twin, { port: 0 });
    const keys = generateGrantKeys('k');
    const mcp = await startKubernetesMcpHttp({
      kube: loadKubeconfig(api.kubeconfig()),
      sharedState: new MemorySharedState(),
      clock,
      grantPublicKeys: new Map([['k', keys.publicKey]]),
      tokens: new Map([['elastik-token', { agent: 'elastik', namespaces: ['acme-prod'] }]]),
    });
    const elastik = await connectMcp({ url: mcp.url, token: 'elastik-token', name: 'elastik' });
    try {
      const target = { namespace: 'acme-prod', deployment: 'checkout' };
      await clock.advance(3 * 60_000);
      const sick = await elastik.callTool<{ service: { p99_ms: number }; deployment: { revision: number } }>('get_pod_metrics', target);
      if (!sick.ok) throw new Error(sick.message);
      expect(sick.data.service.p99_ms).toBeGreaterThan(slo);

      const args = { ...target, to_revision: 1 };
      const grant = issueGrant(keys, {
        proposal_id: 'p-rollback', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
        tool: 'rollback_deployment', args, basis: 'approval', nowMs: clock.now(), ttlMs: 15 * 60_000,
      });
      expect(await elastik.callTool('rollback_deployment', { ...args, grant })).toMatchObject({ ok: true, data: { from_revision: 2, to_revision: 1 } });
      const jvm = (t: { metadata?: { annotations?: Record<string, string> } } | undefined) => t?.metadata?.annotations?.[JVM_OPTIONS_ANNOTATION];
      expect(jvm(scenario.twin.getDeployment('acme-prod', 'checkout')!.spec.template)).toBe(jvm(goodTemplate));

      await clock.advance(5 * 60_000);
      const healed = await elastik.callTool<{
        service: { p99_ms: number };
        deployment: { revision: number; template_annotations: Record<string, string> };
        pods: Array<{ pod: string; revision: number }>;
      }>('get_pod_metrics', target);
      if (!healed.ok) throw new Error(healed.message);
      expect(healed.data.deployment.template_annotations[JVM_OPTIONS_ANNOTATION]).toBe(jvm(goodTemplate));
      expect(healed.data.pods.every((p) => p.revision === healed.data.deployment.revision)).toBe(true);
      expect(healed.data.pods.some((p) => sickPods.includes(p.pod))).toBe(false);
      expect(healed.data.service.p99_ms).toBeLessThan(slo);
    } finally {
      await elastik.close();
      await mcp.close();
      scenario.twin.stop();
      await api.close();
    }
  });
});
