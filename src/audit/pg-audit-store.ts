// The AuditStore over PostgreSQL, through `pg`: the same code serves a real server and embedded
// PGlite (src/audit/embedded-postgres.ts). Every record is chained to the one before it by a
// SHA-256 hash, under a lock, so the chain stays linear however many writers there are, and sealed
// with the Governor audit key (src/audit/audit-key.ts) as it is prepared, so that a record appended
// by anyone else shows. It must never send the audit key's private half to the database.
// It must never update or delete an audit record or an execution claim (the database refuses it
// anyway), never report a write that did not commit, never leave anything set session-wide, and
// never need a second connection while it holds a transaction open: against PGlite the pool has
// exactly one connection, and all connections share one session.
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { checkout, inTransaction } from '../core/pg-transaction.ts';
import { runner } from 'node-pg-migrate';
import { hasPrivateHalf, sealHolds, sealOf, type AuditKey, type AuditPublicKey } from './audit-key.ts';
import {
  GENESIS_HASH,
  type AuditFilter,
  type AuditReader,
  type AuditStore,
  type PendingVerification,
  type ChainPoint,
  type ChainVerification,
  type DecisionContext,
  type DecisionContextQuery,
  type OutboxEntry,
  type OutboxMessage,
} from './audit-store.ts';
import type { GovernorEvent } from '../contracts/events.ts';
import { VerificationPlan, checkRecord, type AuditEntry, type AuditInput, type AuditRecord } from './records.ts';
import { canonicalJson, sha256Hex } from '../core/canonical-json.ts';
import { GovernorError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { silentLogger, type Logger } from '../core/logger.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));
const MIGRATIONS_TABLE = 'pgmigrations';
/** Rows per page when verifying: memory stays flat however long the log grows. */
const VERIFY_PAGE = 1000;

// First key of the two-key advisory locks; the second is derived from the schema, so stores in
// different schemas of one database never wait for each other.
const CHAIN_LOCK = 0x61756431; // 'aud1'
const MIGRATE_LOCK = 0x61756432; // 'aud2'

// Migrations in flight in this process, by database and schema. The advisory lock serialises
// processes on a real server, but PGlite's connections share one session, where an advisory lock
// never blocks: two stores migrating the embedded database at once must queue here instead.
const migrating = new Map<string, Promise<void>>();

/** What a record's hash covers: every stored column except prev_hash (chained separately) and recorded_at. */
export interface ChainContent {
  seq: number;
  id: string;
  kind: string;
  actor: string;
  at: string;
  incident_id: string | null;
  proposal_id: string | null;
  tenant: string | null;
  payload: Record<string, unknown>;
}

/**
 * hash = sha256(prev_hash + canonical JSON of the content). Absent optional fields are `null`, both
 * when appending and when recomputing from the row, so the two always agree.
 */
export function chainHash(prevHash: string, content: ChainContent): string {
  return sha256Hex(prevHash + canonicalJson(content));
}

export interface PgAuditStoreOptions {
  connectionString: string;
  /** Everything lives in this schema (created if missing), so runs and test files can share a database. */
  schema?: string;
  /** Use 1 against embedded PGlite: its connections share one session. */
  poolSize?: number;
  logger?: Logger;
  /**
   * The Governor audit key. With its private half every record is sealed as it is prepared and
   * `verify` checks seals; with the public half alone the store checks seals and refuses to write.
   * Absent: records go unsealed and seals are not checked (tests of layers above the log).
   */
  auditKey?: AuditKey | AuditPublicKey;
}

interface RecordRow {
  seq: string;
  id: string;
  kind: string;
  actor: string;
  at: string;
  incident_id: string | null;
  proposal_id: string | null;
  tenant: string | null;
  payload: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  seal: string | null;
}

const RECORD_COLUMNS = 'seq, id::text AS id, kind, actor, at, incident_id, proposal_id, tenant, payload, prev_hash, hash, seal';

export class PgAuditStore implements AuditStore {
  private readonly pool: pg.Pool;
  private readonly connectionString: string;
  private readonly schema: string;
  private readonly schemaKey: number;
  private readonly logger: Logger;
  private readonly auditKey: AuditKey | AuditPublicKey | undefined;
  private readonly t: Tables;
  private closed = false;
  private readonly queue: PendingAppend[] = [];
  /** The chain's last record as this store wrote it; unknown after a failure or before the first write. */
  private tail: Tail | undefined;
  private writing = false;

  constructor(opts: PgAuditStoreOptions) {
    this.connectionString = opts.connectionString;
    this.schema = opts.schema ?? 'governor';
    // node-pg-migrate quotes schema names without escaping; keep them to plain identifiers.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) {
      throw new GovernorError('config_invalid', `audit schema '${this.schema}' must be a lower-case identifier (a-z, 0-9, _)`);
    }
    this.schemaKey = createHash('sha256').update(this.schema).digest().readInt32BE(0);
    this.logger = opts.logger ?? silentLogger();
    this.auditKey = opts.auditKey;
    const s = pg.escapeIdentifier(this.schema);
    // Fully qualified names instead of a per-connection search_path: PGlite connections share one
    // session, so a search_path set by one store would leak into every other.
    this.t = {
      records: `${s}.audit_records`,
      outbox: `${s}.outbox`,
      claims: `${s}.execution_claims`,
      openGrants: `${s}.open_grants`,
      votes: `${s}.approval_votes`,
      outcomes: `${s}.approval_outcomes`,
      pendingApprovals: `${s}.pending_approvals`,
      pendingVerifications: `${s}.pending_verifications`,
    };
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client losing its server emits here; unhandled, it would crash the process.
    this.pool.on('error', (err) => {
      this.logger.warn({ err: err.message, schema: this.schema }, 'audit store: idle PostgreSQL connection failed');
    });
  }

  async migrate(): Promise<void> {
    const key = `${this.connectionString}\u0000${this.schema}`;
    const mine = (migrating.get(key) ?? Promise.resolve()).then(() => this.migrateNow());
    const tail = mine.catch(() => undefined);
    migrating.set(key, tail);
    try {
      await mine;
    } finally {
      if (migrating.get(key) === tail) migrating.delete(key);
    }
  }

  private async migrateNow(): Promise<void> {
    await this.guard('migrate', async () => {
      const { client, release } = await checkout(this.pool);
      let broken: Error | undefined;
      try {
        // Blocking, unlike node-pg-migrate's own try-lock: a second process waits, then finds
        // nothing left to run, instead of failing with "another migration is already running".
        await client.query('SELECT pg_advisory_lock($1, $2)', [MIGRATE_LOCK, this.schemaKey]);
        try {
          const applied = await runner({
            dbClient: client,
            dir: MIGRATIONS_DIR,
            ignorePattern: '(?!.*\\.sql$).*',
            direction: 'up',
            schema: this.schema,
            createSchema: true,
            migrationsTable: MIGRATIONS_TABLE,
            checkOrder: true,
            singleTransaction: true,
            noLock: true,
            logger: {
              debug: (msg) => this.logger.debug({ schema: this.schema }, msg),
              info: (msg) => this.logger.debug({ schema: this.schema }, msg),
              warn: (msg) => this.logger.warn({ schema: this.schema }, msg),
              error: (msg) => this.logger.error({ schema: this.schema }, msg),
            },
          });
          if (applied.length > 0) {
            this.logger.info({ schema: this.schema, migrations: applied.map((m) => m.name) }, 'audit store: migrations applied');
          }
        } finally {
          // The runner set search_path on this pooled connection; on PGlite that is everyone's session.
          await client.query('RESET search_path');
          await client.query('SELECT pg_advisory_unlock($1, $2)', [MIGRATE_LOCK, this.schemaKey]);
        }
      } catch (err) {
        broken = err instanceof Error ? err : new Error(String(err));
        throw err;
      } finally {
        // A connection that failed mid-migration may still hold the lock or a transaction: drop it.
        release(broken);
      }
    });
  }

  append(input: AuditInput): Promise<AuditRecord> {
    return this.guard('append', () => this.enqueue(input, undefined));
  }

  appendWithOutbox(input: AuditInput, message: OutboxMessage): Promise<AuditRecord> {
    return this.guard('appendWithOutbox', () => this.enqueue(input, message));
  }

  appendAll(entries: readonly { input: AuditInput; message?: OutboxMessage }[]): Promise<AuditRecord[]> {
    return this.guard('appendAll', () => this.enqueueUnit(entries.map((e) => ({ input: e.input, message: e.message }))));
  }

  /**
   * Group commit. Every commit waits for the WAL to reach disk (about 3 ms here), and the chain
   * lock makes appends take turns, so one transaction per record caps the log at a few hundred
   * records a second. Appends that arrive while a transaction is open wait and go together into
   * the next one: one lock, one read of the chain's tail, one fsync for the whole batch. If a batch
   * fails, its appends are retried one by one, so a bad record fails alone.
   */
  private async enqueue(input: AuditInput, message: OutboxMessage | undefined): Promise<AuditRecord> {
    const [record] = await this.enqueueUnit([{ input, message }]);
    return record!;
  }

  /** Queues records that must land together, consecutively, in one transaction. */
  private enqueueUnit(entries: readonly { input: AuditInput; message: OutboxMessage | undefined }[]): Promise<AuditRecord[]> {
    if (this.auditKey && !hasPrivateHalf(this.auditKey)) {
      // Unsealed records after sealed ones read as forgeries: a verifying store never writes.
      return Promise.reject(new GovernorError('internal', `this audit store holds only the audit public key (${this.auditKey.keyId}): it verifies, it cannot write`));
    }
    const items = entries.map((e) => checked(e.input, e.message));
    return new Promise<AuditRecord[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.writing) void this.drainQueue();
    });
  }

  appendChecked<T>(plan: (read: AuditReader) => Promise<{ entries: readonly AuditEntry[]; result: T }>): Promise<{ records: AuditRecord[]; result: T }> {
    return this.guard('appendChecked', async () => {
      let result: T | undefined;
      const records = await new Promise<AuditRecord[]>((resolve, reject) => {
        this.queue.push({
          items: [],
          plan: async (read) => {
            const planned = await plan(read);
            result = planned.result;
            return planned.entries.map((e) => checked(e.input, e.message));
          },
          resolve,
          reject,
        });
        if (!this.writing) void this.drainQueue();
      });
      return { records, result: result as T };
    });
  }

  private async drainQueue(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        // A unit with a plan reads under the chain lock before it knows what to write: it goes alone.
        const planned = this.queue[0]!.plan ? this.queue.shift()! : undefined;
        if (planned) {
          try {
            planned.resolve(await this.appendPlanned(planned));
          } catch (err) {
            planned.reject(err);
          }
          continue;
        }
        const end = this.queue.findIndex((u) => u.plan);
        const batch = this.queue.splice(0, Math.min(MAX_BATCH, end === -1 ? this.queue.length : end));
        try {
          const records = await this.appendBatch(batch);
          batch.forEach((unit, i) => unit.resolve(records[i]!));
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          for (const unit of batch) {
            try {
              const [records] = await this.appendBatch([unit]);
              unit.resolve(records!);
            } catch (one) {
              unit.reject(one);
            }
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * Writes one batch at the end of the chain. When this store wrote the chain's last record, it
   * knows the tail and the whole transaction is one round trip, guarded: with the chain lock held,
   * it inserts only if the log still ends where this store left it (another writer may have
   * appended since), and otherwise nothing is written and the tail is read first, as on a cold start.
   */
  private async appendBatch(batch: readonly PendingAppend[]): Promise<AuditRecord[][]> {
    const tail = this.tail;
    if (tail) {
      const prepared = this.prepare(batch, tail);
      const written = await this.writeKnownTail(prepared, tail);
      if (written) return prepared.out;
    }
    // The lock is its own statement, before the read: under READ COMMITTED the next statement's
    // snapshot is taken after the lock is granted, so it sees the record the previous lock holder
    // committed. Both go with BEGIN in one round trip (the values are integers of our own).
    const opening = `SELECT pg_advisory_xact_lock(${CHAIN_LOCK}, ${this.schemaKey}); SELECT seq, hash FROM ${this.t.records} ORDER BY seq DESC LIMIT 1`;
    try {
      const prepared = await inTransaction(
        this.pool,
        async (c, opened) => {
          const row = (opened[1]?.rows ?? [])[0] as { seq: string; hash: string } | undefined;
          const prepared = this.prepare(batch, row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH });
          await c.query(INSERT_RECORDS(this.t, prepared.derivedParts), prepared.params);
          return prepared;
        },
        { opening },
      );
      this.tail = prepared.tail;
      return prepared.out;
    } catch (err) {
      this.tail = undefined;
      throw err;
    }
  }

  /**
   * Runs the unit's plan inside the transaction, holding the chain lock (so every other append of
   * every process waits), then appends what it planned. The plan reads through the transaction.
   */
  private async appendPlanned(unit: PendingAppend): Promise<AuditRecord[]> {
    const opening = `SELECT pg_advisory_xact_lock(${CHAIN_LOCK}, ${this.schemaKey}); SELECT seq, hash FROM ${this.t.records} ORDER BY seq DESC LIMIT 1`;
    try {
      const prepared = await inTransaction(
        this.pool,
        async (c, opened) => {
          const items = await unit.plan!({ list: (filter) => this.listWith(c, filter) });
          if (items.length === 0) return undefined;
          const row = (opened[1]?.rows ?? [])[0] as { seq: string; hash: string } | undefined;
          const prepared = this.prepare([{ ...unit, items }], row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH });
          await c.query(INSERT_RECORDS(this.t, prepared.derivedParts), prepared.params);
          return prepared;
        },
        { opening },
      );
      if (!prepared) return [];
      this.tail = prepared.tail;
      return prepared.out[0]!;
    } catch (err) {
      this.tail = undefined;
      throw err;
    }
  }

  /**
   * The batch's records linked to `tail` and sealed, and the JSON documents the insert unpacks.
   * Sealing here, in memory, keeps group commit at one round trip; a batch that meets a stale tail is
   * prepared (and sealed) again against the real one.
   */
  private prepare(batch: readonly PendingAppend[], tail: Tail): Prepared {
    const key = this.auditKey && hasPrivateHalf(this.auditKey) ? this.auditKey : undefined;
    let seq = tail.seq;
    let prevHash = tail.hash;
    const out: AuditRecord[][] = [];
    const rows: string[] = [];
    const events: string[] = [];
    const opened = new Map<string, OpenGrant>();
    const closed: string[] = [];
    const derived = new DerivedTables();
    for (const unit of batch) {
      const written: AuditRecord[] = [];
      out.push(written);
      for (const { input, message } of unit.items) {
        const content: ChainContent = {
          seq: ++seq,
          id: newId(),
          kind: input.kind,
          actor: input.actor,
          at: input.at,
          incident_id: input.incident_id ?? null,
          proposal_id: input.proposal_id ?? null,
          tenant: input.tenant ?? null,
          payload: input.payload,
        };
        const hash = chainHash(prevHash, content);
        const seal = key ? sealOf(key, hash) : null;
        rows.push(JSON.stringify({ ...content, prev_hash: prevHash, hash, seal }));
        trackGrant(content, opened, closed);
        derived.track(content);
        if (message) events.push(JSON.stringify({ stream: message.stream, event: message.event }));
        written.push(toRecord({ ...content, seq: String(content.seq), prev_hash: prevHash, hash, seal }));
        prevHash = hash;
      }
    }
    const docs: InsertDocs = {
      rows: `[${rows.join(',')}]`,
      events: `[${events.join(',')}]`,
      opened: JSON.stringify([...opened.values()]),
      closed: JSON.stringify(closed),
      derived: derived.json(),
    };
    const derivedParts = derived.parts();
    return {
      out,
      docs,
      derivedParts,
      // $5 only when a derived statement reads it: a parameter no statement uses has no type.
      params: [docs.rows, docs.events, docs.opened, docs.closed, ...(derivedParts.length > 0 ? [docs.derived] : [])],
      count: rows.length,
      tail: { seq, hash: prevHash },
    };
  }

  /**
   * BEGIN, the chain lock, the guarded insert and COMMIT in one simple-protocol round trip (the JSON
   * goes as dollar-quoted literals, so nothing in it is ever read as SQL). False when the log no
   * longer ended at `tail`: nothing was written.
   */
  private async writeKnownTail(prepared: Prepared, tail: Tail): Promise<boolean> {
    const { client, release } = await checkout(this.pool);
    let broken: Error | undefined;
    try {
      const sql =
        `BEGIN; SELECT pg_advisory_xact_lock(${CHAIN_LOCK}, ${this.schemaKey}); ` +
        `${INSERT_RECORDS(this.t, prepared.derivedParts, {
          rows: dollarQuoted(prepared.docs.rows),
          events: dollarQuoted(prepared.docs.events),
          opened: dollarQuoted(prepared.docs.opened),
          closed: dollarQuoted(prepared.docs.closed),
          derived: dollarQuoted(prepared.docs.derived),
          afterSeq: tail.seq,
        })}; COMMIT`;
      const results = (await client.query(sql)) as unknown as pg.QueryResult[];
      const inserted = Number((results[2]?.rows[0] as { n?: string } | undefined)?.n ?? 0);
      if (inserted === prepared.count) {
        this.tail = prepared.tail;
        return true;
      }
      this.tail = undefined;
      return false;
    } catch (err) {
      this.tail = undefined;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      throw err;
    } finally {
      release(broken);
    }
  }

  pendingOutbox(limit: number): Promise<OutboxEntry[]> {
    return this.guard('pendingOutbox', async () => {
      const { rows } = await this.pool.query<{ id: string; stream: string; event: GovernorEvent }>(
        `SELECT id, stream, event FROM ${this.t.outbox} WHERE published_at IS NULL ORDER BY id LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({ outbox_id: Number(r.id), stream: r.stream, event: r.event }));
    });
  }

  markPublished(outboxId: number, busId: string): Promise<void> {
    return this.guard('markPublished', async () => {
      // First publication wins: a republished event (crash between publish and mark) keeps its first bus id.
      await this.pool.query(
        `UPDATE ${this.t.outbox} SET published_at = now(), bus_id = $2 WHERE id = $1 AND published_at IS NULL`,
        [outboxId, busId],
      );
    });
  }

  markPublishedMany(entries: readonly { outbox_id: number; bus_id: string }[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.guard('markPublishedMany', async () => {
      // One statement, one commit for a whole relay batch; first publication still wins.
      await this.pool.query(
        `UPDATE ${this.t.outbox} AS o SET published_at = now(), bus_id = m.bus_id
           FROM unnest($1::bigint[], $2::text[]) AS m(id, bus_id)
          WHERE o.id = m.id AND o.published_at IS NULL`,
        [entries.map((e) => e.outbox_id), entries.map((e) => e.bus_id)],
      );
    });
  }

  claimExecution(claim: { grant_id: string; proposal_id: string; consumer: string; at: string }): Promise<boolean> {
    return this.guard('claimExecution', async () => {
      const res = await this.pool.query(
        `INSERT INTO ${this.t.claims} (grant_id, proposal_id, consumer, at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (grant_id) DO NOTHING`,
        [claim.grant_id, claim.proposal_id, claim.consumer, claim.at],
      );
      return res.rowCount === 1;
    });
  }

  list(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    return this.guard('list', () => this.listWith(this.pool, filter));
  }

  /** Approval requests still waiting whose time ran out at `nowIso`, oldest first. */
  expiredApprovals(nowIso: string, limit = 100): Promise<{ proposal_id: string; tenant: string | null; expires_at: string }[]> {
    return this.guard('expiredApprovals', async () => {
      const { rows } = await this.pool.query<{ proposal_id: string; tenant: string | null; expires_at: string }>(
        `SELECT proposal_id, tenant, expires_at FROM ${this.t.pendingApprovals} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2`,
        [nowIso, limit],
      );
      return rows;
    });
  }

  pendingVerifications(): Promise<PendingVerification[]> {
    return this.guard('pendingVerifications', async () => {
      const { rows } = await this.pool.query<{ proposal_id: string; tenant: string | null; plan: unknown }>(
        `SELECT proposal_id, tenant, plan FROM ${this.t.pendingVerifications} ORDER BY deadline`,
      );
      // Plans were checked against their schema when their execution result was written.
      return rows.map((r) => ({ proposal_id: r.proposal_id, tenant: r.tenant, plan: VerificationPlan.parse(r.plan) }));
    });
  }

  private async listWith(q: pg.Pool | pg.PoolClient, filter: AuditFilter): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const key of ['proposal_id', 'incident_id', 'kind', 'tenant'] as const) {
      const value = filter[key];
      if (value === undefined) continue;
      params.push(value);
      where.push(`${key} = $${params.length}`);
    }
    if (filter.since !== undefined) {
      // `at` holds ISO-8601 UTC strings of one format, so text order is time order.
      params.push(filter.since);
      where.push(`at >= $${params.length}`);
    }
    if (filter.payload_contains !== undefined) {
      params.push(JSON.stringify(filter.payload_contains));
      where.push(`payload @> $${params.length}::jsonb`);
    }
    const order = filter.newest_first ? 'at DESC, seq DESC' : 'seq';
    let limit = '';
    if (filter.limit !== undefined) {
      params.push(filter.limit);
      limit = ` LIMIT $${params.length}`;
    }
    const { rows } = await q.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM ${this.t.records}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}${limit}`,
      params,
    );
    return rows.map(toRecord);
  }

  decisionContext(q: DecisionContextQuery): Promise<DecisionContext> {
    return this.guard('decisionContext', async () => {
      // One statement, each part an index range over only what it needs: a decision costs one round
      // trip of reads, and none of them grows with the log or with the time windows.
      const { rows } = await this.pool.query<RecordRow & { part: 'own' | 'flight' | 'recent' }>({
        // Named: prepared once per connection, so the server does not parse and plan it per decision.
        name: `decision_context:${this.schema}`,
        text: `(SELECT 'own' AS part, ${RECORD_COLUMNS} FROM ${this.t.records} WHERE proposal_id = $1)
         UNION ALL
         (SELECT 'flight', NULL, grant_id, 'grant', NULL, issued_at, NULL, proposal_id, tenant, jsonb_build_object('target', target), NULL, NULL, NULL
            FROM ${this.t.openGrants} WHERE tenant = $2 AND issued_at >= $3)
         UNION ALL
         (SELECT 'recent', ${RECORD_COLUMNS} FROM ${this.t.records}
           WHERE tenant = $2 AND kind = 'execution_result'
             AND payload->'result'->'args'->>'namespace' = $5 AND payload->'result'->'args'->>'deployment' = $6
             AND at >= $4 AND payload->'result'->>'status' = 'succeeded'
           ORDER BY at DESC, seq DESC LIMIT $7)`,
        values: [q.proposal_id, q.tenant, q.grants_since, q.results_since, q.target.namespace, q.target.deployment, q.results_limit],
      });
      const bySeq = (a: AuditRecord, b: AuditRecord) => a.seq - b.seq;
      const own = rows.filter((r) => r.part === 'own').map(toRecord).sort(bySeq);
      const inFlight = rows
        .filter((r) => r.part === 'flight')
        .sort((a, b) => (a.at === b.at ? (a.id < b.id ? -1 : 1) : a.at < b.at ? -1 : 1))
        .map((g) => ({ id: g.id, target: (g.payload['target'] as string | null | undefined) ?? null, proposal_id: g.proposal_id ?? null }));
      const recentResults = rows
        .filter((r) => r.part === 'recent')
        .map(toRecord)
        .sort((a, b) => (a.at === b.at ? b.seq - a.seq : a.at < b.at ? 1 : -1));
      return { own, inFlight, recentResults };
    });
  }

  verify(opts: { hashesAt?: readonly number[] } = {}): Promise<ChainVerification> {
    return this.guard('verify', async () => {
      // Records appended while verifying are left for the next run: the answer is about the log
      // as it stood when verification began.
      const { rows: top } = await this.pool.query<{ max: string | null }>(`SELECT max(seq) AS max FROM ${this.t.records}`);
      const last = Number(top[0]?.max ?? 0);
      const wanted = new Set(opts.hashesAt ?? []);
      const hashesAt: Record<number, string> = {};
      const key = this.auditKey;
      const seals = key ? { key_id: key.keyId, sealed: 0, unsealed: 0 } : undefined;
      /** The first sealed record: from there on, a record without a seal was not written by Governor. */
      let sealedSince: number | undefined;
      let expectedSeq = 1;
      let prevHash = GENESIS_HASH;
      let records = 0;
      let head: ChainPoint | undefined;
      const result = (extra: Partial<ChainVerification> = {}): ChainVerification => ({
        valid: extra.first_bad === undefined,
        records,
        ...extra,
        ...(head ? { head } : {}),
        ...(seals ? { seals } : {}),
        ...(wanted.size > 0 ? { hashes_at: hashesAt } : {}),
      });
      while (expectedSeq <= last) {
        // Keyset pagination: every page is one short query, whatever the offset.
        const { rows } = await this.pool
          .query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM ${this.t.records} WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3`, [expectedSeq, last, VERIFY_PAGE])
          .catch((err: unknown) => {
            // Verifying never migrates (it may run with read rights only): say what to do instead of "column does not exist".
            if ((err as { code?: unknown }).code === '42703') {
              throw new GovernorError('audit_unavailable', `the audit log in schema '${this.schema}' predates sealing (migration 1760000000006): start Governor once against it to migrate, then verify`, { cause: err });
            }
            throw err;
          });
        if (rows.length === 0) break;
        for (const row of rows) {
          const seq = Number(row.seq);
          const bad = (reason: string) => result({ first_bad: { seq, id: row.id, reason } });
          if (seq !== expectedSeq) return bad(`missing record (gap at seq ${expectedSeq})`);
          if (row.prev_hash !== prevHash) return bad('broken link to previous record');
          if (chainHash(row.prev_hash, contentOf(row)) !== row.hash) return bad('hash mismatch');
          if (key && seals) {
            if (row.seal === null) {
              if (sealedSince !== undefined) {
                return bad(`no seal, though records are sealed since seq ${sealedSince}: not written by Governor (a forged append?)`);
              }
              seals.unsealed += 1;
            } else if (!sealHolds(key, row.hash, row.seal)) {
              return bad(`seal does not hold for audit key ${key.keyId}: not sealed by Governor (a forged record?)`);
            } else {
              sealedSince ??= seq;
              seals.sealed += 1;
            }
          }
          records += 1;
          prevHash = row.hash;
          head = { seq, hash: row.hash };
          if (wanted.has(seq)) hashesAt[seq] = row.hash;
          expectedSeq = seq + 1;
        }
      }
      return result();
    });
  }

  head(): Promise<ChainPoint | null> {
    return this.guard('head', async () => {
      const { rows } = await this.pool.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${this.t.records} ORDER BY seq DESC LIMIT 1`);
      const row = rows[0];
      return row ? { seq: Number(row.seq), hash: row.hash } : null;
    });
  }

  hashAt(seq: number): Promise<string | null> {
    return this.guard('hashAt', async () => {
      const { rows } = await this.pool.query<{ hash: string }>(`SELECT hash FROM ${this.t.records} WHERE seq = $1`, [seq]);
      return rows[0]?.hash ?? null;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new GovernorError('audit_unavailable', `audit store is closed (${op})`);
    try {
      return await fn();
    } catch (err) {
      throw toAuditError(op, this.schema, err);
    }
  }
}

type CheckedItem = { input: AuditInput; message: OutboxMessage | undefined };

/** A record checked against its kind's schema and brought into the JSON data model. */
function checked(input: AuditInput, message: OutboxMessage | undefined): CheckedItem {
  const valid = checkRecord(input);
  return { input: { ...valid, payload: normalisePayload(valid.payload) } as AuditInput, message };
}

/**
 * Brings the payload into the JSON data model before hashing (drops `undefined`, turns Dates into
 * strings, NaN into null), so the hash covers exactly what jsonb stores and reads back.
 */
function normalisePayload(payload: Record<string, unknown>): Record<string, unknown> {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new GovernorError('internal', `audit payload is not JSON-serialisable: ${(err as Error).message}`, { cause: err });
  }
  const value: unknown = json === undefined ? undefined : JSON.parse(json);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GovernorError('internal', 'audit payload must be a JSON object');
  }
  return value as Record<string, unknown>;
}

interface Tail {
  seq: number;
  hash: string;
}

interface InsertDocs {
  rows: string;
  events: string;
  /** Grants this batch records, less those it also records a result for; and the grants its results close. */
  opened: string;
  closed: string;
  /** What the batch's records change in the tables derived from them (DerivedTables). */
  derived: string;
}

interface Tables {
  records: string;
  outbox: string;
  claims: string;
  openGrants: string;
  votes: string;
  outcomes: string;
  pendingApprovals: string;
  pendingVerifications: string;
}

interface Prepared {
  out: AuditRecord[][];
  docs: InsertDocs;
  /** The derived tables this batch changes. */
  derivedParts: DerivedPart[];
  /** The documents as the parameters $1..$5 of INSERT_RECORDS. */
  params: string[];
  count: number;
  /** The chain's end once the batch is written. */
  tail: Tail;
}

/**
 * The records and their outbox events in one statement; outbox ids follow the records' order, so
 * the relay publishes a unit's events in sequence. With `afterSeq`, the rows go in only if the log
 * still ends at that seq (checked under the chain lock), and the statement returns how many went in.
 */
function INSERT_RECORDS(t: Tables, derivedParts: readonly DerivedPart[], literal?: InsertDocs & { afterSeq: number }): string {
  const [rows, events, opened, closed, derived] = literal
    ? [literal.rows, literal.events, literal.opened, literal.closed, literal.derived]
    : ['$1', '$2', '$3', '$4', '$5'];
  const guard = literal ? ` WHERE (SELECT coalesce(max(seq), 0) FROM ${t.records}) = ${literal.afterSeq}` : '';
  return `WITH records AS (
         INSERT INTO ${t.records} (seq, id, kind, actor, at, incident_id, proposal_id, tenant, payload, prev_hash, hash, seal)
         SELECT seq, id, kind, actor, at, incident_id, proposal_id, tenant, payload, prev_hash, hash, seal
           FROM json_to_recordset(${rows}::json) AS r(seq bigint, id uuid, kind text, actor text, at text, incident_id text,
                                                 proposal_id text, tenant text, payload jsonb, prev_hash text, hash text, seal text)${guard}
         RETURNING seq
       ), events AS (
         INSERT INTO ${t.outbox} (stream, event)
         SELECT stream, event FROM ROWS FROM (json_to_recordset(${events}::json) AS (stream text, event jsonb)) WITH ORDINALITY AS e(stream, event, n)
          WHERE EXISTS (SELECT 1 FROM records)
          ORDER BY n
       ), opened AS (
         INSERT INTO ${t.openGrants} (grant_id, tenant, target, proposal_id, issued_at)
         SELECT grant_id, tenant, target, proposal_id, issued_at
           FROM json_to_recordset(${opened}::json) AS g(grant_id text, tenant text, target text, proposal_id text, issued_at text)
          WHERE EXISTS (SELECT 1 FROM records)
         ON CONFLICT (grant_id) DO NOTHING
       ), closed AS (
         DELETE FROM ${t.openGrants}
          WHERE grant_id IN (SELECT json_array_elements_text(${closed}::json)) AND EXISTS (SELECT 1 FROM records)
       )${derivedCtes(t, derived, derivedParts)}
       SELECT count(*) AS n FROM records`;
}

interface OpenGrant {
  grant_id: string;
  tenant: string;
  target: string | null;
  proposal_id: string | null;
  issued_at: string;
}

/**
 * Keeps open_grants in step with the records: a grant record opens its grant, an execution result
 * closes the grant it names (within the batch, by not opening it at all: sibling statements of one
 * WITH do not see each other's rows).
 */
function trackGrant(r: ChainContent, opened: Map<string, OpenGrant>, closed: string[]): void {
  if (r.kind === 'grant') {
    const id = (r.payload['grant'] as { id?: unknown } | undefined)?.id;
    if (typeof id === 'string' && r.tenant !== null) {
      const target = r.payload['target'];
      opened.set(id, { grant_id: id, tenant: r.tenant, target: typeof target === 'string' ? target : null, proposal_id: r.proposal_id, issued_at: r.at });
    }
  } else if (r.kind === 'execution_result') {
    const id = r.payload['grant_id'];
    if (typeof id === 'string' && !opened.delete(id)) closed.push(id);
  }
}

/**
 * The statements for the tables derived from the records (DerivedTables), only for the parts this
 * batch changes: most batches change none, and every part left out is JSON PostgreSQL need not parse.
 */
function derivedCtes(t: Tables, doc: string, parts: readonly DerivedPart[]): string {
  const cte: Record<DerivedPart, string> = {
    votes: `votes AS (
         INSERT INTO ${t.votes} (proposal_id, voter, approved, at)
         SELECT proposal_id, voter, approved, at
           FROM json_to_recordset((${doc}::json)->'votes') AS v(proposal_id text, voter text, approved boolean, at text)
          WHERE EXISTS (SELECT 1 FROM records)
       )`,
    outcomes: `outcomes AS (
         INSERT INTO ${t.outcomes} (proposal_id, outcome, at)
         SELECT proposal_id, outcome, at
           FROM json_to_recordset((${doc}::json)->'outcomes') AS o(proposal_id text, outcome text, at text)
          WHERE EXISTS (SELECT 1 FROM records)
       )`,
    requested: `requested AS (
         INSERT INTO ${t.pendingApprovals} (proposal_id, tenant, expires_at)
         SELECT proposal_id, tenant, expires_at
           FROM json_to_recordset((${doc}::json)->'requested') AS q(proposal_id text, tenant text, expires_at text)
          WHERE EXISTS (SELECT 1 FROM records)
         ON CONFLICT (proposal_id) DO NOTHING
       )`,
    settled: `settled AS (
         DELETE FROM ${t.pendingApprovals}
          WHERE proposal_id IN (SELECT json_array_elements_text((${doc}::json)->'settled')) AND EXISTS (SELECT 1 FROM records)
       )`,
    verifying: `verifying AS (
         INSERT INTO ${t.pendingVerifications} (proposal_id, of, tenant, deadline, plan)
         SELECT proposal_id, of, tenant, deadline, plan
           FROM json_to_recordset((${doc}::json)->'verifying') AS v(proposal_id text, of text, tenant text, deadline text, plan jsonb)
          WHERE EXISTS (SELECT 1 FROM records)
         ON CONFLICT (proposal_id, of) DO NOTHING
       )`,
    verified: `verified AS (
         DELETE FROM ${t.pendingVerifications} AS p
          USING json_to_recordset((${doc}::json)->'verified') AS v(proposal_id text, of text)
          WHERE p.proposal_id = v.proposal_id AND p.of = v.of AND EXISTS (SELECT 1 FROM records)
       )`,
  };
  return parts.map((p) => `, ${cte[p]}`).join('');
}

/**
 * What records change in the tables derived from them, in the same statement as the records: a vote
 * per person (the primary key refuses a second), an outcome per proposal (the primary key refuses a
 * second decision), the approval requests still waiting, and the verifications still pending. A
 * failed constraint fails the whole append.
 */
type DerivedPart = 'votes' | 'outcomes' | 'requested' | 'settled' | 'verifying' | 'verified';

class DerivedTables {
  private readonly verifying = new Map<string, { proposal_id: string; of: string; tenant: string | null; deadline: string; plan: unknown }>();
  private readonly verified: { proposal_id: string; of: string }[] = [];
  private readonly votes: { proposal_id: string; voter: string; approved: boolean; at: string }[] = [];
  private readonly outcomes: { proposal_id: string; outcome: string; at: string }[] = [];
  private readonly requested = new Map<string, { proposal_id: string; tenant: string | null; expires_at: string }>();
  private readonly settled: string[] = [];

  track(r: ChainContent): void {
    if (r.proposal_id === null) return;
    const p = r.payload as Record<string, any>;
    if (r.kind === 'approval_requested' && typeof p['requirement']?.expires_at === 'string') {
      this.requested.set(r.proposal_id, { proposal_id: r.proposal_id, tenant: r.tenant, expires_at: p['requirement'].expires_at });
    } else if (r.kind === 'approval') {
      const a = p['approval'] as { approved: boolean; approver: { id: string }; override?: string };
      if (!a.override) this.votes.push({ proposal_id: r.proposal_id, voter: a.approver.id, approved: a.approved, at: r.at });
      if (typeof p['outcome'] === 'string') this.settle(r.proposal_id, p['outcome'], r.at);
    } else if (r.kind === 'approval_expired') {
      this.settle(r.proposal_id, 'expired', r.at);
    } else if (r.kind === 'execution_result' && p['verification'] && p['result']?.status === 'succeeded') {
      const plan = p['verification'] as { deadline: string; of?: string };
      const of = plan.of ?? 'action';
      this.verifying.set(`${r.proposal_id}\u0000${of}`, { proposal_id: r.proposal_id, of, tenant: r.tenant, deadline: plan.deadline, plan });
    } else if (r.kind === 'verification') {
      const of = (p['verification'] as { of?: string }).of ?? 'action';
      if (!this.verifying.delete(`${r.proposal_id}\u0000${of}`)) this.verified.push({ proposal_id: r.proposal_id, of });
    }
  }

  private settle(proposal_id: string, outcome: string, at: string): void {
    this.outcomes.push({ proposal_id, outcome, at });
    // Sibling statements of one WITH do not see each other's rows: a request settled in the same
    // batch is simply never opened.
    if (!this.requested.delete(proposal_id)) this.settled.push(proposal_id);
  }

  /** The parts this batch changes. */
  parts(): DerivedPart[] {
    const sizes: Record<DerivedPart, number> = {
      votes: this.votes.length,
      outcomes: this.outcomes.length,
      requested: this.requested.size,
      settled: this.settled.length,
      verifying: this.verifying.size,
      verified: this.verified.length,
    };
    return (Object.keys(sizes) as DerivedPart[]).filter((k) => sizes[k] > 0);
  }

  json(): string {
    return JSON.stringify({
      votes: this.votes,
      outcomes: this.outcomes,
      requested: [...this.requested.values()],
      settled: this.settled,
      verifying: [...this.verifying.values()],
      verified: this.verified,
    });
  }
}

/** A dollar-quoted literal whose tag does not occur in the text, so the text can never end it. */
function dollarQuoted(text: string): string {
  let tag: string;
  do tag = `$j${randomBytes(6).toString('hex')}$`;
  while (text.includes(tag));
  return `${tag}${text}${tag}`;
}

/** Appends that go into one transaction at most: bounds a batch's lock hold and its retry cost. */
const MAX_BATCH = 128;

/** Records that must land together (one caller's unit), and who is waiting for them. */
interface PendingAppend {
  items: CheckedItem[];
  /** Reads under the chain lock, then says what to append (appendChecked). */
  plan?: (read: AuditReader) => Promise<CheckedItem[]>;
  resolve: (r: AuditRecord[]) => void;
  reject: (err: unknown) => void;
}

function contentOf(row: RecordRow): ChainContent {
  return {
    seq: Number(row.seq),
    id: row.id,
    kind: row.kind,
    actor: row.actor,
    at: row.at,
    incident_id: row.incident_id,
    proposal_id: row.proposal_id,
    tenant: row.tenant,
    payload: row.payload,
  };
}

/** The one place a stored row becomes a typed record: every payload was checked against its kind when written. */
function toRecord(row: RecordRow): AuditRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    kind: row.kind,
    actor: row.actor,
    at: row.at,
    ...(row.incident_id !== null ? { incident_id: row.incident_id } : {}),
    ...(row.proposal_id !== null ? { proposal_id: row.proposal_id } : {}),
    ...(row.tenant !== null ? { tenant: row.tenant } : {}),
    payload: row.payload,
    prev_hash: row.prev_hash,
    hash: row.hash,
    ...(row.seal !== null ? { seal: row.seal } : {}),
  } as AuditRecord;
}

const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const TRANSIENT_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /connection error/i, /not queryable/i];

/**
 * Connection trouble, server shutdown, lock and serialisation conflicts: trying again can help.
 * Anything else (a missing table, a payload jsonb refuses) will fail the same way next time.
 */
function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (TRANSIENT_NODE_CODES.has(code)) return true;
  if (/^(08|53|57P)/.test(code) || code === '40001' || code === '40P01' || code === '55P03') return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return code === '' && TRANSIENT_MESSAGES.some((re) => re.test(message));
}

function toAuditError(op: string, schema: string, err: unknown): GovernorError {
  if (err instanceof GovernorError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const sqlstate = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  if (sqlstate === '42P01') {
    // A reader pointed at a schema nothing was ever recorded in: say where records usually are.
    return new GovernorError('audit_unavailable', `no audit log in schema '${schema}': nothing was recorded there (a demo's records are in 'governor_demo': --schema governor_demo)`, {
      cause: err,
      details: { op, schema, sqlstate },
    });
  }
  const retryable = isTransient(err);
  return new GovernorError(
    'audit_unavailable',
    retryable ? `audit store unreachable during ${op}: ${message}` : `audit ${op} failed: ${message}`,
    { retryable, cause: err, details: { op, schema, ...(sqlstate ? { sqlstate } : {}) } },
  );
}
