// One MCP server over stdio, for `governor mcp NAME --stdio`: one process, one session, whose
// identity the launching process vouches for (there is no token on a pipe). stdout belongs to the
// protocol: nothing else may ever be written there (logs go to stderr).
import type { Readable, Writable } from 'node:stream';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

export interface StdioSession {
  close(): Promise<void>;
  /** Resolves when the other end closes the pipe. */
  closed: Promise<void>;
}

export async function serveStdio(server: McpServer, opts: { stdin?: Readable; stdout?: Writable; onClose?: () => Promise<void> } = {}): Promise<StdioSession> {
  const transport = new StdioServerTransport(opts.stdin, opts.stdout);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => {
      void opts.onClose?.();
      resolve();
    };
  });
  await server.connect(transport);
  return {
    async close() {
      await opts.onClose?.();
      await server.close();
    },
    closed,
  };
}
