// The PagerDuty MCP server over stdio, for `governor mcp pagerduty --stdio` (src/mcp/mcp-stdio.ts).
import type { Readable, Writable } from 'node:stream';
import { serveStdio, type StdioSession } from '../../src/mcp/mcp-stdio.ts';
import { createPagerDutyMcpServer, type PagerDutyMcpDeps } from './server.ts';

export async function runPagerDutyMcpStdio(deps: PagerDutyMcpDeps & { stdin?: Readable; stdout?: Writable }): Promise<StdioSession> {
  const { stdin, stdout, ...serverDeps } = deps;
  const session = await serveStdio(createPagerDutyMcpServer(serverDeps), { ...(stdin ? { stdin } : {}), ...(stdout ? { stdout } : {}) });
  serverDeps.logger?.info({ agent: deps.session.agent, namespaces: deps.session.namespaces, paging: deps.paging.target }, 'PagerDuty MCP server on stdio');
  return session;
}
