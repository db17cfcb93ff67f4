// A local Anthropic Messages API for tests, which the real SDK talks to through its baseURL. It
// speaks the wire format: POST /v1/messages with the key (`x-api-key` or a bearer token) and an
// `anthropic-version` header, a
// JSON body (model, max_tokens, system, messages with text / tool_use / tool_result blocks, tools);
// a `message` object back (id, type, role, model, content, stop_reason, stop_sequence, usage), or an
// error with the real shape ({type: 'error', error: {type, message}}, a `request-id` header) and
// status (400, 401, 429 rate_limit_error, 500 api_error, 529 overloaded_error). It does not stream:
// a streaming request is refused, as Governor never streams.
// Answers come from a script, one step per request: a reply, an error, a hang, a malformed body.
// It fails loudly: a request past the script, without the key, or with a malformed body is answered
// 500 and kept in `unexpected`, never with something plausible.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_ANTHROPIC_KEY = 'sk-ant-fake-key-for-tests';

export type WireBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: unknown; is_error?: boolean };

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: unknown;
  messages: { role: 'user' | 'assistant'; content: string | WireBlock[] }[];
  tools?: { name: string; description?: string; input_schema: Record<string, unknown> }[];
  stream?: boolean;
  [k: string]: unknown;
}

export interface WireReply {
  content: WireBlock[];
  stop_reason: string | null;
  usage?: { input_tokens: number; output_tokens: number };
}

export type FakeStep =
  | { reply: WireReply }
  | { error: { status: number; type: string; message: string } }
  /** Never answers (until the client gives up or the server closes). */
  | { hang: true }
  /** Answers 200 with a body that is not JSON. */
  | { malformed: true }
  | ((req: MessagesRequest) => FakeStep);

export const text = (t: string, stop_reason = 'end_turn'): FakeStep => ({ reply: { content: [{ type: 'text', text: t }], stop_reason } });
export const toolUse = (name: string, input: unknown, id = `toolu_${randomUUID().replaceAll('-', '').slice(0, 20)}`): FakeStep => ({
  reply: { content: [{ type: 'tool_use', id, name, input }], stop_reason: 'tool_use' },
});
export const answer = (input: unknown): FakeStep => toolUse('respond', input);
export const overloaded: FakeStep = { error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } };
export const rateLimited: FakeStep = { error: { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } };
export const serverError: FakeStep = { error: { status: 500, type: 'api_error', message: 'Internal server error' } };
export const refusal: FakeStep = { reply: { content: [{ type: 'text', text: 'I cannot help with that.' }], stop_reason: 'refusal' } };

export interface SeenRequest {
  body: MessagesRequest;
  headers: IncomingMessage['headers'];
  /** What the fake answered; 0 for a hang. */
  status: number;
}

export class FakeMessagesApi {
  readonly requests: SeenRequest[] = [];
  readonly unexpected: string[] = [];
  private script: FakeStep[] = [];
  private responder: ((req: MessagesRequest) => FakeStep) | undefined;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeMessagesApi> {
    let self: FakeMessagesApi | undefined;
    const server = createServer((req, res) => void self!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new FakeMessagesApi(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** Replaces what the next requests get, one step each. */
  scriptNext(...steps: FakeStep[]): void {
    this.script = [...steps];
  }

  /** What requests get once the script is spent (a model that answers from what it is asked); unset: they fail loudly. */
  respondWith(responder: ((req: MessagesRequest) => FakeStep) | undefined): void {
    this.responder = responder;
  }

  get pending(): number {
    return this.script.length;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const fail = (status: number, type: string, message: string, loud = true) => {
      if (loud) this.unexpected.push(`${req.method} ${req.url}: ${message}`);
      this.send(res, status, { type: 'error', error: { type, message } });
    };
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') return fail(404, 'not_found_error', `no route ${req.method} ${req.url}`);
    // The key travels as `x-api-key`, or (SDK 1.x) as a bearer token.
    if (req.headers['x-api-key'] !== FAKE_ANTHROPIC_KEY && req.headers['authorization'] !== `Bearer ${FAKE_ANTHROPIC_KEY}`) {
      return fail(401, 'authentication_error', 'invalid x-api-key');
    }
    if (!req.headers['anthropic-version']) return fail(400, 'invalid_request_error', 'anthropic-version header is required');
    let body: MessagesRequest;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesRequest;
    } catch {
      return fail(400, 'invalid_request_error', 'body is not JSON');
    }
    const problem = checkRequest(body);
    if (problem) return fail(400, 'invalid_request_error', problem);
    let step = this.script.shift() ?? (this.responder ? this.responder(body) : undefined);
    while (typeof step === 'function') step = step(body);
    if (!step) {
      this.requests.push({ body, headers: req.headers, status: 500 });
      return fail(500, 'api_error', 'the fake Messages API has no scripted answer for this request');
    }
    if ('hang' in step) {
      this.requests.push({ body, headers: req.headers, status: 0 });
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if ('malformed' in step) {
      this.requests.push({ body, headers: req.headers, status: 200 });
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}` });
      res.end('{"id": "msg_broken", "type": "message", "content": [');
      return;
    }
    if ('error' in step) {
      this.requests.push({ body, headers: req.headers, status: step.error.status });
      return fail(step.error.status, step.error.type, step.error.message, false);
    }
    this.requests.push({ body, headers: req.headers, status: 200 });
    const inputTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
    this.send(res, 200, {
      id: `msg_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: step.reply.content,
      stop_reason: step.reply.stop_reason,
      stop_sequence: null,
      usage: step.reply.usage ?? { input_tokens: inputTokens, output_tokens: Math.ceil(JSON.stringify(step.reply.content).length / 4) },
    });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}`, ...(status === 429 ? { 'retry-after': '30' } : {}) });
    res.end(JSON.stringify(body));
  }
}

/** What the real API refuses, checked so a malformed request fails the test rather than passing. */
function checkRequest(b: MessagesRequest): string | undefined {
  if (typeof b.model !== 'string' || !b.model) return 'model: field required';
  if (!Number.isInteger(b.max_tokens) || b.max_tokens < 1) return 'max_tokens: must be a positive integer';
  if (b.stream) return 'stream: the fake does not stream (Governor never asks it to)';
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: at least one message is required';
  if (b.messages[0]!.role !== 'user') return 'messages: the first message must use the user role';
  const toolUses = new Set<string>();
  for (const [i, m] of b.messages.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: must be user or assistant`;
    if (i > 0 && b.messages[i - 1]!.role === m.role) return `messages.${i}: roles must alternate`;
    const blocks = typeof m.content === 'string' ? [] : m.content;
    for (const blk of blocks) {
      if (blk.type === 'tool_use') toolUses.add(blk.id);
      if (blk.type === 'tool_result' && !toolUses.has(blk.tool_use_id)) return `messages.${i}: tool_result for unknown tool_use_id ${blk.tool_use_id}`;
    }
  }
  for (const t of b.tools ?? []) {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(t.name)) return `tools: invalid name ${t.name}`;
    if (t.input_schema?.['type'] !== 'object') return `tools.${t.name}.input_schema: type must be object`;
  }
  return undefined;
}

/** A port on which nothing listens: connection refused. */
export async function closedPort(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
