// The approval path as production wires it, for tests: the real Bolt app (signed requests through its
// own receiver) against the Slack Web API fake, the approval desk over a real PostgreSQL schema, and
// the real gateway that posts the proposal, hears the decided approval and grants. Several apps can
// share one schema, each with its own store, pool and desk: separate processes in all but pid.
import { randomUUID } from 'node:crypto';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { Proposal } from '../../src/contracts/events.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { ApprovalDesk } from '../../src/governance/approvals.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys } from '../../src/governance/grants.ts';
import type { ApprovalDefaults, Operators } from '../../src/governance/tenants.ts';
import { SANDBOX_CHANNEL, startSlackWebApiFake, type FakeMessage, type SlackFake } from '../../src/sandbox/slack-web-api-fake.ts';
import { APPROVE_ACTION_ID } from '../../src/slack/proposal-message.ts';
import { createSlackApp, type GovernorSlackApp, type SlackAppOptions } from '../../src/slack/slack-app.ts';
import { httpTransport, socketModeTransport } from '../../src/slack/slack-transport.ts';
import { startSocketModeFake } from './socket-mode-fake.ts';
import { harness as pgHarness, publishedApprovals, RecordingNotifier, recordProposal } from '../integration/harness.ts';
import { proposalFixture } from './fixtures.ts';

export const BOT_TOKEN = 'xoxb-sandbox-test-token';
export const SIGNING_SECRET = 'sandbox-signing-secret-for-tests';
export const APP_TOKEN = 'xapp-1-A0GOVERNOR-test-app-level-token';
export const ALICE = 'U0ONCALL01';
export const BOB = 'U0ONCALL02';
export const CAROL = 'U0VIEWER03';

export async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const settle = (ms = 150): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const hasButtons = (m: FakeMessage): boolean => JSON.stringify(m.blocks).includes(APPROVE_ACTION_ID);

export interface ApprovalWorldOptions {
  defaults?: Partial<ApprovalDefaults>;
  operators?: Partial<Operators>;
  app?: Partial<SlackAppOptions>;
  /** Socket Mode instead of HTTP: the app connects to the Socket Mode fake, and clicks travel as envelopes. */
  socketMode?: boolean;
}

export type ApprovalWorld = Awaited<ReturnType<typeof approvalWorld>>;

/** One PostgreSQL schema and one Slack fake; `instance()` starts an app (with its own store) on them. */
export async function approvalWorld(opts: ApprovalWorldOptions = {}) {
  const h = await pgHarness();
  const fake = await startSlackWebApiFake({ botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, appToken: APP_TOKEN });
  const socket = opts.socketMode ? await startSocketModeFake(fake) : undefined;
  const replayGuard: SharedState = new MemorySharedState();
  const notifier = new RecordingNotifier();
  const autonomy = new AutonomyLevels('govern');
  const keys = generateGrantKeys('test');
  const closers: Array<() => Promise<unknown>> = [];

  /** A process: its own audit store and pool, desk, Bolt app and gateway. */
  async function instance(over: Partial<SlackAppOptions> = {}) {
    const audit = new PgAuditStore({ connectionString: process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test', schema: h.schema, poolSize: 2 });
    closers.push(() => audit.close());
    const recorder = new AuditRecorder(audit, () => void h.relay.nudge());
    let app: GovernorSlackApp | undefined;
    const desk = new ApprovalDesk({
      audit,
      recorder,
      tenants: h.tenants,
      defaults: { approvers: [ALICE, BOB], rules: [], ...opts.defaults },
      operators: { pause: ['*'], set_level: [ALICE], override_freeze: [ALICE, BOB], ...opts.operators },
      directory: { membersOf: (g) => app?.membersOf(g) ?? Promise.resolve([]) },
      clock: h.clock,
      logger: silentLogger(),
    });
    app = await createSlackApp({
      transport: opts.socketMode
        ? socketModeTransport({ appToken: APP_TOKEN, slackApiUrl: fake.apiUrl, logger: silentLogger() })
        : httpTransport({ signingSecret: SIGNING_SECRET, port: 0, logger: silentLogger() }),
      botToken: BOT_TOKEN,
      slackApiUrl: fake.apiUrl,
      channel: SANDBOX_CHANNEL.name,
      logger: silentLogger(),
      approvals: desk,
      replayGuard,
      clock: h.clock,
      ...opts.app,
      ...over,
    });
    const { url } = await app.start();
    closers.push(() => app!.stop());
    const gateway = new Gateway({
      audit, recorder, policy: h.policy, autonomy, tenants: h.tenants, keys, clock: h.clock, logger: silentLogger(),
      approvals: app, desk, notifier, sharedState: new MemorySharedState(),
    });
    return { app, url, desk, audit, gateway };
  }

  const main = await instance();
  if (!socket) fake.setInteractionsUrl(main.url);

  return {
    h,
    fake,
    socket,
    notifier,
    autonomy,
    ...main,
    instance,
    /** A supervised rollback, recorded and decided by the gateway: posted to Slack with its buttons. */
    async requestOne(over: Partial<Proposal> = {}): Promise<{ p: Proposal; ts: string; channel: string }> {
      const p = proposalFixture({ id: randomUUID(), ...over });
      await recordProposal(h, p);
      const before = fake.messages().length;
      await main.gateway.onProposal(p);
      const m = await waitFor(() => fake.messages()[before], 'the approval message');
      return { p, ts: m.ts, channel: m.channel };
    },
    /** A proposal the gateway denies (a change freeze, say): recorded and decided, no message posted. */
    async requestOneDenied(over: Partial<Proposal>): Promise<{ p: Proposal }> {
      const p = proposalFixture({ id: randomUUID(), ...over });
      await recordProposal(h, p);
      const d = await main.gateway.onProposal(p);
      if (d.verdict !== 'deny') throw new Error(`expected a denial, got ${d.verdict}`);
      return { p };
    },
    /** Delivers every decided approval to the gateway, as the bus would (twice: at least once). */
    async deliver(proposalId: string): Promise<void> {
      for (const a of await publishedApprovals(h, proposalId)) {
        await main.gateway.onApproval(a);
        await main.gateway.onApproval(a);
      }
    },
    kinds: async (proposalId: string) => (await h.audit.list({ proposal_id: proposalId })).map((r) => r.kind),
    grants: async (proposalId: string) => h.audit.list({ proposal_id: proposalId, kind: 'grant' }),
    message(ts: string): FakeMessage {
      const m = fake.messages().find((x) => x.ts === ts);
      if (!m) throw new Error(`no message ${ts}`);
      return m;
    },
    async close() {
      while (closers.length) await closers.pop()!();
      await socket?.close();
      await fake.close();
      await h.close();
    },
  };
}
