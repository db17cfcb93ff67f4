// Opens the audit log a command reads: the one DATABASE_URL names, or the sandbox's embedded
// database in the data directory when none is set (refused while `governor start` owns it: two
// owners of one embedded database could corrupt it). Reading only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../src/config.ts';
import { GovernorError } from '../src/core/errors.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { AuditPublicKey } from '../src/audit/audit-key.ts';
import { PgAuditStore } from '../src/audit/pg-audit-store.ts';
import { startEmbeddedPostgres } from '../src/audit/embedded-postgres.ts';
import { dataDirOwner } from '../src/runtime/data-dir-lock.ts';

export async function openAuditForReading(
  config: Config,
  schema: string,
  what: string,
  auditKey?: AuditPublicKey,
): Promise<{ store: PgAuditStore; close: () => Promise<void> }> {
  let url = config.databaseUrl;
  let closeDb = async () => {};
  let poolSize = 4;
  if (!url) {
    const dataDir = join(config.dataDir, 'pgdata');
    if (!existsSync(dataDir)) {
      throw new GovernorError('config_invalid', `no audit log to ${what}: DATABASE_URL is not set and ${dataDir} does not exist (run 'governor start' first)`);
    }
    const owner = dataDirOwner(config.dataDir);
    if (owner !== undefined) {
      throw new GovernorError('conflict', `the sandbox (pid ${owner}) is using ${dataDir}; stop 'governor start' first, or set DATABASE_URL`);
    }
    const embedded = await startEmbeddedPostgres({ dataDir, logger: silentLogger() });
    url = embedded.connectionString;
    closeDb = embedded.close;
    poolSize = 1;
  }
  const store = new PgAuditStore({ connectionString: url, schema, poolSize, ...(auditKey ? { auditKey } : {}) });
  return {
    store,
    close: async () => {
      await store.close();
      await closeDb();
    },
  };
}
