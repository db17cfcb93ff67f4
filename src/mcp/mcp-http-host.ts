// One host for every Governor MCP server over Streamable HTTP (stateful sessions). The bearer token
// decides who a session is: each session gets its own McpServer, built by the server's factory for
// the token's identity (an agent and the namespaces it may touch), and only that token may use the
// session afterwards. Bound to a loopback address, it serves only requests whose Host (and Origin, when
// sent) name this machine: a web page whose name an attacker rebinds to 127.0.0.1 gets a 403 (DNS
// rebinding; the MCP transport spec's MUST). It must never serve a request without a known token, let
// one token ride another's session, or log a token.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger, type Logger } from '../core/logger.ts';

export const MCP_PATH = '/mcp';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface McpSessionIdentity {
  agent: string;
}

export interface McpHttpHostOptions<I extends McpSessionIdentity> {
  /** The server's name, for logs and the WWW-Authenticate realm (`governor-<name>`). */
  name: string;
  /** Bearer token → the identity a session opened with it is bound to. */
  tokens: ReadonlyMap<string, I>;
  /** Builds the McpServer of one session, so that its tools see exactly that token's identity. */
  createServer: (identity: I) => McpServer;
  host?: string;
  port?: number;
  logger?: Logger;
  maxBodyBytes?: number;
}

export interface McpHttpHost {
  url: string;
  close(): Promise<void>;
}

interface Session<I> {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  tokenDigest: Buffer;
  identity: I;
}

export async function startMcpHttpHost<I extends McpSessionIdentity>(opts: McpHttpHostOptions<I>): Promise<McpHttpHost> {
  const log = (opts.logger ?? silentLogger()).child({ server: `${opts.name}-mcp-http` });
  const { tokens, host = '127.0.0.1', port = 0 } = opts;
  const REALM = `governor-${opts.name}`;
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const sessions = new Map<string, Session<I>>();
  const loopbackOnly = isLoopbackAddress(host);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (loopbackOnly && !namesLoopback(req)) {
      log.warn({ host: req.headers.host, origin: req.headers.origin }, 'refused a request whose Host or Origin is not this machine');
      return rpcError(res, 403, -32000, 'Host or Origin is not this machine (DNS rebinding protection)');
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { ok: true });
    if (path !== MCP_PATH) return sendJson(res, 404, { error: 'not found' });

    const token = bearerToken(req.headers.authorization);
    if (token === undefined) {
      return rpcError(res, 401, -32001, 'Authorization: Bearer <token> is required', {
        'WWW-Authenticate': `Bearer realm="${REALM}"`,
      });
    }
    const identity = tokens.get(token);
    if (!identity) {
      return rpcError(res, 401, -32001, 'unknown bearer token', {
        'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="unknown token"`,
      });
    }
    const digest = digestOf(token);

    const sessionId = headerValue(req.headers['mcp-session-id']);
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      // Unknown session: 404 tells a client to start a new one (MCP Streamable HTTP).
      if (!session) return rpcError(res, 404, -32001, 'session not found');
      if (!timingSafeEqual(session.tokenDigest, digest)) {
        log.warn({ agent: identity.agent, session_agent: session.identity.agent }, 'refused a request on a session opened with another token');
        return rpcError(res, 403, -32001, 'this session belongs to another token');
      }
      const body = req.method === 'POST' ? await readJson(req, res, maxBodyBytes) : undefined;
      if (body === INVALID) return;
      return session.transport.handleRequest(req, res, body);
    }

    if (req.method !== 'POST') return rpcError(res, 400, -32000, 'no session: open one with an initialize request');
    const body = await readJson(req, res, maxBodyBytes);
    if (body === INVALID) return;
    if (!isInitializeRequest(body)) return rpcError(res, 400, -32000, 'no session: the first request must be initialize');

    // The McpServer is created per session so that its tools see exactly this token's identity.
    const server = opts.createServer(identity);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, tokenDigest: digest, identity });
        log.info({ agent: identity.agent, session: id }, 'MCP session opened');
      },
    });
    transport.onclose = () => {
      const id = transport.sessionId;
      if (id && sessions.delete(id)) log.info({ agent: identity.agent, session: id }, 'MCP session closed');
      void server.close().catch(() => undefined);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    // An initialize the transport rejected opened no session: nothing will ever close this server otherwise.
    if (!transport.sessionId || !sessions.has(transport.sessionId)) await server.close();
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'MCP HTTP request failed');
      if (!res.headersSent) rpcError(res, 500, -32603, 'internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${urlHost}:${addr.port}${MCP_PATH}`;
  log.info({ url }, `${opts.name} MCP server listening`);

  return {
    url,
    async close() {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.allSettled(open.map(async (s) => {
        await s.transport.close();
        await s.server.close();
      }));
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}

const INVALID = Symbol('invalid body');

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Host names this machine (any port), and so does Origin when the client sent one. */
function namesLoopback(req: IncomingMessage): boolean {
  const hostname = (value: string): string | undefined => {
    try {
      return new URL(value).hostname;
    } catch {
      return undefined;
    }
  };
  const host = req.headers.host;
  if (host === undefined || !LOOPBACK_NAMES.has(hostname(`http://${host}`) ?? '')) return false;
  const origin = req.headers.origin;
  return origin === undefined || LOOPBACK_NAMES.has(hostname(origin) ?? '');
}

async function readJson(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) {
      rpcError(res, 413, -32000, 'request body too large');
      return INVALID;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    rpcError(res, 400, -32700, 'parse error: body is not JSON');
    return INVALID;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

const digestOf = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function rpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}
