// The gateway bench, short, against the real PostgreSQL: every proposal decided, and the bare-commit
// floor measured in the same run beside it — one commit per proposal, none failed — with the ratio
// computed from the figures it prints. The latency bar itself is the bench's business, not a test's.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CommitFloor } from '../../src/bench/commit-floor.ts';
import { benchGateway } from '../../src/bench/gateway-bench.ts';
import { chartOf, report } from '../../commands/bench.ts';

const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('governor bench gateway', () => {
  const schema = `floor_${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  it('commits one row per call at the rate asked, and only to its own table', async () => {
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.end();
    const floor = new CommitFloor({ connectionString: PG, schema, poolSize: 4 });
    try {
      await floor.prepare();
      const r = await floor.run(100, 0.5);
      expect(r).toMatchObject({ commits: 50, errors: 0 });
      expect(r.p50_ms).toBeGreaterThan(0);
      expect(r.p99_ms).toBeGreaterThanOrEqual(r.p50_ms);
      expect(await floor.rows()).toBe(50);
    } finally {
      await floor.close();
    }
    expect(() => new CommitFloor({ connectionString: PG, schema: 'x"; DROP TABLE y; --', poolSize: 1 })).toThrow(/unsafe schema/);
  });

  it('prints the floor of the same run beside the decision latency, and their ratio', async () => {
    const r = await benchGateway({ databaseUrl: PG, ratePerS: 40, durationS: 1, tenants: 5, policyIterations: 200 });
    expect(r.gateway.proposals).toBe(40);
    expect(r.floor.beside).toMatchObject({ commits: 40, errors: 0 });
    expect(r.floor.alone).toMatchObject({ commits: 40, errors: 0 });
    expect(r.floor.beside.p99_ms).toBeGreaterThan(0);
    expect(r.floor.sql).toMatch(/^BEGIN; INSERT INTO ".*"\.commit_floor .*; COMMIT$/);
    expect(r.ratio.p99).toBeCloseTo(r.gateway.decision.p99_ms / r.floor.beside.p99_ms, 1);
    expect(r.ratio.p50).toBeCloseTo(r.gateway.decision.p50_ms / r.floor.beside.p50_ms, 1);
    expect(r.ratio.met).toBe(r.gateway.decision.p99_ms <= 3 * r.floor.beside.p99_ms);
    expect(chartOf(r).subarray(1, 4).toString()).toBe('PNG');
    const text = report(r);
    expect(text).toContain('bare single-row INSERT + COMMIT');
    expect(text).toMatch(new RegExp(`decision over floor: p50 ${r.ratio.p50}x, p99 ${r.ratio.p99}x`));
    // The bench leaves nothing behind: its schema, floor table included, is dropped.
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    const { rows } = await c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'commit_floor' AND table_schema LIKE 'bench_%'`);
    await c.end();
    expect(rows[0].n).toBe(0);
  }, 120_000);
});
