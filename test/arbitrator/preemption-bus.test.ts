// Priority and preemption as the system runs them, over the in-memory bus and over real Redis
// Streams: proposals leave through the outbox, the gateway consumes them in its group; a tenant
// whose burn passes 1.5x gets priority (the Arbitrator's watch records it), a competing proposal of
// another tenant on the same node is decided but its grant is held back (`preempted`, no grant on
// the bus), while a proposal for the tenant with priority is granted at once after the check; when
// the priority is lowered the preempted proposal is granted, once, and its grant reaches the bus.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PriorityWatch } from '../../agents/arbitrator/priority-watch.ts';
import { OutboxRelay } from '../../src/audit/outbox-relay.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { entryOfEvent } from '../../src/audit/records.ts';
import type { EventBus, Subscription } from '../../src/bus/event-bus.ts';
import { MemoryEventBus } from '../../src/bus/memory-event-bus.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { PrefixedEventBus } from '../../src/bus/prefixed-event-bus.ts';
import { RedisEventBus } from '../../src/bus/redis-event-bus.ts';
import { STREAMS, type Grant, type Proposal } from '../../src/contracts/events.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { ArbitrationGate } from '../../src/governance/arbitration-gate.ts';
import type { NodeShare, TenancyFacts } from '../../src/governance/arbitration.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys } from '../../src/governance/grants.ts';
import type { LiveBurn } from '../../src/governance/live-burn.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { REDIS_URL, waitFor } from '../governance/helpers.ts';
import { PG_URL, T0, approvalDesk, proposal, RecordingApprovals, RecordingNotifier } from '../integration/harness.ts';
import pg from 'pg';
import { GovernorError } from '../../src/core/errors.ts';

/** node-a as the cluster would say: acme's checkout within its requests, initech's batch beside it. */
class NodeA implements TenancyFacts {
  /** A terminal failure to throw instead of answering (a cluster that will not say). */
  failure: Error | undefined;
  async tenancy(namespace: string, deployment: string): Promise<NodeShare[]> {
    if (this.failure) throw this.failure;
    if (!['acme-prod/checkout', 'initech-prod/batch'].includes(`${namespace}/${deployment}`)) throw new Error(`unscripted tenancy read: ${namespace}/${deployment}`);
    const w = (ns: string, d: string, pods: number, use: number) => ({ namespace: ns, deployment: d, pods, pod_cpu_request_millicores: 500, pod_cpu_limit_millicores: 1000, cpu_request_millicores: pods * 500, cpu_usage_millicores: use });
    return [{
      node: 'node-a', allocatable_cpu_millicores: 8000, cpu_usage_millicores: 1600,
      tenants: [
        { tenant: 'acme', cpu_request_millicores: 1000, cpu_usage_millicores: 900, workloads: [w('acme-prod', 'checkout', 2, 900)] },
        { tenant: 'initech', cpu_request_millicores: 500, cpu_usage_millicores: 700, workloads: [w('initech-prod', 'batch', 1, 700)] },
      ],
    }];
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function world(kind: 'memory' | 'redis', facts = new NodeA(), phase: 'assist' | 'govern' = 'govern') {
  const schema = `arb_${randomUUID().slice(0, 8)}`;
  const audit = new PgAuditStore({ connectionString: PG_URL, schema, poolSize: 4 });
  await audit.migrate();
  const bus: EventBus = kind === 'redis' ? new PrefixedEventBus(new RedisEventBus({ url: REDIS_URL }), `test-arb-${randomUUID().slice(0, 8)}:`) : new MemoryEventBus();
  const logger = silentLogger();
  const relay = new OutboxRelay(audit, bus, logger, 20);
  relay.start();
  const recorder = new AuditRecorder(audit, () => void relay.nudge());
  const clock = new VirtualClock(T0);
  const tenants = loadTenants();
  const notifier = new RecordingNotifier();
  const h = { audit, recorder, clock, tenants, logger };
  const desk = approvalDesk(h as Parameters<typeof approvalDesk>[0]);
  const gateway = new Gateway({
    audit, recorder, policy: await WasmPolicyEngine.fromBundle(), autonomy: new AutonomyLevels(phase), tenants, keys: generateGrantKeys('k'), clock, logger,
    approvals: new RecordingApprovals(), desk, notifier, sharedState: new MemorySharedState(), conflictWaitMs: 300,
    arbitration: new ArbitrationGate({ audit, tenants, facts, clock, logger }),
  });
  const burns = new Map<string, LiveBurn>();
  const watch = new PriorityWatch({ burns: { of: (t) => burns.get(t) }, tenants, recorder, clock, logger, notifier });
  const subs: Subscription[] = [bus.subscribe(STREAMS.proposal, { group: 'gateway', consumer: 'c1', blockMs: 50, claimIdleMs: 2_000 }, (m) => gateway.onMessage(m))];
  const grants: Grant[] = [];
  subs.push(bus.subscribe(STREAMS.grant, { group: 'executor', consumer: 'c1', blockMs: 50 }, async (m) => void (m.event.type === 'grant' && grants.push(m.event))));
  cleanups.push(async () => {
    for (const s of subs) await s.stop();
    await relay.stop();
    await bus.close();
    await audit.close();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });
  const publish = (p: Proposal) => recorder.recordAllAndPublish([entryOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] })]);
  return { audit, gateway, watch, burns, grants, publish, notifier, clock, desk, bus, relay };
}

const batchScale = () =>
  proposal({
    incident_id: 'inc-batch', tenant: 'initech', namespace: 'initech-prod', target: { kind: 'Deployment', name: 'batch' },
    params: { from_replicas: 1, to_replicas: 2 }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 20 },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'initech-prod', deployment: 'batch', replicas: 2 } },
    compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'initech-prod', deployment: 'batch', replicas: 1 } },
  });

describe.each(['memory', 'redis'] as const)('preemption over the %s bus', (kind) => {
  it('holds back the competing grant while the priority lasts, grants the priority tenant at once, and releases the held one once', async () => {
    const w = await world(kind);
    w.burns.set('acme', { long: 2.4, short: 3.1, burn_rate: 2.4, at_ms: T0 });
    expect(await w.watch.tick()).toMatchObject([{ kind: 'raise', tenant: 'acme' }]);

    const competing = batchScale();
    const priority = proposal({ params: { from_replicas: 2, to_replicas: 3 }, target: { kind: 'Deployment', name: 'checkout' },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 3 } } });
    await w.publish(competing);
    await w.publish(priority);
    await waitFor(async () => (await w.audit.list({ proposal_id: competing.id, kind: 'preempted' })).length === 1, 'the competing proposal preempted', 10_000);
    await waitFor(() => w.grants.some((g) => g.proposal_id === priority.id), "acme's grant on the bus", 10_000);
    expect((await w.audit.list({ proposal_id: priority.id })).map((r) => r.kind)).toEqual(['proposal', 'decision', 'arbitration_check', 'grant']);
    expect(w.grants.some((g) => g.proposal_id === competing.id)).toBe(false);

    w.burns.set('acme', { long: 1.3, short: 0.4, burn_rate: 0.4, at_ms: T0 });
    expect(await w.watch.tick()).toMatchObject([{ kind: 'lower', tenant: 'acme' }]);
    await Promise.all([w.gateway.resumePreempted(), w.gateway.resumePreempted()]);
    await waitFor(() => w.grants.some((g) => g.proposal_id === competing.id), 'the released grant on the bus', 10_000);
    expect((await w.audit.list({ proposal_id: competing.id })).map((r) => r.kind)).toEqual(['proposal', 'decision', 'preempted', 'decision', 'preemption_ended', 'arbitration_check', 'grant']);
    expect(w.grants.filter((g) => g.proposal_id === competing.id)).toHaveLength(1);
    expect((await w.audit.verify()).valid).toBe(true);
  }, 30_000);
});

describe('the pre-execution check fails closed', () => {
  it('no grant when who shares the target\'s nodes cannot be read; the failed check is recorded and said', async () => {
    const facts = new NodeA();
    const w = await world('memory', facts);
    facts.failure = new GovernorError('not_found', 'deployment initech-prod/batch not found');
    const unread = batchScale();
    await w.publish(unread);
    await waitFor(async () => (await w.audit.list({ proposal_id: unread.id, kind: 'arbitration_check' })).length === 1, 'the check', 10_000);
    expect((await w.audit.list({ proposal_id: unread.id })).map((r) => r.kind)).toEqual(['proposal', 'decision', 'arbitration_check']);
    const [failed] = await w.audit.list({ proposal_id: unread.id, kind: 'arbitration_check' });
    expect(failed).toMatchObject({ payload: { passed: false, checks: [{ name: 'starvation', passed: false, detail: expect.stringMatching(/could not be read .*not found/) }] } });
    expect(w.notifier.texts.some((t) => /^Arbitrator check before scale_deployment of batch \(initech\): FAILED, not executed/.test(t))).toBe(true);
    expect(w.grants).toHaveLength(0);
  }, 30_000);
});

describe('a preemption that outlasts its wait', () => {
  it('expires unexecuted, once, with a record and a line in the thread', async () => {
    const w = await world('memory');
    w.burns.set('acme', { long: 4, short: 4, burn_rate: 4, at_ms: T0 });
    await w.watch.tick();
    const competing = batchScale();
    await w.publish(competing);
    await waitFor(async () => (await w.audit.list({ proposal_id: competing.id, kind: 'preempted' })).length === 1, 'preempted', 10_000);
    await w.clock.advance(14 * 60_000);
    await w.gateway.resumePreempted();
    expect(await w.audit.list({ proposal_id: competing.id, kind: 'preemption_ended' })).toHaveLength(0);
    await w.clock.advance(2 * 60_000);
    await Promise.all([w.gateway.resumePreempted(), w.gateway.resumePreempted()]);
    const ended = await w.audit.list({ proposal_id: competing.id, kind: 'preemption_ended' });
    expect(ended).toMatchObject([{ payload: { outcome: 'expired' } }]);
    expect(w.notifier.texts.some((t) => /^Preempted scale_deployment of batch \(initech\) expired unexecuted/.test(t))).toBe(true);
    expect(w.grants).toHaveLength(0);
  }, 30_000);
});

describe('an approved action preempted', () => {
  it('keeps its approval while it waits, and is granted on it, with its approvers, once the priority ends', async () => {
    const w = await world('memory', new NodeA(), 'assist');
    w.burns.set('acme', { long: 4, short: 4, burn_rate: 4, at_ms: T0 });
    await w.watch.tick();
    const competing = batchScale();
    await w.publish(competing);
    await waitFor(async () => (await w.audit.list({ proposal_id: competing.id, kind: 'approval_requested' })).length === 1, 'the approval request', 10_000);
    await w.desk.vote({ proposal_id: competing.id, approved: true, by: { id: 'U1', name: 'u1' }, source: 'slack' });
    await w.relay.nudge();
    const approvals = (await w.bus.read(STREAMS.approval)).flatMap((m) => (m.event.type === 'approval' && m.event.proposal_id === competing.id ? [m.event] : []));
    for (const a of approvals) await w.gateway.onApproval(a);
    const [preempted] = await w.audit.list({ proposal_id: competing.id, kind: 'preempted' });
    expect(preempted).toMatchObject({ payload: { basis: 'approval', approval_id: approvals[0]!.id, by: { tenant: 'acme' } } });
    for (const a of approvals) await w.gateway.onApproval(a); // redelivered: still held, nothing more
    expect(await w.audit.list({ proposal_id: competing.id, kind: 'preempted' })).toHaveLength(1);

    w.burns.set('acme', { long: 1, short: 0.3, burn_rate: 0.3, at_ms: T0 });
    await w.watch.tick();
    await w.gateway.resumePreempted();
    const [grant] = await w.audit.list({ proposal_id: competing.id, kind: 'grant' });
    expect(grant).toMatchObject({ payload: { grant: { basis: 'approval' }, approvers: [{ id: 'U1' }], approval_id: approvals[0]!.id } });
    await waitFor(() => w.grants.some((g) => g.proposal_id === competing.id), 'the grant on the bus', 10_000);
  }, 30_000);
});
