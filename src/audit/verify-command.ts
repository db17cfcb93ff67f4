// `governor audit verify`, minus the wiring: walks the hash chain and says in one line whether it
// holds, and if not, which record breaks it and how. It must never repair, skip or rewrite anything;
// a failure to reach the store is thrown (the CLI's error funnel reports it), not shown as a verdict.
import type { AuditStore } from './audit-store.ts';

/** 0 when the chain is valid, 1 when a record is bad. */
export async function auditVerify(store: AuditStore, out: (line: string) => void): Promise<number> {
  const result = await store.verify();
  if (result.valid) {
    out(`audit chain valid: ${result.records} records`);
    return 0;
  }
  const bad = result.first_bad;
  out(
    bad
      ? `audit chain BROKEN at seq ${bad.seq} (id ${bad.id}): ${bad.reason}; ${result.records} records before it are intact`
      : `audit chain BROKEN after ${result.records} records`,
  );
  return 1;
}
