// The audit contract against a real PostgreSQL, plus what only a real server shows: the acceptance
// check with the real `psql` binary, and a database that cannot be reached. Each test works in a
// schema of its own, dropped afterwards, so this file can run beside the others.
import { readdirSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAuditKey } from '../../src/audit/audit-key.ts';
import { GENESIS_HASH } from '../../src/audit/audit-store.ts';
import { chainHash, PgAuditStore, type ChainContent } from '../../src/audit/pg-audit-store.ts';
import { auditVerify } from '../../src/audit/verify-command.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { auditStoreContract, note } from './audit-store.contract.ts';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const run = randomUUID().slice(0, 8);
let n = 0;
const freshSchema = (): string => `audit_test_${run}_${++n}`;

const admin = new pg.Client({ connectionString: url });
beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
});

async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

auditStoreContract('PostgreSQL', async (auditKey) => {
  const schema = freshSchema();
  const store = new PgAuditStore({ connectionString: url, schema, poolSize: 10, auditKey });
  return {
    store,
    connectionString: url,
    schema,
    cleanup: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
});

const execFileP = promisify(execFile);

/** Runs SQL through the real psql binary, in the store's schema. */
async function psql(schema: string, sql: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP('psql', [url, '-X', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      env: { ...process.env, PGOPTIONS: `-c search_path=${schema}` },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('PgAuditStore on PostgreSQL beyond the contract', () => {
  it('acceptance: psql cannot edit the log, and an edit made behind the trigger fails `audit verify` naming the record', async () => {
    const schema = freshSchema();
    const store = new PgAuditStore({ connectionString: url, schema });
    try {
      await store.migrate();
      const records = [];
      for (let i = 1; i <= 3; i++) records.push(await store.append(note(i, { proposal_id: 'p-1' })));

      const refused = await psql(schema, `UPDATE audit_records SET payload = '{"i": 42}' WHERE seq = 2`);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('audit_records is append-only');

      const edited = await psql(
        schema,
        `BEGIN;
         ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only;
         UPDATE audit_records SET payload = '{"i": 42}' WHERE seq = 2;
         ALTER TABLE audit_records ENABLE ALWAYS TRIGGER audit_records_append_only;
         COMMIT;`,
      );
      expect(edited).toMatchObject({ code: 0 });

      const lines: string[] = [];
      expect(await auditVerify(store, (l) => lines.push(l))).toBe(1);
      expect(lines.join('\n')).toContain('seq 2');
      expect(lines.join('\n')).toContain(records[1]!.id);
      expect(lines.join('\n')).toContain('hash mismatch');
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });

  it('migrates safely when two processes start at once (the advisory lock, not the in-process queue)', async () => {
    const schema = freshSchema();
    // Different connection strings, as two processes would have: the in-process queue keys on it.
    const stores = ['a', 'b', 'c'].map(
      (app) => new PgAuditStore({ connectionString: `${url}${url.includes('?') ? '&' : '?'}application_name=${app}`, schema, poolSize: 1 }),
    );
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      await stores[0]!.append(note(1));
      expect(await stores[2]!.verify()).toMatchObject({ valid: true, records: 1 });
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.pgmigrations`);
      // Each migration applied exactly once, however many processes raced to apply it.
      const files = readdirSync(new URL('../../migrations/', import.meta.url)).filter((f) => f.endsWith('.sql'));
      expect(rows).toEqual([{ n: files.length }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it('reports an unreachable database as a retryable audit_unavailable error', async () => {
    const store = new PgAuditStore({ connectionString: 'postgres://postgres@127.0.0.1:1/test', schema: freshSchema(), poolSize: 1 });
    try {
      for (const call of [() => store.append(note(1)), () => store.verify(), () => store.migrate()]) {
        const err = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(GovernorError);
        expect(err).toMatchObject({ code: 'audit_unavailable', retryable: true });
      }
    } finally {
      await store.close();
    }
  });

  it('reports a schema that was never migrated as a terminal error', async () => {
    const store = new PgAuditStore({ connectionString: url, schema: freshSchema(), poolSize: 1 });
    try {
      await expect(store.verify()).rejects.toMatchObject({ code: 'audit_unavailable', retryable: false, message: expect.stringMatching(/no audit log in schema .*governor_demo/) });
    } finally {
      await store.close();
    }
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => new PgAuditStore({ connectionString: url, schema: 'x"; DROP TABLE y; --' })).toThrow(GovernorError);
  });
});

/** Applies the migrations that come before `before` (a file name prefix) to a fresh schema, as an older Governor left it. */
async function migratedBefore(client: pg.Client, schema: string, before: string): Promise<void> {
  const { runner } = await import('node-pg-migrate');
  const dir = new URL('../../migrations/', import.meta.url);
  const count = readdirSync(dir).filter((f) => f.endsWith('.sql') && f < before).length;
  await runner({
    dbClient: client, dir: dir.pathname, ignorePattern: '(?!.*\\.sql$).*',
    direction: 'up', count, schema, createSchema: true, migrationsTable: 'pgmigrations', singleTransaction: true, noLock: true,
    log: () => {},
  });
  await client.query('RESET search_path');
}

describe('migration 0004 (open_grants) on a log that already holds grants', () => {
  it('backfills the grants without an execution result, so the first decision after the upgrade sees what is in flight', async () => {
    const schema = freshSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // The log as it stood before 0004, records written by an older store.
      await migratedBefore(client, schema, '1760000000004');
      const row = (seq: number, kind: string, payload: object, proposal: string | null) =>
        client.query(
          `INSERT INTO ${schema}.audit_records (seq, id, kind, actor, at, proposal_id, tenant, payload, prev_hash, hash)
           VALUES ($1, $2, $3, 'test', $4, $5, 'acme', $6, $7, $8)`,
          [seq, randomUUID(), kind, new Date(Date.UTC(2026, 10, 24, 10, 0, seq)).toISOString(), proposal, JSON.stringify(payload),
            seq.toString(16).padStart(64, '0'), (seq + 1000).toString(16).padStart(64, 'a')],
        );
      await row(1, 'grant', { grant: { id: 'g-done' }, target: 'acme-prod/Deployment/a' }, 'p-1');
      await row(2, 'grant', { grant: { id: 'g-open' }, target: 'acme-prod/Deployment/b' }, 'p-2');
      await row(3, 'execution_result', { grant_id: 'g-done', result: { tool: 'scale_deployment', status: 'succeeded', args: {} } }, 'p-1');
    } finally {
      await client.end();
    }
    const store = new PgAuditStore({ connectionString: url, schema, poolSize: 1 });
    try {
      await store.migrate();
      const since = '2026-01-01T00:00:00.000Z';
      const ctx = await store.decisionContext({ proposal_id: 'p-3', tenant: 'acme', grants_since: since, results_since: since, target: { namespace: 'acme-prod', deployment: 'b' }, results_limit: 1 });
      expect(ctx.inFlight).toEqual([
        { id: 'g-open', target: 'acme-prod/Deployment/b', proposal_id: 'p-2' },
      ]);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });
});

describe('migration 0006 (seals) on a log written before sealing', () => {
  it('keeps the old records as they are, reported as unsealed rather than forged, and seals every record after it', async () => {
    const schema = freshSchema();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    let prev = GENESIS_HASH;
    try {
      // The log as it stood before 0006, three records written by an older store.
      await migratedBefore(client, schema, '1760000000006');
      for (let seq = 1; seq <= 3; seq++) {
        const content: ChainContent = {
          seq, id: randomUUID(), kind: 'note', actor: 'test', at: new Date(Date.UTC(2026, 10, 24, 10, 0, seq)).toISOString(),
          incident_id: null, proposal_id: null, tenant: null, payload: { seq },
        };
        const hash = chainHash(prev, content);
        await client.query(
          `INSERT INTO ${schema}.audit_records (seq, id, kind, actor, at, payload, prev_hash, hash) VALUES ($1, $2, 'note', 'test', $3, $4, $5, $6)`,
          [seq, content.id, content.at, JSON.stringify(content.payload), prev, hash],
        );
        prev = hash;
      }
    } finally {
      await client.end();
    }
    const key = generateAuditKey();
    const store = new PgAuditStore({ connectionString: url, schema, poolSize: 1, auditKey: key });
    try {
      // Verifying never migrates; it says what to do.
      await expect(store.verify()).rejects.toThrow(/predates sealing \(migration 1760000000006\): start Governor once against it to migrate, then verify/);
      await store.migrate();
      const next = await store.append(note(4));
      expect(next).toMatchObject({ seq: 4, prev_hash: prev, seal: expect.any(String) });
      expect(await store.verify()).toEqual({ valid: true, records: 4, head: { seq: 4, hash: next.hash }, seals: { key_id: key.keyId, sealed: 1, unsealed: 3 } });
      expect((await store.list()).map((r) => r.seal === undefined)).toEqual([true, true, true, false]);
    } finally {
      await store.close();
      await dropSchema(schema);
    }
  });
});
