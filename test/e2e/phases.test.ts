// Phases as DESIGN §2 defines them, on the seed incident: Observe — agents read and publish
// observations, nothing else; Advise — agents recommend and humans execute, each recommendation
// with the command that carries it out; nothing executes in either.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { runDemo } from '../../src/demo/run-demo.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';

const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const dir = mkdtempSync(join(tmpdir(), 'governor-phases-'));
const schemas: string[] = [];

afterAll(async () => {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await c.end();
});

async function seedIncidentIn(phase: 'observe' | 'advise') {
  const file = join(dir, `${phase}.json`);
  writeFileSync(file, JSON.stringify({ phase }));
  const schema = `phase_${phase}_${randomUUID().slice(0, 8)}`;
  schemas.push(schema);
  const summary = await runDemo({
    scenario: 'jvm-heap-regression',
    config: loadConfig({ DATABASE_URL: PG, GOVERNOR_CONFIG_FILE: file, GOVERNOR_DATA_DIR: dir }),
    logger: silentLogger(),
    auditSchema: schema,
  });
  const store = new PgAuditStore({ connectionString: PG, schema, poolSize: 1 });
  try {
    const kinds = (await store.list({})).map((r) => r.kind);
    return { summary, kinds };
  } finally {
    await store.close();
  }
}

describe('phases', () => {
  it('Observe: the incident is observed and nothing is proposed, recommended or executed', async () => {
    const { summary, kinds } = await seedIncidentIn('observe');
    expect(summary.observations.count).toBeGreaterThan(0);
    expect(summary.observations.max_severity).toBe('critical');
    expect(kinds).toContain('observation');
    expect(kinds).not.toContain('proposal');
    expect(kinds).not.toContain('grant');
    expect(kinds).not.toContain('execution_result');
    expect(summary.actions).toEqual([]);
    expect(summary.sla_restored).toBe(false);
  }, 240_000);

  it('Advise: the agents recommend with the exact command, and Governor executes nothing', async () => {
    const { summary, kinds } = await seedIncidentIn('advise');
    expect(kinds).toContain('proposal');
    expect(kinds).not.toContain('grant');
    expect(kinds).not.toContain('execution_result');
    expect(summary.actions.length).toBeGreaterThan(0);
    expect(summary.actions.every((a) => a.verdict === 'deny' && !a.executed)).toBe(true);
    // One piece of advice per action, each with its command (the notices hold it), and no
    // escalation: the humans have the advice, and it is not repeated while it still holds.
    expect(summary.actions.map((a) => a.action).sort()).toEqual(['rollback_deployment', 'scale_deployment']);
    expect(summary.recommendations).toBe(2);
    expect(summary.policy_denials).toBe(0);
    expect(summary.incidents.flatMap((i) => i.escalations)).toEqual([]);
  }, 240_000);
});
