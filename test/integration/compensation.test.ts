// Action rollback end to end: an executed action that does not help within its rollback budget is
// undone by the compensating action recorded before it ran — through the gateway (compensation
// grant), the executor and the real MCP server, on the twin in virtual time: a scale, and a raised
// CPU limit (restored through the server's own 300 s between resource changes).
import { randomBytes, type KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { recordOfEvent } from '../../src/audit/records.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { STREAMS } from '../../src/contracts/events.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys } from '../../src/governance/grants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { RecordingApprovals, RecordingNotifier, approvalDesk, field, harness, proposal } from './harness.ts';

let h: Awaited<ReturnType<typeof harness>>;
let closers: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  h = await harness();
  closers = [];
});
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  await h.close();
});

/** The twin, its Kubernetes MCP server, the gateway, an executor and a verifier, wired on the bus. */
async function rig() {
  const { twin } = buildScenario('jvm-heap-regression', h.clock);
  twin.start();
  closers.push(async () => twin.stop());
  const api = await startKubeApiServer(twin, { logger: h.logger });
  closers.push(() => api.close());
  const kube = loadKubeconfig(api.kubeconfig());
  const keys = generateGrantKeys('k');
  const token = randomBytes(8).toString('hex');
  const mcp = await startKubernetesMcpHttp({
    kube, sharedState: new MemorySharedState(), clock: h.clock, logger: h.logger,
    grantPublicKeys: new Map<string, KeyObject>([['k', keys.publicKey]]),
    tokens: new Map([[token, { agent: 'elastik', namespaces: ['acme-prod'] }]]),
  });
  closers.push(() => mcp.close());
  const tools = await connectMcp({ url: mcp.url, token, name: 'elastik' });
  closers.push(() => tools.close());

  const tracker = new WorkTracker();
  const notifier = new RecordingNotifier();
  const gateway = new Gateway({
    audit: h.audit, recorder: h.recorder, policy: h.policy, autonomy: new AutonomyLevels('govern'), tenants: h.tenants,
    keys, clock: h.clock, logger: h.logger, approvals: new RecordingApprovals(), desk: approvalDesk(h), notifier, sharedState: new MemorySharedState(),
  });
  const verifier = new Verifier({ tools, recorder: h.recorder, audit: h.audit, clock: h.clock, tracker, logger: h.logger });
  const executor = new Executor({ agent: 'elastik', consumer: 'e1', tools, audit: h.audit, recorder: h.recorder, verifier, notifier, clock: h.clock, logger: h.logger });
  const subs = [
    h.bus.subscribe(STREAMS.grant, { group: 'executor-elastik', consumer: 'e1', blockMs: 50 }, (m) => executor.onMessage(m)),
    h.bus.subscribe(STREAMS.rollback, { group: 'gateway', consumer: 'g1', blockMs: 50 }, (m) => gateway.onMessage(m)),
  ];
  closers.push(async () => Promise.all(subs.map((s) => s.stop())));
  h.relay.start();
  return { twin, tools, tracker, notifier, gateway, executor };
}

describe('action rollback', () => {
  it('undoes a scale that did not help within the level-3 budget, exactly as recorded', async () => {
    const { twin, tracker, notifier, gateway } = await rig();

    // A scale whose success criterion it cannot meet: p99 must fall by 95%.
    const p = proposal({
      params: { from_replicas: 8, to_replicas: 9 },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: 2.5 },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 9 } },
      compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 8 } },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 50, min_improvement_pct: 95, window_s: 60 },
    });
    await h.recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
    await gateway.onProposal(p);

    const settle = async () => {
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((r) => setTimeout(r, 2));
        quiet = tracker.busy === 0 && (await h.bus.backlog()) === 0 && (await h.relay.pending()) === 0 ? quiet + 1 : 0;
      }
    };
    const replicas = () => twin.getDeployment('acme-prod', 'checkout')!.spec!.replicas;
    await settle();
    expect(replicas()).toBe(9);
    for (let t = 0; t < 330_000; t += 15_000) {
      await h.clock.advance(15_000);
      await settle();
      if (t < 280_000) expect(replicas()).toBe(9);
    }

    expect(replicas()).toBe(8);
    const records = await h.audit.list({ proposal_id: p.id });
    expect(records.map((r) => r.kind)).toEqual([
      'proposal', 'decision', 'grant', 'compensating_action', 'execution_result', 'verification', 'rollback', 'grant', 'execution_result',
    ]);
    expect(field(records[5]!, 'verification')).toMatchObject({ outcome: 'not_helped' });
    // Not before the 5-minute budget of a level-3 action.
    expect(Date.parse(records[6]!.at) - Date.parse(records[4]!.at)).toBe(300_000);
    expect(field(records[7]!, 'grant')).toMatchObject({ basis: 'compensation', args: { replicas: 8 } });
    expect(field(records[8]!, 'result')).toMatchObject({ status: 'succeeded', compensation_for: p.id });
    expect(notifier.texts.some((t) => t.startsWith('Rolled back scale_deployment'))).toBe(true);
  }, 60_000);

  it('restores the previous CPU limit when the raise did not help within the level-3 budget', async () => {
    const { twin, tracker, notifier, gateway } = await rig();

    // A raise whose success criterion it cannot meet: p99 must fall by 95%, under 50 ms.
    const args = (cpu: string) => ({ namespace: 'acme-prod', deployment: 'checkout', container: 'checkout', limits: { cpu } });
    const p = proposal({
      action: 'patch_resource_limits',
      params: { container: 'checkout', resource: 'cpu', from_limit: '1000m', to_limit: '2000m', cause: 'cpu_throttling' },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
      tool_call: { server: 'kubernetes', tool: 'patch_resource_limits', args: args('2000m') },
      compensating_action: { server: 'kubernetes', tool: 'patch_resource_limits', args: args('1000m') },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 50, min_improvement_pct: 95, window_s: 60, limits: { cause: 'cpu_throttling', max_throttled_ratio: 0.15 } },
    });
    await h.recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
    await gateway.onProposal(p);

    const settle = async () => {
      for (let quiet = 0; quiet < 3; ) {
        await new Promise((r) => setTimeout(r, 2));
        quiet = tracker.busy === 0 && (await h.bus.backlog()) === 0 && (await h.relay.pending()) === 0 ? quiet + 1 : 0;
      }
    };
    const cpuLimit = () => twin.getDeployment('acme-prod', 'checkout')!.spec.template.spec.containers[0]!.resources!.limits!['cpu'];
    await settle();
    expect(cpuLimit()).toBe('2000m');
    for (let t = 0; t < 345_000; t += 15_000) {
      await h.clock.advance(15_000);
      await settle();
      if (t < 280_000) expect(cpuLimit()).toBe('2000m');
    }

    expect(cpuLimit()).toBe('1000m');
    const records = await h.audit.list({ proposal_id: p.id });
    expect(records.map((r) => r.kind)).toEqual([
      'proposal', 'decision', 'grant', 'compensating_action', 'execution_result', 'verification', 'rollback', 'grant', 'execution_result', 'verification',
    ]);
    expect(field(records[1]!, 'decision')).toMatchObject({ verdict: 'allow' });
    // The compensation is judged too: the service is back where it was before the raise.
    expect(field(records[9]!, 'verification')).toMatchObject({ of: 'compensation', outcome: 'restored' });
    expect(field(records[5]!, 'verification')).toMatchObject({ outcome: 'not_helped' });
    expect(field(records[7]!, 'grant')).toMatchObject({ basis: 'compensation', args: args('1000m') });
    expect(field(records[8]!, 'result')).toMatchObject({ status: 'succeeded', compensation_for: p.id });
    expect(notifier.texts.some((t) => t.startsWith('Rolled back patch_resource_limits'))).toBe(true);
  }, 60_000);
});
