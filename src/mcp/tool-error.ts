// The wire format of a refused or failed MCP tool call, shared by Governor's MCP servers and the
// agents' client (neither imports the other; both import this contract). A failure is an `isError`
// result whose first text block starts with the machine-readable code (`tenant_forbidden: …`) and
// whose `_meta` carries the code again with `retryable` and details. It must never carry
// `structuredContent`: MCP clients validate structured content against the tool's output schema
// even on errors, so an error shape there would be rejected as a protocol violation.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

export const TOOL_ERROR_META_KEY = 'governor.io/error';

export interface ToolErrorInfo {
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown> | undefined;
}

export function toolErrorResult(info: ToolErrorInfo): CallToolResult {
  const meta: Record<string, unknown> = { code: info.code, message: info.message, retryable: info.retryable };
  if (info.details) meta['details'] = info.details;
  return {
    isError: true,
    content: [{ type: 'text', text: `${info.code}: ${info.message}` }],
    _meta: { [TOOL_ERROR_META_KEY]: meta },
  };
}

const CODE_PREFIX = /^([a-z][a-z0-9_]*): ([\s\S]*)$/;

/**
 * Reads the code of an `isError` result: from `_meta` when a Governor server sent it, else from a
 * `code: message` text prefix, else a code for the SDK's own failures (bad arguments, unknown tool),
 * which carry plain text only.
 */
export function readToolError(result: { content?: unknown; _meta?: unknown }): ToolErrorInfo {
  const meta = (result._meta as Record<string, unknown> | undefined)?.[TOOL_ERROR_META_KEY] as Partial<ToolErrorInfo> | undefined;
  const text = firstText(result.content);
  if (meta && typeof meta.code === 'string') {
    return {
      code: meta.code,
      message: typeof meta.message === 'string' ? meta.message : text,
      retryable: meta.retryable === true,
      ...(meta.details && typeof meta.details === 'object' ? { details: meta.details } : {}),
    };
  }
  const m = CODE_PREFIX.exec(text);
  if (m) return { code: m[1]!, message: m[2]!, retryable: false };
  if (/^(MCP error -32602: )?Input validation error/i.test(text)) return { code: 'invalid_arguments', message: text, retryable: false };
  if (/Tool \S+ (not found|disabled)/.test(text)) return { code: 'unknown_tool', message: text, retryable: false };
  return { code: 'tool_error', message: text, retryable: false };
}

function firstText(content: unknown): string {
  if (!Array.isArray(content)) return '';
  for (const block of content) {
    if (block && typeof block === 'object' && (block as { type?: unknown }).type === 'text') {
      const text = (block as { text?: unknown }).text;
      if (typeof text === 'string') return text;
    }
  }
  return '';
}
