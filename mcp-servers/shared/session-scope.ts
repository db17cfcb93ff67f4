// What every Governor MCP server does the same way for one session: refuse a namespace outside the
// session's (tenant isolation at the protocol level), and turn a tool's outcome into an MCP result —
// data as structured content, a coded GovernorError as an isError result an agent can act on, and
// anything else as `internal`. Refusals at the trust boundary are logged as warnings: they are what
// an operator reviews. It must never let an exception escape as a protocol error.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GovernorError } from '../../src/core/errors.ts';
import type { Logger } from '../../src/core/logger.ts';
import { toolErrorResult } from '../../src/mcp/tool-error.ts';

export interface SessionScope {
  /** Throws tenant_forbidden unless the namespace is one of the session's. */
  assertNamespace(namespace: string): void;
  respond<T extends object>(tool: string, target: Record<string, unknown>, fn: () => Promise<T>): Promise<CallToolResult>;
}

export function sessionScope(session: { agent: string; namespaces: readonly string[] }, log: Logger): SessionScope {
  const allowed = new Set(session.namespaces);
  return {
    assertNamespace(namespace: string): void {
      if (!allowed.has(namespace)) {
        throw new GovernorError('tenant_forbidden', `this session (agent '${session.agent}') is not bound to namespace '${namespace}'`);
      }
    },
    async respond<T extends object>(tool: string, target: Record<string, unknown>, fn: () => Promise<T>): Promise<CallToolResult> {
      try {
        const data = await fn();
        return { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data as Record<string, unknown> };
      } catch (err) {
        if (err instanceof GovernorError) {
          const boundary = err.code === 'upstream_unavailable' || err.code === 'tenant_forbidden' || err.code.startsWith('grant_') || err.code === 'safety_violation';
          log[boundary ? 'warn' : 'info']({ tool, ...target, code: err.code }, `${tool} refused or failed: ${err.message}`);
          return toolErrorResult({ code: err.code, message: err.message, retryable: err.retryable, details: err.details });
        }
        log.error({ tool, ...target, err }, `${tool} failed unexpectedly`);
        return toolErrorResult({ code: 'internal', message: err instanceof Error ? err.message : String(err), retryable: true });
      }
    },
  };
}
