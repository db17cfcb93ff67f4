// `governor audit verify`: proves the audit log: the hash chain, every record's seal, and the log
// against the checkpoints published outside the database. Reads DATABASE_URL, or the sandbox's
// embedded database in the data directory when none is set; checks with the audit public key alone
// (GOVERNOR_AUDIT_PUBLIC_KEY_FILE, else the key `governor start` kept in the data directory).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { GovernorError } from '../src/core/errors.ts';
import { silentLogger } from '../src/core/logger.ts';
import { openAuditPublicKey } from '../src/audit/audit-key.ts';
import { checkpointFile } from '../src/audit/checkpoints.ts';
import { PgAuditStore } from '../src/audit/pg-audit-store.ts';
import { startEmbeddedPostgres } from '../src/audit/embedded-postgres.ts';
import { auditVerify } from '../src/audit/verify-command.ts';
import { dataDirOwner } from '../src/runtime/data-dir-lock.ts';

export async function verify(opts: { schema: string; checkpoints?: string; json?: boolean }): Promise<number> {
  const config = loadConfig();
  // Before opening anything: without the key there is nothing to check seals and checkpoints with.
  const { key } = openAuditPublicKey(config);
  let url = config.databaseUrl;
  let close = async () => {};
  let poolSize = 4;
  if (!url) {
    const dataDir = join(config.dataDir, 'pgdata');
    if (!existsSync(dataDir)) {
      throw new GovernorError('config_invalid', `no audit log to verify: DATABASE_URL is not set and ${dataDir} does not exist (run 'governor start' first)`);
    }
    // The embedded database has one owner at a time; verifying under a running sandbox could corrupt it.
    const owner = dataDirOwner(config.dataDir);
    if (owner !== undefined) {
      throw new GovernorError('conflict', `the sandbox (pid ${owner}) is using ${dataDir}; stop 'governor start' first, or set DATABASE_URL`);
    }
    const embedded = await startEmbeddedPostgres({ dataDir, logger: silentLogger() });
    url = embedded.connectionString;
    close = embedded.close;
    poolSize = 1;
  }
  // The public key only: this store checks seals and cannot write.
  const store = new PgAuditStore({ connectionString: url, schema: opts.schema, poolSize, auditKey: key });
  try {
    return await auditVerify(store, (line) => process.stdout.write(`${line}\n`), {
      checkpoints: { file: opts.checkpoints ?? checkpointFile(config, opts.schema), schema: opts.schema, key },
      ...(opts.json ? { json: true } : {}),
    });
  } finally {
    await store.close();
    await close();
  }
}
