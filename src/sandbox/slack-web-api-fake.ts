// A local stand-in for Slack, for tests, the sandbox (`npm start` without credentials) and the demo.
// It speaks Slack's wire protocols on both sides: the Web API (POST /api/<method>, form or JSON, bearer
// token, `{ ok, error }` answers with HTTP 200; the file upload flow in slack-fake-files.ts;
// views.publish for the App Home; apps.connections.open for Socket Mode) that the Bolt app calls, and
// what people do — clicks, slash commands, opening the App Home — delivered to the app as Slack
// delivers them (slack-fake-delivery.ts: signed HTTP requests, or Socket Mode envelopes). Its console
// (GET /) shows the channel with its threads and charts and the App Home as a person would see them,
// with buttons and a command box that go through that same delivery.
// It must never give the app a way around what real Slack enforces: no unsigned interactions, no
// clicks on buttons that are not on the message, no token-less API calls. A fake more lenient than
// Slack would hide bugs until production.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../core/logger.ts';
import { consolePageHtml } from './slack-console-page.ts';
import { ApiError, isRecord, randomId, readBody, sendJson, str } from './slack-fake-api.ts';
import { HttpDelivery, type DeliveryKind, type SignOverrides, type SlackDelivery } from './slack-fake-delivery.ts';
import { FakeFiles } from './slack-fake-files.ts';

export type { SignOverrides, SlackDelivery } from './slack-fake-delivery.ts';

export interface FakeChannel {
  id: string;
  name: string;
}

export interface FakeUser {
  id: string;
  name: string;
  real_name?: string;
}

/** A Slack user group (`S…`): approvers can be named by group, as in Slack. */
export interface FakeUserGroup {
  id: string;
  handle: string;
  users: readonly string[];
}

/** The channel the sandbox posts to unless told otherwise; its name matches the SLACK_CHANNEL default. */
export const SANDBOX_CHANNEL: FakeChannel = { id: 'C0GOVAPPROV', name: 'governor-approvals' };

/** People in the sandbox workspace, offered by the console as "click as …". */
export const SANDBOX_USERS: readonly FakeUser[] = [
  { id: 'U0ONCALL01', name: 'alice', real_name: 'Alice (on-call SRE)' },
  { id: 'U0ONCALL02', name: 'bob', real_name: 'Bob (SRE)' },
  { id: 'U0VIEWER03', name: 'carol', real_name: 'Carol (product, not an approver)' },
];

/** The sandbox's on-call rota as a user group: the approvers config/sandbox.json names. */
export const SANDBOX_GROUPS: readonly FakeUserGroup[] = [{ id: 'S0ONCALL', handle: 'oncall', users: ['U0ONCALL01', 'U0ONCALL02'] }];

const TEAM = { id: 'T0SANDBOX', domain: 'governor-sandbox', name: 'Governor Sandbox' } as const;
const BOT = { user_id: 'U0GOVBOT', bot_id: 'B0GOVBOT', app_id: 'A0GOVERNOR', name: 'governor' } as const;

export interface FakeMessage {
  channel: string;
  ts: string;
  /** Who posted it: the bot's user id for everything the app posts. */
  user: string;
  bot_id?: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  /** Files shared with the message (files.completeUploadExternal), as Slack's file objects. */
  files?: Record<string, unknown>[];
  /** Set once chat.update (or a response_url replace) has changed it. */
  edited?: { user: string; ts: string };
  updates: number;
}

export interface FakeEphemeral {
  channel: string;
  /** The only person who sees it. */
  user: string;
  text: string;
  blocks: unknown[];
  ts: string;
  via: 'chat.postEphemeral' | 'response_url' | 'command_response';
}

export interface FakeApiCall {
  method: string;
  /** Arguments as received, without the token. */
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export interface FakeResponseUrlPost {
  id: string;
  body: unknown;
}

export interface ClickOptions extends SignOverrides {
  ts: string;
  actionId: string;
  userId: string;
  userName?: string;
}

export interface FakeSlashCommand extends SignOverrides {
  /** With its slash, e.g. `/agents-pause`. */
  command: string;
  text?: string;
  userId: string;
  userName?: string;
  /** Channel id or name the command is typed in; the first channel by default. */
  channel?: string;
}

export interface SlackFake {
  /** Base URL for the app's Web API client; ends with `/api/`. */
  apiUrl: string;
  /** The sandbox console: the channel as a person sees it. */
  consoleUrl: string;
  /** Where the app's HTTP endpoint is: clicks and commands are then delivered there, signed. */
  setInteractionsUrl(url: string): void;
  /** Delivers through another transport instead (Socket Mode: test/slack/socket-mode-fake.ts). */
  useDelivery(d: SlackDelivery): void;
  /** What apps.connections.open answers: the Socket Mode WebSocket URL (with its ticket). */
  setSocketModeUrl(open: () => string): void;
  /** The App Home view published for a user (views.publish), if any. */
  homeView(userId: string): Record<string, unknown> | undefined;
  /** Opens the App Home as `userId`: an `app_home_opened` event delivered to the app. */
  openAppHome(userId: string): Promise<{ status: number }>;
  /** A file's bytes as uploaded. */
  fileBytes(fileId: string): Buffer | undefined;
  messages(): FakeMessage[];
  ephemerals(): FakeEphemeral[];
  apiCalls(): FakeApiCall[];
  responseUrlPosts(): FakeResponseUrlPost[];
  /** Makes the next call to `method` answer `{ ok: false, error }`, as Slack would on a bad day. */
  failNext(method: string, error: string): void;
  /** Clicks a button on a message as `userId`: a real, signed block_actions request to the app. */
  clickButton(opts: ClickOptions): Promise<{ status: number; payload: Record<string, unknown> }>;
  /** Sends any interaction payload through the signed path (for replays and malformed payloads). */
  postInteraction(payload: unknown, sign?: SignOverrides): Promise<{ status: number }>;
  /**
   * Sends the last signed request (click or command) again, byte for byte: what an attacker who
   * captured it would do. Returns the app's status.
   */
  replayLast(): Promise<{ status: number }>;
  /**
   * Types a slash command as `userId`: a signed form POST to the app, as Slack sends one. The app's
   * immediate answer (its ack body) is shown as Slack shows it: in the channel for `in_channel`,
   * else to the user only; later answers arrive through the command's response_url.
   */
  slashCommand(opts: FakeSlashCommand): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

export interface SlackFakeOptions {
  botToken: string;
  signingSecret: string;
  /** The app-level token (`xapp-…`) that may call apps.connections.open (Socket Mode). */
  appToken?: string;
  port?: number;
  host?: string;
  interactionsUrl?: string;
  channels?: readonly FakeChannel[];
  users?: readonly FakeUser[];
  groups?: readonly FakeUserGroup[];
  logger?: Logger;
}

// Slack's documented limits that the app's messages are checked against.
const LIMITS = { blocks: 50, blockId: 255, actionId: 255, section: 3000, header: 150, fields: 10, field: 2000, buttonText: 75, value: 2000, elements: 25, context: 10 };
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60 * 1000;

/** Checks blocks the way Slack does before accepting a message, and fills in the ids Slack assigns. */
function checkBlocks(raw: unknown, maxBlocks: number = LIMITS.blocks): unknown[] {
  let blocks = raw;
  if (typeof blocks === 'string') {
    try {
      blocks = JSON.parse(blocks);
    } catch {
      throw new ApiError('invalid_blocks_format');
    }
  }
  if (!Array.isArray(blocks)) throw new ApiError('invalid_blocks_format');
  const problems: string[] = [];
  const problem = (path: string, msg: string): void => {
    problems.push(`[ERROR] ${msg} [json-pointer:/blocks${path}]`);
  };
  if (blocks.length > maxBlocks) problem('', `no more than ${maxBlocks} items allowed`);
  const blockIds = new Set<string>();
  const out = blocks.map((b, i) => {
    if (!isRecord(b) || typeof b.type !== 'string') {
      problem(`/${i}`, 'must be an object with a type');
      return b;
    }
    const block: Record<string, unknown> = structuredClone(b);
    const id = block.block_id === undefined ? randomId(5) : block.block_id;
    if (typeof id !== 'string' || id.length === 0 || id.length > LIMITS.blockId) problem(`/${i}/block_id`, 'must be a string of 1-255 characters');
    else if (blockIds.has(id)) problem(`/${i}/block_id`, `duplicate block_id ${id}`);
    else blockIds.add(id);
    block.block_id = id;
    const textOf = (t: unknown): string | undefined => (isRecord(t) && typeof t.text === 'string' ? t.text : undefined);
    switch (block.type) {
      case 'header': {
        const t = textOf(block.text);
        if (t === undefined || !isRecord(block.text) || block.text.type !== 'plain_text') problem(`/${i}/text`, 'must be a plain_text object');
        else if (t.length > LIMITS.header) problem(`/${i}/text`, `must be less than ${LIMITS.header + 1} characters`);
        break;
      }
      case 'section': {
        const t = block.text === undefined ? undefined : textOf(block.text);
        const fields = block.fields;
        if (block.text !== undefined && t === undefined) problem(`/${i}/text`, 'must be a text object');
        if (t !== undefined && t.length > LIMITS.section) problem(`/${i}/text`, `must be less than ${LIMITS.section + 1} characters`);
        if (fields !== undefined) {
          if (!Array.isArray(fields) || fields.length > LIMITS.fields) problem(`/${i}/fields`, `must be an array of at most ${LIMITS.fields} items`);
          else fields.forEach((f, j) => {
            const ft = textOf(f);
            if (ft === undefined || ft.length > LIMITS.field) problem(`/${i}/fields/${j}`, `must be a text object of at most ${LIMITS.field} characters`);
          });
        }
        if (t === undefined && fields === undefined) problem(`/${i}`, 'must provide either text or fields');
        if (isRecord(block.accessory)) checkElement(block.accessory, `/${i}/accessory`, new Set(), problem);
        break;
      }
      case 'context': {
        const els = block.elements;
        if (!Array.isArray(els) || els.length === 0 || els.length > LIMITS.context) problem(`/${i}/elements`, `must be an array of 1-${LIMITS.context} items`);
        break;
      }
      case 'actions': {
        const els = block.elements;
        if (!Array.isArray(els) || els.length === 0 || els.length > LIMITS.elements) {
          problem(`/${i}/elements`, `must be an array of 1-${LIMITS.elements} items`);
          break;
        }
        const actionIds = new Set<string>();
        els.forEach((e, j) => {
          if (!isRecord(e)) problem(`/${i}/elements/${j}`, 'must be an object');
          else checkElement(e, `/${i}/elements/${j}`, actionIds, problem);
        });
        break;
      }
      default:
        break;
    }
    return block;
  });
  if (problems.length > 0) throw new ApiError('invalid_blocks', { errors: problems, response_metadata: { messages: problems } });
  return out;
}

function checkElement(e: Record<string, unknown>, path: string, actionIds: Set<string>, problem: (p: string, m: string) => void): void {
  if (e.action_id === undefined) e.action_id = randomId(5);
  const id = e.action_id;
  if (typeof id !== 'string' || id.length === 0 || id.length > LIMITS.actionId) problem(`${path}/action_id`, 'must be a string of 1-255 characters');
  else if (actionIds.has(id)) problem(`${path}/action_id`, `duplicate action_id ${id}`);
  else actionIds.add(id);
  if (e.type === 'button') {
    const t = isRecord(e.text) ? e.text : undefined;
    if (!t || t.type !== 'plain_text' || typeof t.text !== 'string' || t.text.length > LIMITS.buttonText) {
      problem(`${path}/text`, `must be a plain_text object of at most ${LIMITS.buttonText} characters`);
    }
    if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > LIMITS.value)) problem(`${path}/value`, `must be a string of at most ${LIMITS.value} characters`);
    if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') problem(`${path}/style`, 'must be primary or danger');
  }
}

export async function startSlackWebApiFake(opts: SlackFakeOptions): Promise<SlackFake> {
  if (!opts.botToken || !opts.signingSecret) throw new Error('the Slack fake needs botToken and signingSecret');
  const log = (opts.logger ?? silentLogger()).child({ component: 'slack-fake' });
  const channels = [...(opts.channels ?? [SANDBOX_CHANNEL])];
  const users = new Map<string, FakeUser>((opts.users ?? SANDBOX_USERS).map((u) => [u.id, { ...u }]));
  const groups = new Map<string, FakeUserGroup>((opts.groups ?? SANDBOX_GROUPS).map((g) => [g.id, g]));
  const messages: FakeMessage[] = [];
  const ephemerals: FakeEphemeral[] = [];
  const calls: FakeApiCall[] = [];
  const responsePosts: FakeResponseUrlPost[] = [];
  const responseUrls = new Map<string, { channel: string; message_ts: string; user: string; uses: number; expires: number }>();
  const failures = new Map<string, string[]>();
  let delivery: SlackDelivery | undefined = opts.interactionsUrl ? new HttpDelivery(opts.interactionsUrl, opts.signingSecret) : undefined;
  let socketModeUrl: (() => string) | undefined;
  const homeViews = new Map<string, Record<string, unknown>>();
  let baseUrl = '';
  const files = new FakeFiles(() => baseUrl);
  const deliver = (kind: DeliveryKind, payload: Record<string, unknown>, sign?: SignOverrides) => {
    if (!delivery) throw new Error('the Slack fake has no app connected yet: no interactions URL (setInteractionsUrl) and no Socket Mode connection (useDelivery)');
    return delivery.deliver(kind, payload, sign);
  };
  const created = Math.floor(Date.now() / 1000);

  // Slack's ts is seconds.microseconds and unique per channel; keep it strictly increasing.
  let lastTs = 0;
  const nextTs = (): string => {
    const micros = Math.max(Date.now() * 1000, lastTs + 1);
    lastTs = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  };

  const channelByRef = (ref: unknown, idOnly = false): FakeChannel => {
    const r = str(ref);
    if (r === undefined) throw new ApiError('channel_not_found');
    const byId = channels.find((c) => c.id === r);
    if (byId) return byId;
    if (!idOnly) {
      const name = r.replace(/^#/, '');
      const byName = channels.find((c) => c.name === name);
      if (byName) return byName;
    }
    throw new ApiError('channel_not_found');
  };

  const messageJson = (m: FakeMessage): Record<string, unknown> => ({
    type: 'message',
    text: m.text,
    user: m.user,
    ...(m.bot_id ? { bot_id: m.bot_id, app_id: BOT.app_id, bot_profile: { id: m.bot_id, name: BOT.name, app_id: BOT.app_id, team_id: TEAM.id } } : {}),
    ts: m.ts,
    team: TEAM.id,
    blocks: m.blocks,
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...(m.files ? { files: m.files, upload: true } : {}),
    ...(m.edited ? { edited: m.edited } : {}),
  });

  const contentOf = (args: Record<string, unknown>): { text: string; blocks: unknown[] | undefined } => {
    const blocks = args.blocks === undefined ? undefined : checkBlocks(args.blocks);
    const text = typeof args.text === 'string' ? args.text : '';
    return { text, blocks };
  };

  const userInfo = (u: FakeUser): Record<string, unknown> => ({
    id: u.id,
    team_id: TEAM.id,
    name: u.name,
    deleted: false,
    real_name: u.real_name ?? u.name,
    tz: 'Etc/UTC',
    tz_label: 'Coordinated Universal Time',
    tz_offset: 0,
    is_admin: false,
    is_owner: false,
    is_bot: false,
    is_app_user: false,
    profile: {
      real_name: u.real_name ?? u.name,
      display_name: u.name,
      real_name_normalized: u.real_name ?? u.name,
      display_name_normalized: u.name,
      team: TEAM.id,
    },
  });

  const methods: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'api.test': (args) => ({ args }),
    'auth.test': () => ({
      url: `https://${TEAM.domain}.slack.com/`,
      team: TEAM.name,
      user: BOT.name,
      team_id: TEAM.id,
      user_id: BOT.user_id,
      bot_id: BOT.bot_id,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (args) => {
      const channel = channelByRef(args.channel);
      const { text, blocks } = contentOf(args);
      if (!text && (blocks === undefined || blocks.length === 0)) throw new ApiError('no_text');
      const thread = str(args.thread_ts);
      if (thread !== undefined && !messages.some((m) => m.channel === channel.id && m.ts === thread)) throw new ApiError('thread_not_found');
      const m: FakeMessage = {
        channel: channel.id,
        ts: nextTs(),
        user: BOT.user_id,
        bot_id: BOT.bot_id,
        text,
        blocks: blocks ?? [],
        ...(thread ? { thread_ts: thread } : {}),
        updates: 0,
      };
      messages.push(m);
      return { channel: channel.id, ts: m.ts, message: messageJson(m) };
    },
    'chat.update': (args) => {
      // Slack takes only a channel id here, not a name.
      const channel = channelByRef(args.channel, true);
      const ts = str(args.ts);
      const m = messages.find((x) => x.channel === channel.id && x.ts === ts);
      if (!m) throw new ApiError('message_not_found');
      if (m.user !== BOT.user_id) throw new ApiError('cant_update_message');
      const { text, blocks } = contentOf(args);
      if (!text && blocks === undefined) throw new ApiError('no_text');
      if (typeof args.text === 'string') m.text = text;
      if (blocks !== undefined) m.blocks = blocks;
      m.edited = { user: BOT.user_id, ts: nextTs() };
      m.updates += 1;
      return { channel: channel.id, ts: m.ts, text: m.text, message: messageJson(m) };
    },
    'chat.postEphemeral': (args) => {
      const channel = channelByRef(args.channel);
      const user = str(args.user);
      if (user === undefined) throw new ApiError('user_not_found');
      if (!users.has(user)) throw new ApiError('user_not_in_channel');
      const { text, blocks } = contentOf(args);
      if (!text && (blocks === undefined || blocks.length === 0)) throw new ApiError('no_text');
      const ts = nextTs();
      ephemerals.push({ channel: channel.id, user, text, blocks: blocks ?? [], ts, via: 'chat.postEphemeral' });
      return { message_ts: ts };
    },
    'conversations.info': (args) => {
      const c = channelByRef(args.channel, true);
      return {
        channel: {
          id: c.id,
          name: c.name,
          name_normalized: c.name,
          is_channel: true,
          is_group: false,
          is_im: false,
          is_private: false,
          is_archived: false,
          is_general: false,
          is_member: true,
          created,
          creator: SANDBOX_USERS[0]?.id ?? BOT.user_id,
          topic: { value: 'Governor approvals', creator: '', last_set: 0 },
          purpose: { value: 'Proposals from Governor agents that need a human', creator: '', last_set: 0 },
        },
      };
    },
    'files.getUploadURLExternal': (args) => files.reserve(args),
    'files.completeUploadExternal': (args) => {
      const done = files.complete(args);
      const channelId = str(args.channel_id);
      if (channelId !== undefined) {
        const channel = channelByRef(channelId, true);
        const thread = str(args.thread_ts);
        if (thread !== undefined && !messages.some((m) => m.channel === channel.id && m.ts === thread)) throw new ApiError('thread_not_found');
        const comment = typeof args.initial_comment === 'string' ? args.initial_comment : '';
        messages.push({
          channel: channel.id,
          ts: nextTs(),
          user: BOT.user_id,
          bot_id: BOT.bot_id,
          text: comment,
          blocks: [],
          ...(thread ? { thread_ts: thread } : {}),
          files: done.map((f) => files.json(f)),
          updates: 0,
        });
      }
      return { files: done.map((f) => ({ id: f.id, title: f.title })) };
    },
    'views.publish': (args) => {
      const user = str(args.user_id);
      if (user === undefined || !users.has(user)) throw new ApiError('user_not_found');
      let view: unknown = args.view;
      if (typeof view === 'string') {
        try {
          view = JSON.parse(view);
        } catch {
          throw new ApiError('invalid_arguments', { detail: 'view is not JSON' });
        }
      }
      if (!isRecord(view) || view.type !== 'home') throw new ApiError('invalid_arguments', { detail: "view.type must be 'home'" });
      // A home view holds up to 100 blocks; each block is checked as a message's are.
      if (Array.isArray(view.blocks) && view.blocks.length > 100) throw new ApiError('invalid_blocks', { errors: ['no more than 100 items allowed [json-pointer:/view/blocks]'] });
      const stored = { ...view, blocks: checkBlocks(view.blocks ?? [], 100), id: `V${randomId(10).toUpperCase()}`, team_id: TEAM.id, app_id: BOT.app_id, bot_id: BOT.bot_id };
      homeViews.set(user, stored);
      return { view: stored };
    },
    'usergroups.users.list': (args) => {
      const id = str(args.usergroup);
      if (id === undefined) throw new ApiError('invalid_arguments');
      const g = groups.get(id);
      if (!g) throw new ApiError('no_such_subteam');
      return { users: [...g.users] };
    },
    'users.info': (args) => {
      const id = str(args.user);
      if (id === BOT.user_id) {
        return { user: { ...userInfo({ id, name: BOT.name }), is_bot: true, profile: { bot_id: BOT.bot_id, real_name: BOT.name, display_name: BOT.name, team: TEAM.id } } };
      }
      const u = id === undefined ? undefined : users.get(id);
      if (!u) throw new ApiError('user_not_found');
      return { user: userInfo(u) };
    },
  };

  const parseArgs = (req: IncomingMessage, body: string, url: URL): { args: Record<string, unknown>; bodyToken?: string } => {
    const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (body.length === 0) return { args };
    if (type === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        throw new ApiError('invalid_arguments', { detail: 'body is not valid JSON' });
      }
      if (!isRecord(parsed)) throw new ApiError('invalid_arguments', { detail: 'JSON body must be an object' });
      // Slack ignores a token inside a JSON body: JSON callers must use the Authorization header.
      const { token: _ignored, ...rest } = parsed;
      return { args: { ...args, ...rest } };
    }
    if (type === 'application/x-www-form-urlencoded' || type === '') {
      const form = Object.fromEntries(new URLSearchParams(body));
      const { token, ...rest } = form;
      return { args: { ...args, ...rest }, ...(token ? { bodyToken: token } : {}) };
    }
    throw new ApiError('invalid_arguments', { detail: `unsupported content type ${type}` });
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = decodeURIComponent(url.pathname.slice('/api/'.length));
    const reply = (body: Record<string, unknown>, args: Record<string, unknown> = {}): void => {
      calls.push({ method, args, ok: body.ok === true, ...(body.ok === true ? {} : { error: String(body.error) }) });
      sendJson(res, 200, body);
    };
    let args: Record<string, unknown> = {};
    try {
      if (req.method !== 'POST' && req.method !== 'GET') throw new ApiError('method_not_supported_for_channel_type');
      const parsed = parseArgs(req, await readBody(req), url);
      args = parsed.args;
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : parsed.bodyToken;
      if (!token) throw new ApiError('not_authed');
      // apps.connections.open takes the app-level token, and only it does: as in Slack.
      if (method === 'apps.connections.open') {
        if (!opts.appToken || token !== opts.appToken) throw new ApiError(token === opts.botToken ? 'not_allowed_token_type' : 'invalid_auth');
        if (!socketModeUrl) throw new ApiError('socket_mode_not_enabled');
        reply({ ok: true, url: socketModeUrl() }, args);
        return;
      }
      if (opts.appToken && token === opts.appToken) throw new ApiError('not_allowed_token_type');
      if (token !== opts.botToken) throw new ApiError('invalid_auth');
      const impl = methods[method];
      if (!impl) throw new ApiError('unknown_method', { req_method: method });
      const injected = failures.get(method)?.shift();
      if (injected) throw new ApiError(injected);
      const result = impl(args);
      log.debug({ method }, 'slack fake api call');
      reply({ ok: true, ...result }, args);
    } catch (err) {
      if (err instanceof ApiError) {
        log.debug({ method, error: err.error }, 'slack fake api error');
        reply({ ok: false, error: err.error, ...err.extra }, args);
        return;
      }
      throw err;
    }
  }

  async function handleResponseUrl(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const entry = responseUrls.get(id);
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      sendJson(res, 400, { ok: false, error: 'invalid_json' });
      return;
    }
    responsePosts.push({ id, body });
    // `failNext('response_url', …)`: Slack's response URLs fail too (expired, rate limited).
    const injected = failures.get('response_url')?.shift();
    if (injected) {
      sendJson(res, 500, { ok: false, error: injected });
      return;
    }
    if (!entry || entry.expires < Date.now()) {
      sendJson(res, 404, { ok: false, error: 'expired_url' });
      return;
    }
    if (entry.uses >= RESPONSE_URL_USES) {
      sendJson(res, 404, { ok: false, error: 'used_url' });
      return;
    }
    entry.uses += 1;
    if (!isRecord(body)) {
      sendJson(res, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    try {
      const original = messages.find((m) => m.channel === entry.channel && m.ts === entry.message_ts);
      if (body.delete_original === true) {
        if (original) messages.splice(messages.indexOf(original), 1);
      } else {
        const { text: t, blocks } = contentOf(body);
        if (body.replace_original === true) {
          if (!original) throw new ApiError('message_not_found');
          original.text = t;
          original.blocks = blocks ?? [];
          original.edited = { user: BOT.user_id, ts: nextTs() };
          original.updates += 1;
        } else if (body.response_type === 'in_channel') {
          messages.push({ channel: entry.channel, ts: nextTs(), user: BOT.user_id, bot_id: BOT.bot_id, text: t, blocks: blocks ?? [], updates: 0 });
        } else {
          ephemerals.push({ channel: entry.channel, user: entry.user, text: t, blocks: blocks ?? [], ts: nextTs(), via: 'response_url' });
        }
      }
      sendJson(res, 200, { ok: true });
    } catch (err) {
      if (err instanceof ApiError) sendJson(res, 400, { ok: false, error: err.error, ...err.extra });
      else throw err;
    }
  }

  async function postInteraction(payload: unknown, sign: SignOverrides = {}): Promise<{ status: number }> {
    if (!delivery) throw new Error('the Slack fake has no app connected yet: no interactions URL (setInteractionsUrl) and no Socket Mode connection (useDelivery)');
    // A string is sent as it is (a malformed payload); only HTTP can carry one.
    if (typeof payload === 'string') {
      if (!(delivery instanceof HttpDelivery)) throw new Error('a raw payload can only be sent over HTTP');
      return delivery.deliverRaw(payload, sign);
    }
    const { status } = await deliver('interactive', payload as Record<string, unknown>, sign);
    return { status };
  }

  async function replayLast(): Promise<{ status: number }> {
    if (!(delivery instanceof HttpDelivery)) throw new Error('replays are an HTTP matter: Socket Mode requests are not signed');
    const { status } = await delivery.replayLast();
    return { status };
  }

  async function clickButton(c: ClickOptions): Promise<{ status: number; payload: Record<string, unknown> }> {
    const m = messages.find((x) => x.ts === c.ts);
    if (!m) throw new Error(`no message with ts ${c.ts} in the Slack fake`);
    let found: { block_id: string; element: Record<string, unknown> } | undefined;
    for (const b of m.blocks) {
      if (!isRecord(b)) continue;
      const els = b.type === 'actions' && Array.isArray(b.elements) ? b.elements : b.type === 'section' && isRecord(b.accessory) ? [b.accessory] : [];
      for (const e of els) {
        if (isRecord(e) && e.type === 'button' && e.action_id === c.actionId) found = { block_id: String(b.block_id), element: e };
      }
    }
    if (!found) throw new Error(`message ${c.ts} has no button ${c.actionId} (resolved already?)`);
    let user = users.get(c.userId);
    if (!user) {
      user = { id: c.userId, name: c.userName ?? c.userId.toLowerCase() };
      users.set(user.id, user);
    }
    const channel = channels.find((x) => x.id === m.channel)!;
    const responseId = randomId(24);
    responseUrls.set(responseId, { channel: m.channel, message_ts: m.ts, user: user.id, uses: 0, expires: Date.now() + RESPONSE_URL_TTL_MS });
    const el = found.element;
    const payload: Record<string, unknown> = {
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: TEAM.id },
      api_app_id: BOT.app_id,
      token: 'sandboxverificationtoken',
      container: { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: false },
      trigger_id: `${Date.now()}.${randomId(10)}`,
      team: { id: TEAM.id, domain: TEAM.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: channel.name },
      message: messageJson(m),
      state: { values: {} },
      response_url: `${baseUrl}/response/${responseId}`,
      actions: [
        {
          action_id: el.action_id,
          block_id: found.block_id,
          text: el.text,
          ...(el.value !== undefined ? { value: el.value } : {}),
          ...(el.style !== undefined ? { style: el.style } : {}),
          type: 'button',
          action_ts: nextTs(),
        },
      ],
    };
    const { status } = await postInteraction(payload, c);
    log.debug({ ts: c.ts, action_id: c.actionId, user_id: c.userId, status }, 'slack fake click');
    return { status, payload };
  }

  async function slashCommand(c: FakeSlashCommand): Promise<{ status: number; body: unknown }> {
    const channel = c.channel === undefined ? channels[0] : channels.find((x) => x.id === c.channel || x.name === c.channel?.replace(/^#/, ''));
    if (!channel) throw new Error(`no channel ${c.channel} in the Slack fake`);
    let user = users.get(c.userId);
    if (!user) {
      user = { id: c.userId, name: c.userName ?? c.userId.toLowerCase() };
      users.set(user.id, user);
    }
    const responseId = randomId(24);
    responseUrls.set(responseId, { channel: channel.id, message_ts: '', user: user.id, uses: 0, expires: Date.now() + RESPONSE_URL_TTL_MS });
    // The fields and order of Slack's slash command request.
    const fields: Record<string, string> = {
      token: 'sandboxverificationtoken',
      team_id: TEAM.id,
      team_domain: TEAM.domain,
      channel_id: channel.id,
      channel_name: channel.name,
      user_id: user.id,
      user_name: user.name,
      command: c.command,
      text: c.text ?? '',
      api_app_id: BOT.app_id,
      is_enterprise_install: 'false',
      response_url: `${baseUrl}/response/${responseId}`,
      trigger_id: `${Date.now()}.${randomId(10)}`,
    };
    const { status, body } = await deliver('slash_commands', fields, c);
    const res = { ok: status >= 200 && status < 300, status };
    if (res.ok && body !== undefined) {
      const answer = isRecord(body) ? body : { text: String(body) };
      const shown = contentOf(answer);
      if (shown.text || (shown.blocks && shown.blocks.length > 0)) {
        if (answer.response_type === 'in_channel') {
          messages.push({ channel: channel.id, ts: nextTs(), user: BOT.user_id, bot_id: BOT.bot_id, text: shown.text, blocks: shown.blocks ?? [], updates: 0 });
        } else {
          ephemerals.push({ channel: channel.id, user: user.id, text: shown.text, blocks: shown.blocks ?? [], ts: nextTs(), via: 'command_response' });
        }
      }
    }
    log.debug({ command: c.command, user_id: user.id, status: res.status }, 'slack fake slash command');
    return { status: res.status, body };
  }

  async function openAppHome(userId: string): Promise<{ status: number }> {
    if (!users.has(userId)) throw new Error(`no user ${userId} in the Slack fake`);
    const now = nextTs();
    // The event_callback Slack sends when a person opens the app's Home tab.
    const { status } = await deliver('events_api', {
      token: 'sandboxverificationtoken',
      team_id: TEAM.id,
      api_app_id: BOT.app_id,
      event: { type: 'app_home_opened', user: userId, channel: `D${userId.slice(1)}`, tab: 'home', event_ts: now, ...(homeViews.has(userId) ? { view: homeViews.get(userId) } : {}) },
      type: 'event_callback',
      event_id: `Ev${randomId(10).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ enterprise_id: null, team_id: TEAM.id, user_id: BOT.user_id, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
    });
    return { status };
  }

  /**
   * A console action (click, command, App Home): a JSON body, which a web page elsewhere cannot send
   * without a CORS preflight this server never grants, so a page the operator happens to visit
   * cannot approve or command anything.
   */
  async function handleConsole(req: IncomingMessage, res: ServerResponse, act: (body: Record<string, unknown>) => Promise<{ status: number } | string>): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const origin = req.headers.origin;
    if (type !== 'application/json' || (origin !== undefined && origin !== baseUrl)) {
      sendJson(res, 403, { ok: false, error: 'forbidden' });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 16 * 1024));
    } catch {
      sendJson(res, 400, { ok: false, error: 'invalid_json' });
      return;
    }
    if (!isRecord(body)) {
      sendJson(res, 400, { ok: false, error: 'a JSON object is required' });
      return;
    }
    if (!delivery) {
      sendJson(res, 503, { ok: false, error: 'no app is connected (interactions URL not set)' });
      return;
    }
    try {
      const done = await act(body);
      if (typeof done === 'string') sendJson(res, 400, { ok: false, error: done });
      else sendJson(res, 200, { ok: done.status >= 200 && done.status < 300, status: done.status });
    } catch (err) {
      sendJson(res, 409, { ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }

  const consoleClick = async (body: Record<string, unknown>) => {
    const ts = str(body.ts);
    const actionId = str(body.actionId);
    const userId = str(body.userId);
    if (!ts || !actionId || !userId) return 'ts, actionId and userId are required';
    return clickButton({ ts, actionId, userId });
  };
  const consoleCommand = async (body: Record<string, unknown>) => {
    // What a person types in the message box: `/command text…`.
    const line = typeof body.line === 'string' ? body.line.trim() : '';
    const userId = str(body.userId);
    const m = /^(\/[a-z0-9_-]+)(?:\s+([\s\S]*))?$/i.exec(line);
    if (!m || !userId) return 'a slash command (`/command text`) and userId are required';
    return slashCommand({ command: m[1]!.toLowerCase(), text: m[2] ?? '', userId });
  };
  const consoleHome = async (body: Record<string, unknown>) => {
    const userId = str(body.userId);
    if (!userId) return 'userId is required';
    return openAppHome(userId);
  };

  const consoleState = (): Record<string, unknown> => ({
    team: TEAM,
    bot: { id: BOT.user_id, name: BOT.name },
    channels,
    connected: delivery !== undefined,
    transport: delivery?.kind ?? null,
    home: Object.fromEntries(homeViews),
    users: [...users.values()].map((u) => ({ id: u.id, name: u.name, real_name: u.real_name ?? u.name })),
    messages: messages.map((m) => ({ ...messageJson(m), channel: m.channel, updates: m.updates })),
    ephemerals,
  });

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const route = async (): Promise<void> => {
      if (url.pathname.startsWith('/api/')) return handleApi(req, res, url);
      if (req.method === 'POST' && url.pathname.startsWith('/response/')) return handleResponseUrl(req, res, url.pathname.slice('/response/'.length));
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
        const html = consolePageHtml({ title: `#${channels[0]?.name ?? 'channel'} · ${TEAM.name}` });
        res.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          // The page is self-contained: inline script and style only, nothing fetched from elsewhere.
          'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'",
          'x-frame-options': 'DENY',
        });
        res.end(html);
        return;
      }
      if (req.method === 'GET' && url.pathname === '/console/state') return sendJson(res, 200, consoleState());
      if (req.method === 'POST' && url.pathname === '/console/click') return handleConsole(req, res, consoleClick);
      if (req.method === 'POST' && url.pathname === '/console/command') return handleConsole(req, res, consoleCommand);
      if (req.method === 'POST' && url.pathname === '/console/home') return handleConsole(req, res, consoleHome);
      if (req.method === 'POST' && url.pathname.startsWith('/upload/')) return files.receive(req, res, url.pathname.slice('/upload/'.length));
      if (req.method === 'GET' && url.pathname.startsWith('/files/')) return files.serve(res, url.pathname.slice('/files/'.length));
      sendJson(res, 404, { ok: false, error: 'not_found' });
    };
    route().catch((err: unknown) => {
      if (err instanceof ApiError && err.error === 'request_too_large') {
        if (!res.headersSent) sendJson(res, 413, { ok: false, error: err.error });
        return;
      }
      log.error({ err, path: url.pathname }, 'slack fake failed on a request');
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error' });
      else res.destroy();
    });
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  baseUrl = `http://${shownHost}:${port}`;
  log.info({ console: `${baseUrl}/`, api: `${baseUrl}/api/` }, 'slack fake listening');

  return {
    apiUrl: `${baseUrl}/api/`,
    consoleUrl: `${baseUrl}/`,
    setInteractionsUrl(u) {
      delivery = new HttpDelivery(u, opts.signingSecret);
    },
    useDelivery(d) {
      delivery = d;
    },
    setSocketModeUrl(open) {
      socketModeUrl = open;
    },
    homeView: (userId) => (homeViews.has(userId) ? structuredClone(homeViews.get(userId)) : undefined),
    openAppHome,
    fileBytes: (id) => files.get(id)?.bytes,
    messages: () => messages.map((m) => structuredClone(m)),
    ephemerals: () => ephemerals.map((e) => structuredClone(e)),
    apiCalls: () => calls.map((c) => structuredClone(c)),
    responseUrlPosts: () => responsePosts.map((p) => structuredClone(p)),
    failNext(method, error) {
      failures.set(method, [...(failures.get(method) ?? []), error]);
    },
    clickButton,
    replayLast,
    postInteraction,
    slashCommand,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
