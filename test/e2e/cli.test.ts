// The `governor` command line as an operator uses it: real processes, real exit codes.
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAuditKey } from '../../src/audit/audit-key.ts';
import { Checkpointer } from '../../src/audit/checkpoints.ts';
import { chainHash, PgAuditStore, type ChainContent } from '../../src/audit/pg-audit-store.ts';
import { RealClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { DEFAULT_BUNDLE_PATH } from '../../src/policy/wasm-policy-engine.ts';

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
  const schemas: string[] = [];
  const fresh = () => {
    const schema = `cli_${randomUUID().slice(0, 8)}`;
    schemas.push(schema);
    return schema;
  };
  let dir: string;
  const key = generateAuditKey();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gov-verify-'));
    await writeFile(join(dir, 'audit.pub.pem'), key.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    await writeFile(join(dir, 'audit.pem'), key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  });
  afterAll(async () => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    for (const schema of schemas) await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
    await rm(dir, { recursive: true, force: true });
  });

  /** A sealed log of `n` records, its head checkpointed into the checkpoint file, as a running system leaves it. */
  async function sealedLog(schema: string, n: number) {
    const store = new PgAuditStore({ connectionString: PG, schema, poolSize: 2, auditKey: key });
    await store.migrate();
    const recs = [];
    for (let i = 0; i < n; i++) {
      recs.push(await store.append({ kind: 'note', actor: 'test', at: new Date(Date.UTC(2026, 10, 24, 10, i)).toISOString(), payload: { i } }));
    }
    const checkpointer = new Checkpointer({
      audit: store, key, schema, file: join(dir, 'checkpoints.jsonl'), notify: () => {}, clock: new RealClock(), intervalMs: 60_000, logger: silentLogger(),
    });
    await checkpointer.start();
    await checkpointer.stop();
    await store.close();
    return recs;
  }
  /** What an auditor runs with: the database, the public key alone, the published checkpoints. */
  const auditorEnv = () =>
    bareEnv({ DATABASE_URL: PG, GOVERNOR_AUDIT_PUBLIC_KEY_FILE: join(dir, 'audit.pub.pem'), GOVERNOR_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl') });
  /** As the table's owner would: the append-only trigger switched off around the statement. */
  const asOwner = (schema: string, sql: string) =>
    run('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-c', `BEGIN; ALTER TABLE "${schema}".audit_records DISABLE TRIGGER ALL; ${sql}; ALTER TABLE "${schema}".audit_records ENABLE TRIGGER ALL; COMMIT;`]);

  it('exits 0 on an intact chain and 1 naming the record after a row is altered with psql', async () => {
    const schema = fresh();
    const recs = await sealedLog(schema, 5);
    const ok = await governor(['audit', 'verify', '--schema', schema], auditorEnv());
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/valid: 5 records/);
    expect(ok.stdout).toContain(`seals: 5 records sealed by audit key ${key.keyId}`);
    expect(ok.stdout).toMatch(/audit log holds: chain, seals and checkpoints/);

    const victim = recs[2]!;
    // The table refuses updates; a privileged operator has to switch its guard off to tamper.
    await asOwner(schema, `UPDATE "${schema}".audit_records SET actor = 'mallory' WHERE seq = ${victim.seq}`);
    const bad = await governor(['audit', 'verify', '--schema', schema], auditorEnv());
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`seq ${victim.seq}`);
    expect(bad.stdout).toContain(victim.id);
  }, 60_000);

  it('reports a log whose newest records were deleted by its owner: exit 1 and the records missing', async () => {
    const schema = fresh();
    const recs = await sealedLog(schema, 6);
    await asOwner(schema, `DELETE FROM "${schema}".audit_records WHERE seq > 3`);
    const r = await governor(['audit', 'verify', '--schema', schema], auditorEnv());
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/valid: 3 records/); // the chain alone cannot tell
    expect(r.stdout).toMatch(new RegExp(`TRUNCATED: the latest checkpoint \\(at [^)]+\\) anchors seq 6, hash ${recs[5]!.hash.slice(0, 16)}…; the log ends at seq 3: records 4–6 are missing`));
    const json = await governor(['audit', 'verify', '--schema', schema, '--json'], auditorEnv());
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      schema, valid: false, records: 3, head: { seq: 3, hash: recs[2]!.hash },
      seals: { key_id: key.keyId, sealed: 3, unsealed: 0 },
      checkpoints: { status: 'truncated', missing: { from: 4, to: 6 }, latest: { seq: 6, hash: recs[5]!.hash, key_id: key.keyId } },
      problems: [{ kind: 'truncated' }],
    });
  }, 60_000);

  it('reports a forged append — a correctly computed hash and no seal — exit 1 and the record', async () => {
    const schema = fresh();
    const recs = await sealedLog(schema, 3);
    const tail = recs[2]!;
    const content: ChainContent = {
      seq: 4, id: randomUUID(), kind: 'approval', actor: 'U0MALLORY', at: '2026-11-24T11:00:00.000Z', incident_id: null, proposal_id: 'p-1', tenant: null, payload: { approved: true },
    };
    const hash = chainHash(tail.hash, content);
    // A plain INSERT: the writer role can do this much without switching anything off.
    await run('psql', [PG, '-v', 'ON_ERROR_STOP=1', '-c',
      `INSERT INTO "${schema}".audit_records (seq, id, kind, actor, at, proposal_id, payload, prev_hash, hash)
       VALUES (4, '${content.id}', 'approval', 'U0MALLORY', '${content.at}', 'p-1', '{"approved": true}', '${tail.hash}', '${hash}')`]);
    const r = await governor(['audit', 'verify', '--schema', schema], auditorEnv());
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`audit chain BROKEN at seq 4 (id ${content.id}): no seal, though records are sealed since seq 1: not written by Governor (a forged append?)`);
  }, 60_000);

  it('refuses the audit key itself where only its public key belongs — exit 78, naming the variable', async () => {
    const r = await governor(['audit', 'verify', '--schema', fresh()], { ...auditorEnv(), GOVERNOR_AUDIT_PUBLIC_KEY_FILE: join(dir, 'audit.pem') });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(`GOVERNOR_AUDIT_PUBLIC_KEY_FILE: ${join(dir, 'audit.pem')} holds a private key`);
  });

  it('refuses a plain UPDATE with psql', async () => {
    const schema = fresh();
    await sealedLog(schema, 1);
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

  it('start refuses a policy bundle whose data.json was edited after signing, and a bundle path that does not exist', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gov-bundle-'));
    try {
      const src = join(dir, 'src');
      await mkdir(src);
      await run('tar', ['-xzf', DEFAULT_BUNDLE_PATH, '-C', src]);
      const data = JSON.parse(await readFile(join(src, 'data.json'), 'utf8')) as { autonomy: { supervised_actions: string[] } };
      data.autonomy.supervised_actions = [];
      await writeFile(join(src, 'data.json'), JSON.stringify(data));
      const tampered = join(dir, 'tampered.tar.gz');
      await run('tar', ['-czf', tampered, '-C', src, '.']);
      const env = bareEnv({ GOVERNOR_DATA_DIR: dir, GOVERNOR_CONSOLE_PORT: '0', SLACK_PORT: '0', LOG_LEVEL: 'fatal' });
      const refused = await governor(['start'], { ...env, GOVERNOR_POLICY_BUNDLE: tampered });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^governor: the policy bundle .*tampered\.tar\.gz holds data\.json changed after signing/m);
      const missing = await governor(['start'], { ...env, GOVERNOR_POLICY_BUNDLE: join(dir, 'absent.tar.gz') });
      expect(missing.code).toBe(78);
      expect(missing.stderr).toContain(`GOVERNOR_POLICY_BUNDLE: there is no policy bundle file at ${join(dir, 'absent.tar.gz')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
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
      expect(text).toMatch(/policy: OPA Wasm bundle [0-9a-f]{12} \(reloads on change\), signed for the DEVELOPMENT key/);
      expect(text).toMatch(new RegExp(`audit key: audit-[0-9a-f]{16} generated and kept in ${dataDir}/audit-key\\.pem`));
      expect(text).toMatch(new RegExp(`audit checkpoints: every 60 s and at stop, to ${dataDir}/audit-checkpoints-governor\\.jsonl and the Slack channel`));
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

describe('governor incident', () => {
  const schema = `inc_${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  it('after the seed incident, lists it, shows its timeline and explains the rollback from its records, by rules', async () => {
    const { runDemo } = await import('../../src/demo/run-demo.ts');
    const { loadConfig } = await import('../../src/config.ts');
    const { silentLogger } = await import('../../src/core/logger.ts');
    const s = await runDemo({ scenario: 'jvm-heap-regression', config: loadConfig({ DATABASE_URL: PG }), logger: silentLogger(), auditSchema: schema });
    expect(s.outcome.met).toBe(true);
    const env = bareEnv({ DATABASE_URL: PG });

    const list = await governor(['incident', 'list', '--schema', schema, '--json'], env);
    expect(list.code).toBe(0);
    const [incident] = JSON.parse(list.stdout) as { incident_id: string; service: string; resolved_at: string | null }[];
    expect(incident).toMatchObject({ service: 'acme-prod/checkout', resolved_at: expect.any(String) });

    const show = await governor(['incident', 'show', incident!.incident_id, '--schema', schema], env);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/proposal by elastik: rollback_deployment checkout revision 2 → 1 {2}\[#\d+\]/);
    expect(show.stdout).toMatch(/approved by alice \(approved\)/);

    const explain = await governor(['incident', 'explain', 'latest', 'why did you roll back?', '--schema', schema, '--json'], env);
    expect(explain.code).toBe(0);
    const answer = JSON.parse(explain.stdout) as { incident_id: string; answer: string; source: string; llm: string; cites: { seq: number }[] };
    expect(answer).toMatchObject({ incident_id: incident!.incident_id, source: 'rules', llm: 'unavailable' });
    expect(answer.answer).toMatch(/revision 2 of checkout \(JVM heap tuning/);
    expect(answer.answer).toMatch(/scale checkout 8 → 12/);
    expect(answer.answer).toMatch(/roll checkout back from revision 2 to 1 .* approved by alice/s);
    expect(answer.answer).toMatch(/The SLO held again at .* \(p99 \d+ ms\)/);
    expect(answer.cites.length).toBeGreaterThan(5);

    const who = await governor(['incident', 'explain', 'latest', 'who', 'approved', 'the', 'rollback?', '--schema', schema], env);
    expect(who.stdout).toMatch(/approved by alice/);
    const without = await governor(['incident', 'explain', 'latest', 'what would have happened without it?', '--schema', schema], env);
    expect(without.stdout).toMatch(/The records do not hold what would have happened without the actions/);
    const missing = await governor(['incident', 'show', 'no-such-incident', '--schema', schema], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no incident 'no-such-incident'/);
  }, 180_000);

  it("without --schema, reads the demo's records when the main schema holds no audit log, and says so", async () => {
    const { incidentCommand } = await import('../../commands/incident.ts');
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = PG;
    try {
      const out: string[] = [];
      const notes: string[] = [];
      const empty = `none_${randomUUID().slice(0, 8)}`;
      const code = await incidentCommand('explain', { id: 'latest', question: ['why', 'did', 'you', 'roll', 'back?'], json: true }, (l) => out.push(l), (l) => notes.push(l), { main: empty, demo: schema });
      expect(code).toBe(0);
      expect(JSON.parse(out.join('\n'))).toMatchObject({ source: 'rules' });
      expect(notes.join('\n')).toMatch(new RegExp(`schema '${empty}' holds no audit log: these are the demo's records in '${schema}'`));
      // Neither holds a log: the error names the main schema and where a demo's records would be.
      await expect(incidentCommand('list', { json: true }, () => {}, () => {}, { main: empty, demo: `${empty}_demo` })).rejects.toThrow(new RegExp(`no audit log in schema '${empty}'`));
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  }, 60_000);
});
