// One owner for the embedded database's files: PGlite takes no lock of its own, and two processes
// opening the same data directory would corrupt it. A pid file says who holds it; a stale one (its
// process is gone) is taken over.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GovernorError } from '../core/errors.ts';

const pidFile = (dataDir: string) => join(dataDir, 'governor.pid');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of a live process holding the data directory, if any. */
export function dataDirOwner(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(dataDir), 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
}

export function claimDataDir(dataDir: string): void {
  const owner = dataDirOwner(dataDir);
  if (owner !== undefined) {
    throw new GovernorError('conflict', `another governor (pid ${owner}) is using ${dataDir}; stop it first or set GOVERNOR_DATA_DIR`);
  }
  writeFileSync(pidFile(dataDir), `${process.pid}\n`);
}

export function releaseDataDir(dataDir: string): void {
  if (dataDirOwner(dataDir) === undefined) rmSync(pidFile(dataDir), { force: true });
}
