// The Governor Slack app: posts proposals that need a human as messages with Approve / Reject
// buttons (into their incident's thread when they have one), receives the clicks through the
// injected transport (slack-transport.ts: signed HTTP, or Socket Mode envelopes), hands each vote to
// the approval desk (src/governance/approvals.ts), which decides it against the proposal's records,
// and shows the result: the message resolved, or the votes so far, or — to the person only — why
// their click was refused. Over the same transport it serves the operator's slash commands
// (slash-commands.ts, incident-command.ts), the observation buttons (observation-actions.ts) and
// the App Home (app-home.ts), and it offers the cockpit projector (cockpit-projector.ts) the few Web
// API calls it needs: post, update, upload a file. The same code talks to Slack and to the sandbox's
// fake Web API; only `slackApiUrl` differs.
// It must never decide anything itself: who may approve, and whether a vote counts, is the desk's
// word; a signed HTTP request whose signature was seen before is refused whatever it asks; and a
// message is only changed once the desk has recorded what it says. Errors of listeners end in one
// place, `app.error`.
import {
  App,
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
import type { SlackTransport } from './slack-transport.ts';
import type { IncidentQueries } from '../governance/incident-queries.ts';
import { registerIncidentCommand } from './incident-command.ts';
import { registerObservationActions, type ObservationDesk } from './observation-actions.ts';
import { registerAppHome, type HomeSource } from './app-home.ts';
import type { SlackMessage } from './mrkdwn.ts';

export { INTERACTIONS_PATH } from './slack-transport.ts';

/** Where a message is: what chat.update and thread replies need. */
// A type, not an interface: it is stored as a record's `channel` (Record<string, unknown>).
export type MessageRef = { channel: string; ts: string };

/** A file put into a channel or thread with Slack's upload flow (files.getUploadURLExternal, upload, files.completeUploadExternal). */
export interface FileUpload {
  /** Defaults to the app's channel. */
  channel?: string;
  thread_ts?: string;
  filename: string;
  title: string;
  alt_text?: string;
  bytes: Buffer;
  initial_comment?: string;
}

/** What the Slack app asks of the approval desk: votes, freeze overrides, rights, and recording a refusal. */
export type Approvals = Pick<ApprovalDesk, 'vote' | 'overrideFreeze' | 'may' | 'refuse'>;

export interface SlackAppOptions {
  /** How requests arrive (signed HTTP or Socket Mode): chosen by the composition root, shared by every listener. */
  transport: SlackTransport;
  botToken: string;
  /** Base URL of the Web API, ending with `/api/`; Slack's own when omitted. */
  slackApiUrl?: string;
  /** Channel id or name where proposals are posted. */
  channel: string;
  /** Decides every vote and override, and knows who may pull which lever. */
  approvals: Approvals;
  /**
   * Where seen request signatures are kept for Slack's five-minute window, so a replayed request is
   * refused in every process (Redis across processes); this process's memory when omitted. HTTP only:
   * Socket Mode envelopes are not signed (slack-transport.ts).
   */
  replayGuard?: SharedState;
  logger?: Logger;
  clock?: Clock;
  /** Longest wait for one Web API call. */
  requestTimeoutMs?: number;
  /**
   * The autonomy manager behind `/agents-pause` and `/agents-level` (src/slack/slash-commands.ts);
   * without it the commands are not registered. Who may use them is the desk's word.
   */
  autonomy?: AutonomyCommands;
  /**
   * The thread of an incident (its parent message), where a proposal of that incident asks for
   * approval; the projector owns the parents (cockpit-projector.ts). Top-level when absent or when it
   * answers undefined.
   */
  threadOf?: (incidentId: string) => Promise<MessageRef | undefined>;
  /** Confirm / False alarm / Page on-call on an incident's parent message; without it, no such buttons are served. */
  observations?: ObservationDesk;
  /** What the App Home shows; without it, app_home_opened is ignored. */
  home?: HomeSource;
  /** The answers behind `/incident`; without it the command is not registered. */
  incidents?: IncidentQueries;
}

export interface GovernorSlackApp {
  /** `http` or `socket`: how requests reach this app. */
  readonly transport: SlackTransport['kind'];
  /** Verifies the bot token (auth.test) and starts receiving. `url` is where Slack must send interactions (HTTP) or the socket's host. */
  start(): Promise<{ url: string }>;
  /** Stops listening, after the clicks already being handled have finished. */
  stop(): Promise<void>;
  /** Posts the proposal with its buttons (in its incident's thread); posting the same proposal twice returns the first message. */
  requestApproval(p: Proposal, d: Decision, requirement?: ApprovalRequirement): Promise<MessageRef & { thread_ts?: string }>;
  /** Shows how an approval ended on its message (an expiry, which no click announces). */
  approvalEnded(ref: { channel: string; ts: string }, p: Proposal, d: Decision, r: Resolution, requirement?: ApprovalRequirement): Promise<void>;
  /** A message in the channel, or a reply in the thread `threadTs` names. */
  notify(text: string, blocks?: unknown[], threadTs?: string): Promise<void>;
  /** A user group's members (`usergroups.users.list`), cached for a minute: approvers named by group. */
  membersOf(groupId: string): Promise<readonly string[]>;
  /** Posts a message in the app's channel, or as a reply in a thread. */
  post(msg: SlackMessage, opts?: { thread_ts?: string }): Promise<MessageRef>;
  /** Replaces a message the app posted. */
  update(ref: MessageRef, msg: SlackMessage): Promise<void>;
  /** Uploads a file with Slack's external upload flow and shares it (in a thread when given); returns its id. */
  upload(f: FileUpload): Promise<{ file_id: string }>;
}

/** How long a user group's membership is believed before Slack is asked again. */
const GROUP_CACHE_MS = 60_000;

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
  const missing = (['botToken', 'channel'] as const).filter((k) => !opts[k]);
  if (missing.length > 0) {
    throw new GovernorError('config_invalid', `Slack app needs ${missing.join(', ')}`, { details: { missing } });
  }
  const log = (opts.logger ?? createLogger({ name: 'slack' })).child({ component: 'slack' });
  const clock = opts.clock ?? new RealClock();
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const replayGuard = opts.replayGuard ?? new MemorySharedState();
  const apiUrl = opts.slackApiUrl === undefined ? undefined : opts.slackApiUrl.replace(/\/?$/, '/');

  const app = new App({
    token: opts.botToken,
    receiver: opts.transport.receiver,
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
    const b = body as { actions?: Array<{ value?: string; action_id?: string }>; command?: string; event?: { type?: string } } | undefined;
    const action = b?.actions?.[0];
    log.error(
      { err: error, code: error.code, proposal_id: action?.value, action_id: action?.action_id, command: b?.command, event: b?.event?.type, transport: opts.transport.kind },
      'slack interaction failed',
    );
  });

  // Proposals posted by this process, so a resolved message can be rebuilt if Slack's payload lacks blocks.
  const posted = new Map<string, { p: Proposal; d: Decision; requirement: ApprovalRequirement | undefined; message: Promise<MessageRef & { thread_ts?: string }> }>();
  const inflight = new Set<Promise<unknown>>();
  const groupCache = new Map<string, { atMs: number; users: Promise<readonly string[]> }>();

  async function call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toGovernorError(method, err);
    }
  }

  // HTTP: Bolt checked the signature and that the request is not stale; here: not seen before, and
  // not from the future. A refused request is acknowledged (so Slack does not retry it) and does
  // nothing. Socket Mode envelopes carry no signature or timestamp to check (slack-transport.ts):
  // a redelivered envelope is handled by the handlers' own idempotence, as a retried event is.
  if (opts.transport.kind === 'http') app.use(async (args) => {
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
  const track = (work: Promise<unknown>): void => {
    inflight.add(work);
    void work.catch(() => undefined).finally(() => inflight.delete(work));
  };
  if (opts.autonomy) registerSlashCommands(app, { autonomy: opts.autonomy, approvals: opts.approvals, logger: log, track });
  if (opts.incidents) registerIncidentCommand(app, { queries: opts.incidents, logger: log, track });
  if (opts.observations) registerObservationActions(app, { desk: opts.observations, logger: log, track });
  if (opts.home) registerAppHome(app, { home: opts.home, logger: log, track });

  let url: string | undefined;
  let starting: Promise<{ url: string }> | undefined;

  return {
    transport: opts.transport.kind,

    start() {
      if (url) return Promise.resolve({ url });
      starting ??= (async () => {
        await call('auth.test', () => app.init());
        const started = await opts.transport.start();
        url = started.url;
        log.info({ url, transport: opts.transport.kind }, 'slack app receiving');
        return started;
      })().finally(() => {
        starting = undefined;
      });
      return starting;
    },

    async stop() {
      if (!url) return;
      url = undefined;
      const closing = opts.transport.stop();
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
      await closing;
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
      const message = (async () => {
        // A thread that cannot be had (Slack down for the parent) must not keep the approvers from
        // being asked: top-level then.
        const thread = p.incident_id && opts.threadOf
          ? await opts.threadOf(p.incident_id).catch((err: unknown) => {
              log.warn({ err: describeError(err), incident_id: p.incident_id }, 'incident thread unavailable; asking at top level');
              return undefined;
            })
          : undefined;
        return call('chat.postMessage', () =>
          app.client.chat.postMessage({
            channel: thread?.channel ?? opts.channel,
            ...(thread ? { thread_ts: thread.ts } : {}),
            text: msg.text,
            blocks: msg.blocks,
            unfurl_links: false,
            unfurl_media: false,
          }),
        );
      })().then((res) => {
        if (!res.channel || !res.ts) {
          throw new GovernorError('upstream_unavailable', 'Slack chat.postMessage answered without channel or ts', {
            retryable: true,
          });
        }
        log.info({ proposal_id: p.id, tenant: p.tenant, agent: p.agent, ts: res.ts }, 'approval requested in slack');
        const thread = (res.message as { thread_ts?: string } | undefined)?.thread_ts;
        return { channel: res.channel, ts: res.ts, ...(thread ? { thread_ts: thread } : {}) };
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

    async post(msg, o = {}) {
      const res = await call('chat.postMessage', () =>
        app.client.chat.postMessage({
          channel: opts.channel,
          ...(o.thread_ts ? { thread_ts: o.thread_ts } : {}),
          text: msg.text,
          blocks: msg.blocks,
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      if (!res.channel || !res.ts) throw new GovernorError('upstream_unavailable', 'Slack chat.postMessage answered without channel or ts', { retryable: true });
      return { channel: res.channel, ts: res.ts };
    },

    async update(ref, msg) {
      await call('chat.update', () => app.client.chat.update({ channel: ref.channel, ts: ref.ts, text: msg.text, blocks: msg.blocks }));
    },

    async upload(f) {
      const res = await call('files.uploadV2', () =>
        app.client.filesUploadV2({
          channel_id: f.channel ?? opts.channel,
          ...(f.thread_ts ? { thread_ts: f.thread_ts } : {}),
          file: f.bytes,
          filename: f.filename,
          title: f.title,
          ...(f.alt_text ? { alt_text: f.alt_text } : {}),
          ...(f.initial_comment ? { initial_comment: f.initial_comment } : {}),
        } as Parameters<typeof app.client.filesUploadV2>[0]),
      );
      const done = (res as unknown as { files?: Array<{ files?: Array<{ id?: string }> }> }).files ?? [];
      const id = done[0]?.files?.[0]?.id;
      if (!id) throw new GovernorError('upstream_unavailable', 'Slack files.completeUploadExternal answered without the file', { retryable: true });
      return { file_id: id };
    },

    async notify(text, blocks, threadTs) {
      await call('chat.postMessage', () =>
        app.client.chat.postMessage({
          channel: opts.channel,
          text,
          ...(threadTs ? { thread_ts: threadTs } : {}),
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
