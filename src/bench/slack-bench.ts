// `governor bench slack`: how fast the real Slack app acknowledges signed interactions under load —
// Slack gives an app 3 s, and an operator clicking Approve wants to see it take at once. Signed
// block_actions clicks arrive at a fixed rate (50/s by default) through the app's real HTTP receiver
// (signature, staleness and replay checks), and the time from sending a request to its 200 is
// measured. Each click then does what a click does after its ack: the approval desk reads the
// proposal's records, refuses (the bench's proposal is never recorded: no vote may decide anything)
// and records the refusal in the audit log, and the app tells the person with chat.postEphemeral.
// Beside it, in the same run and at the same rate, the floor: the same request to a bare HTTP server
// that answers at once, so the figure is the app's cost and not the machine's.
// It must never approve anything, and never count a request that failed as fast.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { PgAuditStore } from '../audit/pg-audit-store.ts';
import { startEmbeddedPostgres } from '../audit/embedded-postgres.ts';
import { AuditRecorder } from '../audit/recorder.ts';
import { EVENT_VERSION, type Decision, type Proposal } from '../contracts/events.ts';
import { RealClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { ApprovalDesk, NO_GROUPS } from '../governance/approvals.ts';
import { startSlackWebApiFake } from '../sandbox/slack-web-api-fake.ts';
import { APPROVE_ACTION_ID } from '../slack/proposal-message.ts';
import { createSlackApp } from '../slack/slack-app.ts';
import { httpTransport } from '../slack/slack-transport.ts';
import { summarise, type LatencySummary } from './gateway-bench.ts';

export interface SlackBenchResult {
  rate_per_s: number;
  duration_s: number;
  /** Signed clicks through the real app: send → HTTP 200 (the acknowledgement). */
  ack: LatencySummary & { requests: number; errors: number };
  /** The same requests to a bare HTTP server, interleaved with them. */
  floor: LatencySummary & { requests: number; errors: number };
  /** What each click did after its ack: refusals the desk recorded, ephemerals the app posted. */
  after_ack: { refusals_recorded: number; ephemerals_posted: number };
  backend: 'postgresql' | 'pglite';
  target_p99_ms: number;
  met: boolean;
}

export const ACK_TARGET_P99_MS = 100;

export async function benchSlack(opts: { ratePerS?: number; durationS?: number; databaseUrl?: string; onProgress?: (line: string) => void } = {}): Promise<SlackBenchResult> {
  const rate = opts.ratePerS ?? 50;
  const durationS = opts.durationS ?? 20;
  const progress = opts.onProgress ?? (() => {});
  const closers: Array<() => Promise<unknown>> = [];
  try {
    let url = opts.databaseUrl;
    const schema = `bench_slack_${randomUUID().slice(0, 8)}`;
    if (!url) {
      const embedded = await startEmbeddedPostgres({ logger: silentLogger() });
      closers.push(() => embedded.close());
      url = embedded.connectionString;
    } else {
      const dbUrl = url;
      closers.push(async () => {
        const c = new pg.Client({ connectionString: dbUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      });
    }
    const audit = new PgAuditStore({ connectionString: url, schema, poolSize: opts.databaseUrl ? 4 : 1, logger: silentLogger() });
    closers.push(() => audit.close());
    await audit.migrate();
    const clock = new RealClock();
    const recorder = new AuditRecorder(audit, () => {});
    const desk = new ApprovalDesk({
      audit, recorder, tenants: {}, defaults: { approvers: ['U0ONCALL01'], rules: [] },
      operators: { pause: ['*'], set_level: [], override_freeze: [] }, directory: NO_GROUPS, clock, logger: silentLogger(),
    });

    const botToken = `xoxb-bench-${randomUUID()}`;
    const signingSecret = randomUUID();
    const fake = await startSlackWebApiFake({ botToken, signingSecret });
    closers.push(() => fake.close());
    const app = await createSlackApp({
      transport: httpTransport({ signingSecret, port: 0, logger: silentLogger() }),
      botToken, slackApiUrl: fake.apiUrl, channel: 'governor-approvals', approvals: desk, logger: silentLogger(), clock,
    });
    closers.push(() => app.stop());
    fake.setInteractionsUrl((await app.start()).url);
    const { ts } = await app.requestApproval(benchProposal, benchDecision);

    const floor = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-length': 0 }).end());
    });
    await new Promise<void>((r) => floor.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => floor.close(r)));
    const floorUrl = `http://127.0.0.1:${(floor.address() as AddressInfo).port}/slack/events`;

    const total = Math.round(rate * durationS);
    const intervalMs = 1000 / rate;
    const acks: number[] = [];
    const floors: number[] = [];
    let ackErrors = 0;
    let floorErrors = 0;
    let body = '';
    const timed = async (fn: () => Promise<number>, into: number[], onError: () => void) => {
      const t0 = performance.now();
      try {
        const status = await fn();
        if (status === 200) into.push(performance.now() - t0);
        else onError();
      } catch {
        onError();
      }
    };
    // Warm-up, not counted: the first requests pay for compiling Bolt's and the desk's code paths.
    for (let i = 0; i < Math.max(10, rate); i++) await fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: 'U0ONCALL01' });
    const warmup = Math.max(10, rate);
    for (let i = 0; i < 100 && fake.ephemerals().length < warmup; i++) await new Promise((r) => setTimeout(r, 20));
    const warmed = { refusals: (await audit.list({ kind: 'refusal' })).length, ephemerals: fake.ephemerals().length };
    progress(`${total} signed clicks at ${rate}/s, each beside a floor request to a bare HTTP server`);
    const started = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      // Open loop: requests leave on schedule, whether or not earlier ones were answered.
      const due = started + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inflight.push(timed(async () => {
        const { status, payload } = await fake.clickButton({ ts, actionId: APPROVE_ACTION_ID, userId: 'U0ONCALL01' });
        body ||= new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
        return status;
      }, acks, () => ackErrors++));
      inflight.push(timed(async () => {
        const res = await fetch(floorUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: body || 'payload=%7B%7D' });
        await res.arrayBuffer();
        return res.status;
      }, floors, () => floorErrors++));
      if ((i + 1) % (rate * 5) === 0) progress(`  ${i + 1}/${total} sent; ack p99 so far ${summarise(acks).p99_ms} ms`);
    }
    await Promise.all(inflight);
    // What each click does after its ack finishes before the counts are taken.
    for (let i = 0; i < 200 && fake.ephemerals().length - warmed.ephemerals < acks.length; i++) await new Promise((r) => setTimeout(r, 50));
    const refusals = (await audit.list({ kind: 'refusal' })).length - warmed.refusals;
    const ack = { ...summarise(acks), requests: total, errors: ackErrors };
    return {
      rate_per_s: rate,
      duration_s: durationS,
      ack,
      floor: { ...summarise(floors), requests: total, errors: floorErrors },
      after_ack: { refusals_recorded: refusals, ephemerals_posted: fake.ephemerals().length - warmed.ephemerals },
      backend: opts.databaseUrl ? 'postgresql' : 'pglite',
      target_p99_ms: ACK_TARGET_P99_MS,
      met: ackErrors === 0 && ack.p99_ms < ACK_TARGET_P99_MS,
    };
  } finally {
    while (closers.length) await closers.pop()!().catch(() => undefined);
  }
}

const benchProposal: Proposal = {
  id: randomUUID(), v: EVENT_VERSION, ts: new Date().toISOString(), type: 'proposal', agent: 'elastik', tenant: 'bench', namespace: 'bench-prod',
  action: 'rollback_deployment', target: { kind: 'Deployment', name: 'checkout' }, params: { to_revision: 1 },
  blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
  tool_call: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: 'bench-prod', deployment: 'checkout', to_revision: 1 } },
  verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 500, min_improvement_pct: 20, window_s: 120 },
  reasoning: ['the bench proposal: never recorded, so no click can decide it'], llm: 'unavailable',
};

const benchDecision: Decision = {
  id: randomUUID(), v: EVENT_VERSION, ts: benchProposal.ts, type: 'decision', proposal_id: benchProposal.id, agent: 'elastik', tenant: 'bench',
  action: 'rollback_deployment', verdict: 'require_approval', violations: [], policy_version: 'bench', agent_level: 2,
};
