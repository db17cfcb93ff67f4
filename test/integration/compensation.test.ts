// Action rollback end to end: an executed action that does not help within its rollback budget is
// undone by the compensating action recorded before it ran — through the gateway (compensation
// grant), the executor and the real MCP server, on the twin in virtual time.
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

describe('action rollback', () => {
  it('undoes a scale that did not help within the level-3 budget, exactly as recorded', async () => {
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
});
