// Checkpoints: the audit chain's head, signed with the Governor audit key and published outside the
// database, so that whoever controls the database cannot remove the newest records unnoticed. The
// hash chain proves order and the seals prove authorship, but deleting records from the end leaves
// a shorter chain that still holds; a checkpoint that anchored seq 120 proves records 98–120 existed.
//
// A checkpoint is one JSON line appended to a file (GOVERNOR_AUDIT_CHECKPOINT_FILE, or one file per
// schema in the data directory) and a short line posted to the Slack channel, a second witness the
// database's owner does not control. Line format:
//   {"schema","seq","hash","at","key_id","signature"}
// where `signature` is Ed25519 (base64url) by the audit key over the canonical JSON (RFC 8785) of the
// other five fields, so anyone with the public key can check a line without this code.
//
// The Checkpointer signs only a head that extends the last checkpoint it knows: after a truncation
// (or a log swapped for another) signing the new head would bless the gap, so it raises the alarm
// instead and signs nothing until a person has looked. It must never rewrite or remove a line.
import { readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sign, verify } from 'node:crypto';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { canonicalJson } from '../core/canonical-json.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AuditKey, AuditPublicKey } from './audit-key.ts';
import type { AuditStore } from './audit-store.ts';

export const Checkpoint = z
  .object({
    schema: z.string().min(1),
    seq: z.number().int().positive(),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    at: z.string().min(1),
    key_id: z.string().min(1),
    signature: z.string().regex(/^[A-Za-z0-9_-]+$/),
  })
  .strict();
export type Checkpoint = z.infer<typeof Checkpoint>;

/** Where a schema's checkpoints go: the configured file, else one per schema in the data directory. */
export function checkpointFile(config: Pick<Config, 'dataDir' | 'audit'>, schema: string): string {
  return config.audit.checkpointFile ?? join(config.dataDir, `audit-checkpoints-${schema}.jsonl`);
}

function signedBytes(c: Omit<Checkpoint, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ schema: c.schema, seq: c.seq, hash: c.hash, at: c.at, key_id: c.key_id }), 'utf8');
}

export function signCheckpoint(key: AuditKey, body: { schema: string; seq: number; hash: string; at: string }): Checkpoint {
  const unsigned = { ...body, key_id: key.keyId };
  return { ...unsigned, signature: sign(null, signedBytes(unsigned), key.privateKey).toString('base64url') };
}

export function checkpointHolds(key: AuditPublicKey, c: Checkpoint): boolean {
  if (c.key_id !== key.keyId) return false;
  try {
    return verify(null, signedBytes(c), key.publicKey, Buffer.from(c.signature, 'base64url'));
  } catch {
    return false;
  }
}

export interface CheckpointFileContents {
  /** The schema's checkpoints whose signature holds, in file order, with their line numbers. */
  valid: { line: number; checkpoint: Checkpoint }[];
  /** The schema's lines that are checkpoints in form but not signed by this key: forged, or another key's. */
  unsigned: { line: number; checkpoint: Checkpoint }[];
  /** Lines that are not checkpoints at all (a torn write, a stray edit), by line number. */
  malformed: number[];
  /** False when there is no file. */
  exists: boolean;
}

/** Reads every checkpoint of `schema` in the file; lines of other schemas are skipped. */
export function readCheckpoints(file: string, schema: string, key: AuditPublicKey): CheckpointFileContents {
  const out: CheckpointFileContents = { valid: [], unsigned: [], malformed: [], exists: true };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...out, exists: false };
    throw err;
  }
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let parsed: z.ZodSafeParseResult<Checkpoint>;
    try {
      parsed = Checkpoint.safeParse(JSON.parse(raw));
    } catch {
      out.malformed.push(i + 1);
      return;
    }
    if (!parsed.success) {
      out.malformed.push(i + 1);
      return;
    }
    if (parsed.data.schema !== schema) return;
    (checkpointHolds(key, parsed.data) ? out.valid : out.unsigned).push({ line: i + 1, checkpoint: parsed.data });
  });
  return out;
}

/** The checkpoint with the highest seq (the later line on a tie): the furthest the log is proven to reach. */
export function latestCheckpoint(valid: readonly { checkpoint: Checkpoint }[]): Checkpoint | undefined {
  let latest: Checkpoint | undefined;
  for (const { checkpoint } of valid) if (!latest || checkpoint.seq >= latest.seq) latest = checkpoint;
  return latest;
}

/** Appends one line and waits for it to reach the disk: a checkpoint that a crash can lose proves nothing. */
export async function appendCheckpoint(file: string, c: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, 'a', 0o644);
  try {
    await handle.appendFile(`${JSON.stringify(c)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const shortHash = (hash: string): string => `${hash.slice(0, 16)}…`;

export type CheckpointOutcome =
  | { status: 'written'; checkpoint: Checkpoint }
  | { status: 'unchanged' }
  /** The log no longer extends the last checkpoint: nothing was signed. */
  | { status: 'discontinuous'; problem: string };

export interface CheckpointerOptions {
  audit: Pick<AuditStore, 'head' | 'hashAt'>;
  key: AuditKey;
  schema: string;
  file: string;
  /** Posts a short line where people see it (the Slack channel). */
  notify: (text: string) => void | Promise<void>;
  /** Wall time: a checkpoint says when, in the world, the log reached its head. */
  clock: Clock;
  intervalMs: number;
  logger: Logger;
}

export class Checkpointer {
  private last: Checkpoint | undefined;
  private cancel: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private alarm: string | undefined;
  private stopped = false;

  constructor(private readonly opts: CheckpointerOptions) {}

  /** Learns the last checkpoint from the file, checkpoints the log as found, and keeps doing so every interval. */
  async start(): Promise<CheckpointOutcome> {
    const known = readCheckpoints(this.opts.file, this.opts.schema, this.opts.key);
    // The last one this key signed: a line it cannot verify must not decide what the log should extend.
    this.last = known.valid.at(-1)?.checkpoint;
    const first = await this.checkpoint();
    this.schedule();
    return first;
  }

  /** Checkpoints the head now if it moved; one at a time. */
  checkpoint(): Promise<CheckpointOutcome> {
    const run = this.queue.then(() => this.checkpointNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and checkpoints once more, so the log's end as this process left it is anchored. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancel?.();
    try {
      await this.checkpoint();
    } catch (err) {
      this.opts.logger.error({ err: describeError(err), schema: this.opts.schema }, 'audit checkpoint at stop failed');
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.cancel = this.opts.clock.setTimer(this.opts.intervalMs, () => {
      void this.checkpoint()
        .catch((err: unknown) => this.opts.logger.error({ err: describeError(err), schema: this.opts.schema }, 'audit checkpoint failed; trying again next interval'))
        .finally(() => this.schedule());
    });
  }

  private async checkpointNow(): Promise<CheckpointOutcome> {
    const { audit, schema } = this.opts;
    const head = await audit.head();
    const last = this.last;
    if (last) {
      const problem = await this.discontinuity(last, head);
      if (problem) {
        if (problem !== this.alarm) {
          this.alarm = problem;
          this.opts.logger.error({ schema, checkpoint_seq: last.seq }, problem);
          await this.opts.notify(`Audit log ALERT (${schema}): ${problem} No checkpoint is signed until this is explained.`);
        }
        return { status: 'discontinuous', problem };
      }
      this.alarm = undefined;
      if (head!.seq === last.seq) return { status: 'unchanged' };
    }
    if (!head) return { status: 'unchanged' };
    const checkpoint = signCheckpoint(this.opts.key, { schema, seq: head.seq, hash: head.hash, at: new Date(this.opts.clock.now()).toISOString() });
    await appendCheckpoint(this.opts.file, checkpoint);
    this.last = checkpoint;
    this.opts.logger.info({ schema, seq: checkpoint.seq, hash: checkpoint.hash, file: this.opts.file }, 'audit checkpoint');
    await this.opts.notify(`Audit checkpoint: seq ${checkpoint.seq}, hash ${shortHash(checkpoint.hash)} (${schema}, key ${checkpoint.key_id})`);
    return { status: 'written', checkpoint };
  }

  /** What is wrong when the log does not extend `last`, in one sentence; undefined when it does. */
  private async discontinuity(last: Checkpoint, head: { seq: number; hash: string } | null): Promise<string | undefined> {
    const anchored = `the last checkpoint (at ${last.at}) anchors seq ${last.seq}, hash ${shortHash(last.hash)}`;
    if (!head || head.seq < last.seq) {
      const end = head?.seq ?? 0;
      return `${anchored}; the log ends at seq ${end}: ${missingRange(end + 1, last.seq)} missing.`;
    }
    const now = await this.opts.audit.hashAt(last.seq);
    if (now !== last.hash) return `${anchored}; the log has ${now === null ? 'no record' : `hash ${shortHash(now)}`} there: the records up to it were replaced.`;
    return undefined;
  }
}

/** "record 98 is" / "records 98–120 are". */
export function missingRange(from: number, to: number): string {
  return from === to ? `record ${from} is` : `records ${from}–${to} are`;
}
