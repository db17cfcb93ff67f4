// `governor demo --scenario NAME|FILE [--json]`: runs a scenario — one of scenarios/ by name, or a
// team's own scenario file by its path (ending in .json) — in virtual time and prints the DESIGN §5
// summary, with the outcome the scenario file declares and whether it was met. Progress (simulated
// time, p99 per watched service) goes to stderr, so stdout carries exactly one JSON object with
// --json. Exit 1 when the declared outcome is not met; a file that is missing or malformed is refused
// before anything starts, with every problem named (exit 78).
import { loadConfig, type Config } from '../src/config.ts';
import { silentLogger, createLogger, type Logger } from '../src/core/logger.ts';
import { runDemo } from '../src/demo/run-demo.ts';
import { llmReport } from '../src/llm/from-config.ts';
import { loadScenarioSpec } from '../src/twin/scenarios/index.ts';

/** The demo is the twin and the sandbox by definition; real Slack or a real cluster are not used. */
export function demoConfig(config: Config): Config {
  return { ...config, kubeconfig: undefined, kubeInCluster: false, slack: { mode: 'sandbox' as const, channel: 'governor-demo', port: 0 }, consolePort: 0 };
}

/** Quiet unless the operator asked for debug logs. */
export function demoLogger(config: Config): Logger {
  return config.logLevel === 'debug' || config.logLevel === 'trace' ? createLogger({ level: config.logLevel }) : silentLogger();
}

export async function demo(opts: { scenario: string; json: boolean; approvalDelayS: number }): Promise<number> {
  // Read and validated first: an unknown name or a malformed file is refused with every problem named.
  loadScenarioSpec(opts.scenario);
  const config = loadConfig();
  // Who is in charge, said before the run starts (stderr: stdout carries only the summary with --json).
  process.stderr.write(`demo: ${llmReport(config.llm)}\n`);
  const logger = demoLogger(config);
  const summary = await runDemo({
    scenario: opts.scenario,
    config: demoConfig(config),
    logger,
    approvalDelayS: opts.approvalDelayS,
    onProgress: (line) => process.stderr.write(`demo: ${line}\n`),
  });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const out = (s: string) => process.stdout.write(`${s}\n`);
    out(`scenario ${summary.scenario}: detected=${summary.detected} mttd=${summary.mttd_s}s mttr=${summary.mttr_s}s sla_restored=${summary.sla_restored}`);
    for (const e of summary.timeline) out(`  t+${String(e.t_s).padStart(5)}s  ${e.event}`);
    for (const a of summary.actions)
      out(`  ${a.agent} ${a.action}: ${a.verdict} at level ${a.level}, executed=${a.executed} verified=${a.verified} rolled_back=${a.rolled_back}`);
    out(`  audit: ${summary.audit.records} records, chain ${summary.audit.chain_valid ? 'valid' : 'BROKEN'}`);
    out(`  llm: ${summary.llm === 'used' ? 'used (a model answered; every exchange is in the audit log)' : 'unavailable (rules answered)'}`);
    out(`outcome: ${summary.outcome.met ? 'met' : 'NOT met'}`);
    for (const f of summary.outcome.failures) out(`  - ${f}`);
  }
  return summary.outcome.met ? 0 : 1;
}
