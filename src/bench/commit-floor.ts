// The floor under any durable decision: a bare single-row INSERT + COMMIT, on the same database and
// through the same driver the audit store uses, so a benchmark can print what its own work costs
// beside what one commit costs on this machine right now. One simple-query message per commit
// (`BEGIN; INSERT …; COMMIT`): an explicit transaction, one round trip, as cheap as a durable write
// gets; it works the same on PostgreSQL and on the embedded PGlite (one message, never interleaved).
// Beside a load, the floor runs in a worker thread with its own event loop and connections
// (runInWorker), so what it measures is the database and the machine, not the queue of the process
// whose work it is compared with.
// It writes only to its own table in the schema it is given, and never drops anything.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { openLoop, summarise, type LatencySummary } from './latency.ts';

const require = createRequire(import.meta.url);
/** What each floor row holds: a small fixed JSON document, as an SQL literal. */
const PAYLOAD = `'{"bench":"floor"}'`;

export interface FloorSummary extends LatencySummary {
  commits: number;
  errors: number;
  /** The first failure's message, when a commit failed. */
  first_error?: string;
}

export class CommitFloor {
  private readonly pool: pg.Pool;
  private readonly table: string;
  private seq = 0;
  private workerRuns = 0;

  private readonly connectionString: string;
  private readonly poolSize: number;

  constructor(opts: { connectionString: string; schema: string; poolSize: number }) {
    this.connectionString = opts.connectionString;
    this.poolSize = opts.poolSize;
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
    await this.pool.query(`BEGIN; INSERT INTO ${this.table} (id, payload) VALUES (${id}, ${PAYLOAD}); COMMIT`);
    return performance.now() - t0;
  }

  /** Commits at `ratePerS` for `durationS`, open loop (arrivals never wait for earlier commits). */
  async run(ratePerS: number, durationS: number): Promise<FloorSummary> {
    const { latencies, errors } = await openLoop(ratePerS, durationS, () => this.commitOnce());
    return { ...summarise(latencies), commits: latencies.length, errors };
  }

  /**
   * Commits at `ratePerS` for `durationS` in a worker thread (its own event loop and pool of the
   * same size), starting now: run it while the load it is compared with runs.
   */
  runInWorker(ratePerS: number, durationS: number): Promise<FloorSummary> {
    const worker = new Worker(FLOOR_WORKER, {
      eval: true,
      workerData: { pgPath: require.resolve('pg'), connectionString: this.connectionString, table: this.table, poolSize: this.poolSize, ratePerS, durationS, firstId: 1_000_000_000 * ++this.workerRuns, before: `BEGIN; INSERT INTO ${this.table} (id, payload) VALUES (`, after: `, ${PAYLOAD}); COMMIT` },
    });
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { latencies: number[]; errors: number; error?: string; firstError?: string }) => {
        if (m.error) reject(new Error(`commit floor worker: ${m.error}`));
        else resolve({ ...summarise(m.latencies), commits: m.latencies.length, errors: m.errors, ...(m.firstError ? { first_error: m.firstError } : {}) });
        void worker.terminate();
      });
      worker.once('error', reject);
    });
  }

  async rows(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(rows[0]!.n);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The worker's loop: the same statement, the same open-loop arrivals as CommitFloor.run. */
const FLOOR_WORKER = `
const { parentPort, workerData: w } = require('node:worker_threads');
const pg = require(w.pgPath);
(async () => {
  const pool = new pg.Pool({ connectionString: w.connectionString, max: w.poolSize, connectionTimeoutMillis: 10000 });
  pool.on('error', () => {});
  const latencies = [];
  let errors = 0;
  let firstError;
  let id = w.firstId;
  const total = Math.round(w.ratePerS * w.durationS);
  const inflight = [];
  const started = performance.now();
  let sent = 0;
  try {
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * w.ratePerS) + 1);
      for (; sent < due; sent++) {
        const t0 = performance.now();
        inflight.push(pool.query(w.before + (++id) + w.after).then(
          () => { latencies.push(performance.now() - t0); },
          (err) => { errors++; firstError = firstError || String(err && err.message || err); },
        ));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(inflight);
    await pool.end();
    parentPort.postMessage({ latencies, errors, firstError });
  } catch (err) {
    parentPort.postMessage({ latencies, errors, error: String(err) });
  }
})();
`;
