// `governor drill NAME|all [--json]`: the seed incident with one fault injected (src/drill/drills.ts),
// on the real Redis (a redis-server of the drill's own) and PostgreSQL (DATABASE_URL's server; a
// database of its own), with the processes apart. Exit 0 only when every drill passed.
import { loadConfig } from '../src/config.ts';
import { GovernorError } from '../src/core/errors.ts';
import { createLogger } from '../src/core/logger.ts';
import { DRILLS, runDrill, type DrillName, type DrillReport } from '../src/drill/drills.ts';

export async function drillCommand(name: string, opts: { json: boolean; seed?: number; timeoutS?: number; replicas?: number }): Promise<number> {
  const drills: DrillName[] = name === 'all' ? [...DRILLS] : (DRILLS as readonly string[]).includes(name) ? [name as DrillName] : [];
  if (drills.length === 0) throw new GovernorError('config_invalid', `unknown drill '${name}'; known: ${DRILLS.join(', ')}, all`);
  const config = loadConfig();
  if (!config.databaseUrl) throw new GovernorError('config_invalid', 'drills run on the real PostgreSQL: set DATABASE_URL (the drill creates a database of its own on that server and drops it)');
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn' });
  const seed = opts.seed ?? Date.now() % 1_000_000;
  const reports: DrillReport[] = [];
  for (const [i, drill] of drills.entries()) {
    process.stderr.write(`drill ${i + 1}/${drills.length}: ${drill} (seed ${seed + i})\n`);
    reports.push(await runDrill(drill, { databaseUrl: config.databaseUrl, seed: seed + i, logger, progress: (l) => process.stderr.write(`  ${l}\n`), ...(opts.timeoutS ? { timeoutS: opts.timeoutS } : {}), ...(opts.replicas ? { replicas: opts.replicas } : {}) }));
  }
  const passed = reports.every((r) => r.passed);
  if (opts.json) process.stdout.write(`${JSON.stringify({ seed, passed, drills: reports }, null, 2)}\n`);
  else {
    const cols = ['drill', 'lost', 'twice', 'unaudited', 'chain', 'resolved in', 'result'];
    process.stdout.write(`${cols.join('\t')}\n`);
    for (const r of reports) {
      process.stdout.write(`${[r.drill, r.proposals_lost, r.double_executions, r.unaudited_executions, r.chain_verifies ? 'verifies' : 'BROKEN', r.seconds_to_resolve === null ? 'not resolved' : `${r.seconds_to_resolve} s`, r.passed ? 'passed' : 'FAILED'].join('\t')}\n`);
      process.stdout.write(`  ${r.fault}\n`);
    }
  }
  return passed ? 0 : 1;
}
