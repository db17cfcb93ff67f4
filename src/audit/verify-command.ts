// `governor audit verify`, minus the wiring: walks the hash chain, checks every seal, and holds the
// log against the checkpoints published outside the database, then says in plain sentences whether
// the log holds and, if not, exactly what is wrong: the first bad record, or the records missing
// from the end. It must never repair, skip or rewrite anything; a failure to reach the store is
// thrown (the CLI's error funnel reports it), not shown as a verdict.
import type { AuditPublicKey } from './audit-key.ts';
import type { AuditStore, ChainPoint } from './audit-store.ts';
import { latestCheckpoint, missingRange, readCheckpoints, shortHash, type Checkpoint } from './checkpoints.ts';

export interface VerifyReport {
  schema: string | null;
  /** True when the chain, every seal and every checkpoint hold. */
  valid: boolean;
  /** Records that hold, from seq 1. */
  records: number;
  head: ChainPoint | null;
  first_bad: { seq: number; id: string; reason: string } | null;
  seals: { key_id: string; sealed: number; unsealed: number } | null;
  checkpoints: CheckpointReport | null;
  /** Every failure, one sentence each; empty when the log holds. */
  problems: Problem[];
}

export interface Problem {
  kind: 'chain' | 'truncated' | 'replaced' | 'no_checkpoint' | 'unsigned_checkpoint';
  message: string;
}

export interface CheckpointReport {
  file: string;
  /** The schema's checkpoints whose signature holds. */
  count: number;
  latest: Checkpoint | null;
  /**
   * anchored: the log reaches the latest checkpoint with the hash it signed; truncated: the log ends
   * before it; replaced: the log has another record there; none: no checkpoint to hold it against;
   * not_compared: the chain breaks before the checkpoint's seq.
   */
  status: 'anchored' | 'truncated' | 'replaced' | 'none' | 'not_compared';
  /** The records the latest checkpoint proves existed and the log no longer has. */
  missing: { from: number; to: number } | null;
  /** Records after the latest checkpoint: present, but not yet anchored by any checkpoint. */
  unanchored: number;
}

export interface AuditVerifyOptions {
  /** Holds the log against the schema's checkpoints in this file, checked with the audit public key. */
  checkpoints?: { file: string; schema: string; key: AuditPublicKey };
  json?: boolean;
}

/** 0 when the log holds, 1 when anything does not; the report goes to `out` as sentences or one JSON object. */
export async function auditVerify(store: AuditStore, out: (line: string) => void, opts: AuditVerifyOptions = {}): Promise<number> {
  const report = await verifyAuditLog(store, opts.checkpoints);
  if (opts.json) out(JSON.stringify(report, null, 2));
  else for (const line of reportLines(report)) out(line);
  return report.valid ? 0 : 1;
}

export async function verifyAuditLog(store: AuditStore, checkpoints?: AuditVerifyOptions['checkpoints']): Promise<VerifyReport> {
  const file = checkpoints ? readCheckpoints(checkpoints.file, checkpoints.schema, checkpoints.key) : undefined;
  const result = await store.verify({ hashesAt: file?.valid.map((c) => c.checkpoint.seq) ?? [] });
  const problems: Problem[] = [];
  const problem = (kind: Problem['kind'], message: string) => problems.push({ kind, message });
  const head = result.head ?? null;
  if (result.first_bad) {
    const b = result.first_bad;
    problem('chain', `the chain breaks at seq ${b.seq} (id ${b.id}): ${b.reason}; the ${result.records} records before it hold`);
  }
  let cp: CheckpointReport | null = null;
  if (checkpoints && file) {
    const latest = latestCheckpoint(file.valid) ?? null;
    cp = { file: checkpoints.file, count: file.valid.length, latest, status: 'none', missing: null, unanchored: 0 };
    for (const { line, checkpoint } of file.unsigned) {
      problem('unsigned_checkpoint', `checkpoint file line ${line} (seq ${checkpoint.seq}) is not signed by audit key ${checkpoints.key.keyId}: forged, or signed by another key`);
    }
    // Every checkpoint the intact chain reaches must name the hash the log has there.
    for (const { line, checkpoint } of file.valid) {
      const have = result.hashes_at?.[checkpoint.seq];
      if (have !== undefined && have !== checkpoint.hash && checkpoint !== latest) {
        problem('replaced', `the checkpoint on line ${line} (at ${checkpoint.at}) anchors seq ${checkpoint.seq}, hash ${shortHash(checkpoint.hash)}; the log has hash ${shortHash(have)} there: the records up to it were replaced`);
      }
    }
    const end = head?.seq ?? 0;
    if (!latest) {
      if (end > 0 || result.first_bad) problem('no_checkpoint', `no checkpoint for schema '${checkpoints.schema}' in ${checkpoints.file}: nothing proves the log is complete (records removed from its end would go unnoticed)`);
    } else {
      const anchored = `the latest checkpoint (at ${latest.at}) anchors seq ${latest.seq}, hash ${shortHash(latest.hash)}`;
      const have = result.hashes_at?.[latest.seq];
      if (have === latest.hash) {
        cp.status = 'anchored';
        cp.unanchored = end - latest.seq;
      } else if (have !== undefined) {
        cp.status = 'replaced';
        problem('replaced', `${anchored}; the log has hash ${shortHash(have)} at seq ${latest.seq}: the records up to it were replaced`);
      } else if (result.first_bad) {
        cp.status = 'not_compared';
      } else {
        cp.status = 'truncated';
        cp.missing = { from: end + 1, to: latest.seq };
        problem('truncated', `${anchored}; the log ends at seq ${end}: ${missingRange(end + 1, latest.seq)} missing`);
      }
    }
  }
  return {
    schema: checkpoints?.schema ?? null,
    valid: problems.length === 0,
    records: result.records,
    head,
    first_bad: result.first_bad ?? null,
    seals: result.seals ?? null,
    checkpoints: cp,
    problems,
  };
}

/**
 * The report as an operator reads it: the chain, the seals, how the log stands against the latest
 * checkpoint, then every problem not already said.
 */
export function reportLines(r: VerifyReport): string[] {
  const lines: string[] = [];
  if (r.first_bad) {
    const b = r.first_bad;
    lines.push(`audit chain BROKEN at seq ${b.seq} (id ${b.id}): ${b.reason}; ${r.records} records before it are intact`);
  } else {
    lines.push(`audit chain valid: ${r.records} records${r.head ? ` (head seq ${r.head.seq}, hash ${shortHash(r.head.hash)})` : ''}`);
  }
  if (r.seals) {
    const s = r.seals;
    const unsealed = s.unsealed > 0 ? `; ${s.unsealed} unsealed, written before sealing was enabled` : '';
    lines.push(`seals: ${count(s.sealed, 'record')} sealed by audit key ${s.key_id}${unsealed}`);
  }
  const c = r.checkpoints;
  const latest = c?.latest;
  if (c && latest && (c.status === 'anchored' || c.status === 'not_compared')) {
    const anchored = `the latest checkpoint (at ${latest.at}) anchors seq ${latest.seq}, hash ${shortHash(latest.hash)}`;
    lines.push(
      c.status === 'anchored'
        ? `checkpoints: ${anchored}, and the log has it${c.unanchored > 0 ? `; ${count(c.unanchored, 'record')} after it ${c.unanchored === 1 ? 'is' : 'are'} not yet anchored` : ''} (${count(c.count, 'checkpoint')} in ${c.file})`
        : `checkpoints: ${anchored}; not compared, since the chain breaks before it`,
    );
  } else if (c && c.status === 'none' && r.problems.length === 0) {
    lines.push(`checkpoints: none in ${c.file}, and the log is empty`);
  }
  const rest = r.problems.filter((p) => p.kind !== 'chain');
  if (r.problems.length > 0) {
    lines.push(`audit log does NOT hold${rest.length > 0 ? ':' : ''}`);
    for (const p of rest) lines.push(`  - ${p.kind === 'truncated' ? 'TRUNCATED: ' : p.kind === 'replaced' ? 'REPLACED: ' : ''}${p.message}`);
  } else if (c) {
    lines.push('audit log holds: chain, seals and checkpoints');
  }
  return lines;
}

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
