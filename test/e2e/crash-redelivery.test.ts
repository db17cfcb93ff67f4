// "A redelivered proposal or grant never executes twice": a real executor process is killed with
// SIGKILL after it has acted and before it acknowledged; Redis redelivers the grant to another
// consumer, which must not act again. The same for the gateway and a proposal. Real Redis, real
// PostgreSQL, the real MCP server over HTTP, the twin as the cluster.
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import { recordOfEvent } from '../../src/audit/records.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { OutboxRelay } from '../../src/audit/outbox-relay.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { PrefixedEventBus } from '../../src/bus/prefixed-event-bus.ts';
import { RedisEventBus } from '../../src/bus/redis-event-bus.ts';
import { STREAMS } from '../../src/contracts/events.ts';
import { RealClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { ApprovalDesk, NO_GROUPS } from '../../src/governance/approvals.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario, type Scenario } from '../../src/twin/scenarios/index.ts';
import { proposal, rollbackProposal } from '../integration/harness.ts';
import { launchExecutor } from './fixtures/launch-executor.ts';

const REDIS = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const logger = silentLogger();
const clock = new RealClock();
const schema = `crash_${randomUUID().slice(0, 8)}`;
const prefix = `crash-${randomUUID().slice(0, 8)}:`;
const keys = generateGrantKeys('crash');
const token = randomBytes(16).toString('hex');

let closers: (() => Promise<unknown>)[] = [];
let audit: PgAuditStore;
let bus: PrefixedEventBus;
let mcpUrl: string;
let twin: Scenario['twin'];
let scaleCalls = 0;

beforeAll(async () => {
  const scenario = buildScenario('jvm-heap-regression', clock);
  twin = scenario.twin;
  const api = await startKubeApiServer(twin, { logger });
  const kube = loadKubeconfig(api.kubeconfig());
  const mcp = await startKubernetesMcpHttp({
    kube, sharedState: new MemorySharedState(), clock, logger,
    grantPublicKeys: new Map<string, KeyObject>([['crash', keys.publicKey]]),
    tokens: new Map([[token, { agent: 'elastik', namespaces: ['acme-prod'] }]]),
  });
  mcpUrl = mcp.url;
  audit = new PgAuditStore({ connectionString: PG, schema, poolSize: 4 });
  await audit.migrate();
  bus = new PrefixedEventBus(new RedisEventBus({ url: REDIS, logger }), prefix);
  // Count scale calls as the cluster sees them: every change of the replica count.
  const original = twin.scale.bind(twin);
  twin.scale = ((...args: Parameters<typeof original>) => {
    scaleCalls++;
    return original(...args);
  }) as typeof twin.scale;
  closers = [() => api.close(), () => mcp.close(), () => bus.close(), () => audit.close()];
}, 60_000);

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
  const r = new Redis(REDIS);
  const found = await r.keys(`${prefix}*`);
  if (found.length) await r.del(...found);
  r.disconnect();
});

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const startDoomedExecutor = () => launchExecutor({ redis: REDIS, prefix, pg: PG, schema, mcp: mcpUrl, token });

describe('a consumer killed mid-message', () => {
  it('a redelivered grant never executes twice', async () => {
    const p = proposal();
    const recorder = new AuditRecorder(audit, () => {});
    await recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
    const grant = issueGrant(keys, {
      proposal_id: p.id, agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
      tool: 'scale_deployment', args: p.tool_call.args, basis: 'policy', nowMs: clock.now(), ttlMs: 120_000,
    });

    const doomed = startDoomedExecutor();
    try {
      await until(() => doomed.lines.includes('READY'), 'the executor process to start');
      await bus.publish(STREAMS.grant, grant);
      await until(() => doomed.lines.includes(`EXECUTED ${grant.id}`), 'the first execution');
      expect(scaleCalls).toBe(1);
      doomed.child.kill('SIGKILL');
      await new Promise((r) => doomed.child.once('exit', r));
    } finally {
      doomed.child.kill('SIGKILL');
    }

    // A healthy replica of the executor takes over the dead consumer's pending grant.
    const tools = await connectMcp({ url: mcpUrl, token, name: 'elastik' });
    const tracker = new WorkTracker();
    const executor = new Executor({
      agent: 'elastik', consumer: 'survivor', tools, audit, recorder,
      verifier: new Verifier({ tools, recorder, audit, clock, tracker, logger }),
      notifier: { notify: async () => {} }, clock, logger,
    });
    const deliveries: number[] = [];
    const sub = bus.subscribe(STREAMS.grant, { group: 'executor-elastik', consumer: 'survivor', blockMs: 100, claimIdleMs: 300 }, async (msg) => {
      deliveries.push(msg.deliveries);
      await executor.onMessage(msg);
    });
    try {
      await until(() => deliveries.length > 0, 'the redelivery');
      await until(async () => (await bus.backlog()) === 0, 'the acknowledgement');
    } finally {
      await sub.stop();
      await tools.close();
    }
    expect(deliveries[0]).toBeGreaterThanOrEqual(2);
    expect(scaleCalls).toBe(1);
    expect(twin.getDeployment('acme-prod', 'checkout')?.spec?.replicas).toBe(12);
    const results = await audit.list({ proposal_id: p.id, kind: 'execution_result' });
    expect(results).toHaveLength(1);
  }, 90_000);

  it('a redelivered proposal is decided and granted once', async () => {
    const p = rollbackProposal();
    const relayBus = bus;
    const policy = await WasmPolicyEngine.fromBundle();
    const relay = new OutboxRelay(audit, relayBus, logger, 50);
    const recorder = new AuditRecorder(audit, () => void relay.nudge());
    const requests: string[] = [];
    const gateway = () =>
      new Gateway({
        audit, recorder, policy, autonomy: new AutonomyLevels('govern'), tenants: loadTenants(), keys, clock, logger,
        approvals: { requestApproval: async (pp) => { requests.push(pp.id); return { ts: '1' }; } },
        desk: new ApprovalDesk({
          audit, recorder, tenants: loadTenants(), defaults: { approvers: ['U1'], rules: [] }, operators: { pause: ['*'], set_level: [], override_freeze: [] },
          directory: NO_GROUPS, clock, logger,
        }),
        notifier: { notify: async () => {} }, sharedState: new MemorySharedState(),
      });
    await recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
    await bus.publish(STREAMS.proposal, p);

    // First gateway consumer decides, asks for approval, then dies before acknowledging.
    let handled = false;
    const first = bus.subscribe(STREAMS.proposal, { group: 'gateway', consumer: 'g1', blockMs: 100 }, async (msg) => {
      await gateway().onMessage(msg);
      handled = true;
      await new Promise(() => {});
    });
    await until(() => handled, 'the first gateway');
    await first.abort();

    const seen: number[] = [];
    let finished = 0;
    const second = bus.subscribe(STREAMS.proposal, { group: 'gateway', consumer: 'g2', blockMs: 100, claimIdleMs: 300 }, async (msg) => {
      seen.push(msg.deliveries);
      await gateway().onMessage(msg);
      finished++;
    });
    try {
      // (The aborted handler still hangs in this process, so the bus backlog never reaches 0 here.)
      await until(() => finished > 0, 'the redelivered proposal to be handled');
    } finally {
      await second.stop();
      await relay.stop();
    }
    expect(seen[0]).toBeGreaterThanOrEqual(2);
    expect(requests).toEqual([p.id]);
    const kinds = (await audit.list({ proposal_id: p.id })).map((r) => r.kind);
    expect(kinds).toEqual(['proposal', 'decision', 'approval_requested']);
  }, 60_000);
});
