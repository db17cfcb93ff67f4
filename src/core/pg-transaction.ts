// One transaction on a pooled connection: BEGIN, the work, COMMIT — or ROLLBACK on any error. A
// connection whose ROLLBACK failed is destroyed rather than returned to the pool half-open.
import type pg from 'pg';

/**
 * A pooled connection out of the pool, with an error listener for as long as it is out: a connection
 * that breaks between two queries (PostgreSQL restarted, the network cut) would otherwise emit an
 * 'error' nobody listens to, and that kills the process. Broken, it is destroyed on release instead
 * of going back to the pool.
 */
export async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(err?: Error): void }> {
  const client = await pool.connect();
  let failed: Error | undefined;
  const onError = (err: Error) => {
    failed = err;
  };
  client.on('error', onError);
  return {
    client,
    release(err?: Error) {
      client.off('error', onError);
      client.release(err ?? failed);
    },
  };
}

export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (c: pg.PoolClient, opened: pg.QueryResult[]) => Promise<T>,
  opts: { opening?: string } = {},
): Promise<T> {
  const { client, release } = await checkout(pool);
  let broken: Error | undefined;
  try {
    // `opening`: statements without parameters sent with BEGIN in one round trip (simple query
    // protocol; each still gets its own snapshot). Their results go to `fn`.
    const begun = (await client.query(opts.opening ? `BEGIN; ${opts.opening}` : 'BEGIN')) as unknown as pg.QueryResult | pg.QueryResult[];
    const out = await fn(client, Array.isArray(begun) ? begun.slice(1) : []);
    await client.query('COMMIT');
    return out;
  } catch (err) {
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
