// Where the cockpit projector remembers which Slack message shows what (migrations/
// 1760000000008_slack-cockpit.sql): under a key the records determine (`parent:<incident>`,
// `card:<proposal>`, `notice:<record>`, `chart:<incident>:open`), the message's channel and ts and
// the digest of the content last shown. A key is claimed before its message is posted — once, across
// every process — so a redelivered event, a restart or a second projector never posts it twice.
// Two implementations, one contract (test/slack/cockpit-store.contract.ts): PostgreSQL (a real server
// or PGlite over the wire protocol) and memory.
// Why a table and not audit records: this is delivery state (where a fact was shown, and how it
// looked last), it changes on every edit, and a claim needs compare-and-set; the audit log is
// append-only evidence of what happened, and must not fill with presentation. The evidence of where
// humans were asked stays where it is: the approval request's record holds its message.
// It must never hand the same claim to two callers, and never forget a posted message.
import pg from 'pg';
import { GovernorError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';

export interface ShownMessage {
  key: string;
  incident_id: string;
  /** Null while claimed and not yet posted. */
  channel: string | null;
  ts: string | null;
  digest: string | null;
  claimed_at: string;
}

export interface CockpitStore {
  get(key: string): Promise<ShownMessage | undefined>;
  /** Every message of one incident. */
  ofIncident(incidentId: string): Promise<ShownMessage[]>;
  /**
   * Claims the right to post `key`: true for exactly one caller. A claim older than `staleBefore`
   * that never became a message (its process died between claim and post) may be claimed again.
   */
  claim(key: string, incidentId: string, nowIso: string, staleBefore: string): Promise<boolean>;
  /** Records the message a claim became, or a message posted elsewhere that the cockpit adopts. */
  posted(key: string, incidentId: string, ref: { channel: string; ts: string }, digest: string, nowIso: string): Promise<void>;
  /** The content now shown (after an edit). */
  shown(key: string, digest: string, nowIso: string): Promise<void>;
  /** Gives a claim back (the post failed), so the next pass tries again. */
  release(key: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryCockpitStore implements CockpitStore {
  private readonly rows = new Map<string, ShownMessage>();

  async get(key: string): Promise<ShownMessage | undefined> {
    const r = this.rows.get(key);
    return r ? { ...r } : undefined;
  }

  async ofIncident(incidentId: string): Promise<ShownMessage[]> {
    return [...this.rows.values()].filter((r) => r.incident_id === incidentId).map((r) => ({ ...r }));
  }

  async claim(key: string, incidentId: string, nowIso: string, staleBefore: string): Promise<boolean> {
    const r = this.rows.get(key);
    if (r && (r.ts !== null || r.claimed_at >= staleBefore)) return false;
    this.rows.set(key, { key, incident_id: incidentId, channel: null, ts: null, digest: null, claimed_at: nowIso });
    return true;
  }

  async posted(key: string, incidentId: string, ref: { channel: string; ts: string }, digest: string, nowIso: string): Promise<void> {
    const r = this.rows.get(key);
    this.rows.set(key, { key, incident_id: incidentId, channel: ref.channel, ts: ref.ts, digest, claimed_at: r?.claimed_at ?? nowIso });
  }

  async shown(key: string, digest: string): Promise<void> {
    const r = this.rows.get(key);
    if (r) r.digest = digest;
  }

  async release(key: string): Promise<void> {
    if (this.rows.get(key)?.ts === null) this.rows.delete(key);
  }

  async close(): Promise<void> {}
}

export interface PgCockpitStoreOptions {
  connectionString: string;
  /** The schema PgAuditStore migrated (the table comes from its migrations). */
  schema?: string;
  /** 1 against embedded PGlite: its connections share one session. */
  poolSize?: number;
  logger?: Logger;
}

const COLUMNS = 'key, incident_id, channel, ts, digest, claimed_at';

export class PgCockpitStore implements CockpitStore {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly schema: string;
  private closed = false;

  constructor(opts: PgCockpitStoreOptions) {
    this.schema = opts.schema ?? 'governor';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) {
      throw new GovernorError('config_invalid', `cockpit schema '${this.schema}' must be a lower-case identifier (a-z, 0-9, _)`);
    }
    // Schema-qualified, never a search_path: PGlite's connections share one session.
    this.table = `${pg.escapeIdentifier(this.schema)}.slack_messages`;
    const logger = opts.logger ?? silentLogger();
    this.pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.poolSize ?? 2, connectionTimeoutMillis: 10_000 });
    this.pool.on('error', (err) => logger.warn({ err: err.message, schema: this.schema }, 'cockpit store: idle PostgreSQL connection failed'));
  }

  get(key: string): Promise<ShownMessage | undefined> {
    return this.guard('get', async () => (await this.pool.query<ShownMessage>(`SELECT ${COLUMNS} FROM ${this.table} WHERE key = $1`, [key])).rows[0]);
  }

  ofIncident(incidentId: string): Promise<ShownMessage[]> {
    return this.guard('ofIncident', async () => (await this.pool.query<ShownMessage>(`SELECT ${COLUMNS} FROM ${this.table} WHERE incident_id = $1 ORDER BY claimed_at, key`, [incidentId])).rows);
  }

  claim(key: string, incidentId: string, nowIso: string, staleBefore: string): Promise<boolean> {
    return this.guard('claim', async () => {
      // One statement: the insert wins, or the update of a stale, never-posted claim does; never both.
      const { rowCount } = await this.pool.query(
        `INSERT INTO ${this.table} (key, incident_id, claimed_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (key) DO UPDATE SET claimed_at = EXCLUDED.claimed_at, updated_at = EXCLUDED.updated_at
           WHERE ${this.table}.ts IS NULL AND ${this.table}.claimed_at < $4`,
        [key, incidentId, nowIso, staleBefore],
      );
      return rowCount === 1;
    });
  }

  posted(key: string, incidentId: string, ref: { channel: string; ts: string }, digest: string, nowIso: string): Promise<void> {
    return this.guard('posted', async () => {
      await this.pool.query(
        `INSERT INTO ${this.table} (key, incident_id, channel, ts, digest, claimed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (key) DO UPDATE SET channel = EXCLUDED.channel, ts = EXCLUDED.ts, digest = EXCLUDED.digest, updated_at = EXCLUDED.updated_at`,
        [key, incidentId, ref.channel, ref.ts, digest, nowIso],
      );
    });
  }

  shown(key: string, digest: string, nowIso: string): Promise<void> {
    return this.guard('shown', async () => {
      await this.pool.query(`UPDATE ${this.table} SET digest = $2, updated_at = $3 WHERE key = $1`, [key, digest, nowIso]);
    });
  }

  release(key: string): Promise<void> {
    return this.guard('release', async () => {
      await this.pool.query(`DELETE FROM ${this.table} WHERE key = $1 AND ts IS NULL`, [key]);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new GovernorError('audit_unavailable', `cockpit store is closed (${op})`);
    try {
      return await fn();
    } catch (err) {
      const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
      // A missing table means the schema was never migrated: trying again will not help.
      throw new GovernorError('audit_unavailable', `cockpit store ${op} failed in schema '${this.schema}': ${(err as Error).message}`, {
        retryable: code !== '42P01',
        cause: err,
        ...(code ? { details: { sqlstate: code } } : {}),
      });
    }
  }
}
