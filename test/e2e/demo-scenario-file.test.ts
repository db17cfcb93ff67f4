// A team rehearses its own incident: `governor demo --scenario FILE` runs any scenario file by its
// path, as a real process on the embedded defaults; a malformed file is refused before anything
// starts, with every problem in it named by field (exit 78, nothing on stdout).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIOS_DIR } from '../../src/twin/scenarios/index.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;

async function governor(args: string[], dataDir: string) {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], GOVERNOR_DATA_DIR: dataDir };
  try {
    const r = await run(process.execPath, [BIN, ...args], { env, timeout: 170_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('governor demo --scenario FILE', () => {
  let dir: string;
  const steady = async () => JSON.parse(await readFile(join(DEFAULT_SCENARIOS_DIR, 'steady-state.json'), 'utf8'));
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gov-scenario-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a malformed file with every problem in it named, and starts nothing', async () => {
    const raw = await steady();
    raw.name = 'someone-elses-day'; // not the file's name
    delete raw.seed;
    raw.duration_min = -5;
    raw.tenants[0].tier = 'platinum';
    raw.tenants[0].namespaces[0].deployments[0].replicas = 2.5;
    raw.faults = [{ kind: 'meteor_strike', target: 'acme-prod/checkout' }];
    raw.expect.max_observation_severity = 'loud';
    raw.surprise = true;
    const file = join(dir, 'our-bad-day.json');
    await writeFile(file, JSON.stringify(raw));
    const r = await governor(['demo', '--scenario', file, '--json'], join(dir, 'data-bad'));
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`scenario ${file} is invalid:`);
    for (const problem of [
      "  - name: 'someone-elses-day' does not match the file name 'our-bad-day'",
      '  - seed: ',
      '  - duration_min: ',
      '  - tenants.0.tier: ',
      '  - tenants.0.namespaces.0.deployments.0.replicas: ',
      '  - faults.0.kind: ',
      '  - expect.max_observation_severity: ',
      '  - (file): Unrecognized key: "surprise"',
    ]) {
      expect(r.stderr).toContain(problem);
    }
    expect(r.stderr).not.toMatch(/demo: t=/); // nothing ran
  }, 60_000);

  it('refuses a file that is not JSON, or not there, naming it', async () => {
    const half = join(dir, 'half.json');
    await writeFile(half, '{ "name": "half", ');
    const r = await governor(['demo', '--scenario', half], join(dir, 'data-half'));
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(new RegExp(`cannot read scenario file ${half.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    const gone = await governor(['demo', '--scenario', join(dir, 'nowhere.json')], join(dir, 'data-gone'));
    expect(gone.code).toBe(78);
    expect(gone.stderr).toMatch(/cannot read scenario file .*nowhere\.json/);
  }, 60_000);

  it('runs a good file from anywhere under its own name, through the whole pipeline', async () => {
    const raw = await steady();
    raw.name = 'team-rehearsal';
    raw.duration_min = 5;
    const file = join(dir, 'team-rehearsal.json');
    await writeFile(file, JSON.stringify(raw));
    const r = await governor(['demo', '--scenario', file, '--json'], join(dir, 'data-good'));
    expect(r.stderr).toMatch(/demo: t=300s acme-prod\/checkout p99=\d+ms x8/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { scenario: string; simulated_s: number; outcome: { met: boolean }; actions: unknown[]; audit: { chain_valid: boolean } };
    expect(s).toMatchObject({ scenario: 'team-rehearsal', simulated_s: 300, outcome: { met: true }, actions: [], audit: { chain_valid: true } });
  }, 180_000);
});
