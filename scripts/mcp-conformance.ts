// The MCP conformance suite (@modelcontextprotocol/conformance, server scenarios) against every
// Governor MCP server of test/mcp-conformance/servers.ts, each started as a user starts it
// (`governor mcp NAME --port 0`, sandbox backends), compared with the committed baseline
// (test/mcp-conformance/baseline.json: each expected failure with its reason). Prints one table; a
// scenario that fails outside the baseline, or passes while the baseline says it fails, fails the run.
//
//   node --import tsx scripts/mcp-conformance.ts [--server NAME]… [--keep DIR]
//
// The suite's client sends no bearer token and Governor's HTTP servers serve none without one, so each
// server is reached through a local proxy that adds the server's sandbox token to every request, as a
// client configured with a token would; everything else (Host, Origin, body, streams) passes untouched.
// It must never reach beyond this machine: the suite talks to the proxy, the servers to the sandbox.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MCP_SERVER_ENTRIES, startHttpServer, startSandbox, type McpServerEntry } from '../test/mcp-conformance/servers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BASELINE_FILE = join(ROOT, 'test/mcp-conformance/baseline.json');
const SUITE_BIN = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

export interface Baseline {
  /** The suite version the baseline was taken with: scenarios change between versions. */
  conformance: string;
  /** Scenario → why it is expected to fail on every server. */
  every_server: Record<string, string>;
  /** Server → scenario → why it is expected to fail on that server only. */
  servers: Record<string, Record<string, string>>;
}

export type Outcome = 'pass' | 'expected-fail' | 'UNEXPECTED-FAIL' | 'STALE-BASELINE';

export interface ScenarioResult {
  scenario: string;
  outcome: Outcome;
  /** Failed or warning checks, with the suite's own message. */
  problems: string[];
  /** Why the baseline expects it to fail, when it does. */
  reason?: string;
}

export interface ServerResult {
  server: string;
  scenarios: ScenarioResult[];
  /** The suite's own verdict with the same baseline (its exit code 0): a second opinion on ours. */
  suiteAgrees: boolean;
  seconds: number;
}

export async function readBaseline(file = BASELINE_FILE): Promise<Baseline> {
  return JSON.parse(await readFile(file, 'utf8')) as Baseline;
}

export function expectedFailures(baseline: Baseline, server: string): Record<string, string> {
  return { ...baseline.every_server, ...(baseline.servers[server] ?? {}) };
}

/** Runs the active suite against each entry in turn (one server process at a time: the machine is small). */
export async function runConformance(opts: { entries?: readonly McpServerEntry[]; baseline?: Baseline; outDir?: string } = {}): Promise<ServerResult[]> {
  const entries = opts.entries ?? MCP_SERVER_ENTRIES;
  const baseline = opts.baseline ?? (await readBaseline());
  const outDir = opts.outDir ?? (await mkdtemp(join(tmpdir(), 'governor-mcp-conformance-')));
  const sandbox = await startSandbox();
  const results: ServerResult[] = [];
  try {
    for (const entry of entries) {
      const started = Date.now();
      const server = await startHttpServer(entry, sandbox);
      const proxy = await startTokenProxy(server.url, server.token);
      try {
        const dir = join(outDir, entry.name);
        await mkdir(dir, { recursive: true });
        const expected = expectedFailures(baseline, entry.name);
        const yaml = join(dir, 'expected-failures.yml');
        await writeFile(yaml, `server:\n${Object.keys(expected).map((s) => `  - ${s}\n`).join('')}`);
        const exit = await runSuite(['server', '--url', proxy.url, '--suite', 'active', '--expected-failures', yaml, '-o', dir], join(dir, 'suite.log'));
        const scenarios = compare(await readChecks(dir), expected);
        results.push({ server: entry.name, scenarios, suiteAgrees: exit === 0, seconds: Math.round((Date.now() - started) / 100) / 10 });
      } finally {
        await proxy.close();
        await server.close();
      }
    }
  } finally {
    await sandbox.close();
    if (!opts.outDir) await rm(outDir, { recursive: true, force: true });
  }
  return results;
}

/** A scenario fails as the suite counts it: any check FAILURE or WARNING. */
function compare(checks: Map<string, { status: string; name: string; errorMessage?: string }[]>, expected: Record<string, string>): ScenarioResult[] {
  const out: ScenarioResult[] = [];
  for (const [scenario, list] of [...checks].sort(([a], [b]) => a.localeCompare(b))) {
    const problems = list.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING').map((c) => `${c.status} ${c.name}${c.errorMessage ? `: ${c.errorMessage}` : ''}`);
    const reason = expected[scenario];
    const failed = problems.length > 0;
    const outcome: Outcome = failed ? (reason ? 'expected-fail' : 'UNEXPECTED-FAIL') : reason ? 'STALE-BASELINE' : 'pass';
    out.push({ scenario, outcome, problems, ...(reason ? { reason } : {}) });
  }
  return out;
}

/** The suite writes `server-<scenario>-<timestamp>/checks.json` per scenario. */
async function readChecks(dir: string): Promise<Map<string, { status: string; name: string; errorMessage?: string }[]>> {
  const checks = new Map<string, { status: string; name: string; errorMessage?: string }[]>();
  for (const name of await readdir(dir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T.*$/.exec(name);
    if (!m) continue;
    checks.set(m[1]!, JSON.parse(await readFile(join(dir, name, 'checks.json'), 'utf8')));
  }
  return checks;
}

function runSuite(args: string[], logFile: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SUITE_BIN, ...args], { cwd: ROOT, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      void writeFile(logFile, `${stdout}\n${stderr}`).finally(() => resolve(err ? ((err as { code?: number }).code ?? 1) : 0));
    });
  });
}

/** Forwards every request to the server's /mcp with its bearer token added; streams in both directions. */
async function startTokenProxy(target: string, token: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const http: Server = createServer((req, res) => {
    const forward = request(
      { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, authorization: `Bearer ${token}` } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    // A client that hangs up on a stream (SSE) hangs up upstream too.
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

export function formatTable(results: ServerResult[]): string {
  const lines: string[] = [];
  const scenarios = [...new Set(results.flatMap((r) => r.scenarios.map((s) => s.scenario)))].sort();
  const mark: Record<Outcome, string> = { pass: 'pass', 'expected-fail': 'xfail', 'UNEXPECTED-FAIL': 'FAIL', 'STALE-BASELINE': 'STALE' };
  const width = Math.max(...scenarios.map((s) => s.length), 'scenario'.length);
  const cols = results.map((r) => Math.max(r.server.length, 5));
  lines.push(['scenario'.padEnd(width), ...results.map((r, i) => r.server.padEnd(cols[i]!))].join('  '));
  for (const s of scenarios) {
    lines.push([s.padEnd(width), ...results.map((r, i) => (mark[r.scenarios.find((x) => x.scenario === s)?.outcome as Outcome] ?? '-').padEnd(cols[i]!))].join('  '));
  }
  lines.push('');
  for (const r of results) {
    const n = (o: Outcome) => r.scenarios.filter((s) => s.outcome === o).length;
    lines.push(`${r.server}: ${n('pass')} passed, ${n('expected-fail')} expected failures, ${n('UNEXPECTED-FAIL')} unexpected failures, ${n('STALE-BASELINE')} stale baseline entries` +
      `${r.suiteAgrees ? '' : ' (the suite itself reports a baseline mismatch)'}; ${r.seconds} s`);
    for (const s of r.scenarios.filter((x) => x.outcome === 'UNEXPECTED-FAIL' || x.outcome === 'STALE-BASELINE')) {
      lines.push(`  ${s.outcome} ${s.scenario}${s.problems.length ? `: ${s.problems.join('; ')}` : ` (baseline: ${s.reason})`}`);
    }
  }
  return lines.join('\n');
}

export function failed(results: ServerResult[]): boolean {
  return results.some((r) => !r.suiteAgrees || r.scenarios.some((s) => s.outcome === 'UNEXPECTED-FAIL' || s.outcome === 'STALE-BASELINE'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const only = args.flatMap((a, i) => (args[i - 1] === '--server' ? [a] : []));
  const keep = args[args.indexOf('--keep') + 1];
  const unknown = only.filter((n) => !MCP_SERVER_ENTRIES.some((e) => e.name === n));
  if (unknown.length) {
    console.error(`unknown server ${unknown.join(', ')}; known: ${MCP_SERVER_ENTRIES.map((e) => e.name).join(', ')}`);
    process.exit(2);
  }
  const entries = only.length ? MCP_SERVER_ENTRIES.filter((e) => only.includes(e.name)) : MCP_SERVER_ENTRIES;
  const results = await runConformance({ entries, ...(args.includes('--keep') && keep ? { outDir: keep } : {}) });
  console.log(formatTable(results));
  process.exit(failed(results) ? 1 : 0);
}
