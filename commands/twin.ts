// `governor twin --scenario NAME --kubeconfig FILE [--port N]`: runs one scenario's cluster twin on
// its own, in real time, served over HTTPS as a Kubernetes API, so that an operator (kubectl, k9s) or
// Governor itself (KUBECONFIG=FILE) can rehearse against it. Writes a kubeconfig with the twin's CA
// and a token made for this run (readable by its owner only), prints `ready` on stdout once it
// serves, and stops on SIGINT or SIGTERM. Nothing else goes to stdout.
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { RealClock } from '../src/core/clock.ts';
import { GovernorError } from '../src/core/errors.ts';
import { createLogger } from '../src/core/logger.ts';
import { startKubeApiServer } from '../src/twin/kube-api-server.ts';
import { SCENARIOS, buildScenario, type ScenarioName } from '../src/twin/scenarios/index.ts';

/** How often the twin's model catches up with the wall clock (watchers see changes this promptly). */
const TICK_MS = 1_000;

export async function twin(opts: { scenario: string; kubeconfig: string; port?: number }): Promise<void> {
  if (!(SCENARIOS as readonly string[]).includes(opts.scenario)) {
    throw new GovernorError('config_invalid', `unknown scenario '${opts.scenario}'; known: ${SCENARIOS.join(', ')}`);
  }
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65_535)) {
    throw new GovernorError('config_invalid', `--port must be a TCP port number, not '${opts.port}'`);
  }
  const logger = createLogger({ level: 'info', name: 'governor-twin' });
  const scenario = buildScenario(opts.scenario as ScenarioName, new RealClock());
  scenario.twin.start(TICK_MS);
  const token = randomBytes(24).toString('base64url');
  const api = await startKubeApiServer(scenario.twin, { tls: true, token, port: opts.port ?? 0, logger });
  try {
    await writeFile(opts.kubeconfig, api.kubeconfig('governor'), { mode: 0o600 });
    await chmod(opts.kubeconfig, 0o600);
    logger.info({ scenario: opts.scenario, url: api.url, kubeconfig: opts.kubeconfig }, 'cluster twin ready');
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  } finally {
    scenario.twin.stop();
    await api.close();
    logger.info({ scenario: opts.scenario }, 'cluster twin stopped');
  }
}
