// `governor drill all`, as a test: each fault at a random point of the seed incident (the seed is
// printed, so a failure can be replayed with `governor drill NAME --seed N`), and every time no
// proposal lost, no action executed twice, no execution the audit log does not hold, a chain that
// verifies, and the incident resolved anyway. The seconds it took are printed, not asserted.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.ts';
import { DRILLS, runDrill } from '../../src/drill/drills.ts';

const PG = process.env['TEST_DATABASE_URL'];
if (!PG) throw new Error('the drills need TEST_DATABASE_URL (a real PostgreSQL server: each drill creates and drops a database of its own there)');
const seed = Number(process.env['DRILL_SEED'] ?? Date.now() % 1_000_000);

describe('drills', () => {
  for (const [i, drill] of DRILLS.entries()) {
    it(`${drill}: nothing lost, nothing twice, nothing unaudited, the chain verifies, the incident resolves`, async () => {
      const report = await runDrill(drill, { databaseUrl: PG, seed: seed + i, logger: silentLogger(), progress: (l) => console.log(l) });
      const { timeline, ...figures } = report;
      console.log(`drill ${drill} (seed ${seed + i}): ${JSON.stringify(figures)}`);
      if (timeline) console.log(`drill ${drill} timeline:\n  ${timeline.join('\n  ')}`);
      expect(report.fault).not.toMatch(/no fault|could not/);
      expect({
        proposals_lost: report.proposals_lost,
        double_executions: report.double_executions,
        unaudited_executions: report.unaudited_executions,
        chain_verifies: report.chain_verifies,
        chain_problems: report.chain_problems,
        resolved: report.resolved,
      }).toEqual({ proposals_lost: 0, double_executions: 0, unaudited_executions: 0, chain_verifies: true, chain_problems: [], resolved: true });
      expect(report.proposals).toBeGreaterThan(0);
      expect(report.executions).toBeGreaterThan(0);
      if (drill.startsWith('kill-')) expect(Object.values(report.restarts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
      expect(report.incidents_opened).toBe(1);
    });
  }

  it('two of each process (fourteen), one executor killed -9: one incident, each action once, nothing lost', async () => {
    const report = await runDrill('kill-executor', { databaseUrl: PG, seed: seed + 100, replicas: 2, logger: silentLogger(), progress: (l) => console.log(l) });
    console.log(`drill kill-executor, two of each (seed ${seed + 100}): ${JSON.stringify(report)}`);
    expect(Object.keys(report.restarts)).toHaveLength(14);
    expect(report.restarts['executor-1']).toBeGreaterThanOrEqual(1);
    expect({ lost: report.proposals_lost, twice: report.double_executions, unaudited: report.unaudited_executions, chain: report.chain_verifies, resolved: report.resolved, incidents: report.incidents_opened })
      .toEqual({ lost: 0, twice: 0, unaudited: 0, chain: true, resolved: true, incidents: 1 });
  });
});
