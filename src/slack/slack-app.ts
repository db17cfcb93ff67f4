// The Slack side of the approval flow: posts proposals that need a human as messages with Approve /
// Reject buttons, receives the clicks through Bolt's own HTTP receiver (signature and staleness
// checked there; replays and timestamps from the future refused here), hands each vote to the
// approval desk (src/governance/approvals.ts), which decides it against the proposal's records, and
// shows the result: the message resolved, or the votes so far, or — to the person only — why their
// click was refused. The same code talks to Slack and to the sandbox's fake Web API; only
// `slackApiUrl` differs. Given the autonomy manager, it also serves the operator's slash commands
// (slash-commands.ts) on the same signed endpoint.
// It must never decide anything itself: who may approve, and whether a vote counts, is the desk's
// word; a request whose signature was seen before is refused whatever it asks; and a message is only
// changed once the desk has recorded what it says.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  App,
  HTTPReceiver,
  type AllMiddlewareArgs,
  type BlockAction,
  type ButtonAction,
  type SlackActionMiddlewareArgs,
} from '@slack/bolt';
import type { Decision, Proposal } from '../contracts/events.ts';
import type { ApprovalRequirement, Person, RefusalCode } from '../audit/records.ts';
import type { SharedState } from '../bus/shared-state.ts';
import { MemorySharedState } from '../bus/memory-shared-state.ts';
import type { ApprovalDesk } from '../governance/approvals.ts';
import { RealClock, type Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { boltLogger } from './bolt-logger.ts';
import {
  APPROVE_ACTION_ID,
  REJECT_ACTION_ID,
  awaitingText,
  proposalAwaitingApproval,
  proposalIdFromBlockId,
  proposalResolved,
  replaceStatus,
  resolveProposalBlocks,
  resolvedText,
  type KnownBlock,
  type Resolution,
} from './proposal-message.ts';
import { toGovernorError } from './slack-errors.ts';
import { registerSlashCommands, type AutonomyCommands } from './slash-commands.ts';

/** What the Slack app asks of the approval desk: votes, freeze overrides, rights, and recording a refusal. */
export type Approvals = Pick<ApprovalDesk, 'vote' | 'overrideFreeze' | 'may' | 'refuse'>;

export interface SlackAppOptions {
  signingSecret: string;
  botToken: string;
  /** Base URL of the Web API, ending with `/api/`; Slack's own when omitted. */
  slackApiUrl?: string;
  /** Channel id or name where proposals are posted. */
  channel: string;
  /** Port for the interactions endpoint; 0 picks a free one. */
  port: number;
  /** Address the endpoint binds; 127.0.0.1 when omitted (0.0.0.0 to be reachable from outside). */
  host?: string;
  /** Decides every vote and override, and knows who may pull which lever. */
  approvals: Approvals;
  /**
   * Where seen request signatures are kept for Slack's five-minute window, so a replayed request is
   * refused in every process (Redis across processes); this process's memory when omitted.
   */
  replayGuard?: SharedState;
  logger?: Logger;
  clock?: Clock;
  /** Longest wait for one Web API call, and for one incoming request to arrive. */
  requestTimeoutMs?: number;
  /**
   * The autonomy manager behind `/agents-pause` and `/agents-level` (src/slack/slash-commands.ts);
   * without it the commands are not registered. Who may use them is the desk's word.
   */
  autonomy?: AutonomyCommands;
}

export interface GovernorSlackApp {
  /** Verifies the bot token (auth.test) and starts listening. `url` is where Slack must send interactions. */
  start(): Promise<{ url: string }>;
  /** Stops listening, after the clicks already being handled have finished. */
  stop(): Promise<void>;
  /** Posts the proposal with its buttons; posting the same proposal twice returns the first message. */
  requestApproval(p: Proposal, d: Decision, requirement?: ApprovalRequirement): Promise<{ channel: string; ts: string }>;
  /** Shows how an approval ended on its message (an expiry, which no click announces). */
  approvalEnded(ref: { channel: string; ts: string }, p: Proposal, d: Decision, r: Resolution, requirement?: ApprovalRequirement): Promise<void>;
  notify(text: string, blocks?: unknown[]): Promise<void>;
  /** A user group's members (`usergroups.users.list`), cached for a minute: approvers named by group. */
  membersOf(groupId: string): Promise<readonly string[]>;
}

/** How long a user group's membership is believed before Slack is asked again. */
const GROUP_CACHE_MS = 60_000;

export const INTERACTIONS_PATH = '/slack/events';

// Enough for weeks of proposals; beyond it the oldest are forgotten (a forgotten one is rebuilt from
// the blocks Slack sends back with a click).
const MAX_REMEMBERED = 10_000;

/** Map.set that forgets the oldest entry beyond MAX_REMEMBERED (Maps iterate in insertion order). */
function setBounded<V>(m: Map<string, V>, key: string, value: V): void {
  m.delete(key);
  m.set(key, value);
  if (m.size > MAX_REMEMBERED) {
    const oldest = m.keys().next().value;
    if (oldest !== undefined) m.delete(oldest);
  }
}

/** Slack refuses requests older than five minutes; a signature is remembered a little longer. */
const REPLAY_WINDOW_MS = 6 * 60_000;
/** Clocks drift: a request this far in the future is still believed. */
const FUTURE_SKEW_S = 60;

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

export async function createSlackApp(opts: SlackAppOptions): Promise<GovernorSlackApp> {
  const missing = (['signingSecret', 'botToken', 'channel'] as const).filter((k) => !opts[k]);
  if (missing.length > 0) {
    throw new GovernorError('config_invalid', `Slack app needs ${missing.join(', ')}`, { details: { missing } });
  }
  const log = (opts.logger ?? createLogger({ name: 'slack' })).child({ component: 'slack' });
  const clock = opts.clock ?? new RealClock();
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const host = opts.host ?? '127.0.0.1';
  const replayGuard = opts.replayGuard ?? new MemorySharedState();
  const apiUrl = opts.slackApiUrl === undefined ? undefined : opts.slackApiUrl.replace(/\/?$/, '/');

  const receiver = new HTTPReceiver({
    signingSecret: opts.signingSecret,
    signatureVerification: true,
    endpoints: INTERACTIONS_PATH,
    // The listener acks before it does any work, so Slack gets its 200 within its 3 s limit.
    processBeforeResponse: false,
    logger: boltLogger(log),
    // Runs after Bolt verified the signature: what the replay guard needs, handed to the middleware.
    customPropertiesExtractor: (req) => ({
      slack_signature: String(req.headers['x-slack-signature'] ?? ''),
      slack_request_ts: Number(req.headers['x-slack-request-timestamp'] ?? NaN),
    }),
    customRoutes: [
      {
        path: '/healthz',
        method: ['GET'],
        handler: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        },
      },
    ],
  });

  const app = new App({
    token: opts.botToken,
    receiver,
    logger: boltLogger(log),
    // auth.test runs in start(), where a bad token fails loudly; Bolt would otherwise fire it from the
    // constructor and leave its rejection unhandled.
    deferInitialization: true,
    extendedErrorHandler: true,
    clientOptions: {
      ...(apiUrl === undefined ? {} : { slackApiUrl: apiUrl }),
      // The default policy retries for about half an hour; the caller (a bus consumer) owns retries.
      retryConfig: { retries: 0 },
      timeout: timeoutMs,
      rejectRateLimitedCalls: true,
    },
  });

  // The one place where errors from Bolt listeners end up.
  // Typed structurally: Bolt does not export ExtendedErrorHandlerArgs from its entry point.
  app.error(async ({ error, body }: { error: Error & { code?: string }; body: unknown }) => {
    const action = (body as { actions?: Array<{ value?: string; action_id?: string }> } | undefined)?.actions?.[0];
    log.error(
      { err: error, code: error.code, proposal_id: action?.value, action_id: action?.action_id },
      'slack interaction failed',
    );
  });

  // Proposals posted by this process, so a resolved message can be rebuilt if Slack's payload lacks blocks.
  const posted = new Map<string, { p: Proposal; d: Decision; requirement: ApprovalRequirement | undefined; message: Promise<{ channel: string; ts: string }> }>();
  const inflight = new Set<Promise<unknown>>();
  const groupCache = new Map<string, { atMs: number; users: Promise<readonly string[]> }>();

  async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toGovernorError(method, err);
    }
  }

  // Bolt checked the signature and that the request is not stale; here: not seen before, and not
  // from the future. A refused request is acknowledged (so Slack does not retry it) and does nothing.
  app.use(async (args) => {
    const { context, body, next } = args;
    const signature = context['slack_signature'];
    const ts = context['slack_request_ts'];
    if (typeof signature !== 'string' || !signature) return next();
    const ack = (args as { ack?: (r?: unknown) => Promise<void> }).ack;
    const user = requestUser(body);
    const refuse = async (code: RefusalCode, message: string) => {
      log.warn({ code, user_id: user.id }, message);
      await ack?.({ response_type: 'ephemeral', text: message }).catch(() => undefined);
      try {
        await opts.approvals.refuse({ by: user, code, message, request: requestName(body), source: 'slack' });
      } catch (err) {
        log.error({ err: describeError(err) }, 'refused request could not be audited');
      }
    };
    const nowS = Date.now() / 1000;
    if (typeof ts !== 'number' || !Number.isFinite(ts) || ts > nowS + FUTURE_SKEW_S) {
      await refuse('future_timestamp', 'Refused: the request is signed with a timestamp in the future.');
      return;
    }
    const first = await replayGuard.claimWindow(`slack-request:${signature}`, Date.now(), REPLAY_WINDOW_MS);
    if (!first.acquired) {
      await refuse('replayed_request', 'Refused: this exact signed request was already received once.');
      return;
    }
    await next();
  });

  async function handleClick({ ack, body, action, client }: ButtonArgs): Promise<void> {
    await ack();
    const approved = action.action_id === APPROVE_ACTION_ID;
    const proposalId = action.value ?? '';
    const userId = body.user.id;
    const channelId = body.channel?.id ?? (body.container['channel_id'] as string | undefined);
    const messageTs = (body.container['message_ts'] as string | undefined) ?? body.message?.ts;
    const plog = log.child({ proposal_id: proposalId || undefined, user_id: userId });

    const tell = async (text: string): Promise<void> => {
      if (!channelId) return;
      try {
        await client.chat.postEphemeral({ channel: channelId, user: userId, text });
      } catch (err) {
        plog.warn({ err: toGovernorError('chat.postEphemeral', err) }, 'could not reach the user with an ephemeral message');
      }
    };

    // The value and the block id both carry the proposal id; a click where they disagree did not come
    // from a message this app built.
    if (!proposalId || proposalIdFromBlockId(action.block_id) !== proposalId || !channelId || !messageTs) {
      plog.warn({ block_id: action.block_id, channel: channelId, message_ts: messageTs }, 'malformed proposal click ignored');
      await tell('That button is not attached to a Governor proposal; nothing was decided.');
      return;
    }

    const userName = body.user.username ?? body.user.name;
    const by: Person = { id: userId, ...(userName ? { name: userName } : {}) };
    let result: Awaited<ReturnType<Approvals['vote']>>;
    try {
      result = await opts.approvals.vote({ proposal_id: proposalId, approved, by, source: 'slack' });
    } catch (err) {
      plog.error({ err }, 'vote could not be recorded; proposal left open');
      await tell(`Your ${approved ? 'approval' : 'rejection'} could not be recorded (${describeError(err)}). The proposal is still open: try again.`);
      return;
    }
    if (result.status === 'refused') {
      // The message stays as it is: a refused click changes nothing anyone else sees.
      await tell(result.message);
      return;
    }
    plog.info({ approved, outcome: result.outcome ?? 'pending' }, 'vote recorded');

    const known = posted.get(proposalId);
    const shown = body.message?.['blocks'];
    const base = Array.isArray(shown)
      ? shown
      : result.decision
        ? proposalAwaitingApproval(result.proposal, result.decision, result.requirement).blocks
        : undefined;
    let message: { text: string; blocks: unknown[] | undefined };
    if (result.outcome) {
      const resolution: Resolution = { outcome: result.outcome, user_ids: result.deciders, at_ms: clock.now() };
      message = base
        ? { blocks: resolveProposalBlocks(base, proposalId, resolution), text: resolvedText(resolution, known ? `${known.p.action} ${known.p.target.name}` : `proposal ${proposalId}`) }
        : known
          ? proposalResolved(known.p, known.d, resolution, known.requirement)
          : { blocks: undefined, text: resolvedText(resolution, `proposal ${proposalId}`) };
    } else {
      const status = awaitingText(result.requirement, result.deciders);
      message = { blocks: base ? replaceStatus(base, proposalId, status, false) : undefined, text: `Approved by ${result.deciders.length} of ${result.required}` };
    }
    try {
      await client.chat.update({
        channel: channelId,
        ts: messageTs,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as KnownBlock[] } : {}),
      });
    } catch (err) {
      plog.error({ err: toGovernorError('chat.update', err) }, 'vote recorded but the message could not be updated');
      await tell('Your vote was recorded, but the message could not be updated to show it.');
    }
    if (!result.outcome) await tell(`Your approval is recorded (${result.approvals} of ${result.required}); it needs ${result.required - result.approvals} more from a different approver.`);
  }

  const tracked = (args: ButtonArgs): Promise<void> => {
    const p = handleClick(args);
    inflight.add(p);
    return p.finally(() => inflight.delete(p));
  };
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: APPROVE_ACTION_ID }, tracked);
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: REJECT_ACTION_ID }, tracked);
  if (opts.autonomy) {
    registerSlashCommands(app, {
      autonomy: opts.autonomy,
      approvals: opts.approvals,
      logger: log,
      track: (work) => {
        inflight.add(work);
        void work.catch(() => undefined).finally(() => inflight.delete(work));
      },
    });
  }

  let server: Server | undefined;
  let url: string | undefined;
  let starting: Promise<{ url: string }> | undefined;

  return {
    start() {
      if (server && url) return Promise.resolve({ url });
      starting ??= (async () => {
        await call('auth.test', () => app.init());
        try {
          server = (await receiver.start({ port: opts.port, host }, { headersTimeout: timeoutMs, requestTimeout: timeoutMs })) as Server;
        } catch (err) {
          throw new GovernorError('config_invalid', `Slack interactions endpoint cannot listen on ${host}:${opts.port}: ${describeError(err)}`, {
            cause: err,
          });
        }
        const addr = server.address() as AddressInfo;
        const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
        url = `http://${shownHost}:${addr.port}${INTERACTIONS_PATH}`;
        log.info({ url }, 'slack interactions endpoint listening');
        return { url };
      })().finally(() => {
        starting = undefined;
      });
      return starting;
    },

    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      url = undefined;
      const closing = receiver.stop();
      s.closeIdleConnections();
      // A click whose onDecision is still running finishes before we report stopped (within bounds:
      // a hung onDecision must not hang shutdown).
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inflight]),
        new Promise((resolve) => {
          bound = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(bound);
      const force = setTimeout(() => s.closeAllConnections(), 2_000);
      force.unref();
      try {
        await closing;
      } finally {
        clearTimeout(force);
      }
    },

    requestApproval(p, d, requirement) {
      if (d.proposal_id !== p.id) {
        return Promise.reject(
          new GovernorError('event_invalid', `decision ${d.id} is for proposal ${d.proposal_id}, not ${p.id}`, {
            details: { proposal_id: p.id },
          }),
        );
      }
      // Fail closed: a denied proposal can never be approved, and an allowed one needs no human.
      if (d.verdict !== 'require_approval') {
        return Promise.reject(
          new GovernorError('conflict', `proposal ${p.id} has verdict ${d.verdict}; only require_approval gets buttons`, {
            details: { proposal_id: p.id, verdict: d.verdict },
          }),
        );
      }
      const earlier = posted.get(p.id);
      if (earlier) return earlier.message;
      const msg = proposalAwaitingApproval(p, d, requirement);
      const message = call('chat.postMessage', () =>
        app.client.chat.postMessage({
          channel: opts.channel,
          text: msg.text,
          blocks: msg.blocks,
          unfurl_links: false,
          unfurl_media: false,
        }),
      ).then((res) => {
        if (!res.channel || !res.ts) {
          throw new GovernorError('upstream_unavailable', 'Slack chat.postMessage answered without channel or ts', {
            retryable: true,
          });
        }
        log.info({ proposal_id: p.id, tenant: p.tenant, agent: p.agent, ts: res.ts }, 'approval requested in slack');
        return { channel: res.channel, ts: res.ts };
      });
      setBounded(posted, p.id, { p, d, requirement, message });
      // A failed post is forgotten so that the bus's redelivery can try again.
      message.catch(() => {
        if (posted.get(p.id)?.message === message) posted.delete(p.id);
      });
      return message;
    },

    async approvalEnded(ref, p, d, r, requirement) {
      const msg = proposalResolved(p, d, r, requirement);
      await call('chat.update', () => app.client.chat.update({ channel: ref.channel, ts: ref.ts, text: msg.text, blocks: msg.blocks }));
    },

    membersOf(groupId) {
      const cached = groupCache.get(groupId);
      if (cached && Date.now() - cached.atMs < GROUP_CACHE_MS) return cached.users;
      const users = call('usergroups.users.list', () => app.client.usergroups.users.list({ usergroup: groupId })).then((r) => r.users ?? []);
      groupCache.set(groupId, { atMs: Date.now(), users });
      // A failed lookup is not remembered: the next vote asks again.
      users.catch(() => groupCache.delete(groupId));
      return users;
    },

    async notify(text, blocks) {
      await call('chat.postMessage', () =>
        app.client.chat.postMessage({
          channel: opts.channel,
          text,
          ...(blocks ? { blocks: blocks as never[] } : {}),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
    },
  };
}

/** Who sent a request (a click or a command), as far as its body says. */
function requestUser(body: unknown): Person {
  const b = body as { user?: { id?: string; name?: string; username?: string }; user_id?: string; user_name?: string } | undefined;
  const id = b?.user?.id ?? b?.user_id ?? 'unknown';
  const name = b?.user?.username ?? b?.user?.name ?? b?.user_name;
  return { id, ...(name ? { name } : {}) };
}

/** What a request asked for: a command's name, or a click's action id. */
function requestName(body: unknown): string {
  const b = body as { command?: string; actions?: { action_id?: string }[]; type?: string } | undefined;
  return b?.command ?? b?.actions?.[0]?.action_id ?? b?.type ?? 'request';
}
