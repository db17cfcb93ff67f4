// The seed incident end to end (DESIGN §6), through the whole pipeline in virtual time: once on the
// embedded defaults (in-memory bus, PGlite) and once on the real Redis and PostgreSQL.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { runDemo, type DemoSummary } from '../../src/demo/run-demo.ts';

const REDIS = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function expectSeedOutcome(s: DemoSummary): void {
  try {
    checkSeedOutcome(s);
  } catch (err) {
    // The whole summary, timeline included, is what one needs to understand a failed run.
    (err as Error).message += `\n\ndemo summary:\n${JSON.stringify(s, null, 2)}`;
    throw err;
  }
}

function checkSeedOutcome(s: DemoSummary): void {
  expect(s.scenario).toBe('jvm-heap-regression');
  expect(s.detected).toBe(true);
  expect(s.sla_restored).toBe(true);
  expect(s.mttr_s).not.toBeNull();
  expect(s.mttr_s!).toBeLessThan(300);
  expect(s.mttd_s!).toBeLessThanOrEqual(60);
  expect(s.audit.chain_valid).toBe(true);
  expect(s.audit.records).toBeGreaterThan(10);

  const scale = s.actions.filter((a) => a.action === 'scale_deployment');
  expect(scale).toHaveLength(1);
  expect(scale[0]).toMatchObject({ agent: 'elastik', verdict: 'allow', level: 3, executed: true, verified: true, rolled_back: false });

  const rollback = s.actions.filter((a) => a.action === 'rollback_deployment');
  expect(rollback).toHaveLength(1);
  expect(rollback[0]).toMatchObject({ verdict: 'require_approval', executed: true, verified: true, approved_by: 'on-call SRE' });
  expect(s.approvals).toBe(1);
  expect(s.policy_denials).toBe(0);
  expect(s.llm).toBe('unavailable');
}

describe('governor demo --scenario jvm-heap-regression', () => {
  it('restores the SLA on the embedded defaults (in-memory bus, PGlite)', async () => {
    const s = await runDemo({ scenario: 'jvm-heap-regression', config: loadConfig({}), logger: silentLogger() });
    expect(s.infrastructure).toEqual({ bus: 'memory', audit: 'pglite' });
    expectSeedOutcome(s);
  }, 240_000);

  it('restores the SLA on the real Redis and PostgreSQL', async () => {
    const schema = `demo_e2e_${process.pid}_${Date.now()}`;
    const s = await runDemo({
      scenario: 'jvm-heap-regression',
      config: loadConfig({ REDIS_URL: REDIS, DATABASE_URL: PG }),
      logger: silentLogger(),
      auditSchema: schema,
    });
    expect(s.infrastructure).toEqual({ bus: 'redis', audit: 'postgresql' });
    expectSeedOutcome(s);
    // A second run in the same schema replays the same morning: the first run's actions must not
    // look like recent ones (cooldowns, actions in flight) to the second.
    const again = await runDemo({
      scenario: 'jvm-heap-regression',
      config: loadConfig({ REDIS_URL: REDIS, DATABASE_URL: PG }),
      logger: silentLogger(),
      auditSchema: schema,
    });
    expectSeedOutcome(again);
    expect(again.mttr_s).toBe(s.mttr_s);
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: PG });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }, 240_000);
});
