// The MCP conformance suite against every server of servers.ts over Streamable HTTP
// (scripts/mcp-conformance.ts): every scenario passes or is an expected failure of the committed
// baseline, with its reason; a baseline entry that passes is stale and fails too.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedFailures, formatTable, readBaseline, runConformance, type Baseline, type ServerResult } from '../../scripts/mcp-conformance.ts';
import { MCP_SERVER_ENTRIES } from './servers.ts';

const SUITE = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/conformance', import.meta.url));
let baseline: Baseline;
let results: ServerResult[];

beforeAll(async () => {
  baseline = await readBaseline();
  results = await runConformance({ baseline });
  console.log(formatTable(results));
}, 600_000);

it('keeps a baseline taken with the installed suite, each entry a scenario of it with a one-line reason', async () => {
  const { version } = (await import(`${SUITE}/package.json`, { with: { type: 'json' } })).default as { version: string };
  expect(baseline.conformance).toBe(version);
  const listed = execFileSync(process.execPath, [`${SUITE}/dist/index.js`, 'list', '--server'], { encoding: 'utf8' });
  const scenarios = new Set([...listed.matchAll(/^\s+- (\S+)$/gm)].map((m) => m[1]));
  for (const server of MCP_SERVER_ENTRIES.map((e) => e.name)) {
    for (const [scenario, reason] of Object.entries(expectedFailures(baseline, server))) {
      expect(scenarios, `baseline names an unknown scenario '${scenario}'`).toContain(scenario);
      expect(reason.trim().length, `no reason for ${scenario}`).toBeGreaterThan(10);
      expect(reason).not.toMatch(/\n/);
    }
  }
  expect(Object.keys(baseline.servers).filter((s) => !MCP_SERVER_ENTRIES.some((e) => e.name === s))).toEqual([]);
});

describe.each(MCP_SERVER_ENTRIES.map((e) => [e.name] as const))('conformance of %s over Streamable HTTP', (name) => {
  it('passes every scenario but the expected failures of the baseline, and none of those passes', () => {
    const r = results.find((x) => x.server === name)!;
    const off = r.scenarios.filter((s) => s.outcome === 'UNEXPECTED-FAIL' || s.outcome === 'STALE-BASELINE').map((s) => `${s.outcome} ${s.scenario}: ${s.problems.join('; ') || s.reason}`);
    expect(off).toEqual([]);
    // Every scenario of the baseline ran (none was skipped or renamed), and the suite's own verdict agrees.
    expect(r.scenarios.map((s) => s.scenario)).toEqual(expect.arrayContaining(Object.keys(expectedFailures(baseline, name))));
    expect(r.suiteAgrees).toBe(true);
    expect(r.scenarios.filter((s) => s.outcome === 'pass').length).toBeGreaterThan(0);
  });
});
