// Durable verification: an executor process is killed (SIGKILL) after it executed a scale and before
// it verified it. A new process finds the verification pending in the audit log and finishes it: the
// service did not recover, so the compensating action recorded before execution fires, is granted by
// the gateway and executed — once, although the dead process's grant is redelivered too. Beyond the
// budget, the compensation is not fired blindly: the record says so and the channel is told.
import { randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { OutboxRelay } from '../../src/audit/outbox-relay.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { recordOfEvent } from '../../src/audit/records.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { PrefixedEventBus } from '../../src/bus/prefixed-event-bus.ts';
import { RedisEventBus } from '../../src/bus/redis-event-bus.ts';
import { STREAMS, type Proposal } from '../../src/contracts/events.ts';
import { RealClock, VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { ApprovalDesk, NO_GROUPS } from '../../src/governance/approvals.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { lifeOf } from '../../src/governance/proposal-life.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { startKubeApiServer } from '../../src/twin/kube-api-server.ts';
import { buildScenario } from '../../src/twin/scenarios/index.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { RecordingNotifier, proposal } from '../integration/harness.ts';
import { launchExecutor } from './fixtures/launch-executor.ts';
import type { PendingVerification } from '../../src/audit/audit-store.ts';

const REDIS = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const logger = silentLogger();
/**
 * The cluster's and the MCP server's clock: real time while the doomed process runs, then the
 * surviving process's clock, so the server's cooldowns and grant expiry see the time it acts in.
 */
class ShiftedClock extends RealClock {
  source: VirtualClock | undefined;
  override now(): number {
    return this.source ? this.source.now() : Date.now();
  }
}
const realClock = new ShiftedClock();
const schema = `resume_${randomUUID().slice(0, 8)}`;
const prefixes: string[] = [];
let prefix: string;
const keys = generateGrantKeys('resume');
const token = randomBytes(16).toString('hex');

let closers: (() => Promise<unknown>)[] = [];
let perTest: (() => Promise<unknown>)[] = [];
let audit: PgAuditStore;
let bus: PrefixedEventBus;
let mcpUrl: string;
let twin: ReturnType<typeof buildScenario>['twin'];
let kubeconfig: string;

beforeAll(async () => {
  twin = buildScenario('steady-state', realClock).twin; // the seed cluster, nothing wrong with it: what changes is what the test does
  const api = await startKubeApiServer(twin, { logger });
  kubeconfig = api.kubeconfig();
  audit = new PgAuditStore({ connectionString: PG, schema, poolSize: 4 });
  await audit.migrate();
  closers = [() => api.close(), () => audit.close()];
}, 60_000);

// Each test: its own bus streams and its own MCP server (and so its own cooldown state), since the
// tests move the clock.
beforeEach(async () => {
  prefix = `resume-${randomUUID().slice(0, 8)}:`;
  prefixes.push(prefix);
  realClock.source = undefined;
  twin.scale('acme-prod', 'checkout', 8);
  const mcp = await startKubernetesMcpHttp({
    kube: loadKubeconfig(kubeconfig), sharedState: new MemorySharedState(), clock: realClock, logger,
    grantPublicKeys: new Map<string, KeyObject>([['resume', keys.publicKey]]),
    tokens: new Map([[token, { agent: 'elastik', namespaces: ['acme-prod'] }]]),
  });
  mcpUrl = mcp.url;
  bus = new PrefixedEventBus(new RedisEventBus({ url: REDIS, logger }), prefix);
  perTest = [() => mcp.close(), () => bus.close()];
});

afterEach(async () => {
  for (const c of perTest.reverse()) await c().catch(() => undefined);
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined);
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await c.end();
  const r = new Redis(REDIS);
  for (const p of prefixes) {
    const found = await r.keys(`${p}*`);
    if (found.length) await r.del(...found);
  }
  r.disconnect();
});

async function until(cond: () => Promise<boolean> | boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Moves a process's clock a sample at a time, letting each sample's work finish, until `cond`. */
async function stepUntil(clock: VirtualClock, cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    if (await cond()) return;
    await clock.advance(15_000);
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: not after 300 simulated seconds`);
}

/** A scale the service cannot be saved by: its p99 must fall by 95 %, to 50 ms. */
function hopelessScale(to: number, from: number): Proposal {
  return proposal({
    params: { from_replicas: from, to_replicas: to },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 2.5 },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: to } },
    compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: from } },
    verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 50, min_improvement_pct: 95, window_s: 60 },
  });
}

/**
 * A hopeless scale executed by a process killed before it could verify it: what the next process
 * finds, a verification pending in the log.
 */
async function executedThenKilled(): Promise<{ p: Proposal; pending: PendingVerification }> {
  realClock.source = undefined;
  const p = hopelessScale(9, 8);
  await new AuditRecorder(audit, () => {}).record(recordOfEvent<'proposal'>({ ...p, ts: new Date().toISOString() }, { reasoning_mode: 'rule-based', tool_calls: [] }));
  const doomed = launchExecutor({ redis: REDIS, prefix, pg: PG, schema, mcp: mcpUrl, token });
  try {
    await until(() => doomed.lines.includes('READY'), 'the executor process to start');
    const grant = issueGrant(keys, {
      proposal_id: p.id, agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
      tool: 'scale_deployment', args: p.tool_call.args, basis: 'policy', nowMs: Date.now(), ttlMs: 120_000,
    });
    await bus.publish(STREAMS.grant, grant);
    await until(() => doomed.lines.includes(`EXECUTED ${grant.id}`), 'the execution');
    doomed.child.kill('SIGKILL');
    await new Promise((r) => doomed.child.once('exit', r));
  } finally {
    doomed.child.kill('SIGKILL');
  }
  const pending = (await audit.pendingVerifications()).find((v) => v.proposal_id === p.id);
  if (!pending) throw new Error('the killed process left no verification pending');
  return { p, pending };
}

/** A new process: gateway, executor and verifier on the same log and bus, in its own clock. */
async function survivor(clock: VirtualClock) {
  realClock.source = clock;
  const relay = new OutboxRelay(audit, bus, logger, 50);
  const recorder = new AuditRecorder(audit, () => void relay.nudge());
  const tools = await connectMcp({ url: mcpUrl, token, name: 'elastik' });
  const tracker = new WorkTracker();
  const notifier = new RecordingNotifier();
  const tenants = loadTenants();
  const gateway = new Gateway({
    audit, recorder, policy: await WasmPolicyEngine.fromBundle(), autonomy: new AutonomyLevels('govern'), tenants, keys, clock, logger,
    approvals: { requestApproval: async () => { throw new Error('no approval expected'); } },
    desk: new ApprovalDesk({ audit, recorder, tenants, defaults: { approvers: [], rules: [] }, operators: { pause: ['*'], set_level: [], override_freeze: [] }, directory: NO_GROUPS, clock, logger }),
    notifier, sharedState: new MemorySharedState(),
  });
  const verifier = new Verifier({ tools, recorder, audit, clock, tracker, logger, notifier });
  const executor = new Executor({ agent: 'elastik', consumer: 'survivor', tools, audit, recorder, verifier, notifier, clock, logger });
  const executed: string[] = [];
  relay.start();
  const subs = [
    bus.subscribe(STREAMS.rollback, { group: 'gateway', consumer: 'survivor', blockMs: 100 }, (m) => gateway.onMessage(m)),
    bus.subscribe(STREAMS.grant, { group: 'executor-elastik', consumer: 'survivor', blockMs: 100, claimIdleMs: 300 }, async (m) => {
      if (m.event.type === 'grant') executed.push(m.event.basis);
      await executor.onMessage(m);
    }),
  ];
  return {
    clock,
    verifier,
    notifier,
    executed,
    async stop() {
      await Promise.all(subs.map((s) => s.stop()));
      await relay.stop();
      await tools.close();
    },
  };
}

const replicas = () => twin.getDeployment('acme-prod', 'checkout')!.spec!.replicas;

describe('verification survives the process that began it', () => {
  it('a process killed between execution and verification: a new one verifies, and compensates the scale that did not help', async () => {
    const { p, pending } = await executedThenKilled();
    expect(replicas()).toBe(9);
    expect(pending.plan).toMatchObject({ level: 3, of: 'action' });
    expect(Date.parse(pending.plan.deadline) - Date.parse(pending.plan.started_at)).toBe(5 * 60_000);

    // The new process starts a minute after the deadline: the verification is overdue, within one more budget.
    const s = await survivor(new VirtualClock(Date.parse(pending.plan.deadline) + 60_000));
    try {
      expect(await s.verifier.resume()).toEqual({ resumed: 0, overdue: 1 });
      await until(() => replicas() === 8, 'the compensating scale back to 8');
      await until(async () => (await bus.backlog()) === 0, 'every message handled');
      // The compensation is verified in turn: back to where the service was before the scale.
      await until(async () => (await audit.pendingVerifications()).some((v) => v.proposal_id === p.id && v.plan.of === 'compensation'), 'the compensation watched');
      await stepUntil(s.clock, async () => lifeOf(await audit.list({ proposal_id: p.id }))!.compensationVerification !== undefined, 'the compensation judged');
    } finally {
      await s.stop();
    }
    const life = lifeOf(await audit.list({ proposal_id: p.id }))!;
    expect(life.verification).toMatchObject({ outcome: 'not_helped' });
    expect(life.compensationVerification).toMatchObject({ outcome: 'restored', of: 'compensation' });
    expect(life.rollback).toBeDefined();
    expect(life.executions.map((e) => [e.status, e.compensation_for ?? null])).toEqual([['succeeded', null], ['succeeded', p.id]]);
    const [verification] = await audit.list({ proposal_id: p.id, kind: 'verification' });
    expect(verification!.payload).toMatchObject({ compensation: 'requested', note: expect.stringMatching(/resumed after a restart: its deadline passed 60 s ago/) });
    expect(s.notifier.texts.join('\n')).not.toMatch(/did not bring it back/);
    // The dead process's grant came back to the survivor and was not executed again.
    expect(s.executed.filter((b) => b === 'policy')).toHaveLength(1);
    expect(await audit.pendingVerifications()).toEqual([]);
    // A second process resuming finds nothing left to do.
    const again = await survivor(new VirtualClock(Date.parse(pending.plan.deadline) + 90_000));
    try {
      expect(await again.verifier.resume()).toEqual({ resumed: 0, overdue: 0 });
    } finally {
      await again.stop();
    }
  }, 90_000);

  it('before its deadline, a resumed verification is watched as if never interrupted', async () => {
    const { p, pending } = await executedThenKilled();
    const clock = new VirtualClock(Date.parse(pending.plan.started_at) + 60_000);
    const s = await survivor(clock);
    try {
      expect(await s.verifier.resume()).toEqual({ resumed: 1, overdue: 0 });
      // Nothing is judged before the budget runs out (the criterion cannot be met) ...
      for (let t = 60_000; t < 285_000; t += 15_000) await clock.advance(15_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(await audit.list({ proposal_id: p.id, kind: 'verification' })).toEqual([]);
      // ... and at the budget's end, the compensating action fires.
      await clock.advance(30_000);
      await until(() => replicas() === 8, 'the compensating scale back to 8');
      await until(async () => (await audit.pendingVerifications()).some((v) => v.proposal_id === p.id && v.plan.of === 'compensation'), 'the compensation watched');
      await stepUntil(clock, async () => (await audit.pendingVerifications()).length === 0, 'the compensation judged');
    } finally {
      await s.stop();
    }
    const [verification] = await audit.list({ proposal_id: p.id, kind: 'verification' });
    expect(verification!.payload).toMatchObject({ verification: { outcome: 'not_helped' }, compensation: 'requested' });
  }, 90_000);

  it('long past its deadline, the compensation is not fired blindly: the record says why, and the channel is told', async () => {
    const { p, pending } = await executedThenKilled();
    const s = await survivor(new VirtualClock(Date.parse(pending.plan.deadline) + 60 * 60_000));
    try {
      expect(await s.verifier.resume()).toEqual({ resumed: 0, overdue: 1 });
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await s.stop();
    }
    expect(replicas()).toBe(9);
    const life = lifeOf(await audit.list({ proposal_id: p.id }))!;
    expect(life.rollback).toBeUndefined();
    const [verification] = await audit.list({ proposal_id: p.id, kind: 'verification' });
    expect(verification!.payload).toMatchObject({ verification: { outcome: 'not_helped' }, compensation: 'not_fired', note: expect.stringMatching(/a human must decide/) });
    expect(s.notifier.texts.join('\n')).toMatch(/did not help, and resumed after a restart: .* a human must decide\. The recorded compensating action: scale_deployment/);
  }, 90_000);
});
