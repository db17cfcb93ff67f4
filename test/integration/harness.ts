// Shared wiring for integration tests of the gateway and the executor: real PostgreSQL (a schema per
// test), the real Wasm policy bundle, the in-memory bus, and the same recorder the system uses.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { MemoryEventBus } from '../../src/bus/memory-event-bus.ts';
import { OutboxRelay } from '../../src/audit/outbox-relay.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { EVENT_VERSION, type Approval, type Decision, type ExecutionResult, type Proposal } from '../../src/contracts/events.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { recordOfEvent, type ApprovalRequirement, type AuditRecord } from '../../src/audit/records.ts';
import { ApprovalDesk, NO_GROUPS } from '../../src/governance/approvals.ts';
import { loadTenants, type ApprovalDefaults, type Operators } from '../../src/governance/tenants.ts';

export const PG_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const T0 = Date.parse('2026-11-24T10:00:00Z');

export async function harness() {
  const schema = `it_${randomUUID().slice(0, 8)}`;
  const audit = new PgAuditStore({ connectionString: PG_URL, schema, poolSize: 4 });
  await audit.migrate();
  const bus = new MemoryEventBus();
  const logger = silentLogger();
  const relay = new OutboxRelay(audit, bus, logger, 50);
  const recorder = new AuditRecorder(audit, () => void relay.nudge());
  const clock = new VirtualClock(T0);
  const policy = await WasmPolicyEngine.fromBundle();
  const tenants = loadTenants();
  return {
    schema, audit, bus, relay, recorder, clock, policy, tenants, logger,
    async close() {
      await relay.stop();
      await bus.close();
      await audit.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}

type Harness = Awaited<ReturnType<typeof harness>>;

/** The approval desk over the harness's log: U1, U2 and U3 approve unless told otherwise. */
export function approvalDesk(h: Harness, defaults: Partial<ApprovalDefaults> = {}, operators: Partial<Operators> = {}): ApprovalDesk {
  return new ApprovalDesk({
    audit: h.audit,
    recorder: h.recorder,
    tenants: h.tenants,
    defaults: { approvers: ['U1', 'U2', 'U3'], rules: [], ...defaults },
    operators: { pause: ['*'], set_level: ['U1'], override_freeze: ['U1', 'U2'], ...operators },
    directory: NO_GROUPS,
    clock: h.clock,
    logger: h.logger,
  });
}

/** The approval events the desk put on the bus for a proposal, oldest first. */
export async function publishedApprovals(h: Harness, proposalId: string): Promise<Approval[]> {
  await h.relay.nudge();
  return (await h.bus.read('governor:approvals')).flatMap((m) => (m.event.type === 'approval' && m.event.proposal_id === proposalId ? [m.event] : []));
}

/** Records a proposal as its agent would (the evidence left empty). */
export async function recordProposal(h: Harness, p: Proposal): Promise<void> {
  await h.recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
}

/** Records what an executor reports after acting on a grant. */
export async function recordExecution(
  h: Harness,
  r: { proposal_id: string; grant_id: string; tool: string; args: Record<string, unknown>; at: string; status?: ExecutionResult['status']; tenant?: string; incident_id?: string },
): Promise<void> {
  const result: ExecutionResult = {
    id: randomUUID(), v: EVENT_VERSION, ts: r.at, ...(r.incident_id ? { incident_id: r.incident_id } : {}), type: 'execution_result', proposal_id: r.proposal_id, grant_id: r.grant_id,
    agent: 'elastik', tenant: r.tenant ?? 'acme', tool: r.tool, args: r.args, status: r.status ?? 'succeeded', response: {},
  };
  await h.recorder.record(recordOfEvent<'execution_result'>(result, {
    grant_id: r.grant_id, basis: 'policy', tool_call: { server: 'kubernetes', tool: r.tool, args: r.args, grant_id: r.grant_id, response: {} },
  }));
}

export function proposal(over: Partial<Proposal> = {}): Proposal {
  return {
    id: randomUUID(),
    v: EVENT_VERSION,
    ts: new Date(T0).toISOString(),
    incident_id: 'inc-1',
    type: 'proposal',
    agent: 'elastik',
    tenant: 'acme',
    namespace: 'acme-prod',
    action: 'scale_deployment',
    target: { kind: 'Deployment', name: 'checkout' },
    params: { from_replicas: 8, to_replicas: 12 },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 } },
    compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 8 } },
    verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 500, min_improvement_pct: 20, window_s: 120 },
    reasoning: ['p99 above SLO'],
    llm: 'unavailable',
    ...over,
  };
}

export const rollbackProposal = (): Proposal =>
  proposal({
    action: 'rollback_deployment',
    params: { from_revision: 2, to_revision: 1 },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
    tool_call: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', to_revision: 1 } },
    compensating_action: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', to_revision: 2 } },
  });

/** An approval channel that remembers what it was asked. */
export class RecordingApprovals {
  requests: { p: Proposal; d: Decision; requirement: ApprovalRequirement }[] = [];
  async requestApproval(p: Proposal, d: Decision, requirement: ApprovalRequirement) {
    this.requests.push({ p, d, requirement });
    return { channel: 'C1', ts: String(this.requests.length) };
  }
}

export class RecordingNotifier {
  texts: string[] = [];
  async notify(text: string) {
    this.texts.push(text);
  }
}

/** One field of a record's payload, for assertions that do not care about the record's kind. */
export const field = (r: AuditRecord, key: string): unknown => (r.payload as Record<string, unknown>)[key];
