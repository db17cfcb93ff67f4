// A pause voids every grant issued before it, where grants are checked: the Kubernetes MCP server
// (real server over Streamable HTTP, on the cluster twin) and the executor. After a human raises the
// agent's level again, a grant issued from then on works.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppsV1Api } from '@kubernetes/client-node';
import { recordOfEvent } from '../../src/audit/records.ts';
import type { Proposal } from '../../src/contracts/events.ts';
import { EVENT_VERSION } from '../../src/contracts/events.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { autonomyWorld, T0, type Process } from './helpers.ts';
import { field } from '../integration/harness.ts';

const ALICE = { id: 'U0ONCALL01', name: 'alice' };
const keys = generateGrantKeys('k');

let world: Awaited<ReturnType<typeof autonomyWorld>>;
let clock: VirtualClock;
let proc: Process;
let elastik: McpToolClient;
let apps: AppsV1Api;
const closers: Array<() => Promise<unknown>> = [];

beforeEach(async () => {
  clock = new VirtualClock(T0);
  const shared = new MemorySharedState();
  world = await autonomyWorld({ clock, shared });
  proc = await world.startProcess();
  const scenario = buildScenario('jvm-heap-regression', clock);
  scenario.twin.start();
  const api = await startKubeApiServer(scenario.twin, { port: 0 });
  // The server reads the pause epoch from its shared state by default: nothing else to wire.
  const mcp = await startKubernetesMcpHttp({
    kube: loadKubeconfig(api.kubeconfig()),
    sharedState: shared,
    clock,
    grantPublicKeys: new Map([['k', keys.publicKey]]),
    tokens: new Map([['elastik-token', { agent: 'elastik', namespaces: ['acme-prod'] }]]),
  });
  elastik = await connectMcp({ url: mcp.url, token: 'elastik-token', name: 'elastik' });
  apps = loadKubeconfig(api.kubeconfig()).makeApiClient(AppsV1Api);
  closers.push(() => elastik.close(), () => mcp.close(), async () => scenario.twin.stop(), () => api.close());
});
afterEach(async () => {
  while (closers.length) await closers.pop()!();
  await world.close();
});

const replicas = async () => (await apps.readNamespacedDeployment({ name: 'checkout', namespace: 'acme-prod' })).spec?.replicas;

function grantFor(args: Record<string, unknown>, proposalId: string = randomUUID()) {
  return issueGrant(keys, {
    proposal_id: proposalId, agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
    tool: 'scale_deployment', args, basis: 'policy', nowMs: clock.now(), ttlMs: 15 * 60_000,
  });
}

describe('a grant issued before /agents-pause', () => {
  it('is refused by the Kubernetes MCP server; one issued after a later /agents-level promotion works', async () => {
    const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 10 };
    const before = grantFor(args);
    await clock.advance(1000);
    await proc.manager.pause(ALICE, 'incident 42');

    const refused = await elastik.callTool('scale_deployment', { ...args, grant: before });
    expect(refused).toMatchObject({ ok: false, code: 'grant_invalid' });
    expect(refused.ok ? '' : refused.message).toMatch(/revoked: it was issued at .* not after the pause at .*\/agents-pause/);
    expect(await replicas()).toBe(8);

    // A human raises elastik again; the gateway's next grant is issued after the pause.
    await clock.advance(1000);
    await proc.manager.setLevel('elastik', 3, ALICE, 'incident over');
    const after = grantFor(args);
    expect(await elastik.callTool('scale_deployment', { ...args, grant: after })).toMatchObject({ ok: true, data: { from_replicas: 8, to_replicas: 10 } });
    expect(await replicas()).toBe(10);
  });

  it('is refused by the executor, recorded as refused (not counted against the agent), and never reaches the server', async () => {
    const tracker = new WorkTracker();
    const notifier = { texts: [] as string[], async notify(t: string) { this.texts.push(t); } };
    const verifier = new Verifier({ tools: elastik, recorder: proc.recorder, audit: proc.audit, clock, tracker, logger: silentLogger() });
    const executor = new Executor({
      agent: 'elastik', consumer: 'test', tools: elastik, audit: proc.audit, recorder: proc.recorder, verifier, notifier,
      clock, logger: silentLogger(), pauseEpoch: world.pauseEpoch,
    });
    const record = async (p: Proposal) => proc.recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));

    const p1 = proposal(12);
    await record(p1);
    const before = grantFor(p1.tool_call.args, p1.id);
    await clock.advance(1000);
    await proc.manager.pause(ALICE);
    await executor.onGrant(before);
    const [res1] = await proc.audit.list({ proposal_id: p1.id, kind: 'execution_result' });
    expect(field(res1!, 'result')).toMatchObject({ status: 'refused', error: expect.stringMatching(/^grant_invalid: grant .* was revoked/), response: { revoked_by: 'pause' } });
    expect((await proc.audit.list({ proposal_id: p1.id })).map((r) => r.kind)).toEqual(['proposal', 'execution_result']);
    expect(await replicas()).toBe(8);
    expect(notifier.texts.join('\n')).toMatch(/not executed: grant .* was revoked/);
    // Redelivered: claimed already, nothing more happens.
    await executor.onGrant(before);
    expect(await proc.audit.list({ proposal_id: p1.id, kind: 'execution_result' })).toHaveLength(1);

    await clock.advance(1000);
    await proc.manager.setLevel('elastik', 3, ALICE);
    const p2 = proposal(12);
    await record(p2);
    await executor.onGrant(grantFor(p2.tool_call.args, p2.id));
    const [res2] = await proc.audit.list({ proposal_id: p2.id, kind: 'execution_result' });
    expect(field(res2!, 'result')).toMatchObject({ status: 'succeeded' });
    expect(await replicas()).toBe(12);
  });
});

function proposal(to: number): Proposal {
  const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: to };
  return {
    id: randomUUID(), v: EVENT_VERSION, ts: new Date(clock.now()).toISOString(), type: 'proposal', agent: 'elastik', tenant: 'acme',
    namespace: 'acme-prod', action: 'scale_deployment', target: { kind: 'Deployment', name: 'checkout' }, params: { from_replicas: 8, to_replicas: to },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args },
    compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { ...args, replicas: 8 } },
    verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 500, min_improvement_pct: 20, window_s: 120 },
    reasoning: ['p99 above SLO'], llm: 'unavailable',
  };
}
