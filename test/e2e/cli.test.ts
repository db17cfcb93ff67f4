// The `governor` command line as an operator uses it: real processes, real exit codes.
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';

const run = promisify(execFile);
const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;

/** The environment of a machine with nothing configured: no Redis, no database, no credentials. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], ...extra };
  return env;
}

async function governor(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('governor audit verify', () => {
  const schema = `cli_${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  it('exits 0 on an intact chain and 1 naming the record after a row is altered with psql', async () => {
    const store = new PgAuditStore({ connectionString: PG, schema, poolSize: 2 });
    await store.migrate();
    const recs = [];
    for (let i = 0; i < 5; i++) {
      recs.push(await store.append({ kind: 'note', actor: 'test', at: new Date(Date.UTC(2026, 10, 24, 10, i)).toISOString(), payload: { i } }));
    }
    await store.close();
    const env = bareEnv({ DATABASE_URL: PG });
    const ok = await governor(['audit', 'verify', '--schema', schema], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid: 5 records/);

    const victim = recs[2]!;
    // The table refuses updates; a privileged operator has to switch its guard off to tamper.
    await run('psql', [
      PG, '-v', 'ON_ERROR_STOP=1', '-c',
      `BEGIN; ALTER TABLE "${schema}".audit_records DISABLE TRIGGER ALL; UPDATE "${schema}".audit_records SET actor = 'mallory' WHERE seq = ${victim.seq}; ALTER TABLE "${schema}".audit_records ENABLE TRIGGER ALL; COMMIT;`,
    ]);
    const bad = await governor(['audit', 'verify', '--schema', schema], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`seq ${victim.seq}`);
    expect(bad.stdout).toContain(victim.id);
  }, 60_000);

  it('refuses a plain UPDATE with psql', async () => {
    await expect(run('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-c', `UPDATE "${schema}".audit_records SET actor = 'x'`])).rejects.toThrow(/append-only/);
  });
});

describe('governor policy eval', () => {
  it('prints one DESIGN §5 decision for a policy input file', async () => {
    const r = await governor(['policy', 'eval', '--input', 'policies/fixtures/design-example-allow.json'], bareEnv());
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ verdict: 'allow', violations: [] });
    expect(d.policy_version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives a clear error and exit 2 for a file that is not a policy input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gov-'));
    try {
      await writeFile(join(dir, 'bad.json'), '{"proposal": {}}');
      const r = await governor(['policy', 'eval', '--input', join(dir, 'bad.json')], bareEnv());
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/proposal/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('governor configuration errors', () => {
  it('names every bad key at once and exits 78', async () => {
    const r = await governor(['demo', '--scenario', 'jvm-heap-regression'], bareEnv({ REDIS_URL: 'nope', DATABASE_URL: 'mysql://x' }));
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/REDIS_URL/);
    expect(r.stderr).toMatch(/DATABASE_URL/);
  });
});

describe('npm start on a machine without Redis, PostgreSQL or credentials', () => {
  it('says what it started and fell back to, serves the sandbox console, and stops cleanly', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gov-start-'));
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: bareEnv({ GOVERNOR_DATA_DIR: dataDir, GOVERNOR_CONSOLE_PORT: '0', SLACK_PORT: '0', LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    try {
      const deadline = Date.now() + 60_000;
      while (!lines.some((l) => l.includes('ready'))) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`not ready: ${lines.join('\n')}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const text = lines.join('\n');
      expect(text).toMatch(/bus: in-memory \(REDIS_URL is not set\)/);
      expect(text).toMatch(/audit: embedded PGlite .*\(DATABASE_URL is not set\)/);
      expect(text).toMatch(/slack: sandbox console at http:\/\/127\.0\.0\.1:\d+/);
      expect(text).toMatch(/cluster: twin scenario/);
      const url = /open (http:\/\/\S+)/.exec(text)![1]!;
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    }
    expect(lines.join('\n')).toMatch(/stopped/);
  }, 90_000);
});
