// The embedded database used when DATABASE_URL is unset: PGlite (PostgreSQL compiled to Wasm,
// in-process) served over the PostgreSQL wire protocol on 127.0.0.1, so the very same `pg` code
// (PgAuditStore, psql) talks to it as to a real server. It must never listen beyond loopback, and
// never be opened on a data directory another process has open (PGlite takes no lock on it).
//
// How pglite-socket 0.2.17 handles connections (read from its dist source, and measured):
// - It accepts up to `maxConnections` sockets (its default is 1); one more is answered with the
//   plain text "Too many connections" and closed, which `pg` reports as "Connection terminated
//   unexpectedly".
// - All sockets feed one global queue in front of ONE PGlite backend: a single session. Session
//   state (search_path, SET, session advisory locks, prepared statements) is shared by every
//   connection, and messages are executed one at a time.
// - While the session is inside an explicit transaction, only messages from the connection that
//   began it are served; the others wait until it commits or rolls back (or disconnects, which
//   rolls it back). Outside transactions the queue interleaves per protocol message, not per query.
// Hence the store connects with poolSize 1, never needs a second connection while a transaction is
// open, and sets nothing session-wide; the spare connections are for tools (psql, `audit verify`,
// tests), which should keep their changes transaction-local (SET LOCAL).
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { silentLogger, type Logger } from '../core/logger.ts';

export interface EmbeddedPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  connectionString: string;
  close(): Promise<void>;
}

export async function startEmbeddedPostgres(opts: {
  /** Where PGlite keeps its files; in memory (gone on close) when absent. */
  dataDir?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  logger?: Logger;
  /** Sockets accepted at once: the store's one plus room for tools. */
  maxConnections?: number;
}): Promise<EmbeddedPostgres> {
  const logger = opts.logger ?? silentLogger();
  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });
  const db = opts.dataDir ? await PGlite.create(opts.dataDir) : await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: opts.port ?? 0, maxConnections: opts.maxConnections ?? 4 });
  server.addEventListener('error', (e) => {
    const detail = (e as CustomEvent<unknown>).detail;
    logger.warn({ err: detail instanceof Error ? detail.message : String(detail) }, 'embedded postgres: socket error');
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // After listen() the server replaces port 0 with the bound one; getServerConn() is `host:port`.
  const connectionString = `postgres://postgres@${server.getServerConn()}/postgres`;
  logger.info({ dataDir: opts.dataDir ?? '(memory)', address: server.getServerConn() }, 'embedded postgres: listening');

  let closing: Promise<void> | undefined;
  return {
    connectionString,
    close: () => {
      closing ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return closing;
    },
  };
}
