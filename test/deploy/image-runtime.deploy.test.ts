// The image's contents, run. No Docker daemon exists on the CI machine, so the image is never built;
// instead its file set is rebuilt in a temporary directory exactly as the Dockerfile lays it out:
// the deps stage's `npm ci --omit=dev` from the lockfile, then every COPY of the final stage with
// .dockerignore applied (dockerfile.ts), nothing else. The `governor` command then runs from there
// as the image's numeric non-root user, with the application files owned by root as in the image:
// `--help`, `policy eval` on the committed signed bundle, and an import of every module of the
// application, which proves no module needs a dev dependency or a file the image leaves out.
// What this cannot prove: the base image's own Node and libc (node:20-bookworm-slim; this machine
// runs Node 20 on Debian too) and Docker's build itself.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerIgnore, REPO, copyArgs, finalStageContextFiles, readDockerfile } from './dockerfile.ts';

const run = promisify(execFile);
const df = readDockerfile();
const final = df.stages.at(-1)!;
const user = final.instructions.filter((i) => i.keyword === 'USER').at(-1)!.args;
const [uid, gid = uid] = user.split(':').map(Number) as [number, number?];
const workdir = final.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)!.args;

let root: string;
let app: string;
let data: string;
/** Runs as the image's user when this process may switch to it (root in CI); as itself otherwise. */
let asImageUser: string[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'governor-image-'));
  chmodSync(root, 0o755);
  app = join(root, workdir.replace(/^\//, ''));
  mkdirSync(app, { recursive: true });
  // The deps stage: its COPYs, then its RUN (npm ci from the lockfile, production only).
  const deps = join(root, 'deps');
  mkdirSync(deps);
  for (const ins of df.stages.find((s) => s.name === 'deps')!.instructions.filter((i) => i.keyword === 'COPY')) {
    for (const source of copyArgs(ins).sources) cpSync(join(REPO, source), join(deps, source));
  }
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: deps, timeout: 240_000 });
  renameSync(join(deps, 'node_modules'), join(app, 'node_modules'));
  rmSync(deps, { recursive: true, force: true });
  // The final stage's own files from the build context.
  for (const f of finalStageContextFiles(df, DockerIgnore.ofRepo())) {
    const target = join(app, f.dest);
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(REPO, f.source), target, { dereference: true });
  }
  data = join(root, 'data');
  mkdirSync(data);
  const isRoot = process.getuid?.() === 0;
  if (isRoot) chownSync(data, uid, gid);
  asImageUser = isRoot ? ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'] : [];
}, 300_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** `node ARGS` in the image's WORKDIR, as its user, with only the environment the image sets. */
async function node(args: string[], extraEnv: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  const [cmd, ...rest] = [...asImageUser, 'node', ...args];
  try {
    const { stdout, stderr } = await run(cmd!, rest, {
      cwd: app,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NODE_ENV: 'production', GOVERNOR_DATA_DIR: data, HOME: data, ...extraEnv },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
  }
}

describe('the image file set (rebuilt from the Dockerfile; no Docker daemon here, the image itself is not built)', () => {
  it('runs `governor --help` as the image user', async () => {
    const r = await node(['bin/governor.mjs', '--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const command of ['start', 'mcp', 'policy']) expect(r.stdout).toContain(command);
  });

  it('evaluates a policy fixture with the committed signed bundle (`governor policy eval`), no opa needed', async () => {
    const r = await node(['bin/governor.mjs', 'policy', 'eval', '--input', 'policies/fixtures/autonomy-level-2-within-limits.json']);
    expect(r.code, r.stderr).toBe(0);
    const decision = JSON.parse(r.stdout) as { verdict: string; policy_version: string };
    expect(['allow', 'deny', 'require_approval', 'advise']).toContain(decision.verdict);
    expect(decision.policy_version).toBeTruthy();
  });

  it('loads every module of the application with production dependencies only', async () => {
    const probe = `
      import { register } from 'tsx/esm/api';
      import { readdirSync } from 'node:fs';
      import { join } from 'node:path';
      register();
      const failed = [];
      let loaded = 0;
      for (const dir of ['src', 'agents', 'commands', 'mcp-servers']) {
        for (const f of readdirSync(dir, { recursive: true })) {
          if (!String(f).endsWith('.ts')) continue;
          try { await import('./' + join(dir, String(f))); loaded++; } catch (err) { failed.push(join(dir, String(f)) + ': ' + err.message.split('\\n')[0]); }
        }
      }
      console.log(JSON.stringify({ loaded, failed }));
      process.exit(0);
    `;
    const r = await node(['--input-type=module', '--eval', probe]);
    expect(r.code, r.stderr).toBe(0);
    const { loaded, failed } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { loaded: number; failed: string[] };
    expect(failed).toEqual([]);
    expect(loaded).toBeGreaterThan(250);
  });
});
