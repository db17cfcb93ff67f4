// The seed incident end to end (DESIGN §6), through the whole pipeline in virtual time: once on the
// embedded defaults (in-memory bus, PGlite) and once on the real Redis and PostgreSQL. Then the
// scenarios that need only Watchtower and Elastik: a traffic surge (scale out, nothing else) and a
// quiet day (the false-positive check: no observation above info, no proposal at all).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditPublicKey } from '../../src/audit/audit-key.ts';
import { checkpointFile } from '../../src/audit/checkpoints.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { verifyAuditLog } from '../../src/audit/verify-command.ts';
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
  expect(rollback[0]).toMatchObject({ verdict: 'require_approval', executed: true, verified: true, approved_by: 'alice' });
  expect(s.approvals).toBe(1);
  expect(s.policy_denials).toBe(0);
  expect(s.llm).toBe('unavailable');
  // The outcome the scenario file declares, judged by the demo itself.
  expect(s.expected.incident).toBe(true);
  expect(s.outcome).toEqual({ met: true, failures: [] });
}

/** Runs `check` and, when it fails, appends the whole summary to the failure. */
function withSummary(s: DemoSummary, check: () => void): void {
  try {
    check();
  } catch (err) {
    (err as Error).message += `\n\ndemo summary:\n${JSON.stringify(s, null, 2)}`;
    throw err;
  }
}

describe('governor demo --scenario jvm-heap-regression', () => {
  it('restores the SLA on the embedded defaults (in-memory bus, PGlite)', async () => {
    const s = await runDemo({ scenario: 'jvm-heap-regression', config: loadConfig({}), logger: silentLogger() });
    expect(s.infrastructure).toEqual({ bus: 'memory', audit: 'pglite' });
    expectSeedOutcome(s);
  }, 240_000);

  it('restores the SLA on the real Redis and PostgreSQL, and leaves a sealed, anchored log that `audit verify` checks afterwards', async () => {
    const schema = `demo_e2e_${process.pid}_${Date.now()}`;
    const dataDir = await mkdtemp(join(tmpdir(), 'governor-demo-'));
    const config = loadConfig({ REDIS_URL: REDIS, DATABASE_URL: PG, GOVERNOR_DATA_DIR: dataDir });
    /** What `governor audit verify --schema` reports, with the key and checkpoints the demo left in the data directory. */
    const verifyAfterwards = async () => {
      const { key } = openAuditPublicKey(config);
      const store = new PgAuditStore({ connectionString: PG, schema, poolSize: 1, auditKey: key });
      try {
        return await verifyAuditLog(store, { file: checkpointFile(config, schema), schema, key });
      } finally {
        await store.close();
      }
    };
    try {
      const s = await runDemo({ scenario: 'jvm-heap-regression', config, logger: silentLogger(), auditSchema: schema });
      expect(s.infrastructure).toEqual({ bus: 'redis', audit: 'postgresql' });
      expectSeedOutcome(s);
      const first = await verifyAfterwards();
      expect(first).toMatchObject({ valid: true, problems: [], seals: { unsealed: 0 }, checkpoints: { status: 'anchored', unanchored: 0 } });
      expect(first.seals!.sealed).toBe(first.records);
      // A second run in the same schema replays the same morning: the first run's actions must not
      // look like recent ones (cooldowns, actions in flight) to the second; its checkpoints start afresh too.
      const again = await runDemo({ scenario: 'jvm-heap-regression', config, logger: silentLogger(), auditSchema: schema });
      expectSeedOutcome(again);
      expect(again.mttr_s).toBe(s.mttr_s);
      expect(await verifyAfterwards()).toMatchObject({ valid: true, checkpoints: { status: 'anchored', unanchored: 0 } });
    } finally {
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: PG });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('governor demo --scenario traffic-surge', () => {
  it('scales out once, at level 3, and restores the SLA within minutes of the surge', async () => {
    const s = await runDemo({ scenario: 'traffic-surge', config: loadConfig({}), logger: silentLogger() });
    withSummary(s, () => {
      expect(s.scenario).toBe('traffic-surge');
      expect(s.slo_breached).toBe(true);
      expect(s.detected).toBe(true);
      expect(s.mttd_s!).toBeLessThanOrEqual(60);
      expect(s.sla_restored).toBe(true);
      expect(s.mttr_s!).toBeLessThan(300);
      expect(s.actions.map((a) => [a.agent, a.action])).toEqual([['elastik', 'scale_deployment']]);
      expect(s.actions[0]).toMatchObject({ verdict: 'allow', level: 3, executed: true, verified: true, rolled_back: false });
      expect(s.approvals).toBe(0);
      expect(s.outcome).toEqual({ met: true, failures: [] });
      expect(s.audit.chain_valid).toBe(true);
    });
  }, 240_000);
});

describe('governor demo --scenario quiet-day', () => {
  it('runs its whole declared duration and does nothing: no observation above info, no proposal', async () => {
    const lines: string[] = [];
    const s = await runDemo({ scenario: 'quiet-day', config: loadConfig({}), logger: silentLogger(), onProgress: (l) => lines.push(l) });
    withSummary(s, () => {
      expect(s.simulated_s).toBe(45 * 60);
      expect(s.slo_breached).toBe(false);
      expect(s.slo_violation_minutes).toBe(0);
      expect(s.detected).toBe(false);
      expect(s.mttd_s).toBeNull();
      expect(s.observations.max_severity === null || s.observations.max_severity === 'info').toBe(true);
      expect(s.actions).toEqual([]);
      expect(s.expected).toMatchObject({ incident: false, no_actions: true, max_observation_severity: 'info' });
      expect(s.outcome).toEqual({ met: true, failures: [] });
      // Every watched service is tracked: four targets, replica-minutes over all of them (30 pods for 45 min).
      expect(s.replica_minutes).toBeCloseTo(30 * 45, 0);
      expect(lines[0]).toMatch(/^t=0s acme-prod\/storefront p99=\d+ms x10 {2}acme-prod\/checkout p99=\d+ms x8 {2}acme-prod\/search p99=\d+ms x8 {2}initech-prod\/portal p99=\d+ms x4$/);
    });
  }, 240_000);
});
