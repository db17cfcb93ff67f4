// `governor twin` as an operator runs it: its own process, the twin in real time over HTTPS, a
// kubeconfig written for kubectl, `ready` on stdout, a clean stop on SIGTERM.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { twin } from '../../commands/twin.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMMAND = pathToFileURL(join(ROOT, 'commands/twin.ts')).href;

describe('governor twin', () => {
  it('serves a scenario over HTTPS, writes a kubeconfig, prints ready, and stops on SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'governor-twin-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `const { twin } = await import(${JSON.stringify(COMMAND)}); await twin({ scenario: 'jvm-heap-regression', kubeconfig: ${JSON.stringify(kubeconfig)} });`],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const stdout: string[] = [];
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (l) => {
          stdout.push(l);
          if (l === 'ready') resolve();
        });
        child.on('exit', (code) => reject(new Error(`governor twin exited with ${code} before it was ready`)));
      });
      expect(stdout).toEqual(['ready']);
      expect((await stat(kubeconfig)).mode & 0o777).toBe(0o600);
      const config = await readFile(kubeconfig, 'utf8');
      expect(config).toMatch(/server: "https:\/\/127\.0\.0\.1:\d+"/);
      expect(config).toContain('certificate-authority-data:');
      const kubectl = (...args: string[]) => promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 20_000 });
      expect((await kubectl('get', 'deployments', '-n', 'acme-prod', 'checkout')).stdout).toMatch(/checkout\s+8\/8\s+8\s+8\s+3d/);
      expect((await kubectl('get', 'nodes', '-o', 'name')).stdout.trim().split('\n')).toHaveLength(4);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown scenario before it starts anything', async () => {
    await expect(twin({ scenario: 'no-such-scenario', kubeconfig: join(tmpdir(), 'never-written') })).rejects.toMatchObject({ code: 'config_invalid' });
  });
});
