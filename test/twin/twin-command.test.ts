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
import { freePort, startPrometheus } from './metrics/prometheus-process.ts';

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

  it('with --metrics-port a real Prometheus scrapes it, and --prometheus-port answers the same PromQL itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'governor-twin-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const [metricsPort, queryPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', `const { twin } = await import(${JSON.stringify(COMMAND)}); await twin({ scenario: 'jvm-heap-regression', kubeconfig: ${JSON.stringify(kubeconfig)}, metricsPort: ${metricsPort}, prometheusPort: ${queryPort} });`],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (l) => l === 'ready' && resolve());
        child.on('exit', (code) => reject(new Error(`governor twin exited with ${code} before it was ready`)));
      });
      const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(exposition).toMatch(/kube_deployment_spec_replicas\{[^}]*deployment="checkout"[^}]*\} 8/);
      prom = await startPrometheus({
        config: `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: twin\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`,
      });
      const q = 'kube_deployment_spec_replicas{namespace="acme-prod",deployment="checkout"}';
      const ask = async (base: string) => {
        const r = (await (await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { value: [number, string] }[] } };
        return r.data.result[0]?.value[1];
      };
      const deadline = Date.now() + 30_000;
      let scraped: string | undefined;
      while (!(scraped = await ask(prom.url).catch(() => undefined)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      expect(scraped, prom.log()).toBe('8');
      expect(await ask(`http://127.0.0.1:${queryPort}`)).toBe('8');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await prom?.stop();
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('refuses an unknown scenario before it starts anything', async () => {
    await expect(twin({ scenario: 'no-such-scenario', kubeconfig: join(tmpdir(), 'never-written') })).rejects.toMatchObject({ code: 'config_invalid' });
  });
});
