// The README's commands, run as a new user runs them: the MCP Inspector's CLI mode (`mcp-inspector
// --cli`, @modelcontextprotocol/inspector 1.x, the line that runs on Node 20) starts `governor mcp NAME
// --stdio` with the environment given by `-e`, lists its tools and calls one; on the Kubernetes server a
// call about another tenant comes back as an `isError` result. The Inspector process gets nothing of
// this process's environment but PATH and HOME, and CLI mode never starts the web UI or a browser.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_SERVER_ENTRIES, startSandbox, stdioCommand, type McpServerEntry, type Sandbox, type ToolCall } from './servers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector/cli/build/cli.js', import.meta.url));

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox();
});
afterAll(async () => sandbox?.close());

/** `mcp-inspector --cli -e K=V… node bin/governor.mjs mcp NAME --stdio … --method …`, its stdout parsed. */
function inspect(entry: McpServerEntry, method: string[]): Promise<Record<string, unknown>> {
  const env = Object.entries(sandbox.envFor(entry)).filter(([k]) => k !== 'PATH' && k !== 'HOME').flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const { command, args } = stdioCommand(entry);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [INSPECTOR, '--cli', ...env, command, ...args, ...method],
      // MCP_AUTO_OPEN_ENABLED=false: were the web UI ever started, it still opens no browser.
      { cwd: ROOT, timeout: 90_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: sandbox.dir, MCP_AUTO_OPEN_ENABLED: 'false' } },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`mcp-inspector ${method.join(' ')} failed: ${err.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout) as Record<string, unknown>);
        } catch {
          reject(new Error(`mcp-inspector printed no JSON: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}

const call = (c: ToolCall) => ['--method', 'tools/call', '--tool-name', c.tool, ...Object.entries(c.args).flatMap(([k, v]) => ['--tool-arg', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`])];

describe.each(MCP_SERVER_ENTRIES.map((e) => [e.name, e] as const))('mcp-inspector --cli against governor mcp %s --stdio', (_name, entry) => {
  it('lists the tools, each with input and output schemas, and calls a read tool', async () => {
    // Two Inspector runs, each with its own server process, side by side.
    const [listed, read] = await Promise.all([inspect(entry, ['--method', 'tools/list']), inspect(entry, call(entry.read))]);
    const tools = listed['tools'] as { name: string; inputSchema?: unknown; outputSchema?: unknown }[];
    expect(tools.map((t) => t.name)).toContain(entry.read.tool);
    expect(tools.filter((t) => !t.inputSchema || !t.outputSchema).map((t) => t.name)).toEqual([]);

    expect(read['isError'], JSON.stringify(read['content'])).toBeFalsy();
    expect(read['structuredContent']).toBeTypeOf('object');
  });
});

describe('mcp-inspector --cli against governor mcp kubernetes --stdio', () => {
  it("answers a call about another tenant's namespace with an isError result, not a protocol error", async () => {
    const kubernetes = MCP_SERVER_ENTRIES.find((e) => e.name === 'kubernetes')!;
    if ('none' in kubernetes.crossTenant) throw new Error('the Kubernetes entry must have a cross-tenant call');
    const refused = await inspect(kubernetes, call(kubernetes.crossTenant));
    expect(refused['isError']).toBe(true);
    expect((refused['content'] as { text: string }[])[0]!.text).toMatch(/^tenant_forbidden: this session \(agent 'elastik'\) is not bound to namespace 'globex-prod'/);
    expect(refused['structuredContent']).toBeUndefined();
  });
});
