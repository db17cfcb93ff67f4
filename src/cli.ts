// The `governor` command line (DESIGN §5). Each command is a thin adapter: parse flags, load the
// validated configuration, call one function, print, and exit with a meaningful code. Errors end in
// one place (`fail`) and are printed as one plain sentence, never a stack trace for an operator.
import { Command, CommanderError } from 'commander';
import { GovernorError, describeError } from './core/errors.ts';

function fail(err: unknown): never {
  const msg = err instanceof GovernorError ? err.message : describeError(err);
  process.stderr.write(`governor: ${msg}\n`);
  process.exit(err instanceof GovernorError && err.code === 'config_invalid' ? 78 : 1);
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('governor')
    .description('Governed multi-agent SRE automation for multi-tenant Kubernetes, steered from Slack')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('start')
    .description('run the Slack app, gateway, agents and MCP servers (a local sandbox when no credentials are set); with REDIS_URL and DATABASE_URL, each agent, the gateway and the executor in a supervised process of its own')
    .option('--scenario <name>', 'twin scenario for the sandbox', 'jvm-heap-regression')
    .option('--replicas <n>', 'with the processes apart: how many processes of each', '1')
    .option('--one-process', 'everything in this process, even with REDIS_URL and DATABASE_URL')
    .action(async (o: { scenario: string; replicas: string; oneProcess?: boolean }) => {
      const replicas = Number(o.replicas);
      if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new GovernorError('config_invalid', `--replicas must be 1 to 5, not '${o.replicas}'`);
      const { start } = await import('../commands/start.ts');
      await start({ scenario: o.scenario, replicas, oneProcess: Boolean(o.oneProcess) });
    });

  // The parts `governor start` supervises, each as its own process (commands/process.ts).
  const scenarioOption = (c: Command) => c.option('--scenario <name>', "the twin's scenario, when the supervisor runs a twin", 'jvm-heap-regression');
  scenarioOption(
    program
      .command('agent')
      .description('one agent as its own process (REDIS_URL, DATABASE_URL, GOVERNOR_MCP_ENDPOINTS_FILE)')
      .argument('<name>', 'watchtower | elastik | configurer | arbitrator | strategist'),
  ).action(async (name: string, o: { scenario: string }) => {
    const { AGENT_ROLES } = await import('./runtime/system.ts');
    if (!(AGENT_ROLES as readonly string[]).includes(name)) throw new GovernorError('config_invalid', `unknown agent '${name}'; known: ${AGENT_ROLES.join(', ')}`);
    const { runProcess } = await import('../commands/process.ts');
    await runProcess(name as (typeof AGENT_ROLES)[number], o);
  });
  scenarioOption(program.command('gateway').description('the governance gateway, with the Slack app, approvals, paging and the audit checkpoints, as its own process (REDIS_URL, DATABASE_URL)')).action(
    async (o: { scenario: string }) => {
      const { runProcess } = await import('../commands/process.ts');
      await runProcess('gateway', o);
    },
  );
  scenarioOption(program.command('executor').description('the executors of granted actions and the verifier, as their own process (REDIS_URL, DATABASE_URL, GOVERNOR_MCP_ENDPOINTS_FILE)')).action(
    async (o: { scenario: string }) => {
      const { runProcess } = await import('../commands/process.ts');
      await runProcess('executor', o);
    },
  );

  program
    .command('demo')
    .description('run one scenario through the full pipeline in virtual time')
    .requiredOption('--scenario <name|file>', 'a scenario in scenarios/ by name (e.g. jvm-heap-regression), or the path of a scenario file (ending in .json)')
    .option('--json', 'print one JSON summary object')
    .option('--approval-delay <seconds>', 'simulated seconds before the scripted approver clicks', '60')
    .action(async (o: { scenario: string; json?: boolean; approvalDelay: string }) => {
      const { demo } = await import('../commands/demo.ts');
      process.exitCode = await demo({ scenario: o.scenario, json: Boolean(o.json), approvalDelayS: Number(o.approvalDelay) });
    });

  program
    .command('detect')
    .description("run Watchtower's streaming detector over one timestamp,value series; writes timestamp,value,anomaly_score,label")
    .requiredOption('--input <csv>', 'a timestamp,value CSV with a header line')
    .option('--output <csv>', 'where to write the scored series (default: stdout)')
    .action(async (o: { input: string; output?: string }) => {
      const { detect } = await import('../commands/detect.ts');
      process.exitCode = detect(
        { input: o.input, ...(o.output ? { output: o.output } : {}) },
        (s) => process.stdout.write(`${s}\n`),
        (s) => process.stderr.write(`${s}\n`),
      );
    });

  const policy = program.command('policy').description('policy tools');
  policy
    .command('eval')
    .description('print the decision for one policy input (DESIGN §5)')
    .requiredOption('--input <file>', 'policy input JSON file')
    .option('--bundle <file>', 'compiled policy bundle', undefined)
    .action(async (o: { input: string; bundle?: string }) => {
      const { policyEval } = await import('../commands/policy-eval.ts');
      const { loadConfig } = await import('./config.ts');
      const publicKeyFile = loadConfig().policyPublicKeyFile;
      process.exitCode = await policyEval(
        { input: o.input, ...(o.bundle ? { bundle: o.bundle } : {}), ...(publicKeyFile ? { publicKeyFile } : {}) },
        (s) => process.stdout.write(`${s}\n`),
        (s) => process.stderr.write(`${s}\n`),
      );
    });

  const audit = program.command('audit').description('audit log tools');
  audit
    .command('verify')
    .description('check the audit hash chain, every seal, and the log against the latest checkpoint; exit 1 and say what is wrong')
    .option('--schema <name>', 'PostgreSQL schema of the audit log', 'governor')
    .option('--checkpoints <file>', 'checkpoint file (default GOVERNOR_AUDIT_CHECKPOINT_FILE, else the data directory\'s file for the schema)')
    .option('--json', 'print one JSON object')
    .action(async (o: { schema: string; checkpoints?: string; json?: boolean }) => {
      const { verify } = await import('../commands/audit-verify.ts');
      process.exitCode = await verify({ schema: o.schema, ...(o.checkpoints ? { checkpoints: o.checkpoints } : {}), json: Boolean(o.json) });
    });

  const incident = program.command('incident').description("incidents from the audit log: the same answers as Slack's /incident");
  const incidentOpts = (c: Command) =>
    c.option('--schema <name>', "PostgreSQL schema of the audit log (default governor; when it holds none, a demo's: governor_demo)").option('--json', 'print one JSON object');
  incidentOpts(incident.command('list').description('incidents, newest first').option('--limit <n>', 'how many', '20')).action(
    async (o: { schema?: string; json?: boolean; limit: string }) => {
      const { incidentCommand } = await import('../commands/incident.ts');
      process.exitCode = await incidentCommand('list', { schema: o.schema, json: Boolean(o.json), limit: Number(o.limit) });
    },
  );
  incidentOpts(incident.command('show').description("an incident's timeline, each line with the record it comes from").argument('[id]', "incident id, or 'latest'", 'latest')).action(
    async (id: string, o: { schema?: string; json?: boolean }) => {
      const { incidentCommand } = await import('../commands/incident.ts');
      process.exitCode = await incidentCommand('show', { id, schema: o.schema, json: Boolean(o.json) });
    },
  );
  incidentOpts(
    incident
      .command('explain')
      .description('an answer in plain language, from the incident\'s own records')
      .argument('[id]', "incident id, or 'latest'", 'latest')
      .argument('[question...]', 'what to explain, e.g. "why did you roll back?"'),
  ).action(async (id: string, question: string[], o: { schema?: string; json?: boolean }) => {
    const { incidentCommand } = await import('../commands/incident.ts');
    process.exitCode = await incidentCommand('explain', { id, question, schema: o.schema, json: Boolean(o.json) });
  });

  program
    .command('twin')
    .description('run the cluster twin alone over HTTPS, write a kubeconfig for it, print ready')
    .requiredOption('--scenario <name>', 'twin scenario')
    .requiredOption('--kubeconfig <file>', 'where to write the kubeconfig')
    .option('--port <n>', 'port to listen on (0 = any free port)', '0')
    .option('--metrics-port <n>', 'also serve /metrics in the exposition format on this port, for a real Prometheus to scrape')
    .option('--prometheus-port <n>', "also serve the twin's Prometheus-compatible query API (/api/v1) on this port")
    .action(async (o: { scenario: string; kubeconfig: string; port: string; metricsPort?: string; prometheusPort?: string }) => {
      const { twin } = await import('../commands/twin.ts');
      await twin({
        scenario: o.scenario, kubeconfig: o.kubeconfig, port: Number(o.port),
        ...(o.metricsPort !== undefined ? { metricsPort: Number(o.metricsPort) } : {}),
        ...(o.prometheusPort !== undefined ? { prometheusPort: Number(o.prometheusPort) } : {}),
      });
    });

  program
    .command('mcp')
    .description('one MCP server (kubernetes, configmap, feature-flags, billing, finops against KUBECONFIG; pagerduty against PagerDuty; prometheus against PROMETHEUS_URL; opa over the policy bundle; cloud over the node groups) as its own process')
    .argument('<name>', 'kubernetes | configmap | feature-flags | billing | finops | pagerduty | prometheus | opa | cloud')
    .option('--stdio', 'one session on stdin/stdout (identity from --agent and --namespaces)')
    .option('--port <n>', 'Streamable HTTP on this port (0 = any free port; tokens from GOVERNOR_MCP_TOKENS_FILE)')
    .option('--host <address>', 'with --port: the address to listen on (default 127.0.0.1; 0.0.0.0 inside a pod)')
    .option('--agent <name>', 'with --stdio: the agent this session acts for')
    .option('--namespaces <list>', 'with --stdio: comma-separated namespaces the session may touch')
    .action(async (name: string, o: { stdio?: boolean; port?: string; host?: string; agent?: string; namespaces?: string }) => {
      const { mcpServer } = await import('../commands/mcp.ts');
      await mcpServer(name, {
        ...(o.stdio ? { stdio: true } : {}),
        ...(o.port !== undefined ? { port: Number(o.port) } : {}),
        ...(o.host !== undefined ? { host: o.host } : {}),
        ...(o.agent ? { agent: o.agent } : {}),
        ...(o.namespaces ? { namespaces: o.namespaces } : {}),
      });
    });

  program
    .command('drill')
    .description('the seed incident with a fault injected at a random point (kill -9 of an agent, the gateway or the executor; a Redis restart; PostgreSQL down 60 s; the Kubernetes API stalled): proposals lost, actions executed twice, unaudited executions, chain, seconds to resolve')
    .argument('<name>', 'kill-agent | kill-gateway | kill-executor | redis-restart | postgres-outage | kube-api-stall | all')
    .option('--json', 'print one JSON object')
    .option('--seed <n>', 'replay the random points of an earlier run')
    .option('--timeout <s>', 'give up waiting for the resolution after this many seconds', '480')
    .option('--replicas <n>', 'processes of each kind', '1')
    .action(async (name: string, o: { json?: boolean; seed?: string; timeout: string; replicas: string }) => {
      const { drillCommand } = await import('../commands/drill.ts');
      process.exitCode = await drillCommand(name, { json: Boolean(o.json), ...(o.seed !== undefined ? { seed: Number(o.seed) } : {}), timeoutS: Number(o.timeout), replicas: Number(o.replicas) });
    });

  const bench = program.command('bench').description('benchmarks that print numbers');
  bench
    .command('gateway')
    .description('policy evaluations per second and latency; the full gateway path with audit writes at a fixed rate')
    .option('--json', 'print one JSON object')
    .option('--rate <n>', 'proposals per second offered to the gateway', '500')
    .option('--duration <s>', 'seconds of load', '10')
    .option('--tenants <n>', 'tenants the load is spread over', '50')
    .option('--out <dir>', 'where the JSON and the PNG chart are written', 'bench-results')
    .action(async (o: { json?: boolean; rate: string; duration: string; tenants: string; out: string }) => {
      const { benchGatewayCommand } = await import('../commands/bench.ts');
      process.exitCode = await benchGatewayCommand({ json: Boolean(o.json), rate: Number(o.rate), duration: Number(o.duration), tenants: Number(o.tenants), out: o.out });
    });

  bench
    .command('pipeline')
    .description('with the processes apart on the real Redis and PostgreSQL (REDIS_URL, an empty database; DATABASE_URL): proposals/s and p99 proposal → decision, grant → audited outcome, beside a Redis round trip and a bare commit; /agents-pause until every process refuses')
    .option('--json', 'print one JSON object')
    .option('--rate <n>', 'proposals per second offered', '50')
    .option('--duration <s>', 'seconds of load', '20')
    .option('--scenario <name>', "the twin's scenario (one where the agents find nothing to do)", 'steady-state')
    .option('--out <dir>', "where the JSON, the PNG charts and the processes' log are written", 'bench-results')
    .action(async (o: { json?: boolean; rate: string; duration: string; scenario: string; out: string }) => {
      const { benchPipelineCommand } = await import('../commands/bench-pipeline.ts');
      process.exitCode = await benchPipelineCommand({ json: Boolean(o.json), rate: Number(o.rate), duration: Number(o.duration), scenario: o.scenario, out: o.out });
    });

  bench
    .command('slack')
    .description('acknowledgement latency p50/p99 of signed Slack interactions through the real app, beside a bare HTTP round trip')
    .option('--json', 'print one JSON object')
    .option('--rate <n>', 'interactions per second', '50')
    .option('--duration <s>', 'seconds of load', '20')
    .action(async (o: { json?: boolean; rate: string; duration: string }) => {
      const { benchSlackCommand } = await import('../commands/bench-slack.ts');
      process.exitCode = await benchSlackCommand({ json: Boolean(o.json), rate: Number(o.rate), duration: Number(o.duration) });
    });

  bench
    .command('detect')
    .description("NAB score of Watchtower's detector on ../shared/data/nab (standard profile), precision, recall, delay, throughput")
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'where the JSON and the PNG charts are written', 'bench-results')
    .option('--profile <name>', 'NAB scoring profile: standard, reward_low_FP_rate, reward_low_FN_rate', 'standard')
    .action(async (o: { json?: boolean; out: string; profile: string }) => {
      const { benchDetectCommand } = await import('../commands/bench-detect.ts');
      process.exitCode = benchDetectCommand({ json: Boolean(o.json), out: o.out, profile: o.profile });
    });

  bench
    .command('forecast')
    .description("Strategist's demand forecast against the seasonal-naive forecast on the hourly web traces (MASE, sMAPE)")
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'where the JSON and the PNG chart are written', 'bench-results')
    .action(async (o: { json?: boolean; out: string }) => {
      const { benchForecastCommand } = await import('../commands/bench-forecast.ts');
      process.exitCode = benchForecastCommand({ json: Boolean(o.json), out: o.out });
    });

  bench
    .command('scenarios')
    .description('every scenario through the demo runner: MTTD, MTTR, SLO-violation minutes, false alarms, actions taken, outcome met')
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'where the JSON and the PNG chart are written', 'bench-results')
    .option('--scenario <name|file...>', 'only these scenarios (names or files); default every one in scenarios/')
    .option('--approval-delay <seconds>', 'simulated seconds before the scripted approver clicks', '60')
    .action(async (o: { json?: boolean; out: string; scenario?: string[]; approvalDelay: string }) => {
      const { benchScenariosCommand } = await import('../commands/bench-scenarios.ts');
      process.exitCode = await benchScenariosCommand({ json: Boolean(o.json), out: o.out, scenarios: o.scenario ?? [], approvalDelayS: Number(o.approvalDelay) });
    });

  bench
    .command('autoscale')
    .description('Governor vs the Kubernetes HPA vs static peak provisioning on one timestamp,count trace: replica-hours, SLO-violation minutes, scaling actions')
    .requiredOption('--trace <csv>', 'a timestamp,count CSV with a header line (e.g. ../shared/data/traces/worldcup98/worldcup98_requests_per_minute.csv)')
    .option('--json', 'print one JSON object')
    .option('--out <dir>', 'where the JSON and the PNG chart are written', 'bench-results')
    .option('--peak-rps <n>', "scale the trace so its busiest minute offers this many requests/s (default: as recorded)")
    .option('--hpa-cpu-target <pct>', "the HPA's CPU utilisation target, percent of requests", '80')
    .option('--no-forecast', "Governor without Strategist's forecast: Elastik's trend only")
    .option('--service <kind>', "jvm: the twin's WorldCup JVM service; cpu: the same pod without a JVM", 'jvm')
    .action((o: { trace: string; json?: boolean; out: string; peakRps?: string; hpaCpuTarget: string; forecast: boolean; service: string }) => {
      if (o.service !== 'jvm' && o.service !== 'cpu') throw new GovernorError('config_invalid', `--service must be jvm or cpu, not '${o.service}'`);
      return import('../commands/bench-autoscale.ts').then(({ benchAutoscaleCommand }) => {
        process.exitCode = benchAutoscaleCommand({
          trace: o.trace,
          json: Boolean(o.json),
          out: o.out,
          ...(o.peakRps !== undefined ? { peakRps: Number(o.peakRps) } : {}),
          hpaCpuTarget: Number(o.hpaCpuTarget),
          forecast: o.forecast,
          service: o.service as 'jvm' | 'cpu',
        });
      });
    });

  bench
    .command('twin')
    .description('one simulated day of the WorldCup-trace cluster in the twin: wall time and size')
    .option('--json', 'print one JSON object')
    .action(async (o: { json?: boolean }) => {
      const { benchTwinCommand } = await import('../commands/bench.ts');
      process.exitCode = benchTwinCommand({ json: Boolean(o.json) });
    });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    fail(err);
  }
}
