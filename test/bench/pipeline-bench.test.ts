// The pipeline bench, briefly, against the real Redis and PostgreSQL with the processes apart: every
// offered proposal decided, grants carried to an audited outcome, both floors measured in the same
// run at the same rate, the pause seen in all seven processes and the supervisor's MCP servers, and
// nothing left behind (its database dropped, its Redis keys deleted). The figures are printed, not
// held to targets: this machine is shared and noisy.
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { benchPipeline } from '../../src/bench/pipeline-bench.ts';
import { charts, report } from '../../commands/bench-pipeline.ts';

const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
// A Redis database of its own, on TEST_REDIS_URL's server: the bench refuses one holding keys, and the
// other suites share TEST_REDIS_URL's own database (with key prefixes) while this one runs beside them.
const REDIS = process.env['TEST_PIPELINE_REDIS_URL'] ?? (() => {
  const u = new URL(process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  u.pathname = '/13';
  return u.toString();
})();
const BIN = fileURLToPath(new URL('../../bin/governor.mjs', import.meta.url));

async function benchDatabases(): Promise<string[]> {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  try {
    const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'governor_bench_%'");
    return rows.map((r) => r.datname);
  } finally {
    await c.end();
  }
}

describe('governor bench pipeline', () => {
  it('refuses a Redis database that holds keys, and creates nothing', async () => {
    const redis = new Redis(REDIS);
    const before = await benchDatabases();
    try {
      await redis.set('pipeline-bench-test:occupied', '1');
      await expect(benchPipeline({ redisUrl: REDIS, databaseUrl: PG, ratePerS: 1, durationS: 1, bin: BIN })).rejects.toThrow(/holds 1 key;.*another database number, e\.g\. redis:\/\/[^ ]+\/\d+$/);
    } finally {
      await redis.del('pipeline-bench-test:occupied');
      redis.disconnect();
    }
    expect(await benchDatabases()).toEqual(before);
  });

  it('decides every proposal, measures both stages beside the floors, and the pause in every process', async () => {
    const lines: string[] = [];
    const r = await benchPipeline({ redisUrl: REDIS, databaseUrl: PG, ratePerS: 10, durationS: 3, bin: BIN, onProgress: (l) => lines.push(l) });
    process.stderr.write(`${report(r)}\n`);

    expect(r.setup.processes).toEqual(expect.arrayContaining(['watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist', 'gateway', 'executor']));
    // No proposal lost.
    expect(r.load).toMatchObject({ offered: 30, decided: 30, lost: 0 });
    expect(r.proposal_to_decision.samples).toBe(30);
    expect(Object.values(r.load.verdicts).reduce((a, b) => a + b, 0)).toBe(30);
    expect(r.proposal_to_decision.p50_ms).toBeGreaterThan(0);
    expect(r.proposal_to_decision.p99_ms).toBeGreaterThanOrEqual(r.proposal_to_decision.p50_ms);
    // Granted scales reach an audited outcome through the executor and the MCP server.
    expect(r.load.verdicts['allow']).toBeGreaterThan(0);
    expect(r.grant_to_outcome.grants).toBe(r.load.verdicts['allow']);
    expect(r.grant_to_outcome.samples).toBe(r.grant_to_outcome.grants);
    expect(r.grant_to_outcome.p50_ms).toBeGreaterThan(0);
    // The floors of the same run, at the same rate.
    expect(r.floors.redis_ping).toMatchObject({ round_trips: 30, errors: 0 });
    expect(r.floors.pg_commit).toMatchObject({ commits: 30, errors: 0 });
    expect(r.floors.redis_ping.p99_ms).toBeGreaterThan(0);
    expect(r.floors.pg_commit.p99_ms).toBeGreaterThan(0);
    expect(r.ratios.decision_p99_over_pg_commit_p99).toBeCloseTo(r.proposal_to_decision.p99_ms / r.floors.pg_commit.p99_ms, 1);
    // The pause, seen in every process (seven children, and the supervisor's MCP servers through the epoch).
    const procs = r.pause.processes;
    expect(Object.keys(procs)).toHaveLength(8);
    for (const name of ['watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist', 'gateway', 'executor']) {
      expect(procs[name]!.view_applied_ms, name).not.toBeNull();
    }
    for (const p of Object.values(procs)) expect(p.refuses_ms).not.toBeNull();
    expect(r.pause.all_refusing_ms).toBe(Math.max(...Object.values(procs).map((p) => p.refuses_ms!)));
    expect(r.pause.pause_epoch_in_redis_ms).not.toBeNull();
    expect(r.pause.probe).toMatchObject({ verdict: 'deny', level_1: true });
    expect(r.audit.chain_valid).toBe(true);

    // The output: a report and three PNGs.
    expect(report(r)).toMatch(/proposal → decision \(30\)/);
    const pngs = charts(r);
    expect(Object.keys(pngs)).toEqual(['', '-pause', '-timeline']);
    for (const png of Object.values(pngs)) expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(lines.some((l) => l.startsWith('load done'))).toBe(true);

    // Nothing left behind.
    expect((await benchDatabases()).filter((d) => r.setup.database.startsWith(d))).toEqual([]);
    const redis = new Redis(REDIS);
    try {
      expect(await redis.dbsize()).toBe(0);
    } finally {
      redis.disconnect();
    }
  }, 300_000);
});
