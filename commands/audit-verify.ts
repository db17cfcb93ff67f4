// `governor audit verify`: proves the audit log: the hash chain, every record's seal, and the log
// against the checkpoints published outside the database. Reads DATABASE_URL, or the sandbox's
// embedded database in the data directory when none is set; checks with the audit public key alone
// (GOVERNOR_AUDIT_PUBLIC_KEY_FILE, else the key `governor start` kept in the data directory).
import { loadConfig } from '../src/config.ts';
import { openAuditPublicKey } from '../src/audit/audit-key.ts';
import { checkpointFile } from '../src/audit/checkpoints.ts';
import { auditVerify } from '../src/audit/verify-command.ts';
import { openAuditForReading } from './open-audit.ts';

export async function verify(opts: { schema: string; checkpoints?: string; json?: boolean }): Promise<number> {
  const config = loadConfig();
  // Before opening anything: without the key there is nothing to check seals and checkpoints with.
  const { key } = openAuditPublicKey(config);
  // The public key only: this store checks seals and cannot write.
  const { store, close } = await openAuditForReading(config, opts.schema, 'verify', key);
  try {
    return await auditVerify(store, (line) => process.stdout.write(`${line}\n`), {
      checkpoints: { file: opts.checkpoints ?? checkpointFile(config, opts.schema), schema: opts.schema, key },
      ...(opts.json ? { json: true } : {}),
    });
  } finally {
    await close();
  }
}
