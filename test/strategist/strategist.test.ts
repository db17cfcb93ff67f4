// Strategist end to end on the cluster twin, in virtual time: its cron schedule fires every 15
// minutes, it reads the FinOps MCP server over HTTP with its own bearer token, and it records into a
// real audit store (PgAuditStore on embedded PGlite). The over-provisioned tenant gets one
// right-sizing recommendation with the money it saves, once there is enough history, and only once.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/audit/embedded-postgres.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { Proposal } from '../../src/contracts/events.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { Strategist, type ReviewOutcome } from '../../agents/strategist/strategist.ts';
import { STRATEGIST_TOKEN, T0, finopsCluster, type FinopsCluster } from './finops-cluster.ts';

const MINUTE = 60_000;

let embedded: EmbeddedPostgres;
beforeAll(async () => {
  embedded = await startEmbeddedPostgres({});
});
afterAll(async () => {
  await embedded?.close();
});

describe('Strategist on the twin, on its schedule', () => {
  let cluster: FinopsCluster;
  let audit: PgAuditStore;
  let tools: McpToolClient;
  let tracker: WorkTracker;
  let strategist: Strategist;
  let outcomes: ReviewOutcome[][];

  beforeEach(async () => {
    // Sampling starts 10 s past the hour, so a sample never falls on a review's quarter hour: which
    // of two things due at one instant runs first is a race, and the history a review sees is not.
    cluster = await finopsCluster({ startAtMs: T0 + 10_000 });
    audit = new PgAuditStore({ connectionString: embedded.connectionString, schema: `strategist_${randomUUID().slice(0, 8)}`, poolSize: 1 });
    await audit.migrate();
    tools = await connectMcp({ url: cluster.finops.url, token: STRATEGIST_TOKEN, name: 'strategist' });
    tracker = new WorkTracker();
    outcomes = [];
    strategist = new Strategist({
      tools,
      recorder: new AuditRecorder(audit, () => {}),
      audit,
      clock: cluster.clock,
      logger: silentLogger(),
      // globex is not this session's: its review fails tenant_forbidden and acme's goes on.
      tenants: cluster.tenants,
      tracker,
    });
    // Record what each scheduled review decided, through the same public review() the schedule runs.
    const review = strategist.review.bind(strategist);
    strategist.review = async () => {
      const o = await review();
      outcomes.push(o);
      return o;
    };
    strategist.start();
  });

  afterEach(async () => {
    strategist.stop();
    await tools.close();
    await cluster.close();
    await audit.close();
  });

  /** Moves time in sample steps and waits for every review in flight. */
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= 30_000) {
      await cluster.advance(Math.min(30_000, left));
      while (tracker.busy > 0) await new Promise((r) => setTimeout(r, 2));
    }
  };
  const recommendations = async () =>
    (await audit.list({ kind: 'proposal', tenant: 'acme' })).map((r) => r.payload as { proposal: Proposal; tool_calls: Array<{ server: string; tool: string }> });
  const acme = (o: ReviewOutcome[]) => o.filter((x) => x.tenant === 'acme');

  it('waits for 30 minutes of history, then recommends once, with the saving, and does not repeat itself', async () => {
    // Samples from 10:00:10 every 30 s: at 10:15 the review sees 14.5 minutes of them.
    await advance(15 * MINUTE);
    expect(outcomes).toHaveLength(1);
    expect(acme(outcomes[0]!)).toEqual([
      expect.objectContaining({ deployment: 'checkout', outcome: 'hold', reason: expect.stringMatching(/only 14.5 min of utilisation history/) }),
      expect.objectContaining({ deployment: 'search', outcome: 'hold' }),
    ]);
    expect(outcomes[0]!.find((x) => x.tenant === 'globex')).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/tenant_forbidden/) });
    await advance(15 * MINUTE); // 10:30: 29.5 minutes is still not 30
    expect(acme(outcomes[1]!).find((x) => x.deployment === 'checkout')).toMatchObject({ outcome: 'hold', reason: expect.stringMatching(/only 29.5 min/) });
    expect(await recommendations()).toEqual([]);

    await advance(15 * MINUTE); // 10:45
    expect(outcomes).toHaveLength(3);
    const recommended = acme(outcomes[2]!).find((x) => x.deployment === 'checkout');
    expect(recommended).toMatchObject({ outcome: 'recommended' });
    expect(acme(outcomes[2]!).find((x) => x.deployment === 'search')).toMatchObject({ outcome: 'hold', reason: expect.stringMatching(/p95 CPU is \d+% of requests, not below 40%/) });

    const [rec] = await recommendations();
    expect(rec).toBeDefined();
    const p = Proposal.parse(rec!.proposal);
    expect(p).toMatchObject({ agent: 'strategist', action: 'recommendation', tenant: 'acme', namespace: 'acme-prod', target: { kind: 'Deployment', name: 'checkout' } });
    const params = p.params as { from_replicas: number; to_replicas: number; monthly_saving_usd: number; utilisation: { p95: number; history_minutes: number } };
    expect(params.from_replicas).toBe(10);
    expect(params.utilisation.history_minutes).toBe(44.5);
    expect(params.utilisation.p95).toBeLessThan(0.4);
    // Sized from the twin's own demand: p95 at ~65% of the new requests, never below 2.
    const demand = cluster.twin.podMetrics('acme-prod', 'checkout').reduce((s, m) => s + m.cpu_millicores, 0);
    const expected = Math.max(2, Math.ceil(demand / (0.65 * 500)));
    expect(Math.abs(params.to_replicas - expected)).toBeLessThanOrEqual(1);
    expect(params.to_replicas).toBeLessThan(10);
    expect(params.monthly_saving_usd).toBe((10 - params.to_replicas) * 300);
    expect(p.tool_call).toEqual({ server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: params.to_replicas } });
    expect(p.compensating_action).toEqual({ server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 10 } });
    expect(p.blast_radius.capacity_change_pct).toBeLessThan(0);
    expect(p.reasoning.join('\n')).toMatch(/per month/);
    expect(rec!.tool_calls.map((c) => `${c.server}.${c.tool}`)).toEqual(['finops.get_cost_report', 'finops.get_utilisation']);
    // Published through the outbox with its record.
    expect((await audit.pendingOutbox(10)).map((e) => e.event.id)).toContain(p.id);

    await advance(30 * MINUTE); // 11:00 and 11:15: still open, not repeated
    expect(outcomes).toHaveLength(5);
    for (const o of outcomes.slice(3)) expect(acme(o).find((x) => x.deployment === 'checkout')).toMatchObject({ outcome: 'already_open', proposal_id: p.id });
    expect(await recommendations()).toHaveLength(1);
  });

  it('after a human acts on it, the new size is not recommended down again', async () => {
    await advance(45 * MINUTE);
    const [rec] = await recommendations();
    const to = (rec!.proposal.params as { to_replicas: number }).to_replicas;
    cluster.twin.scale('acme-prod', 'checkout', to); // what the on-call engineer runs
    await advance(75 * MINUTE);
    const last = acme(outcomes.at(-1)!).find((x) => x.deployment === 'checkout');
    expect(last).toMatchObject({ outcome: 'hold', reason: expect.stringMatching(/p95 CPU is \d+% of requests, not below 40%/) });
    expect(await recommendations()).toHaveLength(1);
  });
});
