// One contract for PgAuditStore wherever it runs: a real PostgreSQL and embedded PGlite over the
// wire protocol must both pass it, so the embedded default can stand in for the server. Every test
// gets a fresh schema and a store that seals with a fresh audit key, as a running system does.
// Tampering goes through a separate admin connection, the way an attacker or a careless operator
// would: one who owns the tables but not the audit key. Its statements are parameterless (simple
// protocol) and its settings transaction-local, because on PGlite every connection shares one session.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditPublicKey, generateAuditKey, sealHolds, sealOf, type AuditKey } from '../../src/audit/audit-key.ts';
import { GENESIS_HASH, type AuditInput, type AuditRecord } from '../../src/audit/audit-store.ts';
import { chainHash, PgAuditStore, type ChainContent } from '../../src/audit/pg-audit-store.ts';
import { auditVerify, type VerifyReport } from '../../src/audit/verify-command.ts';
import { Checkpointer, signCheckpoint } from '../../src/audit/checkpoints.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { GovernorEvent } from '../../src/contracts/events.ts';
import { canonicalJson } from '../../src/core/canonical-json.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { decisionInput, grantInput, proposalInput, resultInput, voteInput } from '../fixtures/records.ts';

export interface ContractStore {
  /** Not yet migrated; in a schema of its own; sealing with the audit key it was made with. */
  store: PgAuditStore;
  connectionString: string;
  schema: string;
  cleanup(): Promise<void>;
}

const APPEND_ONLY = /audit_records is append-only/;

const atSec = (i: number): string => new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();

export function note(i: number, extra: Partial<Omit<AuditInput<'note'>, 'kind'>> = {}): AuditInput {
  return { kind: 'note', actor: 'test', at: atSec(i), payload: { i }, ...extra };
}

function controlEvent(): GovernorEvent {
  return { id: randomUUID(), v: 1, ts: new Date().toISOString(), type: 'control', command: 'pause', actor: 'test' };
}

/** Runs statements in one admin transaction with the append-only trigger switched off, as only the table owner can. */
async function tamper(admin: pg.Client, schema: string, ...statements: string[]): Promise<void> {
  await admin.query('BEGIN');
  try {
    await admin.query(`ALTER TABLE ${schema}.audit_records DISABLE TRIGGER audit_records_append_only`);
    for (const sql of statements) await admin.query(sql);
    await admin.query(`ALTER TABLE ${schema}.audit_records ENABLE ALWAYS TRIGGER audit_records_append_only`);
    await admin.query('COMMIT');
  } catch (err) {
    await admin.query('ROLLBACK');
    throw err;
  }
}

async function expectAuditError(p: Promise<unknown>, retryable: boolean, message?: RegExp): Promise<GovernorError> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GovernorError);
  const ge = err as GovernorError;
  expect(ge.code).toBe('audit_unavailable');
  expect(ge.retryable).toBe(retryable);
  if (message) expect(ge.message).toMatch(message);
  return ge;
}

export function auditStoreContract(name: string, makeStore: (auditKey: AuditKey) => Promise<ContractStore>): void {
  describe(`AuditStore contract: ${name}`, () => {
    let ctx: ContractStore;
    let store: PgAuditStore;
    let admin: pg.Client;
    let s: string;
    let key: AuditKey;

    /** The log holds: every record linked, hashed and sealed by the audit key, ending at the last one listed. */
    async function expectIntact(of: PgAuditStore, records: number): Promise<void> {
      const last = (await of.list()).at(-1);
      expect(await of.verify()).toEqual({
        valid: true,
        records,
        ...(last ? { head: { seq: last.seq, hash: last.hash } } : {}),
        seals: { key_id: key.keyId, sealed: records, unsealed: 0 },
      });
    }

    /** A record appended behind the store's back, with a correctly computed hash, as a table owner could. */
    async function forgeAppend(seal: string | null): Promise<{ seq: number; id: string; hash: string }> {
      const tail = (await store.list()).at(-1)!;
      const content: ChainContent = {
        seq: tail.seq + 1, id: randomUUID(), kind: 'approval', actor: 'U0MALLORY', at: '2025-01-01T01:00:00.000Z',
        incident_id: null, proposal_id: 'p-1', tenant: null, payload: { approval: { approved: true } },
      };
      const hash = chainHash(tail.hash, content);
      await admin.query(
        `INSERT INTO ${s}.audit_records (seq, id, kind, actor, at, proposal_id, payload, prev_hash, hash, seal)
         VALUES (${content.seq}, '${content.id}', 'approval', 'U0MALLORY', '${content.at}', 'p-1', '${JSON.stringify(content.payload)}', '${tail.hash}', '${hash}', ${seal === null ? 'NULL' : `'${seal}'`})`,
      );
      return { seq: content.seq, id: content.id, hash };
    }

    beforeEach(async () => {
      key = generateAuditKey();
      ctx = await makeStore(key);
      store = ctx.store;
      s = ctx.schema;
      await store.migrate();
      admin = new pg.Client({ connectionString: ctx.connectionString });
      await admin.connect();
    });

    afterEach(async () => {
      await admin.end();
      await ctx.cleanup();
    });

    describe('migrate', () => {
      it('is idempotent, also when two stores run it at the same time', async () => {
        await store.migrate();
        const other = new PgAuditStore({ connectionString: ctx.connectionString, schema: `${s}_2`, poolSize: 1 });
        const again = new PgAuditStore({ connectionString: ctx.connectionString, schema: `${s}_2`, poolSize: 1 });
        try {
          await Promise.all([other.migrate(), again.migrate()]);
          await other.append(note(1));
          expect((await again.verify()).records).toBe(1);
        } finally {
          await other.close();
          await again.close();
          await admin.query(`DROP SCHEMA IF EXISTS ${s}_2 CASCADE`);
        }
        const { rows } = await admin.query(`SELECT name FROM ${s}.pgmigrations`);
        expect(rows.length).toBeGreaterThanOrEqual(1);
      });
    });

    describe('append', () => {
      it('builds a chain: seq from 1, each record linked to the one before, hash over its content', async () => {
        const a = await store.append(note(1, { incident_id: 'inc-1', tenant: 'acme' }));
        const b = await store.append(note(2, { proposal_id: 'p-1', incident_id: 'inc-1' }));
        const c = await store.append(decisionInput(atSec(3), { proposal_id: 'p-1', tenant: undefined }));

        expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
        expect(a.prev_hash).toBe(GENESIS_HASH);
        expect(b.prev_hash).toBe(a.hash);
        expect(c.prev_hash).toBe(b.hash);
        const content: ChainContent = {
          seq: 2,
          id: b.id,
          kind: 'note',
          actor: 'test',
          at: b.at,
          incident_id: 'inc-1',
          proposal_id: 'p-1',
          tenant: null,
          payload: { i: 2 },
        };
        expect(b.hash).toBe(chainHash(a.hash, content));
        expect(b).not.toHaveProperty('tenant');

        expect(await store.list()).toEqual([a, b, c]);
        expect(await store.list({ proposal_id: 'p-1' })).toEqual([b, c]);
        expect(await store.list({ incident_id: 'inc-1' })).toEqual([a, b]);
        expect(await store.list({ proposal_id: 'p-1', kind: 'decision' })).toEqual([c]);
        expect(await store.list({ tenant: 'acme' })).toEqual([a]);
        expect(await store.list({ since: b.at })).toEqual([b, c]);
        expect(await store.list({ since: c.at, kind: 'decision' })).toEqual([c]);
        await expectIntact(store, 3);
      });

      it('answers the gateway\'s questions: payload containment, newest first, and grants without a result', async () => {
        const grant = (id: string, target: string, at: number) => store.append(grantInput({ id, target, at: atSec(at), tenant: 'acme' }));
        await grant('g1', 'ns/Deployment/a', 1);
        await grant('g2', 'ns/Deployment/b', 2);
        await grant('g3', 'ns/Deployment/a', 3);
        await store.append(resultInput({ at: atSec(4), tenant: 'acme', grant_id: 'g1', tool: 'scale_deployment', args: { replicas: 3 } }));
        await store.append(resultInput({ at: atSec(5), tenant: 'acme', grant_id: 'g2', tool: 'rollback_deployment', args: {} }));
        const inFlight = async (tenant: string, since: string) =>
          (await store.decisionContext({ proposal_id: 'none', tenant, grants_since: since, results_since: since, target: { namespace: 'ns', deployment: 'a' }, results_limit: 1 })).inFlight;
        const since = note(0).at;
        expect(await inFlight('acme', since)).toEqual([{ id: 'g3', target: 'ns/Deployment/a', proposal_id: null }]);
        expect(await inFlight('acme', note(4).at)).toEqual([]);
        expect(await inFlight('other', since)).toEqual([]);
        const scales = await store.list({ kind: 'execution_result', payload_contains: { result: { tool: 'scale_deployment' } } });
        expect(scales.map((r) => r.kind === 'execution_result' && r.payload.grant_id)).toEqual(['g1']);
        const newest = await store.list({ tenant: 'acme', kind: 'grant', newest_first: true, limit: 2 });
        expect(newest.map((r) => r.kind === 'grant' && r.payload.grant.id)).toEqual(['g3', 'g2']);
      });

      it('reads a decision\'s context in one call: own records, grants in flight, the target\'s recent results', async () => {
        const result = (at: number, grant: string, tool: string, status: 'succeeded' | 'failed', deployment: string) =>
          store.append(resultInput({ at: atSec(at), tenant: 'acme', grant_id: grant, tool, status, args: { namespace: 'ns', deployment, replicas: at } }));
        const own1 = await store.append(proposalInput(atSec(1), { tenant: 'acme', proposal_id: 'p-9' }));
        await store.append(grantInput({ at: atSec(2), tenant: 'acme', proposal_id: 'p-1', id: 'g1', target: 'ns/Deployment/a' }));
        await store.append(grantInput({ at: atSec(3), tenant: 'acme', proposal_id: 'p-2', id: 'g2', target: 'ns/Deployment/b' }));
        await store.append(grantInput({ at: atSec(4), tenant: 'other', proposal_id: 'p-3', id: 'g3', target: 'x/Deployment/a' }));
        const r1 = await result(5, 'g1', 'scale_deployment', 'succeeded', 'a');
        await result(6, 'gx', 'scale_deployment', 'failed', 'a');
        await result(7, 'gy', 'scale_deployment', 'succeeded', 'b');
        const r2 = await result(8, 'gz', 'rollback_deployment', 'succeeded', 'a');
        const own2 = await store.append(decisionInput(atSec(9), { tenant: 'acme', proposal_id: 'p-9' }));
        const query = { proposal_id: 'p-9', tenant: 'acme', grants_since: note(0).at, results_since: note(0).at, target: { namespace: 'ns', deployment: 'a' }, results_limit: 10 };
        const ctx = await store.decisionContext(query);
        expect(ctx.own).toEqual([own1, own2]);
        expect(ctx.inFlight).toEqual([{ id: 'g2', target: 'ns/Deployment/b', proposal_id: 'p-2' }]);
        expect(ctx.recentResults).toEqual([r2, r1]);
        expect((await store.decisionContext({ ...query, results_limit: 1 })).recentResults).toEqual([r2]);
        expect((await store.decisionContext({ ...query, grants_since: note(3).at, results_since: note(6).at })).inFlight).toEqual([{ id: 'g2', target: 'ns/Deployment/b', proposal_id: 'p-2' }]);
        expect((await store.decisionContext({ ...query, results_since: note(6).at })).recentResults).toEqual([r2]);
        expect(await store.decisionContext({ ...query, proposal_id: 'none', tenant: 'nobody' })).toEqual({ own: [], inFlight: [], recentResults: [] });

        // A grant and its result in one transaction never show as in flight; a result in a later one closes its grant.
        const grantOf = (id: string, at: number) => ({ input: grantInput({ at: atSec(at), tenant: 'acme', proposal_id: `p-${id}`, id, target: 'ns/Deployment/c' }) });
        const resultOf = (id: string, at: number) => ({ input: resultInput({ at: atSec(at), tenant: 'acme', grant_id: id, tool: 'scale_deployment', status: 'failed', args: {} }) });
        await store.appendAll([grantOf('g4', 10), resultOf('g4', 11), grantOf('g5', 12)]);
        expect((await store.decisionContext(query)).inFlight.map((g) => g.id)).toEqual(['g2', 'g5']);
        await Promise.all([store.appendAll([resultOf('g5', 13)]), store.append(note(14))]);
        await store.appendAll([resultOf('g2', 15)]);
        expect((await store.decisionContext(query)).inFlight).toEqual([]);
      });

      it('keeps one chain when two stores take turns: a store whose idea of the tail is stale writes nothing, then links to the real one', async () => {
        const other = new PgAuditStore({ connectionString: ctx.connectionString, schema: s, poolSize: 1, auditKey: key });
        try {
          const a1 = await store.append(note(1));
          const a2 = await store.appendAll([{ input: note(2) }, { input: note(3), message: { stream: 'governor:control', event: controlEvent() } }]);
          const b1 = await other.append(note(4)); // `store` still thinks the log ends at a2
          const a3 = await store.appendWithOutbox(note(5), { stream: 'governor:control', event: controlEvent() });
          const b2 = await other.append(note(6));
          expect([a1, ...a2, b1, a3, b2].map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
          expect(b1.prev_hash).toBe(a2[1]!.hash);
          expect(a3.prev_hash).toBe(b1.hash);
          expect(b2.prev_hash).toBe(a3.hash);
          await expectIntact(store, 6);
          // The refused attempt queued no event: exactly the two that belong to written records.
          expect((await store.pendingOutbox(10)).length).toBe(2);
        } finally {
          await other.close();
        }
      });

      it('keeps one linear chain under 50 concurrent appends', async () => {
        const records = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(note(i))));
        expect(new Set(records.map((r) => r.seq))).toEqual(new Set(Array.from({ length: 50 }, (_, i) => i + 1)));
        expect(new Set(records.map((r) => r.prev_hash)).size).toBe(50);
        await expectIntact(store, 50);
      });

      it('round-trips payloads through jsonb without breaking the chain', async () => {
        const payload = {
          z_last: 'keys in any order',
          a_first: { nested: { deeper: [1, { b: 2, a: 1 }, [[]]] }, empty: {}, list: [] },
          floats: [0.1 + 0.2, 1e21, 1.5e300, 5e-324, -0, 123456789.12345679, -2.5e-7, 9007199254740993],
          ints: [0, -1, 2 ** 53 - 1],
          unicode: ['é', 'e\u0301', '😀 emoji', '中文', 'עברית', '\u2028\u2029', 'tab\tnewline\n"quote"\\'],
          'ключ 🔑': 'unicode key',
          nulls: [null, { n: null }],
          bools: [true, false],
          dropped: undefined,
          when: new Date(Date.UTC(2025, 5, 1)),
        };
        const appended = await store.append(note(1, { payload }));
        const expected = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
        expect(appended.payload).toEqual(expected);
        expect(appended.payload).not.toHaveProperty('dropped');
        const [listed] = await store.list();
        expect(canonicalJson(listed?.payload)).toBe(canonicalJson(appended.payload));
        expect(listed?.hash).toBe(appended.hash);
        await store.append(note(2));
        await expectIntact(store, 2);
      });

      it('refuses a payload jsonb cannot hold, as a terminal error, and leaves the chain intact', async () => {
        await store.append(note(1));
        await expectAuditError(store.append(note(2, { payload: { log: 'nul \u0000 byte' } })), false);
        await store.append(note(3));
        await expectIntact(store, 2);
      });
    });

    describe('typed records', () => {
      it('refuses a record its kind does not describe, naming every problem, as a terminal error; the chain is intact', async () => {
        await store.append(note(1));
        const bad = { kind: 'grant', actor: 'gateway', at: atSec(2), payload: { grant: { id: 'g1' } } } as unknown as AuditInput;
        const err = await store.append(bad).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(GovernorError);
        expect(err).toMatchObject({ code: 'event_invalid', retryable: false, message: expect.stringMatching(/^audit record 'grant' is malformed: (?=.*grant\.type: )(?=.*target: )/) });
        await expect(store.append({ ...note(3), kind: 'gossip' } as unknown as AuditInput)).rejects.toMatchObject({ code: 'event_invalid' });
        await store.append(note(4));
        expect(await store.verify()).toMatchObject({ valid: true, records: 2 });
      });
    });

    describe('one decision per proposal, enforced by the database', () => {
      it('refuses a second decision on a proposal and a second vote by one person, whoever writes them', async () => {
        await store.append(voteInput({ proposal_id: 'p-1', voter: 'U1', approved: true, at: atSec(1), outcome: 'approved' }));
        // Written straight to the store, past any check in code: PostgreSQL refuses the second decision.
        await expectAuditError(store.append(voteInput({ proposal_id: 'p-1', voter: 'U2', approved: false, at: atSec(2), outcome: 'rejected' })), false, /approval_outcomes/);
        await expectAuditError(store.append(voteInput({ proposal_id: 'p-1', voter: 'U1', approved: true, at: atSec(3) })), false, /approval_votes/);
        // Another proposal is not affected, and a refused append leaves no trace in the log.
        await store.append(voteInput({ proposal_id: 'p-2', voter: 'U1', approved: false, at: atSec(4), outcome: 'rejected' }));
        expect((await store.list()).map((r) => r.proposal_id)).toEqual(['p-1', 'p-2']);
        expect(await store.verify()).toMatchObject({ valid: true, records: 2 });
        await expect(admin.query(`DELETE FROM ${s}.approval_outcomes`)).rejects.toThrow(/append-only/);
      });

      it('appendChecked reads under the chain lock and writes what the plan returns, or nothing when it throws', async () => {
        await store.append(note(1, { proposal_id: 'p-1' }));
        const seen = await store.appendChecked(async (read) => {
          const mine = await read.list({ proposal_id: 'p-1' });
          return { entries: [{ input: note(2, { proposal_id: 'p-1', payload: { saw: mine.length } }) }], result: mine.length };
        });
        expect(seen.result).toBe(1);
        expect(seen.records.map((r) => r.seq)).toEqual([2]);
        await expect(store.appendChecked(async () => { throw new Error('changed my mind'); })).rejects.toThrow(/changed my mind/);
        // Concurrent plans that each write only when nothing was written yet: exactly one writes.
        const once = () => store.appendChecked(async (read) => {
          const done = (await read.list({ proposal_id: 'p-once' })).length > 0;
          return { entries: done ? [] : [{ input: note(9, { proposal_id: 'p-once' }) }], result: !done };
        });
        const [results] = await Promise.all([Promise.all([once(), once(), once()]), store.append(note(10))]);
        expect(results.filter((r) => r.result)).toHaveLength(1);
        expect(await store.list({ proposal_id: 'p-once' })).toHaveLength(1);
        expect(await store.verify()).toMatchObject({ valid: true, records: 4 });
      });

      it('keeps the verifications pending that an execution planned, until its verification is recorded', async () => {
        const exec = resultInput({ at: atSec(1), tenant: 'acme', proposal_id: 'p-v', grant_id: 'g1', tool: 'scale_deployment', args: {} });
        const plan = { started_at: atSec(1), deadline: atSec(301), level: 3 as const, before: 900, of: 'action' as const };
        await store.append({ ...exec, payload: { ...exec.payload, verification: plan } });
        expect(await store.pendingVerifications()).toEqual([{ proposal_id: 'p-v', tenant: 'acme', plan }]);
        const v = { id: 'v1', v: 1 as const, ts: atSec(60), type: 'verification' as const, proposal_id: 'p-v', agent: 'elastik' as const, tenant: 'acme',
          outcome: 'restored' as const, metric: 'p99', before: 900, after: 200, slo_threshold: 500 };
        await store.append({ kind: 'verification', actor: 'elastik', at: atSec(60), proposal_id: 'p-v', tenant: 'acme', payload: { verification: v } });
        expect(await store.pendingVerifications()).toEqual([]);
      });
    });

    describe('append-only, enforced by the database', () => {
      it('refuses UPDATE, DELETE and TRUNCATE of audit records', async () => {
        await store.append(note(1));
        await expect(admin.query(`UPDATE ${s}.audit_records SET actor = 'mallory'`)).rejects.toThrow(APPEND_ONLY);
        await expect(admin.query(`DELETE FROM ${s}.audit_records`)).rejects.toThrow(APPEND_ONLY);
        await expect(admin.query(`TRUNCATE ${s}.audit_records`)).rejects.toThrow(APPEND_ONLY);
        // Even a statement that matches no row.
        await expect(admin.query(`DELETE FROM ${s}.audit_records WHERE seq = 999`)).rejects.toThrow(APPEND_ONLY);
        await expectIntact(store, 1);
      });

      it('is not switched off by session_replication_role = replica', async () => {
        await store.append(note(1));
        await admin.query('BEGIN');
        try {
          await admin.query('SET LOCAL session_replication_role = replica');
          await expect(admin.query(`DELETE FROM ${s}.audit_records`)).rejects.toThrow(APPEND_ONLY);
        } finally {
          await admin.query('ROLLBACK');
        }
      });

      it('refuses UPDATE, DELETE and TRUNCATE of execution claims', async () => {
        await store.claimExecution({ grant_id: 'g-1', proposal_id: 'p-1', consumer: 'c', at: new Date().toISOString() });
        const claimsAppendOnly = /execution_claims is append-only/;
        await expect(admin.query(`UPDATE ${s}.execution_claims SET consumer = 'x'`)).rejects.toThrow(claimsAppendOnly);
        await expect(admin.query(`DELETE FROM ${s}.execution_claims`)).rejects.toThrow(claimsAppendOnly);
        await expect(admin.query(`TRUNCATE ${s}.execution_claims`)).rejects.toThrow(claimsAppendOnly);
      });
    });

    describe('outbox', () => {
      it('appendWithOutbox stores the record and the event together', async () => {
        const event = controlEvent();
        const record = await store.appendWithOutbox(note(1), { stream: 'governor:control', event });
        expect(await store.list()).toEqual([record]);
        const pending = await store.pendingOutbox(10);
        expect(pending).toEqual([{ outbox_id: expect.any(Number), stream: 'governor:control', event }]);
      });

      it('appendWithOutbox stores neither when the outbox row is refused', async () => {
        await store.append(note(1));
        await expectAuditError(store.appendWithOutbox(note(2), { stream: '', event: controlEvent() }), false, /outbox_stream_check/);
        expect((await store.list()).map((r) => r.seq)).toEqual([1]);
        expect(await store.pendingOutbox(10)).toEqual([]);
        // The failed attempt left no gap in the chain.
        const next = await store.append(note(3));
        expect(next.seq).toBe(2);
        await expectIntact(store, 2);
      });

      it('commits concurrent appends in groups, and a bad one in a group fails alone', async () => {
        const writes = Array.from({ length: 120 }, (_, i) =>
          i % 40 === 7
            ? store.appendWithOutbox(note(i), { stream: '', event: controlEvent() }).then(() => 'stored', () => 'refused')
            : store.appendWithOutbox(note(i), { stream: 'governor:control', event: controlEvent() }).then(() => 'stored'),
        );
        const outcomes = await Promise.all(writes);
        expect(outcomes.filter((o) => o === 'refused')).toHaveLength(3);
        const records = await store.list();
        expect(records).toHaveLength(117);
        expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 117 }, (_, i) => i + 1));
        expect(await store.pendingOutbox(500)).toHaveLength(117);
        await expectIntact(store, 117);
      });

      it('appendAll writes a unit consecutively, all or none', async () => {
        const [a, b] = await store.appendAll([
          { input: note(1), message: { stream: 'governor:control', event: controlEvent() } },
          { input: note(2) },
        ]);
        expect([a!.seq, b!.seq]).toEqual([1, 2]);
        expect(b!.prev_hash).toBe(a!.hash);
        await expectAuditError(
          store.appendAll([{ input: note(3) }, { input: note(4), message: { stream: '', event: controlEvent() } }]),
          false,
          /outbox_stream_check/,
        );
        expect((await store.list()).map((r) => r.seq)).toEqual([1, 2]);
        expect(await store.pendingOutbox(10)).toHaveLength(1);
        await expectIntact(store, 2);
      });

      it('lists pending entries oldest first and forgets them once published', async () => {
        const events = [controlEvent(), controlEvent(), controlEvent()];
        for (const [i, event] of events.entries()) await store.appendWithOutbox(note(i), { stream: 'governor:control', event });
        const firstTwo = await store.pendingOutbox(2);
        expect(firstTwo.map((e) => e.event.id)).toEqual([events[0]?.id, events[1]?.id]);

        const first = firstTwo[0]!;
        await store.markPublished(first.outbox_id, '1-0');
        await store.markPublished(first.outbox_id, '2-0'); // a republish keeps the first bus id
        expect((await store.pendingOutbox(10)).map((e) => e.event.id)).toEqual([events[1]?.id, events[2]?.id]);
        const { rows } = await admin.query(`SELECT bus_id FROM ${s}.outbox WHERE id = ${first.outbox_id}`);
        expect(rows).toEqual([{ bus_id: '1-0' }]);
      });
    });

    describe('claimExecution', () => {
      const claim = (grant_id: string, consumer = 'executor-1') => ({ grant_id, proposal_id: 'p-1', consumer, at: new Date().toISOString() });

      it('is true exactly once per grant', async () => {
        expect(await store.claimExecution(claim('g-1'))).toBe(true);
        expect(await store.claimExecution(claim('g-1'))).toBe(false);
        expect(await store.claimExecution(claim('g-1', 'executor-2'))).toBe(false);
        expect(await store.claimExecution(claim('g-2'))).toBe(true);
      });

      it('gives exactly one of 10 concurrent claims the grant', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claimExecution(claim('g-race', `executor-${i}`))));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('verify detects tampering', () => {
      let records: AuditRecord[];
      beforeEach(async () => {
        records = [];
        for (let i = 1; i <= 5; i++) records.push(await store.append(note(i, { proposal_id: `p-${i}` })));
      });

      it.each([
        ['payload', `payload = jsonb_set(payload, '{i}', '99')`],
        ['actor', `actor = 'mallory'`],
        ['at', `at = '2030-01-01T00:00:00.000Z'`],
        ['kind', `kind = 'approval'`],
        ['tenant (null to a value)', `tenant = 'acme'`],
        ['proposal_id', `proposal_id = 'p-other'`],
        ['hash', `hash = repeat('a', 64)`],
      ])('altering %s of one record', async (column, set) => {
        await tamper(admin, s, `UPDATE ${s}.audit_records SET ${set} WHERE seq = 3`);
        expect(await store.verify()).toEqual({
          valid: false,
          records: 2,
          first_bad: { seq: 3, id: records[2]!.id, reason: 'hash mismatch' },
          head: { seq: 2, hash: records[1]!.hash },
          seals: { key_id: key.keyId, sealed: 2, unsealed: 0 },
        });
      });

      it('rewriting a record with the same content (other key order, other spacing) is not tampering', async () => {
        await tamper(admin, s, `UPDATE ${s}.audit_records SET payload = '{ "i" :  3.0 }'::jsonb WHERE seq = 3`);
        await expectIntact(store, 5);
      });

      it('a record rewritten with a consistent hash fails its seal, and would break the link of the next one', async () => {
        const r = records[2]!;
        const forged = chainHash(r.prev_hash, {
          seq: 3, id: r.id, kind: r.kind, actor: r.actor, at: r.at,
          incident_id: null, proposal_id: 'p-3', tenant: null, payload: { i: 999 },
        });
        await tamper(admin, s, `UPDATE ${s}.audit_records SET payload = '{"i": 999}', hash = '${forged}' WHERE seq = 3`);
        expect((await store.verify()).first_bad).toEqual({ seq: 3, id: r.id, reason: expect.stringMatching(/^seal does not hold for audit key audit-[0-9a-f]{16}/) });
        // Even with a seal forged by another key, the next record's link still gives it away.
        const mallory = generateAuditKey();
        await tamper(admin, s, `UPDATE ${s}.audit_records SET seal = '${sealOf(mallory, forged)}' WHERE seq = 3`);
        expect((await store.verify()).first_bad?.reason).toMatch(/seal does not hold/);
        const unsealed = new PgAuditStore({ connectionString: ctx.connectionString, schema: s, poolSize: 1 });
        try {
          expect((await unsealed.verify()).first_bad).toEqual({ seq: 4, id: records[3]!.id, reason: 'broken link to previous record' });
        } finally {
          await unsealed.close();
        }
      });

      it('a deleted record leaves a gap', async () => {
        await tamper(admin, s, `DELETE FROM ${s}.audit_records WHERE seq = 3`);
        expect(await store.verify()).toMatchObject({
          valid: false,
          records: 2,
          first_bad: { seq: 4, id: records[3]!.id, reason: 'missing record (gap at seq 3)' },
          head: { seq: 2, hash: records[1]!.hash },
        });
      });

      it('a deleted first record leaves a gap at seq 1', async () => {
        await tamper(admin, s, `DELETE FROM ${s}.audit_records WHERE seq = 1`);
        expect((await store.verify()).first_bad).toEqual({ seq: 2, id: records[1]!.id, reason: 'missing record (gap at seq 1)' });
      });

      it('auditVerify prints the verdict and returns the exit code', async () => {
        const lines: string[] = [];
        expect(await auditVerify(store, (l) => lines.push(l))).toBe(0);
        expect(lines).toEqual([
          `audit chain valid: 5 records (head seq 5, hash ${records[4]!.hash.slice(0, 16)}…)`,
          `seals: 5 records sealed by audit key ${key.keyId}`,
        ]);

        await tamper(admin, s, `UPDATE ${s}.audit_records SET payload = '{"i": 0}' WHERE seq = 2`);
        lines.length = 0;
        expect(await auditVerify(store, (l) => lines.push(l))).toBe(1);
        expect(lines[0]).toContain('BROKEN at seq 2');
        expect(lines[0]).toContain(records[1]!.id);
        expect(lines[0]).toContain('hash mismatch');
        expect(lines.at(-1)).toBe('audit log does NOT hold');
      });
    });

    describe('seals: only the audit key makes records that verify', () => {
      it('seals every record: Ed25519 by the audit key over its hash, stored and listed with it', async () => {
        const [a, b] = await store.appendAll([{ input: note(1) }, { input: note(2) }]);
        const c = await store.append(note(3));
        for (const r of [a!, b!, c]) {
          expect(r.seal).toMatch(/^[A-Za-z0-9_-]{86}$/);
          expect(sealHolds(key, r.hash, r.seal!)).toBe(true);
        }
        expect(sealHolds(key, a!.hash, c.seal!)).toBe(false);
        expect(await store.list()).toEqual([a, b, c]);
        await expectIntact(store, 3);
      });

      it('a forged append with a correct hash but no seal fails at that record', async () => {
        for (let i = 1; i <= 3; i++) await store.append(note(i));
        const forged = await forgeAppend(null);
        expect(await store.verify()).toMatchObject({
          valid: false,
          records: 3,
          first_bad: { seq: 4, id: forged.id, reason: 'no seal, though records are sealed since seq 1: not written by Governor (a forged append?)' },
        });
      });

      it('a forged append sealed with another key fails at that record', async () => {
        await store.append(note(1));
        const forged = await forgeAppend(null);
        await tamper(admin, s, `UPDATE ${s}.audit_records SET seal = '${sealOf(generateAuditKey(), forged.hash)}' WHERE seq = ${forged.seq}`);
        expect((await store.verify()).first_bad).toEqual({ seq: 2, id: forged.id, reason: expect.stringContaining(`seal does not hold for audit key ${key.keyId}`) });
      });

      it('counts the records written before sealing was enabled as unsealed, not as forged', async () => {
        const before = new PgAuditStore({ connectionString: ctx.connectionString, schema: s, poolSize: 1 });
        try {
          for (let i = 1; i <= 3; i++) await before.append(note(i));
        } finally {
          await before.close();
        }
        const after = await store.append(note(4));
        expect(await store.verify()).toEqual({ valid: true, records: 4, head: { seq: 4, hash: after.hash }, seals: { key_id: key.keyId, sealed: 1, unsealed: 3 } });
        const lines: string[] = [];
        expect(await auditVerify(store, (l) => lines.push(l))).toBe(0);
        expect(lines).toContain(`seals: 1 record sealed by audit key ${key.keyId}; 3 unsealed, written before sealing was enabled`);
      });

      it('a store given only the public key checks seals and refuses to write', async () => {
        const a = await store.append(note(1));
        const verifier = new PgAuditStore({ connectionString: ctx.connectionString, schema: s, poolSize: 1, auditKey: auditPublicKey(key.publicKey) });
        try {
          expect(await verifier.verify()).toEqual({ valid: true, records: 1, head: { seq: 1, hash: a.hash }, seals: { key_id: key.keyId, sealed: 1, unsealed: 0 } });
          await expect(verifier.append(note(2))).rejects.toThrow(/holds only the audit public key/);
        } finally {
          await verifier.close();
        }
        expect((await store.list()).length).toBe(1);
      });

      it('answers where the chain ends and what hash a seq has', async () => {
        expect(await store.head()).toBeNull();
        expect(await store.hashAt(1)).toBeNull();
        const [a, b] = [await store.append(note(1)), await store.append(note(2))];
        expect(await store.head()).toEqual({ seq: 2, hash: b.hash });
        expect(await store.hashAt(1)).toBe(a.hash);
        expect((await store.verify({ hashesAt: [1, 7] })).hashes_at).toEqual({ 1: a.hash });
      });
    });

    describe('checkpoints: what was anchored outside the database cannot go missing unnoticed', () => {
      let dir: string;
      let file: string;
      let records: AuditRecord[];
      const clock = new VirtualClock(Date.parse('2026-11-24T10:00:00Z'));
      const notices: string[] = [];
      const checkpointer = () =>
        new Checkpointer({ audit: store, key, schema: s, file, notify: (t) => void notices.push(t), clock, intervalMs: 60_000, logger: silentLogger() });
      const verifyLines = async (): Promise<{ code: number; lines: string[]; report: VerifyReport }> => {
        const lines: string[] = [];
        const checkpoints = { file, schema: s, key: auditPublicKey(key.publicKey) };
        const code = await auditVerify(store, (l) => lines.push(l), { checkpoints });
        const json: string[] = [];
        expect(await auditVerify(store, (l) => json.push(l), { checkpoints, json: true })).toBe(code);
        return { code, lines, report: JSON.parse(json.join('\n')) as VerifyReport };
      };

      beforeEach(async () => {
        dir = await mkdtemp(join(tmpdir(), 'governor-checkpoints-'));
        file = join(dir, 'checkpoints.jsonl');
        notices.length = 0;
        records = [];
        for (let i = 1; i <= 8; i++) records.push(await store.append(note(i)));
      });
      afterEach(async () => {
        await rm(dir, { recursive: true, force: true });
      });

      it('signs the head into the file and the channel; a valid log with records after it passes and says they are not yet anchored', async () => {
        const cp = checkpointer();
        const first = await cp.start();
        expect(first).toMatchObject({ status: 'written', checkpoint: { schema: s, seq: 8, hash: records[7]!.hash, at: '2026-11-24T10:00:00.000Z', key_id: key.keyId } });
        expect(notices).toEqual([`Audit checkpoint: seq 8, hash ${records[7]!.hash.slice(0, 16)}… (${s}, key ${key.keyId})`]);
        expect(await cp.checkpoint()).toEqual({ status: 'unchanged' });
        for (let i = 9; i <= 11; i++) await store.append(note(i));
        await cp.stop();
        const cpLines = (await readFile(file, 'utf8')).trim().split('\n');
        expect(cpLines).toHaveLength(2);
        expect(JSON.parse(cpLines[1]!)).toMatchObject({ seq: 11 });

        // Three more after the last checkpoint: present, not yet anchored, not a failure.
        for (let i = 12; i <= 14; i++) await store.append(note(i));
        const { code, lines, report } = await verifyLines();
        expect(code).toBe(0);
        expect(lines).toContain(`checkpoints: the latest checkpoint (at 2026-11-24T10:00:00.000Z) anchors seq 11, hash ${JSON.parse(cpLines[1]!).hash.slice(0, 16)}…, and the log has it; 3 records after it are not yet anchored (2 checkpoints in ${file})`);
        expect(lines.at(-1)).toBe('audit log holds: chain, seals and checkpoints');
        expect(report).toMatchObject({ valid: true, records: 14, problems: [], checkpoints: { status: 'anchored', count: 2, unanchored: 3, missing: null, latest: { seq: 11 } } });
      });

      it('a log truncated by its owner (the newest records deleted behind the trigger) fails and says which records are missing', async () => {
        await checkpointer().start();
        for (let i = 9; i <= 12; i++) await store.append(note(i));
        const cp = checkpointer();
        await cp.start(); // anchors seq 12
        await tamper(admin, s, `DELETE FROM ${s}.audit_records WHERE seq > 9`);
        // The chain alone still holds: a shorter chain is a valid chain.
        expect((await store.verify()).valid).toBe(true);
        const { code, lines, report } = await verifyLines();
        expect(code).toBe(1);
        const latest = report.checkpoints!.latest!;
        const expected = `the latest checkpoint (at ${latest.at}) anchors seq 12, hash ${latest.hash.slice(0, 16)}…; the log ends at seq 9: records 10–12 are missing`;
        expect(lines).toContain(`  - TRUNCATED: ${expected}`);
        expect(report).toMatchObject({ valid: false, records: 9, checkpoints: { status: 'truncated', missing: { from: 10, to: 12 } }, problems: [{ kind: 'truncated', message: expected }] });

        // The running checkpointer will not bless the shorter log, even once new records make it look longer.
        notices.length = 0;
        for (let i = 10; i <= 14; i++) await store.append(note(i));
        const next = await cp.checkpoint();
        expect(next).toMatchObject({ status: 'discontinuous' });
        expect(notices).toEqual([expect.stringMatching(/^Audit log ALERT .*anchors seq 12, .*the records up to it were replaced\. No checkpoint is signed/)]);
        expect(await cp.checkpoint()).toMatchObject({ status: 'discontinuous' });
        expect(notices).toHaveLength(1); // said once, not every interval
        expect((await verifyLines()).report.checkpoints).toMatchObject({ status: 'replaced' });
        // A new process reading the file refuses just the same.
        expect(await checkpointer().start()).toMatchObject({ status: 'discontinuous' });
      });

      it('a forged append after the latest checkpoint fails through its seal', async () => {
        await checkpointer().start();
        const forged = await forgeAppend(null);
        const { code, lines, report } = await verifyLines();
        expect(code).toBe(1);
        expect(lines[0]).toBe(`audit chain BROKEN at seq 9 (id ${forged.id}): no seal, though records are sealed since seq 1: not written by Governor (a forged append?); 8 records before it are intact`);
        expect(report.first_bad).toMatchObject({ seq: 9, id: forged.id });
        expect(report.checkpoints).toMatchObject({ status: 'anchored' });
      });

      it('refuses a checkpoint line not signed by the audit key, and a log with no checkpoint at all', async () => {
        const none = await verifyLines();
        expect(none.code).toBe(1);
        expect(none.report.problems).toEqual([{ kind: 'no_checkpoint', message: expect.stringContaining(`no checkpoint for schema '${s}' in ${file}`) }]);
        await checkpointer().start();
        const forged = signCheckpoint(generateAuditKey(), { schema: s, seq: 8, hash: records[7]!.hash, at: '2026-11-24T11:00:00.000Z' });
        await writeFile(file, `${JSON.stringify({ ...forged, key_id: key.keyId })}\nnot json\n`, { flag: 'a' });
        const bad = await verifyLines();
        expect(bad.code).toBe(1);
        expect(bad.report.problems).toEqual([{ kind: 'unsigned_checkpoint', message: expect.stringContaining('checkpoint file line 2 (seq 8) is not signed by audit key') }]);
        expect(bad.report.checkpoints).toMatchObject({ status: 'anchored', count: 1 });
      });
    });

    describe('verify pages through long logs', () => {
      it('checks every record across pages and finds a break deep in the log', async () => {
        // Built outside the store with the documented formula, inserted in one statement: fast,
        // and proof that the chain can be checked independently of this code.
        const rows: Array<ChainContent & { prev_hash: string; hash: string }> = [];
        let prev = GENESIS_HASH;
        for (let seq = 1; seq <= 2500; seq++) {
          const content: ChainContent = {
            seq, id: randomUUID(), kind: 'observation', actor: 'watchtower', at: new Date(Date.UTC(2025, 0, 1, 0, 0, seq)).toISOString(),
            incident_id: seq % 2 ? 'inc-1' : null, proposal_id: null, tenant: 'acme', payload: { seq, v: seq / 7 },
          };
          const hash = chainHash(prev, content);
          rows.push({ ...content, prev_hash: prev, hash });
          prev = hash;
        }
        const json = JSON.stringify(rows).replaceAll("'", "''");
        await admin.query(
          `INSERT INTO ${s}.audit_records (seq, id, kind, actor, at, incident_id, proposal_id, tenant, payload, prev_hash, hash)
           SELECT seq, id, kind, actor, at, incident_id, proposal_id, tenant, payload, prev_hash, hash
           FROM jsonb_to_recordset('${json}'::jsonb) AS r(seq bigint, id uuid, kind text, actor text, at text,
             incident_id text, proposal_id text, tenant text, payload jsonb, prev_hash text, hash text)`,
        );
        // Written without the audit key: as records from before sealing was enabled.
        expect(await store.verify()).toEqual({ valid: true, records: 2500, head: { seq: 2500, hash: prev }, seals: { key_id: key.keyId, sealed: 0, unsealed: 2500 } });
        const next = await store.append(note(1));
        expect(next).toMatchObject({ seq: 2501, prev_hash: prev });
        expect((await store.verify()).seals).toEqual({ key_id: key.keyId, sealed: 1, unsealed: 2500 });

        await tamper(admin, s, `UPDATE ${s}.audit_records SET payload = '{"seq": 2222, "v": 0}' WHERE seq = 2222`);
        expect(await store.verify()).toMatchObject({
          valid: false,
          records: 2221,
          first_bad: { seq: 2222, id: rows[2221]!.id, reason: 'hash mismatch' },
          head: { seq: 2221, hash: rows[2220]!.hash },
        });
      });
    });

    describe('errors', () => {
      it('refuses to work once closed', async () => {
        await store.close();
        await expectAuditError(store.append(note(1)), false, /closed/);
      });
    });
  });
}
