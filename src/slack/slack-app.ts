// The Slack side of the approval flow: posts proposals that need a human as messages with Approve /
// Reject buttons, receives the clicks through Bolt's own HTTP receiver (signature and timestamp
// checked there), hands each decision to `onDecision` exactly once, and marks the message resolved.
// The same code talks to Slack and to the sandbox's fake Web API; only `slackApiUrl` differs.
// Given the autonomy manager, it also serves the operator's slash commands (slash-commands.ts) on
// the same signed endpoint.
// It must never decide anything itself: a click from someone outside `approvers` is refused, a
// proposal that policy did not send for approval gets no buttons, and if `onDecision` fails the
// buttons stay so that nothing is recorded as decided that was not.
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
import { RealClock, type Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { boltLogger } from './bolt-logger.ts';
import {
  APPROVE_ACTION_ID,
  REJECT_ACTION_ID,
  proposalAwaitingApproval,
  proposalIdFromBlockId,
  proposalResolved,
  resolveProposalBlocks,
  resolvedText,
  slackDate,
  type KnownBlock,
  type Resolution,
} from './proposal-message.ts';
import { toGovernorError } from './slack-errors.ts';
import { registerSlashCommands, type AutonomyCommands, type FreezeOverrideRequest } from './slash-commands.ts';

/** A human's decision on one proposal, as taken from a verified Slack click. */
export interface SlackDecision {
  proposal_id: string;
  approved: boolean;
  user_id: string;
  user_name?: string;
}

export interface SlackAppOptions {
  signingSecret: string;
  botToken: string;
  /** Base URL of the Web API, ending with `/api/`; Slack's own when omitted. */
  slackApiUrl?: string;
  /** Channel id or name where proposals are posted. */
  channel: string;
  /** Port for the interactions endpoint; 0 picks a free one. */
  port: number;
  host?: string;
  /** Slack user ids allowed to approve; empty means anyone who can see the channel. */
  approvers?: readonly string[];
  /** Records the decision (audit, approval event). Must be idempotent; a throw leaves the buttons in place. */
  onDecision: (d: SlackDecision) => Promise<void>;
  logger?: Logger;
  clock?: Clock;
  /** Longest wait for one Web API call, and for one incoming request to arrive. */
  requestTimeoutMs?: number;
  /**
   * The autonomy manager behind `/agents-pause` and `/agents-level` (src/slack/slash-commands.ts);
   * without it the commands are not registered. Changes are for `approvers` only.
   */
  autonomy?: AutonomyCommands;
  /** Behind `/agents-override-freeze` (registered with the other commands, so it needs `autonomy`). */
  overrideFreeze?: (req: FreezeOverrideRequest) => Promise<void>;
}

export interface GovernorSlackApp {
  /** Verifies the bot token (auth.test) and starts listening. `url` is where Slack must send interactions. */
  start(): Promise<{ url: string }>;
  /** Stops listening, after the clicks already being handled have finished. */
  stop(): Promise<void>;
  /** Posts the proposal with its buttons; posting the same proposal twice returns the first message. */
  requestApproval(p: Proposal, d: Decision): Promise<{ channel: string; ts: string }>;
  notify(text: string, blocks?: unknown[]): Promise<void>;
}

export const INTERACTIONS_PATH = '/slack/events';

type DecisionState =
  | { state: 'deciding'; approved: boolean; user_id: string }
  | ({ state: 'decided' } & Resolution);

// Enough for weeks of proposals; beyond it the oldest decisions are forgotten (a forgotten one would
// have its buttons removed already, and onDecision is idempotent downstream anyway).
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

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

export async function createSlackApp(opts: SlackAppOptions): Promise<GovernorSlackApp> {
  const missing = (['signingSecret', 'botToken', 'channel'] as const).filter((k) => !opts[k]);
  if (missing.length > 0) {
    throw new GovernorError('config_invalid', `Slack app needs ${missing.join(', ')}`, { details: { missing } });
  }
  const log = (opts.logger ?? createLogger({ name: 'slack' })).child({ component: 'slack' });
  const clock = opts.clock ?? new RealClock();
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const approvers = new Set(opts.approvers ?? []);
  const host = opts.host ?? '127.0.0.1';
  const apiUrl = opts.slackApiUrl === undefined ? undefined : opts.slackApiUrl.replace(/\/?$/, '/');

  const receiver = new HTTPReceiver({
    signingSecret: opts.signingSecret,
    signatureVerification: true,
    endpoints: INTERACTIONS_PATH,
    // The listener acks before it does any work, so Slack gets its 200 within its 3 s limit.
    processBeforeResponse: false,
    logger: boltLogger(log),
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

  const decisions = new Map<string, DecisionState>();
  const remember = (id: string, s: DecisionState): void => setBounded(decisions, id, s);
  // Proposals posted by this process, so a resolved message can be rebuilt if Slack's payload lacks blocks.
  const posted = new Map<string, { p: Proposal; d: Decision; message: Promise<{ channel: string; ts: string }> }>();
  const inflight = new Set<Promise<unknown>>();

  async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toGovernorError(method, err);
    }
  }

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
    if (approvers.size > 0 && !approvers.has(userId)) {
      plog.warn('click from a user who is not an approver refused');
      await tell(
        `You are not on Governor's approver list, so your ${approved ? 'approval' : 'rejection'} was not recorded. Ask an on-call approver.`,
      );
      return;
    }

    // From here to `remember(deciding)` there is no await: two clicks cannot both pass this check.
    const existing = decisions.get(proposalId);
    if (existing !== undefined) {
      plog.info({ state: existing.state }, 'click on a proposal already decided ignored');
      await tell(
        existing.state === 'decided'
          ? `This proposal was already ${existing.approved ? 'approved' : 'rejected'} by <@${existing.user_id}> at ${slackDate(existing.at_ms)}; your click changed nothing.`
          : `<@${existing.user_id}> is already ${existing.approved ? 'approving' : 'rejecting'} this proposal; your click changed nothing.`,
      );
      return;
    }
    remember(proposalId, { state: 'deciding', approved, user_id: userId });

    const userName = body.user.username ?? body.user.name;
    try {
      await opts.onDecision({
        proposal_id: proposalId,
        approved,
        user_id: userId,
        ...(userName ? { user_name: userName } : {}),
      });
    } catch (err) {
      decisions.delete(proposalId);
      plog.error({ err }, 'decision could not be recorded; proposal left open');
      await tell(`Your decision could not be recorded (${describeError(err)}). The proposal is still open: try again.`);
      return;
    }
    const resolution: Resolution = { approved, user_id: userId, at_ms: clock.now() };
    remember(proposalId, { state: 'decided', ...resolution });
    plog.info({ approved }, 'proposal decided in slack');

    const known = posted.get(proposalId);
    const shown = body.message?.['blocks'];
    const message = Array.isArray(shown)
      ? {
          blocks: resolveProposalBlocks(shown, proposalId, resolution),
          text: known ? proposalResolved(known.p, known.d, resolution).text : resolvedText(resolution, `proposal ${proposalId}`),
        }
      : known
        ? proposalResolved(known.p, known.d, resolution)
        : { blocks: undefined, text: resolvedText(resolution, `proposal ${proposalId}`) };
    try {
      await client.chat.update({
        channel: channelId,
        ts: messageTs,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks as KnownBlock[] } : {}),
      });
    } catch (err) {
      plog.error({ err: toGovernorError('chat.update', err) }, 'decision recorded but the message still shows its buttons');
      await tell('Your decision was recorded, but the message could not be updated; its buttons no longer do anything.');
    }
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
      approvers,
      logger: log,
      ...(opts.overrideFreeze ? { overrideFreeze: opts.overrideFreeze } : {}),
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

    requestApproval(p, d) {
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
      const msg = proposalAwaitingApproval(p, d);
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
      setBounded(posted, p.id, { p, d, message });
      // A failed post is forgotten so that the bus's redelivery can try again.
      message.catch(() => {
        if (posted.get(p.id)?.message === message) posted.delete(p.id);
      });
      return message;
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
