// The autonomy store contract against memory, a real PostgreSQL and embedded PGlite (one
// connection), plus what only the database enforces: append-only, valid kinds.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/audit/embedded-postgres.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { MemoryAutonomyStore, PgAutonomyStore } from '../../src/governance/autonomy-store.ts';
import { autonomyStoreContract } from './autonomy-store.contract.ts';
import { PG_URL } from './helpers.ts';

async function pgStore(url: string, poolSize: number) {
  const schema = `aut_store_${randomUUID().slice(0, 8)}`;
  const audit = new PgAuditStore({ connectionString: url, schema, poolSize });
  await audit.migrate();
  await audit.close();
  const store = new PgAutonomyStore({ connectionString: url, schema, poolSize });
  return {
    store,
    schema,
    cleanup: async () => {
      await store.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}

autonomyStoreContract('memory', async () => ({ store: new MemoryAutonomyStore(), cleanup: async () => {} }));
autonomyStoreContract('PostgreSQL', () => pgStore(PG_URL, 4));

let embedded: EmbeddedPostgres;
beforeAll(async () => {
  embedded = await startEmbeddedPostgres({});
});
afterAll(async () => {
  await embedded?.close();
});
autonomyStoreContract('embedded PGlite, one connection', () => pgStore(embedded.connectionString, 1));

describe('the autonomy table in PostgreSQL', () => {
  it('refuses UPDATE, DELETE and TRUNCATE, and changes of an unknown kind or level', async () => {
    const { store, schema, cleanup } = await pgStore(PG_URL, 2);
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await store.append({ at: '2026-11-24T10:00:00.000Z', agent: null, kind: 'pause', level: null, phase: null, actor: 'U1', reason: null });
      const t = `"${schema}".autonomy_changes`;
      await expect(c.query(`UPDATE ${t} SET actor = 'someone else'`)).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(c.query(`DELETE FROM ${t}`)).rejects.toThrow(/append-only: DELETE refused/);
      await expect(c.query(`TRUNCATE ${t}`)).rejects.toThrow(/append-only: TRUNCATE refused/);
      await expect(store.append({ at: 'x', agent: 'elastik', kind: 'level', level: 4 as 3, phase: null, actor: 'U1', reason: null })).rejects.toMatchObject({ code: 'audit_unavailable', retryable: false });
      await expect(store.append({ at: 'x', agent: null, kind: 'level', level: 2, phase: null, actor: 'U1', reason: null })).rejects.toMatchObject({ retryable: false });
      expect(await store.list()).toHaveLength(1);
    } finally {
      await c.end();
      await cleanup();
    }
  });
});
