// The twin's CFS throttling: a workload whose requests burst over more cores than its CPU limit is
// frozen for the rest of each period in which it outruns its quota, so its latency follows the limit
// rather than the load per pod; a workload without bursts is modelled exactly as before. And the
// signal reaches Governor as a cluster would give it: the custom metric through the Kubernetes API,
// get_pod_metrics over MCP (with the template's containers, which patch_resource_limits changes).
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { generateGrantKeys } from '../../src/governance/grants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { DEFAULT_WORKLOAD, cfsThrottling, mixtureQuantile, podPerformance, type PodConditions, type Workload } from '../../src/twin/performance-model.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { DeploymentMetrics } from '../../agents/runtime/cluster-views.ts';

const fanOut: Workload = { ...DEFAULT_WORKLOAD, baseLatencyMs: 20, rpsPerCore: 12, burstCores: 8 };
const pod = (rps: number, cpuLimitCores: number, workload = fanOut): PodConditions => ({ rps, cpuLimitCores, memoryLimitBytes: 2 ** 30, jvm: undefined, workload });
const p99 = (c: PodConditions) => mixtureQuantile([{ weight: 1, perf: podPerformance({ fill: 0, allocationSkew: 1 }, c) }], 0.99);

describe('CFS throttling in the performance model', () => {
  it('a request that outruns its quota alone waits a freeze; the share of throttled periods grows with the load', () => {
    // 83 ms of CPU on 8 threads under 500m: the 50 ms quota runs out in every period a request runs in.
    const t = cfsThrottling(1, 0.5, 1000 / 12, 8)!;
    expect(t.pauseMs).toBeCloseTo(93.75);
    expect(t.ratio).toBeCloseTo(1 - Math.exp(-0.1), 3);
    expect(t.waits[0]).toBe(0);
    expect(cfsThrottling(4, 0.5, 1000 / 12, 8)!.ratio).toBeGreaterThan(0.3);
    // Under 1 core a lone request fits its quota; only a crowded period is throttled.
    expect(cfsThrottling(1, 1, 1000 / 12, 8)!.waits[0]).toBeGreaterThan(0.9);
    // Threads no wider than the limit never outrun it within a period; without bursts nothing is modelled.
    expect(cfsThrottling(4, 1, 1000 / 12, 1)).toBeUndefined();
    expect(cfsThrottling(4, 0.5, 1000 / 12, undefined)).toBeUndefined();
  });

  it('the limit, not the load per pod, sets the latency: twice the pods help less than twice the limit', () => {
    const breach = p99(pod(4, 0.5));
    const twicePods = p99(pod(2, 0.5));
    const twiceLimit = p99(pod(4, 1));
    expect(breach).toBeGreaterThan(500);
    expect(twicePods).toBeGreaterThan(400);
    expect(twiceLimit).toBeLessThan(0.5 * twicePods);
    expect(podPerformance({ fill: 0, allocationSkew: 1 }, pod(4, 1)).throttledRatio).toBeLessThan(0.1);
  });

  it('a workload without bursts performs exactly as before (the other scenarios keep their outcomes)', () => {
    const plain = podPerformance({ fill: 0, allocationSkew: 1 }, pod(300, 1, DEFAULT_WORKLOAD));
    expect(plain.throttledRatio).toBe(0);
    expect(plain.throttle).toBeUndefined();
  });
});

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('the throttling signal, as a cluster serves it', () => {
  it('get_pod_metrics carries each pod\'s throttled share and the template\'s containers with their limits', async () => {
    const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
    const { twin } = buildScenario('cpu-throttling', clock);
    twin.start(1000);
    cleanups.push(() => twin.stop());
    const api = await startKubeApiServer(twin, { port: 0 });
    cleanups.push(() => api.close());
    const keys = generateGrantKeys('k');
    const mcp = await startKubernetesMcpHttp({
      kube: loadKubeconfig(api.kubeconfig()), sharedState: new MemorySharedState(), clock,
      grantPublicKeys: new Map([['k', keys.publicKey]]), tokens: new Map([['t', { agent: 'elastik', namespaces: ['globex-prod'] }]]),
    });
    cleanups.push(() => mcp.close());
    const tools = await connectMcp({ url: mcp.url, token: 't', name: 'elastik' });
    cleanups.push(() => tools.close());
    const read = async () => {
      const r = await tools.callTool<unknown>('get_pod_metrics', { namespace: 'globex-prod', deployment: 'risk-scoring' });
      if (!r.ok) throw new Error(r.message);
      return DeploymentMetrics.parse(r.data);
    };
    const before = await read();
    expect(before.deployment.containers).toEqual([{ name: 'risk-scoring', requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '500m', memory: '1Gi' } }]);
    for (const p of before.pods) expect(p.cpu_throttled_ratio).toBeLessThan(0.15);
    await clock.advance(4 * 60_000); // the quarter-end batch has landed
    const during = await read();
    for (const p of during.pods) expect(p.cpu_throttled_ratio).toBeGreaterThan(0.25);
    // A plain workload reports no throttling, not a missing signal.
    const plain = await tools.callTool<{ pods: { cpu_throttled_ratio: number | null }[] }>('get_pod_metrics', { namespace: 'globex-prod', deployment: 'quotes-api' });
    expect(plain.ok && plain.data.pods.every((p) => p.cpu_throttled_ratio === 0)).toBe(true);
  }, 60_000);
});
