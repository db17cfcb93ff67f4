// The audit contract against embedded PGlite served over the wire protocol: the default when
// DATABASE_URL is unset. The store gets one pooled connection, as in production, because every
// connection to PGlite shares one session.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/audit/embedded-postgres.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { auditStoreContract, note } from './audit-store.contract.ts';

let embedded: EmbeddedPostgres;
beforeAll(async () => {
  embedded = await startEmbeddedPostgres({});
});
afterAll(async () => {
  await embedded?.close();
});

const run = randomUUID().slice(0, 8);
let n = 0;

auditStoreContract('embedded PGlite', async (auditKey) => {
  const schema = `audit_test_${run}_${++n}`;
  const store = new PgAuditStore({ connectionString: embedded.connectionString, schema, poolSize: 1, auditKey });
  return {
    store,
    connectionString: embedded.connectionString,
    schema,
    cleanup: async () => {
      await store.close();
      const admin = new pg.Client({ connectionString: embedded.connectionString });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
});

describe('embedded PostgreSQL beyond the contract', () => {
  it('listens on a free loopback port when asked for port 0', () => {
    expect(embedded.connectionString).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(embedded.connectionString).not.toMatch(/:0\//);
  });

  it('keeps the audit log in its data directory across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'governor-pglite-'));
    try {
      let db = await startEmbeddedPostgres({ dataDir });
      let store = new PgAuditStore({ connectionString: db.connectionString, poolSize: 1 });
      await store.migrate();
      const first = await store.append(note(1));
      await store.close();
      await db.close();

      db = await startEmbeddedPostgres({ dataDir });
      store = new PgAuditStore({ connectionString: db.connectionString, poolSize: 1 });
      try {
        await store.migrate();
        await store.append(note(2));
        expect(await store.verify()).toMatchObject({ valid: true, records: 2 });
        expect((await store.list())[0]).toEqual(first);
      } finally {
        await store.close();
        await db.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
