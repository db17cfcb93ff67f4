// `governor start` / `npm start`: the main job. With credentials it talks to the real Slack, cluster,
// Redis and PostgreSQL; without, it runs the sandbox: the cluster twin in real time, the embedded
// bus and database, and the Slack console in the browser. Its first lines say what it started, what
// it fell back to and why, and where to look.
import { join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startApart } from '../src/runtime/apart.ts';
import type { Logger } from '../src/core/logger.ts';
import { claimDataDir, releaseDataDir } from '../src/runtime/data-dir-lock.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { RealClock } from '../src/core/clock.ts';
import { GovernorError } from '../src/core/errors.ts';
import { createLogger } from '../src/core/logger.ts';
import { startSystem } from '../src/runtime/system.ts';
import { SCENARIOS, type ScenarioName } from '../src/twin/scenarios/index.ts';

export async function start(opts: { scenario: string; replicas?: number; oneProcess?: boolean }): Promise<void> {
  if (!(SCENARIOS as readonly string[]).includes(opts.scenario)) {
    throw new GovernorError('config_invalid', `unknown scenario '${opts.scenario}'; known: ${SCENARIOS.join(', ')}`);
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  if (config.redisUrl && config.databaseUrl && !opts.oneProcess) return startApartCommand(config, logger, opts);
  if ((opts.replicas ?? 1) > 1) throw new GovernorError('config_invalid', '--replicas needs the processes apart: REDIS_URL and DATABASE_URL');
  const pgDir = join(config.dataDir, 'pgdata');
  if (!config.databaseUrl) {
    mkdirSync(pgDir, { recursive: true });
    claimDataDir(config.dataDir);
  }
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('governor: starting');
  const sys = await startSystem({
    config,
    clock: new RealClock(),
    logger,
    scenario: opts.scenario as ScenarioName,
    ...(config.databaseUrl ? {} : { embeddedPgDataDir: pgDir }),
  });
  for (const line of sys.report) out(`governor: ${line}`);
  const console = sys.slackFake?.consoleUrl;
  out(`governor: ready${console ? ` — open ${console} to see the Slack channel and approve proposals` : ''}`);
  out(`governor: audit log: 'npx governor audit verify' once stopped; logs on stderr (LOG_LEVEL=${config.logLevel})`);

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  out('governor: stopping');
  await sys.stop();
  if (!config.databaseUrl) releaseDataDir(config.dataDir);
  out('governor: stopped');
}

/** Each agent, the gateway and the executor in a supervised process of its own (src/runtime/apart.ts). */
async function startApartCommand(config: Config, logger: Logger, opts: { scenario: string; replicas?: number }): Promise<void> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out('governor: starting, each part in a process of its own (REDIS_URL and DATABASE_URL are set)');
  const runDir = join(config.dataDir, `run-${process.pid}`);
  const apart = await startApart({
    config, logger, scenario: opts.scenario as ScenarioName, replicas: opts.replicas ?? 1, runDir, out,
    bin: fileURLToPath(new URL('../bin/governor.mjs', import.meta.url)),
  });
  for (const line of apart.report) out(`governor: ${line}`);
  out(`governor: ready, supervising ${apart.children.length} processes${apart.consoleUrl ? ` — open ${apart.consoleUrl} to see the Slack channel and approve proposals` : ''}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  out('governor: stopping');
  await apart.stop();
  rmSync(runDir, { recursive: true, force: true });
  out('governor: stopped');
}
