// `governor agent NAME`, `governor gateway`, `governor executor`: one part of Governor as a process
// of its own, with its own credentials — the MCP sessions of its agents alone
// (GOVERNOR_MCP_ENDPOINTS_FILE), the grant key only in the gateway's. They share Redis and
// PostgreSQL, which they need (REDIS_URL, DATABASE_URL). `governor start` runs them all, supervised,
// when both are set (src/runtime/apart.ts); a Helm install runs each as a Deployment.
import { loadConfig } from '../src/config.ts';
import { RealClock } from '../src/core/clock.ts';
import { GovernorError } from '../src/core/errors.ts';
import { createLogger } from '../src/core/logger.ts';
import { loadMcpEndpoints } from '../src/runtime/mcp-layer.ts';
import { processName, startSystem, type Role } from '../src/runtime/system.ts';
import { SCENARIOS, type ScenarioName } from '../src/twin/scenarios/index.ts';

export async function runProcess(role: Role, opts: { scenario: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const name = processName(new Set([role]));
  if (!config.redisUrl || !config.databaseUrl) {
    throw new GovernorError('config_invalid', `${name} as a process of its own needs REDIS_URL and DATABASE_URL: the bus and the audit log are what it shares with the others (\`governor start\` runs everything in one process without them)`);
  }
  if (config.twinQueryUrl && !(SCENARIOS as readonly string[]).includes(opts.scenario)) {
    throw new GovernorError('config_invalid', `unknown scenario '${opts.scenario}'; known: ${SCENARIOS.join(', ')}`);
  }
  const needsSessions = role !== 'gateway';
  if (needsSessions && !config.mcpEndpointsFile) {
    throw new GovernorError('config_invalid', `${name} reaches its tools through MCP servers: GOVERNOR_MCP_ENDPOINTS_FILE must name its sessions`);
  }
  const mcpEndpoints = needsSessions ? loadMcpEndpoints(config.mcpEndpointsFile!) : { servers: {}, sessions: [] };
  const logger = createLogger({ level: config.logLevel }).child({ process: name });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const sys = await startSystem({
    config,
    clock: new RealClock(),
    logger,
    scenario: opts.scenario as ScenarioName,
    roles: [role],
    mcpEndpoints,
    ...(config.twinQueryUrl ? { twinElsewhere: { queryUrl: config.twinQueryUrl, sandboxSlack: env['GOVERNOR_SANDBOX_SLACK'] === '1' } } : {}),
  });
  for (const line of sys.report) out(line);
  out(`ready, pid ${process.pid}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    // Under a supervisor (GOVERNOR_SUPERVISED): a supervisor that died without stopping its children
    // (kill -9) leaves none behind; they stop once they are orphaned.
    if (env['GOVERNOR_SUPERVISED'] === '1') {
      const parent = process.ppid;
      setInterval(() => {
        if (process.ppid !== parent) {
          logger.warn({ supervisor: parent }, 'the supervisor is gone: stopping');
          resolve();
        }
      }, 1_000).unref();
    }
  });
  await sys.stop();
  out('stopped');
}
