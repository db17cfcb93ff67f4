// The HTTP vocabulary of the twin's Kubernetes API: what a route is, what a handler gets and gives
// back, and failures as the Status objects a real API server sends (400, 401, 404, 405, 409, 413,
// 415, 422; a TwinError in its matching code; anything else 500 InternalError). Transport only: it
// must never know about a resource or read the twin.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TwinError } from '../twin-errors.ts';

const MAX_BODY_BYTES = 3 * 1024 * 1024;

export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** A failure in the API's own vocabulary; `send` turns it into a Status object. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface Request {
  method: string;
  segments: string[];
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: () => Promise<unknown>;
  /** The body if there is one (DELETE options). */
  optionalBody: () => Promise<unknown>;
  watch: boolean;
}

export interface Reply {
  status?: number;
  body?: unknown;
  contentType?: string;
  /** A streaming answer (watch): it writes the head and keeps the response open. */
  stream?: (res: ServerResponse) => void;
}

export type Params = Record<string, string>;
export type Handler = (req: Request, params: Params) => Reply | Promise<Reply>;
export type Method = 'GET' | 'PUT' | 'PATCH' | 'POST' | 'DELETE';

export interface Route {
  /** Path segments; `:name` matches any one segment and hands it to the handler as a parameter. */
  pattern: string[];
  methods: Partial<Record<Method, Handler>>;
}

/** A read-only route. */
export const get = (h: Handler): Route['methods'] => ({ GET: h });

const REASON_CODE: Record<TwinError['reason'], number> = { NotFound: 404, AlreadyExists: 409, Conflict: 409, Invalid: 422 };

export function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export const notFound = (resource: string, name: string, group?: string) =>
  new ApiError(404, 'NotFound', `${group ? `${resource}.${group}` : resource} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

export const noSuchPath = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

export const conflictMessage = (resource: string, name: string) =>
  `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`;

export function match(pattern: string[], segments: string[]): Params | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return undefined;
  }
  return params;
}

export function send(res: ServerResponse, reply: Reply): number {
  const status = reply.status ?? 200;
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  res.writeHead(status, {
    'content-type': reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'),
    'cache-control': 'no-cache, private',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
  return status;
}

export function errorReply(err: unknown): Reply {
  if (err instanceof ApiError) return { status: err.code, body: statusBody(err.code, err.reason, err.message, err.details) };
  if (err instanceof TwinError) {
    const code = REASON_CODE[err.reason];
    return { status: code, body: statusBody(code, err.reason, err.message, err.details) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, body: statusBody(500, 'InternalError', `Internal error occurred: ${message}`) };
}

export async function readJson(req: IncomingMessage, required: boolean): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    if (!required) return undefined;
    throw new ApiError(400, 'BadRequest', 'the request body is empty');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
}
