// Shared wiring for integration tests of the gateway and the executor: real PostgreSQL (a schema per
// test), the real Wasm policy bundle, the in-memory bus, and the same recorder the system uses.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { MemoryEventBus } from '../../src/bus/memory-event-bus.ts';
import { OutboxRelay } from '../../src/audit/outbox-relay.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { EVENT_VERSION, type Decision, type Proposal } from '../../src/contracts/events.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { AuditRecorder } from '../../agents/runtime/recorder.ts';
import { loadTenants } from '../../src/governance/tenants.ts';

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
  requests: { p: Proposal; d: Decision }[] = [];
  async requestApproval(p: Proposal, d: Decision) {
    this.requests.push({ p, d });
    return { channel: 'C1', ts: String(this.requests.length) };
  }
}

export class RecordingNotifier {
  texts: string[] = [];
  async notify(text: string) {
    this.texts.push(text);
  }
}
