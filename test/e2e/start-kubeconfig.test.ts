// `governor start` pointed at a cluster through KUBECONFIG (here `governor twin` in its own process:
// nothing shared but the cluster) says what it watches — found from the cluster's annotations and
// labels, not from a scenario — and picks up a newly annotated Deployment without a restart.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/governor.mjs');
const children: ChildProcess[] = [];
let dir: string | undefined;

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts a governor command and collects its stdout and stderr lines until `until` matches a stdout line. */
function run(args: string[], env: NodeJS.ProcessEnv, until: RegExp): Promise<{ child: ChildProcess; lines: string[]; stderr: string[] }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l);
      if (until.test(l)) resolve({ child, lines, stderr });
    });
    child.on('exit', (code) => reject(new Error(`governor ${args[0]} exited with ${code}:\n${lines.join('\n')}\n${stderr.slice(-20).join('\n')}`)));
  });
}

describe('governor start with KUBECONFIG', () => {
  it('prints the Deployments it watches, found on the cluster, and follows a new annotation', async () => {
    dir = await mkdtemp(join(tmpdir(), 'governor-kubeconfig-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const base: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], LOG_LEVEL: 'info' };
    await run(['twin', '--scenario', 'jvm-heap-regression', '--kubeconfig', kubeconfig], base, /^ready$/);

    const started = await run(['start'], { ...base, KUBECONFIG: kubeconfig, GOVERNOR_DATA_DIR: join(dir, 'data'), GOVERNOR_CONSOLE_PORT: '0', SLACK_PORT: '0' }, /governor: ready/);
    const text = started.lines.join('\n');
    expect(text).toMatch(/cluster: https:\/\/127\.0\.0\.1:\d+ from KUBECONFIG; watching Deployments annotated governor\.io\/slo-p99-ms/);
    expect(text).toMatch(/agents: watchtower \(watching acme-prod\/checkout \(acme, p99 ≤ 500 ms\)\)/);
    expect(text).not.toMatch(/watching nothing/);

    const kubectl = (...args: string[]) => promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir!, 'cache'), ...args], { timeout: 20_000 });
    await kubectl('annotate', 'deployment', 'cart', '-n', 'acme-prod', 'governor.io/slo-p99-ms=400');
    const deadline = Date.now() + 15_000;
    while (!started.stderr.some((l) => l.includes('watch set: acme-prod/cart, acme-prod/checkout'))) {
      if (Date.now() > deadline) throw new Error(`the new annotation was not picked up:\n${started.stderr.slice(-20).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    started.child.kill('SIGTERM');
  }, 120_000);
});
