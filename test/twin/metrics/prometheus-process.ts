// A real Prometheus for the integration tests: the Debian package's binary, run by the test itself
// with a temporary config, a temporary storage directory and a free loopback port, and stopped by the
// test. Never the system service, never port 9090. A missing binary fails loudly with the fix.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../../../src/core/ports.ts';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export { freePort };

export const INSTALL_HINT = 'install the Debian package: sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus';

/** The absolute path of a binary on PATH (or in /usr/bin), or an Error that says how to install it. */
export function requireBinary(name: 'prometheus' | 'promtool'): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} not found on PATH: the twin's metrics integration tests need a real Prometheus; ${INSTALL_HINT}`);
}

export interface PrometheusProcess {
  url: string;
  dir: string;
  pid: number;
  /** What it wrote to stdout/stderr (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts `prometheus` with this config (YAML) and waits until /-/ready answers. */
export async function startPrometheus(opts: { config: string; dir?: string; extraArgs?: string[] }): Promise<PrometheusProcess> {
  const bin = requireBinary('prometheus');
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'governor-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, opts.config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=10y',
      '--log.level=warn',
      ...(opts.extraArgs ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.once('exit', (code) => ((exited = code), resolve())));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    }
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`prometheus exited with ${exited} before it was ready:\n${output}`);
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready after 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, dir, pid: child.pid!, log: () => output, stop };
}
