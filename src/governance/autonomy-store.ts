// Where autonomy changes live: PostgreSQL is the source of truth for every agent's level, so a
// process that starts, or missed a broadcast, arrives at the same levels as every other. Append-only
// (the database refuses UPDATE and DELETE, migrations/1760000000003_autonomy.sql); epochs are handed
// out under a lock so that they commit in order, and "everything after epoch N" never skips one.
// Two implementations, one contract (test/governance/autonomy-store.contract.ts): over `pg` (a real
// server or PGlite served over the wire protocol, with one connection) and in memory.
// The table comes from the migrations that PgAuditStore.migrate() applies to the same schema; this
// store never migrates, never sets anything session-wide, and never needs a second connection while
// it holds a transaction.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { inTransaction } from '../core/pg-transaction.ts';
import type { AgentName } from '../contracts/events.ts';
import type { Phase } from '../config.ts';
import { GovernorError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { AutonomyChange, AutonomyChangeKind, Level } from './autonomy.ts';

export type NewAutonomyChange = Omit<AutonomyChange, 'epoch'>;

export interface AutonomyStore {
  /** Appends a change; returns it with its epoch. */
  append(change: NewAutonomyChange): Promise<AutonomyChange>;
  /** Changes after `afterEpoch` (all by default), in epoch order. */
  list(afterEpoch?: number): Promise<AutonomyChange[]>;
  close(): Promise<void>;
}

export class MemoryAutonomyStore implements AutonomyStore {
  private readonly changes: AutonomyChange[] = [];

  async append(change: NewAutonomyChange): Promise<AutonomyChange> {
    const stored = { ...change, epoch: this.changes.length + 1 };
    this.changes.push(stored);
    return { ...stored };
  }

  async list(afterEpoch = 0): Promise<AutonomyChange[]> {
    return this.changes.filter((c) => c.epoch > afterEpoch).map((c) => ({ ...c }));
  }

  async close(): Promise<void> {}
}

export interface PgAutonomyStoreOptions {
  connectionString: string;
  /** The schema PgAuditStore migrated (the table is created by its migrations). */
  schema?: string;
  /** Use 1 against embedded PGlite: its connections share one session. */
  poolSize?: number;
  logger?: Logger;
}

interface ChangeRow {
  id: string;
  at: string;
  agent: string | null;
  kind: string;
  level: number | null;
  phase: string | null;
  actor: string;
  reason: string | null;
}

const APPEND_LOCK = 0x61757431; // 'aut1'

export class PgAutonomyStore implements AutonomyStore {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly schemaKey: number;
  private readonly schema: string;
  private closed = false;

  constructor(opts: PgAutonomyStoreOptions) {
    this.schema = opts.schema ?? 'governor';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) {
      throw new GovernorError('config_invalid', `autonomy schema '${this.schema}' must be a lower-case identifier (a-z, 0-9, _)`);
    }
    this.schemaKey = createHash('sha256').update(this.schema).digest().readInt32BE(0);
    // Schema-qualified, never a search_path: PGlite's connections share one session.
    this.table = `${pg.escapeIdentifier(this.schema)}.autonomy_changes`;
    const logger = opts.logger ?? silentLogger();
    this.pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.poolSize ?? 4, connectionTimeoutMillis: 10_000 });
    this.pool.on('error', (err) => logger.warn({ err: err.message, schema: this.schema }, 'autonomy store: idle PostgreSQL connection failed'));
  }

  append(change: NewAutonomyChange): Promise<AutonomyChange> {
    return this.guard('append', async () => {
      return inTransaction(this.pool, async (client) => {
        // Held to commit: the next writer's id is drawn after ours is visible, so ids commit in order.
        await client.query('SELECT pg_advisory_xact_lock($1, $2)', [APPEND_LOCK, this.schemaKey]);
        const { rows } = await client.query<ChangeRow>(
          `INSERT INTO ${this.table} (at, agent, kind, level, phase, actor, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id, at, agent, kind, level, phase, actor, reason`,
          [change.at, change.agent, change.kind, change.level, change.phase, change.actor, change.reason],
        );
        return toChange(rows[0]!);
      });
    });
  }

  list(afterEpoch = 0): Promise<AutonomyChange[]> {
    return this.guard('list', async () => {
      const { rows } = await this.pool.query<ChangeRow>(
        `SELECT id, at, agent, kind, level, phase, actor, reason FROM ${this.table} WHERE id > $1 ORDER BY id`,
        [afterEpoch],
      );
      return rows.map(toChange);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new GovernorError('audit_unavailable', `autonomy store is closed (${op})`);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof GovernorError) throw err;
      const e = err as { code?: unknown; message?: unknown };
      const code = typeof e?.code === 'string' ? e.code : '';
      const message = typeof e?.message === 'string' ? e.message : String(err);
      // A missing table means the schema was never migrated: trying again will not help.
      const terminal = code === '42P01' || code === '23514' || code === '22P02' || code.startsWith('P0');
      throw new GovernorError('audit_unavailable', `autonomy store ${op} failed in schema '${this.schema}': ${message}`, {
        retryable: !terminal,
        cause: err,
        ...(code ? { details: { sqlstate: code } } : {}),
      });
    }
  }
}

function toChange(r: ChangeRow): AutonomyChange {
  return {
    epoch: Number(r.id),
    at: r.at,
    agent: r.agent as AgentName | null,
    kind: r.kind as AutonomyChangeKind,
    level: r.level === null ? null : (Number(r.level) as Level),
    phase: r.phase as Phase | null,
    actor: r.actor,
    reason: r.reason,
  };
}
