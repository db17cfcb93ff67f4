// What an agent sees of an MCP server: typed calls with an explicit outcome. Agents depend on this
// interface only; the composition root hands them a real MCP client session (src/mcp/mcp-client.ts)
// bound by its bearer token to the agent's identity and tenants.

export type ToolOutcome<T> =
  | { ok: true; data: T; raw: unknown }
  /** `unanswered`: no answer came from the server (transport failure, timeout): the call may or may not have acted. */
  | { ok: false; code: string; message: string; raw: unknown; unanswered?: true };

export interface ToolClient {
  callTool<T>(tool: string, args: Record<string, unknown>): Promise<ToolOutcome<T>>;
  close(): Promise<void>;
}
