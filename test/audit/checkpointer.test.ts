// The Checkpointer on its own: when it signs (every interval, only when the head moved, once more at
// stop), what a line holds (checkable with the public key and the documented format alone), and how
// it picks up after a restart. The log here is a plain list of chain points: the checkpointer asks
// only for the head and the hash at a seq (the contract suite runs it against the real stores).
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateAuditKey } from '../../src/audit/audit-key.ts';
import type { AuditStore, ChainPoint } from '../../src/audit/audit-store.ts';
import { Checkpointer, checkpointFile, readCheckpoints } from '../../src/audit/checkpoints.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';

const key = generateAuditKey();
const hashOf = (seq: number) => seq.toString(16).padStart(64, '0');

/** A log that only grows (or, when a test says so, shrinks): the chain points the checkpointer reads. */
function chain(): Pick<AuditStore, 'head' | 'hashAt'> & { grow(n: number): void; points: ChainPoint[] } {
  const points: ChainPoint[] = [];
  return {
    points,
    grow: (n) => {
      for (let i = 0; i < n; i++) points.push({ seq: points.length + 1, hash: hashOf(points.length + 1) });
    },
    head: async () => points.at(-1) ?? null,
    hashAt: async (seq) => points[seq - 1]?.hash ?? null,
  };
}

let dir: string;
let file: string;
let clock: VirtualClock;
let notices: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'governor-checkpointer-'));
  file = join(dir, 'nested', 'checkpoints.jsonl');
  clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
  notices = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const checkpointer = (audit: Pick<AuditStore, 'head' | 'hashAt'>, schema = 'governor') =>
  new Checkpointer({ audit, key, schema, file, notify: (t) => void notices.push(t), clock, intervalMs: 60_000, logger: silentLogger() });
const lines = async () => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('Checkpointer', () => {
  it('signs nothing for an empty log, then the head every interval it moved, and once more at stop', async () => {
    const log = chain();
    const cp = checkpointer(log);
    expect(await cp.start()).toEqual({ status: 'unchanged' });
    log.grow(3);
    await clock.advance(60_000);
    await cp.checkpoint(); // waits for the one the timer started
    await clock.advance(60_000); // nothing moved: nothing signed
    await cp.checkpoint();
    log.grow(2);
    await clock.advance(30_000);
    await cp.stop();
    await clock.advance(600_000); // stopped: the timer is gone
    expect((await lines()).map((l) => [l['seq'], l['at']])).toEqual([
      [3, '2026-11-24T10:01:00.000Z'],
      [5, '2026-11-24T10:02:30.000Z'],
    ]);
    expect(notices).toEqual([
      `Audit checkpoint: seq 3, hash ${hashOf(3).slice(0, 16)}… (governor, key ${key.keyId})`,
      `Audit checkpoint: seq 5, hash ${hashOf(5).slice(0, 16)}… (governor, key ${key.keyId})`,
    ]);
  });

  it('writes lines anyone can check with the public key and the documented format, without this code', async () => {
    const log = chain();
    log.grow(4);
    await checkpointer(log).start();
    const [line] = await lines();
    expect(Object.keys(line!).sort()).toEqual(['at', 'hash', 'key_id', 'schema', 'seq', 'signature']);
    const { signature, ...signed } = line as { signature: string };
    const publicKey = createPublicKey(key.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(verify(null, Buffer.from(canonicalJson(signed)), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    expect(verify(null, Buffer.from(canonicalJson({ ...signed, seq: 5 })), publicKey, Buffer.from(signature, 'base64url'))).toBe(false);
  });

  it('after a restart, continues from the last checkpoint in the file: no duplicate, and other schemas ignored', async () => {
    const log = chain();
    log.grow(2);
    await checkpointer(log).start();
    await checkpointer(chain(), 'governor_demo').start(); // another schema's empty log: writes nothing
    const other = chain();
    other.grow(1);
    await checkpointer(other, 'governor_demo').start();
    const again = checkpointer(log);
    expect(await again.start()).toEqual({ status: 'unchanged' });
    log.grow(1);
    expect(await again.checkpoint()).toMatchObject({ status: 'written', checkpoint: { seq: 3 } });
    expect((await lines()).map((l) => `${l['schema']}:${l['seq']}`)).toEqual(['governor:2', 'governor_demo:1', 'governor:3']);
    expect(readCheckpoints(file, 'governor', key).valid.map((c) => c.line)).toEqual([1, 3]);
  });

  it('raises the alarm once, and signs nothing, when the log no longer reaches the last checkpoint', async () => {
    const log = chain();
    log.grow(5);
    const cp = checkpointer(log);
    await cp.start();
    log.points.splice(3); // seq 4 and 5 gone
    const outcome = await cp.checkpoint();
    expect(outcome).toEqual({
      status: 'discontinuous',
      problem: `the last checkpoint (at 2026-11-24T10:00:00.000Z) anchors seq 5, hash ${hashOf(5).slice(0, 16)}…; the log ends at seq 3: records 4–5 are missing.`,
    });
    await cp.checkpoint();
    expect(notices.slice(1)).toEqual([`Audit log ALERT (governor): ${(outcome as { problem: string }).problem} No checkpoint is signed until this is explained.`]);
    expect(await lines()).toHaveLength(1);
  });

  it('keeps a schema\'s checkpoints in the data directory unless a file is configured', () => {
    const audit = { keyFile: undefined, publicKeyFile: undefined, checkpointFile: undefined, checkpointIntervalS: 60 };
    expect(checkpointFile({ dataDir: '/var/lib/governor', audit }, 'governor_demo')).toBe('/var/lib/governor/audit-checkpoints-governor_demo.jsonl');
    expect(checkpointFile({ dataDir: '/x', audit: { ...audit, checkpointFile: '/evidence/cp.jsonl' } }, 'governor')).toBe('/evidence/cp.jsonl');
  });
});
