// The Governor audit key: an Ed25519 key pair whose private half seals every audit record (a
// signature over its hash) and signs every checkpoint of the chain head, and whose public half lets
// anyone check both. It is what the database cannot forge: neither PostgreSQL nor its writer role
// ever hold the private half, so whoever controls the database can delete or append rows but cannot
// make them look as if Governor wrote them. It must never be written into the database, logged or
// sent anywhere; only its public key id travels.
//
// Where it comes from: GOVERNOR_AUDIT_KEY_FILE (a mounted Secret in a cluster); else, for a log that
// outlives the process, a key generated once and kept in the data directory (mode 0600) so that
// `governor audit verify` finds it afterwards; else, for a log that lives in memory and dies with the
// run, a key generated for the run. `governor audit verify` needs only the public half
// (GOVERNOR_AUDIT_PUBLIC_KEY_FILE).
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config.ts';
import { GovernorError } from '../core/errors.ts';
import { readKeyFile } from '../core/key-files.ts';

/** What checks seals and checkpoints. */
export interface AuditPublicKey {
  /** Names the key in checkpoints and reports: `audit-` and 16 hex digits of the public key's SHA-256. */
  keyId: string;
  publicKey: KeyObject;
}

/** What makes them. */
export interface AuditKey extends AuditPublicKey {
  privateKey: KeyObject;
}

export const auditKeyPath = (dataDir: string): string => join(dataDir, 'audit-key.pem');

export function auditPublicKey(publicKey: KeyObject): AuditPublicKey {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { keyId: `audit-${createHash('sha256').update(der).digest('hex').slice(0, 16)}`, publicKey };
}

export function auditKeyFrom(privateKey: KeyObject): AuditKey {
  return { ...auditPublicKey(createPublicKey(privateKey)), privateKey };
}

export function generateAuditKey(): AuditKey {
  return auditKeyFrom(generateKeyPairSync('ed25519').privateKey);
}

export function hasPrivateHalf(key: AuditKey | AuditPublicKey): key is AuditKey {
  return 'privateKey' in key;
}

/** The seal of a record: Ed25519 over the ASCII bytes of its hash (64 hex digits), base64url. */
export function sealOf(key: AuditKey, hash: string): string {
  return sign(null, Buffer.from(hash, 'ascii'), key.privateKey).toString('base64url');
}

export function sealHolds(key: AuditPublicKey, hash: string, seal: string): boolean {
  try {
    return verify(null, Buffer.from(hash, 'ascii'), key.publicKey, Buffer.from(seal, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * The key a running system seals with, and a sentence saying where it came from. `durable`: the
 * log outlives this process (DATABASE_URL, or the embedded database in the data directory), so the
 * key must be findable afterwards.
 */
export function openAuditKey(config: Config, durable: boolean): { key: AuditKey; source: string } {
  if (config.audit.keyFile) {
    const key = auditKeyFrom(readKeyFile(config.audit.keyFile, { variable: 'GOVERNOR_AUDIT_KEY_FILE', half: 'private', algorithm: 'ed25519' }));
    return { key, source: `${key.keyId} from GOVERNOR_AUDIT_KEY_FILE` };
  }
  if (!durable) return { key: generateAuditKey(), source: 'generated for this run (the log lives in memory and ends with it)' };
  const path = auditKeyPath(config.dataDir);
  const created = createOnce(path);
  const key = auditKeyFrom(readKeyFile(path, { variable: 'GOVERNOR_DATA_DIR', half: 'private', algorithm: 'ed25519' }));
  return {
    key,
    source: `${key.keyId} ${created ? 'generated and kept' : 'kept'} in ${path} (GOVERNOR_AUDIT_KEY_FILE is not set; keep it away from the database and its backups)`,
  };
}

/** The public key `governor audit verify` checks with: the public key file, else the private key's public half. */
export function openAuditPublicKey(config: Config): { key: AuditPublicKey; source: string } {
  if (config.audit.publicKeyFile) {
    const key = auditPublicKey(readKeyFile(config.audit.publicKeyFile, { variable: 'GOVERNOR_AUDIT_PUBLIC_KEY_FILE', half: 'public', algorithm: 'ed25519' }));
    return { key, source: 'GOVERNOR_AUDIT_PUBLIC_KEY_FILE' };
  }
  if (config.audit.keyFile) {
    const key = auditKeyFrom(readKeyFile(config.audit.keyFile, { variable: 'GOVERNOR_AUDIT_KEY_FILE', half: 'private', algorithm: 'ed25519' }));
    return { key: auditPublicKey(key.publicKey), source: 'GOVERNOR_AUDIT_KEY_FILE' };
  }
  const path = auditKeyPath(config.dataDir);
  if (!existsSync(path)) {
    throw new GovernorError(
      'config_invalid',
      `no audit key to check seals and checkpoints with: set GOVERNOR_AUDIT_PUBLIC_KEY_FILE (or GOVERNOR_AUDIT_KEY_FILE), or GOVERNOR_DATA_DIR to where 'governor start' kept ${auditKeyPath('…')}`,
    );
  }
  const key = auditKeyFrom(readKeyFile(path, { variable: 'GOVERNOR_DATA_DIR', half: 'private', algorithm: 'ed25519' }));
  return { key: auditPublicKey(key.publicKey), source: path };
}

/**
 * Writes a new private key at `path` unless one is there. Written beside it and linked into place,
 * so two processes starting at once never read a half-written key and never replace each other's:
 * the second link fails and both use the first. True when this call created it.
 */
function createOnce(path: string): boolean {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const note = `Governor audit key (Ed25519), generated ${new Date().toISOString()}. It seals audit records and signs\ncheckpoints; whoever holds it can forge both. Keep it off the database host and out of its backups.\n`;
  writeFileSync(tmp, note + pem, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new GovernorError('config_invalid', `cannot create the audit key ${path}: ${(err as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}
