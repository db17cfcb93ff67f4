// `governor twin --scenario NAME --kubeconfig FILE [--port N]`: runs one scenario's cluster twin on
// its own, in real time, served over HTTPS as a Kubernetes API, so that an operator (kubectl, k9s) or
// Governor itself (KUBECONFIG=FILE) can rehearse against it. Writes a kubeconfig with the twin's CA
// and a token made for this run (readable by its owner only), prints `ready` on stdout once it
// serves, and stops on SIGINT or SIGTERM. Nothing else goes to stdout. `--metrics-port N` serves its
// metrics in the exposition format at /metrics for a real Prometheus to scrape; `--prometheus-port N`
// serves the twin's own Prometheus-compatible query API (/api/v1), a PROMETHEUS_URL without one.
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { RealClock } from '../src/core/clock.ts';
import { GovernorError } from '../src/core/errors.ts';
import { createLogger } from '../src/core/logger.ts';
import { startKubeApiServer } from '../src/twin/kube-api-server.ts';
import { startMetricsServer } from '../src/twin/metrics/exposition.ts';
import { startQueryApiServer } from '../src/twin/metrics/query-api.ts';
import { startSampler } from '../src/twin/metrics/sampler.ts';
import { SCENARIOS, buildScenario, type ScenarioName } from '../src/twin/scenarios/index.ts';

/** How often the twin's model catches up with the wall clock (watchers see changes this promptly). */
const TICK_MS = 1_000;

export async function twin(opts: { scenario: string; kubeconfig: string; port?: number; metricsPort?: number; prometheusPort?: number }): Promise<void> {
  if (!(SCENARIOS as readonly string[]).includes(opts.scenario)) {
    throw new GovernorError('config_invalid', `unknown scenario '${opts.scenario}'; known: ${SCENARIOS.join(', ')}`);
  }
  for (const [flag, port] of [['--port', opts.port], ['--metrics-port', opts.metricsPort], ['--prometheus-port', opts.prometheusPort]] as const) {
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
      throw new GovernorError('config_invalid', `${flag} must be a TCP port number, not '${port}'`);
    }
  }
  const logger = createLogger({ level: 'info', name: 'governor-twin' });
  const scenario = buildScenario(opts.scenario as ScenarioName, new RealClock());
  scenario.twin.start(TICK_MS);
  const token = randomBytes(24).toString('base64url');
  const api = await startKubeApiServer(scenario.twin, { tls: true, token, port: opts.port ?? 0, logger });
  const closers: (() => Promise<void> | void)[] = [];
  try {
    if (opts.metricsPort !== undefined || opts.prometheusPort !== undefined) {
      // One sampler: the exposition's counters and the query API's are the same integrals.
      const sampler = startSampler(scenario.twin);
      closers.push(() => sampler.stop());
      if (opts.metricsPort !== undefined) {
        const metrics = await startMetricsServer(sampler.collector, { port: opts.metricsPort, host: '127.0.0.1' });
        closers.push(() => metrics.close());
        logger.info({ url: metrics.url }, 'metrics exposition for Prometheus to scrape');
      }
      if (opts.prometheusPort !== undefined) {
        const query = await startQueryApiServer(sampler.store, { port: opts.prometheusPort, host: '127.0.0.1', now: () => Date.now() });
        closers.push(() => query.close());
        logger.info({ url: query.url }, "the twin's Prometheus-compatible query API (PROMETHEUS_URL)");
      }
    }
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
    for (const close of closers.reverse()) await close();
    scenario.twin.stop();
    await api.close();
    logger.info({ scenario: opts.scenario }, 'cluster twin stopped');
  }
}
