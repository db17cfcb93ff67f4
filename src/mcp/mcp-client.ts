// The agents' side of MCP: one Streamable HTTP session per agent, authenticated by the agent's
// bearer token (which the server binds to the agent's identity and namespaces). Every call comes
// back as an explicit outcome with the raw request and response, so that callers can put the exact
// tool call in the audit log. It must never import a server, retry a call the server may have
// executed, or log the token.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GovernorError } from '../core/errors.ts';
import { readToolError } from './tool-error.ts';

export type ToolOutcome<T> =
  | { ok: true; data: T; raw: RawToolCall }
  /** `unanswered`: no answer came from the server (transport failure, timeout): the call may or may not have acted. */
  | { ok: false; code: string; message: string; raw: RawToolCall; unanswered?: true };

/** What went over the wire, for the audit record. */
export interface RawToolCall {
  request: { method: 'tools/call'; params: { name: string; arguments: Record<string, unknown> } };
  /** The CallToolResult, or the protocol / transport error when there was none. */
  response: CallToolResult | { error: { code: string; message: string } };
}

export interface McpToolClient {
  callTool<T>(tool: string, args: Record<string, unknown>): Promise<ToolOutcome<T>>;
  /** The names of the tools the server lists for this session (for routing one agent's tools over several sessions). */
  toolNames(): Promise<string[]>;
  close(): Promise<void>;
}

export interface ConnectMcpOptions {
  url: string;
  token: string;
  /** Client name the server sees (the agent's name). */
  name: string;
  version?: string;
}

interface Connection {
  client: Client;
  transport: StreamableHTTPClientTransport;
}

export async function connectMcp(opts: ConnectMcpOptions): Promise<McpToolClient> {
  let conn = await open(opts);
  let closed = false;

  return {
    async callTool<T>(tool: string, args: Record<string, unknown>): Promise<ToolOutcome<T>> {
      if (closed) throw new GovernorError('internal', `MCP client '${opts.name}' is closed`);
      const request = { method: 'tools/call' as const, params: { name: tool, arguments: args } };
      let result: CallToolResult;
      try {
        result = await invoke(conn, tool, args);
      } catch (err) {
        // The server forgot the session (it restarted): nothing was executed, so one new session and
        // one more attempt are safe.
        if (err instanceof StreamableHTTPError && err.code === 404) {
          await conn.client.close().catch(() => undefined);
          conn = await open(opts);
          try {
            result = await invoke(conn, tool, args);
          } catch (again) {
            return failure(request, again);
          }
        } else {
          return failure(request, err);
        }
      }
      const raw: RawToolCall = { request, response: result };
      if (result.isError) {
        const e = readToolError(result);
        return { ok: false, code: e.code, message: e.message, raw };
      }
      const data = result.structuredContent ?? parseText(result);
      return { ok: true, data: data as T, raw };
    },

    async toolNames(): Promise<string[]> {
      return (await conn.client.listTools()).tools.map((t) => t.name);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Ends the session on the server too, so that it does not hold a session for a gone agent.
      await conn.transport.terminateSession().catch(() => undefined);
      await conn.client.close();
    },
  };
}

async function open(opts: ConnectMcpOptions): Promise<Connection> {
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
    requestInit: { headers: { Authorization: `Bearer ${opts.token}` } },
  });
  const client = new Client({ name: opts.name, version: opts.version ?? '0.1.0' }, { capabilities: {} });
  try {
    await client.connect(transport);
    // Listing caches the tools' output schemas, so every result is checked against what the server declared.
    await client.listTools();
  } catch (err) {
    await client.close().catch(() => undefined);
    const { code, message } = classify(err);
    throw new GovernorError(code === 'unauthenticated' ? 'unauthenticated' : 'upstream_unavailable', `MCP connect to ${opts.url} as '${opts.name}' failed: ${message}`, {
      retryable: code !== 'unauthenticated',
      cause: err,
    });
  }
  return { client, transport };
}

async function invoke(conn: Connection, tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await conn.client.callTool({ name: tool, arguments: args })) as CallToolResult;
}

function failure(request: RawToolCall['request'], err: unknown): ToolOutcome<never> {
  const { code, message } = classify(err);
  // An authentication refusal or a protocol error is the server's answer; a lost connection or a timeout is none.
  const unanswered = code === 'timeout' || code === 'upstream_unavailable';
  return { ok: false, code, message, raw: { request, response: { error: { code, message } } }, ...(unanswered ? { unanswered: true as const } : {}) };
}

function classify(err: unknown): { code: string; message: string } {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof StreamableHTTPError) {
    if (err.code === 401 || err.code === 403) return { code: 'unauthenticated', message };
    return { code: 'upstream_unavailable', message };
  }
  if (err instanceof McpError) {
    if (err.code === ErrorCode.InvalidParams) return { code: 'invalid_arguments', message };
    if (err.code === ErrorCode.MethodNotFound) return { code: 'unknown_tool', message };
    if (err.code === ErrorCode.RequestTimeout) return { code: 'timeout', message };
    return { code: 'protocol_error', message };
  }
  return { code: 'upstream_unavailable', message };
}

function parseText(result: CallToolResult): unknown {
  const block = result.content.find((c) => c.type === 'text');
  if (!block || block.type !== 'text') return undefined;
  try {
    return JSON.parse(block.text);
  } catch {
    return block.text;
  }
}
