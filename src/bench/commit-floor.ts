// The floor under any durable decision: a bare single-row INSERT + COMMIT, on the same database and
// through the same driver the audit store uses, so a benchmark can print what its own work costs
// beside what one commit costs on this machine right now. One simple-query message per commit
// (`BEGIN; INSERT …; COMMIT`): an explicit transaction, one round trip, as cheap as a durable write
// gets; it works the same on PostgreSQL and on the embedded PGlite (one message, never interleaved).
// It writes only to its own table in the schema it is given, and never drops anything but that table.
import pg from 'pg';
import { summarise, type LatencySummary } from './latency.ts';

export interface FloorSummary extends LatencySummary {
  commits: number;
  errors: number;
}

export class CommitFloor {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private seq = 0;

  constructor(opts: { connectionString: string; schema: string; poolSize: number }) {
    if (!/^[a-z_][a-z0-9_]*$/.test(opts.schema)) throw new Error(`commit floor: unsafe schema name '${opts.schema}'`);
    this.table = `"${opts.schema}".commit_floor`;
    this.pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.poolSize, connectionTimeoutMillis: 10_000 });
    this.pool.on('error', () => {});
  }

  /** The statement each commit sends (with its own id and payload). */
  get sql(): string {
    return `BEGIN; INSERT INTO ${this.table} (id, payload) VALUES ($id, $payload); COMMIT`;
  }

  async prepare(): Promise<void> {
    await this.pool.query(`CREATE TABLE IF NOT EXISTS ${this.table} (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload jsonb NOT NULL)`);
  }

  /** One commit; resolves with its latency in ms, waiting for a pooled connection included (as the gateway's are). */
  async commitOnce(): Promise<number> {
    const id = ++this.seq;
    const t0 = performance.now();
    // Ids are integers we make and the payload is fixed: nothing from outside reaches the text.
    await this.pool.query(`BEGIN; INSERT INTO ${this.table} (id, payload) VALUES (${id}, '{"bench":"floor"}'); COMMIT`);
    return performance.now() - t0;
  }

  /** Commits at `ratePerS` for `durationS`, open loop (arrivals never wait for earlier commits). */
  async run(ratePerS: number, durationS: number): Promise<FloorSummary> {
    const total = Math.round(ratePerS * durationS);
    const latencies: number[] = [];
    let errors = 0;
    const inflight: Promise<void>[] = [];
    const started = performance.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * ratePerS) + 1);
      for (; sent < due; sent++) {
        inflight.push(
          this.commitOnce().then(
            (ms) => void latencies.push(ms),
            () => void errors++,
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inflight);
    return { ...summarise(latencies), commits: latencies.length, errors };
  }

  async rows(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
