// `governor bench pipeline`: the whole pipeline with the processes apart, on the real Redis and
// PostgreSQL. It runs `governor start` (bin/governor.mjs) as a child with REDIS_URL and DATABASE_URL,
// so the supervisor starts the seven processes (five agents, the gateway with the Slack app, the
// executor) and keeps the MCP servers, the twin and the sandbox Slack; it shares nothing with them
// but Redis, PostgreSQL, the audit key and the Slack console, as an operator's tools would.
//
// What it measures, all on this run's own database (CREATE DATABASE governor_bench_<random>, dropped
// at the end) and an empty Redis database (its keys deleted at the end):
//   - proposal → decision: proposals offered at a fixed rate (open loop), each recorded and published
//     as an agent does (agents/runtime/propose.ts: one audit record with its outbox entry, relayed to
//     governor:proposals); the clock runs from just before that commit to the moment the bench's own
//     consumer group reads the gateway's decision on governor:decisions;
//   - grant → audited outcome: from the grant read on governor:grants to the executor's
//     execution_result read on governor:executions (the scale done through the Kubernetes MCP server
//     against the twin, or refused there: an audited refusal is an outcome too);
//   - beside the load, in the same run at the same rate: a Redis PING round trip on the same Redis,
//     and a bare INSERT + COMMIT on the same PostgreSQL (commit-floor.ts, in a worker thread);
//   - `/agents-pause` as an operator types it in the sandbox Slack console (a signed slash command to
//     the gateway's Slack app), until every process refuses to act: each process's autonomy view
//     applying the pause (its log line, timestamped by that process), and the pause epoch in Redis
//     that the executor and the MCP servers check on every grant; then a proposal offered after it
//     must be denied at level 1.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../config.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { silentLogger } from '../core/logger.ts';
import { AuditRecorder } from '../audit/recorder.ts';
import { OutboxRelay } from '../audit/outbox-relay.ts';
import { openAuditKey } from '../audit/audit-key.ts';
import { PgAuditStore } from '../audit/pg-audit-store.ts';
import { RedisEventBus } from '../bus/redis-event-bus.ts';
import { RedisSharedState } from '../bus/redis-shared-state.ts';
import type { Subscription } from '../bus/event-bus.ts';
import { STREAMS, type Proposal } from '../contracts/events.ts';
import { SharedStatePauseEpoch } from '../governance/pause-epoch.ts';
import { loadScenarioSpec } from '../twin/scenarios/index.ts';
import { proposalOf, recordProposal } from '../../agents/runtime/propose.ts';
import { SUPERVISED_ROLES, sandboxEnv } from '../runtime/apart.ts';
import { CommitFloor, type FloorSummary } from './commit-floor.ts';
import { openLoop, summarise, type LatencySummary } from './latency.ts';
import { redactUrl } from '../core/redact-url.ts';

/** The seed's "instantly". */
export const PAUSE_TARGET_MS = 1000;

export interface PipelineBenchOptions {
  redisUrl: string;
  /** A PostgreSQL server URL; the bench creates (and drops) a database of its own on it. */
  databaseUrl: string;
  ratePerS: number;
  durationS: number;
  /** The twin's scenario: one where nothing is wrong, so the agents add no proposals of their own. */
  scenario?: string;
  /** The `governor` entry point (bin/governor.mjs). */
  bin: string;
  /** Where the supervisor's and the children's output goes (it is long); discarded when absent. */
  logFile?: string;
  /** How long the processes may take to be ready (ms). */
  startTimeoutMs?: number;
  onProgress?: (line: string) => void;
}

export interface PauseProcess {
  /** ms from sending `/agents-pause` until this process's autonomy view held the pause (its own log's timestamp); null: never seen. */
  view_applied_ms: number | null;
  /** ms until it refuses to act: the view for the gateway and the agents; the pause epoch in Redis for the executor, which reads it before every grant. */
  refuses_ms: number | null;
  how: string;
}

export interface PipelineBenchResult {
  setup: {
    processes: string[];
    scenario: string;
    redis: string;
    database: string;
    action: string;
    targets: string[];
    started_in_s: number;
  };
  /** Before the load, not counted: proposals past the guardrail (denied), warming the same path. */
  warmup: { proposals: number; decided: number } & LatencySummary;
  load: {
    target_rate_per_s: number;
    duration_s: number;
    offered: number;
    decided: number;
    /** Offered and never decided within the wait after the load. */
    lost: number;
    /** Decisions per second from the first offer to the last decision. */
    achieved_rate_per_s: number;
    /** How long after the last offer the last decision came: the backlog left when the load stopped. */
    last_decision_after_last_offer_s: number;
    /** Every proposal decided, the last within a second of the last offer. */
    kept_up: boolean;
    verdicts: Record<string, number>;
    /** Why proposals were not allowed: each violated rule, counted once per proposal. */
    rules: Record<string, number>;
  };
  proposal_to_decision: LatencySummary & {
    samples: number;
    by_verdict: Record<string, LatencySummary & { samples: number }>;
    /** By the second of the load in which each proposal was offered: how latency moved over the run. */
    per_second: ({ second: number; offered: number; allowed: number } & LatencySummary)[];
    measured: string;
  };
  grant_to_outcome: LatencySummary & { samples: number; grants: number; statuses: Record<string, number>; measured: string };
  floors: {
    redis_ping: LatencySummary & { round_trips: number; errors: number };
    pg_commit: FloorSummary & { sql: string };
  };
  ratios: {
    decision_p99_over_pg_commit_p99: number;
    decision_p99_over_redis_p99: number;
    outcome_p99_over_pg_commit_p99: number;
    outcome_p99_over_redis_p99: number;
  };
  pause: {
    command: string;
    /** The slowest process: ms until every process refuses to act (null if one was never seen). */
    all_refusing_ms: number | null;
    target_ms: number;
    met: boolean;
    processes: Record<string, PauseProcess>;
    /** ms until the pause epoch was in Redis: from then the executor and the MCP servers (in the supervisor) void any grant issued before the pause. */
    pause_epoch_in_redis_ms: number | null;
    /** A proposal offered right after the command: decided at level 1? */
    probe: { decided_ms: number | null; verdict: string | null; level_1: boolean };
    measured: string;
  };
  audit: { records: number; chain_valid: boolean };
}

/** Epoch ms with sub-millisecond precision (comparable with other processes' Date.now()). */
const nowMs = () => performance.timeOrigin + performance.now();
const round = (x: number) => Math.round(x * 1000) / 1000;
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.POSITIVE_INFINITY);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  tenant: string;
  namespace: string;
  deployment: string;
  replicas: number;
}

/** Elastik's scale of one more replica: allowed at level 3 within the blast radius, done by the executor through the Kubernetes MCP server. */
function scaleProposal(t: Target, to = t.replicas + 1): Proposal {
  const args = (replicas: number) => ({ namespace: t.namespace, deployment: t.deployment, replicas });
  return proposalOf(
    {
      action: 'scale_deployment',
      params: { from_replicas: t.replicas, to_replicas: to },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: Math.round((100 * (to - t.replicas)) / Math.max(1, t.replicas)) },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: args(to) },
      compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: args(t.replicas) },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 500, min_improvement_pct: 20, window_s: 120 },
      reasoning: [to > t.replicas * 3 ? 'pipeline benchmark warm-up: beyond the 3x guardrail, denied' : 'pipeline benchmark load'],
    },
    { agent: 'elastik', tenant: t.tenant, namespace: t.namespace, target: { kind: 'Deployment', name: t.deployment }, nowMs: Date.now() },
  );
}

/** Calls `make(i)` for i < count at `ratePerS`, open loop (arrivals never wait for earlier ones); resolves when all have. */
async function offerAtRate(count: number, ratePerS: number, make: (i: number) => Promise<void>, onTick?: (sent: number) => void): Promise<void> {
  const inflight: Promise<void>[] = [];
  let errors = 0;
  let first: string | undefined;
  const started = performance.now();
  let sent = 0;
  let lastTick = started;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) / 1000) * ratePerS) + 1);
    for (; sent < due; sent++) {
      inflight.push(make(sent).catch((err: unknown) => {
        errors++;
        first ??= describeError(err);
      }));
    }
    if (onTick && performance.now() - lastTick > 1000) {
      lastTick = performance.now();
      onTick(sent);
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  if (errors > 0) throw new Error(`${errors} of ${count} proposals could not be recorded: ${first}`);
}

/** The supervisor (`governor start`) as a child of the bench, its output read line by line. */
class Governor {
  readonly ready = new Set<string>();
  consoleUrl: string | undefined;
  /** Process name → epoch ms at which its autonomy view applied the pause (its log's `time`). */
  readonly pauseApplied = new Map<string, number>();
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly proc: ChildProcess;
  private readonly closed: Promise<void>;
  private readonly log: WriteStream | undefined;
  private lastLines: string[] = [];

  constructor(bin: string, scenario: string, env: NodeJS.ProcessEnv, logFile: string | undefined) {
    this.log = logFile ? createWriteStream(logFile) : undefined;
    this.proc = spawn(process.execPath, [bin, 'start', '--scenario', scenario], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.closed = new Promise((resolve) => this.proc.once('close', (code, signal) => {
      this.exited = { code, signal };
      resolve();
    }));
    this.proc.once('error', () => undefined);
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: this.proc[stream]! }).on('line', (line) => this.onLine(stream, line));
    }
  }

  private onLine(stream: 'stdout' | 'stderr', line: string): void {
    this.log?.write(`${stream === 'stderr' ? '! ' : ''}${line}\n`);
    this.lastLines.push(line);
    if (this.lastLines.length > 20) this.lastLines.shift();
    const m = /^\[([a-z0-9-]+)\] (.*)$/.exec(line);
    if (stream === 'stdout') {
      if (m && /^ready, pid \d+/.test(m[2]!)) this.ready.add(m[1]!);
      const open = /open (https?:\/\/\S+) to see the Slack channel/.exec(line);
      if (open && line.startsWith('governor: ready')) this.consoleUrl = open[1]!;
      return;
    }
    // A child's log line: `[name] {pino JSON}`.
    if (!m || !m[2]!.startsWith('{') || !m[2]!.includes('autonomy: every agent paused')) return;
    try {
      const entry = JSON.parse(m[2]!) as { time?: number; msg?: string };
      if (typeof entry.time === 'number' && entry.msg?.startsWith('autonomy: every agent paused') && !this.pauseApplied.has(m[1]!)) this.pauseApplied.set(m[1]!, entry.time);
    } catch {
      // not JSON after all
    }
  }

  tail(): string {
    return this.lastLines.slice(-8).join(' | ');
  }

  async waitReady(names: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.consoleUrl && names.every((n) => this.ready.has(n)))) {
      if (this.exited) throw new Error(`governor start exited (${this.exited.signal ?? `code ${this.exited.code}`}) before its processes were ready: ${this.tail()}`);
      if (Date.now() > deadline) {
        throw new Error(`the processes were not ready within ${Math.round(timeoutMs / 1000)} s (ready: ${[...this.ready].join(', ') || 'none'}; console ${this.consoleUrl ?? 'not yet'}): ${this.tail()}`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    if (!this.exited) {
      this.proc.kill('SIGTERM');
      const killed = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
      await this.closed;
      clearTimeout(killed);
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(() => resolve()) : resolve()));
  }
}

/** PING round trips at `ratePerS` for `durationS`, open loop, on a connection of their own. */
async function redisPingFloor(url: string, ratePerS: number, durationS: number): Promise<LatencySummary & { round_trips: number; errors: number }> {
  const redis = new Redis(url, { connectionName: 'governor-bench-floor', maxRetriesPerRequest: 1 });
  try {
    await redis.ping();
    const { latencies, errors } = await openLoop(ratePerS, durationS, async () => {
      const t0 = performance.now();
      await redis.ping();
      return performance.now() - t0;
    });
    return { ...summarise(latencies), round_trips: latencies.length, errors };
  } finally {
    redis.disconnect();
  }
}

export async function benchPipeline(opts: PipelineBenchOptions): Promise<PipelineBenchResult> {
  const progress = opts.onProgress ?? (() => {});
  const scenario = opts.scenario ?? 'steady-state';
  if (!(opts.ratePerS > 0) || !(opts.durationS > 0)) throw new GovernorError('config_invalid', '--rate and --duration must be positive numbers');

  // An empty Redis database: the processes' streams and state must be this run's alone.
  const probe = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'governor-bench' });
  try {
    await probe.connect();
    const keys = await probe.dbsize();
    if (keys > 0) {
      throw new GovernorError('config_invalid', `the Redis database at ${redactUrl(opts.redisUrl)} holds ${keys} ${keys === 1 ? 'key' : 'keys'}; the pipeline bench needs an empty one, which it cleans after itself: give REDIS_URL another database number, e.g. ${otherDatabase(opts.redisUrl)}`);
    }
  } finally {
    probe.disconnect();
  }

  // A database of its own on the given server.
  const dbName = `governor_bench_${randomBytes(4).toString('hex')}`;
  const serverUrl = opts.databaseUrl;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE "${dbName}"`);
  const dbUrlObj = new URL(serverUrl);
  dbUrlObj.pathname = `/${dbName}`;
  const dbUrl = dbUrlObj.toString();
  const dataDir = mkdtempSync(join(tmpdir(), 'governor-bench-pipeline-'));

  const cleanups: (() => Promise<unknown>)[] = [];
  const run = async (f: () => Promise<unknown>, what: string) => {
    try {
      await f();
    } catch (err) {
      progress(`cleanup: ${what} failed: ${describeError(err)}`);
    }
  };
  // Whatever ends the run — its end, an error, Ctrl-C — the processes stop, the database is dropped,
  // the keys deleted.
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const c of cleanups.reverse()) await run(c, 'stopping');
      await run(() => admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`), `dropping database ${dbName}`);
      await run(() => deleteAllKeys(opts.redisUrl), 'deleting the Redis keys of this run');
      rmSync(dataDir, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    progress(`${signal}: stopping the processes, dropping ${dbName}, deleting the run's Redis keys`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const env = sandboxEnv(process.env, { REDIS_URL: opts.redisUrl, DATABASE_URL: dbUrl, GOVERNOR_DATA_DIR: dataDir, GOVERNOR_CONSOLE_PORT: '0', LOG_LEVEL: 'info' });
    const config = loadConfig(env);
    // The audit key every process seals with: created here, before any of them opens it.
    const auditKey = openAuditKey(config, true).key;

    const spec = loadScenarioSpec(scenario);
    const targets: Target[] = spec.tenants.flatMap((t) => t.namespaces.flatMap((ns) => ns.deployments.map((d) => ({ tenant: t.id, namespace: ns.name, deployment: d.name, replicas: d.replicas }))));
    if (targets.length === 0) throw new GovernorError('config_invalid', `scenario '${scenario}' has no deployments to scale`);

    progress(`starting governor with the processes apart (scenario '${scenario}', database ${dbName}, Redis ${redactUrl(opts.redisUrl)})`);
    const t0Start = Date.now();
    const governor = new Governor(opts.bin, scenario, env, opts.logFile);
    cleanups.push(() => governor.stop());
    const processes = [...SUPERVISED_ROLES];
    await governor.waitReady(processes, opts.startTimeoutMs ?? 180_000);
    const startedInS = Math.round((Date.now() - t0Start) / 100) / 10;
    progress(`ready in ${startedInS} s: ${processes.join(', ')}, supervised; console ${governor.consoleUrl}`);

    // The bench's side: an agent's way of proposing (audit record + outbox, relayed to the bus), and its own consumer groups.
    const logger = silentLogger();
    const audit = new PgAuditStore({ connectionString: dbUrl, schema: 'governor', poolSize: 4, logger, auditKey });
    cleanups.push(() => audit.close());
    await audit.migrate();
    const bus = new RedisEventBus({ url: opts.redisUrl, logger });
    cleanups.push(() => bus.close());
    const relay = new OutboxRelay(audit, bus, logger, 50);
    relay.start();
    cleanups.push(() => relay.stop());
    const recorder = new AuditRecorder(audit, () => void relay.nudge());

    const offeredAt = new Map<string, number>();
    const decisions = new Map<string, { at: number; verdict: string; rules: string[] }>();
    const grantHeard = new Map<string, number>();
    const outcomes = new Map<string, { at: number; status: string }>();
    const subs: Subscription[] = [];
    cleanups.push(() => Promise.all(subs.map((s) => s.stop())));
    const listen = (stream: string, handle: (e: import('../contracts/events.ts').GovernorEvent, at: number) => void) =>
      subs.push(bus.subscribe(stream, { group: 'bench-pipeline', consumer: 'bench', blockMs: 200, batch: 64 }, async (m) => handle(m.event, nowMs())));
    const warmAt = new Map<string, number>();
    const warmDecided = new Map<string, number>();
    listen(STREAMS.decision, (e, at) => {
      if (e.type === 'decision' && offeredAt.has(e.proposal_id) && !decisions.has(e.proposal_id)) {
        decisions.set(e.proposal_id, { at, verdict: e.verdict, rules: [...new Set(e.violations.map((v) => v.rule))] });
      }
      if (e.type === 'decision' && warmAt.has(e.proposal_id) && !warmDecided.has(e.proposal_id)) warmDecided.set(e.proposal_id, at - warmAt.get(e.proposal_id)!);
    });
    listen(STREAMS.grant, (e, at) => {
      if (e.type === 'grant' && offeredAt.has(e.proposal_id) && !grantHeard.has(e.id)) grantHeard.set(e.id, at);
    });
    listen(STREAMS.execution_result, (e, at) => {
      if (e.type === 'execution_result' && offeredAt.has(e.proposal_id) && !outcomes.has(e.grant_id)) outcomes.set(e.grant_id, { at, status: e.status });
    });

    const offer = async (p: Proposal) => {
      offeredAt.set(p.id, nowMs());
      await recordProposal(recorder, p, { tool_calls: [] });
    };

    // The floor beside the load: a bare commit on the same server, in a schema of this run's database.
    const floor = new CommitFloor({ connectionString: dbUrl, schema: 'bench_floor', poolSize: 4 });
    cleanups.push(() => floor.close());
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    await c.query('CREATE SCHEMA IF NOT EXISTS bench_floor');
    await c.end();
    await floor.prepare();

    // Warm-up, not counted: the same path (lease, decision context, policy, decision record) for
    // proposals the policy denies (4x, past the 3x guardrail), so that no deployment's one scale
    // of the run is spent on it and the first measured proposals do not pay the processes' cold start.
    const warmCount = Math.max(1, Math.round(opts.ratePerS * Math.min(2, opts.durationS)));
    progress(`warm-up: ${warmCount} proposals past the guardrail (denied; not counted) at ${opts.ratePerS}/s`);
    await offerAtRate(warmCount, opts.ratePerS, async (i) => {
      const p = scaleProposal(targets[i % targets.length]!, targets[i % targets.length]!.replicas * 4);
      warmAt.set(p.id, nowMs());
      await recordProposal(recorder, p, { tool_calls: [] });
    });
    const warmDeadline = Date.now() + 60_000;
    while (warmDecided.size < warmCount && Date.now() < warmDeadline) await sleep(20);
    const warmup = { proposals: warmCount, decided: warmDecided.size, ...summarise([...warmDecided.values()]) };
    progress(`  warm-up decided: ${warmup.decided}/${warmCount}, p50 ${warmup.p50_ms} ms, p99 ${warmup.p99_ms} ms`);

    const total = Math.max(1, Math.round(opts.ratePerS * opts.durationS));
    progress(`load: ${total} scale proposals at ${opts.ratePerS}/s over ${opts.durationS} s, round-robin over ${targets.length} deployments; beside it a Redis PING and a bare PostgreSQL commit at the same rate`);
    const pgFloorRun = floor.runInWorker(opts.ratePerS, opts.durationS);
    pgFloorRun.catch(() => {});
    const redisFloorRun = redisPingFloor(opts.redisUrl, opts.ratePerS, opts.durationS);
    redisFloorRun.catch(() => {});
    const firstOfferAt = nowMs();
    await offerAtRate(total, opts.ratePerS, (i) => offer(scaleProposal(targets[i % targets.length]!)), (sent) => {
      const recent = [...decisions].slice(-200).map(([id, d]) => d.at - offeredAt.get(id)!);
      progress(`  ${sent}/${total} offered, ${decisions.size} decided, ${outcomes.size}/${grantHeard.size} grants with an outcome; recent decision p99 ${summarise(recent).p99_ms} ms`);
    });
    const [pgFloor, redisFloor] = await Promise.all([pgFloorRun, redisFloorRun]);

    // Every offered proposal decided, every grant with its outcome (or the wait ends).
    const drainDeadline = Date.now() + Math.max(30_000, opts.durationS * 3000);
    let lastDrainReport = Date.now();
    while (Date.now() < drainDeadline && (decisions.size < offeredAt.size || outcomes.size < grantHeard.size)) {
      if (Date.now() - lastDrainReport > 2000) {
        lastDrainReport = Date.now();
        progress(`  draining: ${decisions.size}/${offeredAt.size} decided, ${outcomes.size}/${grantHeard.size} grants with an outcome`);
      }
      await sleep(50);
    }
    const lastDecisionAt = Math.max(firstOfferAt, ...[...decisions.values()].map((d) => d.at));
    const lastOfferAt = Math.max(firstOfferAt, ...offeredAt.values());
    const decisionLat = [...decisions].map(([id, d]) => d.at - offeredAt.get(id)!);
    const outcomeLat = [...outcomes].flatMap(([grant, o]) => (grantHeard.has(grant) ? [o.at - grantHeard.get(grant)!] : []));
    const verdicts: Record<string, number> = {};
    const rules: Record<string, number> = {};
    for (const d of decisions.values()) {
      verdicts[d.verdict] = (verdicts[d.verdict] ?? 0) + 1;
      for (const r of d.rules) rules[r] = (rules[r] ?? 0) + 1;
    }
    const byVerdict: Record<string, number[]> = {};
    for (const [id, d] of decisions) (byVerdict[d.verdict] ??= []).push(d.at - offeredAt.get(id)!);
    const seconds = new Map<number, { lat: number[]; allowed: number }>();
    for (const [id, d] of decisions) {
      const second = Math.floor((offeredAt.get(id)! - firstOfferAt) / 1000);
      const b = seconds.get(second) ?? { lat: [], allowed: 0 };
      b.lat.push(d.at - offeredAt.get(id)!);
      if (d.verdict === 'allow') b.allowed++;
      seconds.set(second, b);
    }
    const perSecond = [...seconds].sort(([a], [b]) => a - b).map(([second, b]) => ({ second, offered: b.lat.length, allowed: b.allowed, ...summarise(b.lat) }));
    const statuses: Record<string, number> = {};
    for (const o of outcomes.values()) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    const offeredCount = offeredAt.size;
    progress(`load done: ${decisions.size}/${offeredCount} decided (${JSON.stringify(verdicts)}), ${outcomes.size}/${grantHeard.size} grants with an outcome ${JSON.stringify(statuses)}`);

    // The pause, as an operator types it.
    const shared = new RedisSharedState({ url: opts.redisUrl, keyPrefix: 'governor:state:' });
    cleanups.push(() => shared.close());
    const epoch = new SharedStatePauseEpoch(shared);
    if ((await epoch.latestPauseMs()) !== null) throw new Error('a pause is already in force before the bench paused');
    const command = '/agents-pause pipeline benchmark: pause propagation';
    progress(`pause: ${command.split(' ')[0]} through the Slack console at ${governor.consoleUrl}`);
    const pausedAt = nowMs();
    let redisEpochAt: number | null = null;
    const watchEpoch = (async () => {
      while (redisEpochAt === null && nowMs() - pausedAt < 10_000) {
        if ((await epoch.latestPauseMs()) !== null) redisEpochAt = nowMs();
        else await sleep(2);
      }
    })();
    const res = await fetch(new URL('/console/command', governor.consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ line: command, userId: 'U0ONCALL01' }),
    });
    const body = (await res.json().catch(() => ({}))) as { ok?: boolean; status?: number; error?: string };
    if (!body.ok) throw new Error(`the Slack console refused /agents-pause: HTTP ${res.status} ${JSON.stringify(body)}`);
    // A proposal right after the command: the gateway must decide it at level 1.
    const probeProposal = scaleProposal(targets[0]!);
    const probeAt = nowMs();
    await offer(probeProposal);
    const pauseDeadline = Date.now() + 10_000;
    while (Date.now() < pauseDeadline && !(processes.every((n) => governor.pauseApplied.has(n)) && redisEpochAt !== null && decisions.has(probeProposal.id))) await sleep(10);
    await watchEpoch;
    const since = (at: number | undefined | null) => (at === undefined || at === null ? null : round(Math.max(0, at - pausedAt)));
    const epochMs = since(redisEpochAt);
    const perProcess: Record<string, PauseProcess> = {};
    for (const name of processes) {
      const view = since(governor.pauseApplied.get(name));
      perProcess[name] = name === 'executor'
        ? { view_applied_ms: view, refuses_ms: epochMs, how: 'reads the pause epoch in Redis before every grant (and its view applied the pause)' }
        : name === 'gateway'
          ? { view_applied_ms: view, refuses_ms: view, how: 'its view (it stores the pause) decides every later proposal at level 1: deny' }
          : { view_applied_ms: view, refuses_ms: view, how: 'its view applied the pause heard on governor:control: the agent is at level 1' };
    }
    perProcess['supervisor (MCP servers)'] = { view_applied_ms: null, refuses_ms: epochMs, how: 'the MCP servers read the pause epoch in Redis on every granted call' };
    const refusals = Object.values(perProcess).map((p) => p.refuses_ms);
    const allRefusing = refusals.every((r) => r !== null) ? Math.max(...(refusals as number[])) : null;
    const probeDecision = decisions.get(probeProposal.id);
    progress(`pause: every process refusing after ${allRefusing ?? 'NEVER (one was not seen)'} ms; probe proposal ${probeDecision ? `${probeDecision.verdict}${probeDecision.rules.includes('level_1_advisory') ? ' at level 1' : ''}` : 'not decided'}`);

    await relay.nudge();
    const chain = await audit.verify();

    const decision = summarise(decisionLat);
    const outcome = summarise(outcomeLat);
    const loadDecided = decisionLat.length;
    return {
      setup: {
        processes: [...processes, 'supervisor (MCP servers, twin, Slack fake)'],
        scenario,
        redis: redactUrl(opts.redisUrl),
        database: `${dbName} on ${redactUrl(serverUrl)} (created for this run, dropped after it)`,
        action: "Elastik's scale_deployment of one more replica (level 3, within the blast radius); the scale cooldown (300 s) lets each deployment scale once per run, later proposals on it are denied by policy",
        targets: targets.map((t) => `${t.namespace}/${t.deployment}`),
        started_in_s: startedInS,
      },
      warmup,
      load: {
        target_rate_per_s: opts.ratePerS,
        duration_s: opts.durationS,
        offered: total,
        decided: Math.min(total, loadDecided),
        lost: total - Math.min(total, loadDecided),
        achieved_rate_per_s: Math.round((loadDecided / Math.max(0.001, (lastDecisionAt - firstOfferAt) / 1000)) * 10) / 10,
        last_decision_after_last_offer_s: Math.round((lastDecisionAt - lastOfferAt) / 100) / 10,
        kept_up: loadDecided === total && lastDecisionAt - lastOfferAt < 1000,
        verdicts,
        rules,
      },
      proposal_to_decision: {
        ...decision,
        samples: decisionLat.length,
        by_verdict: Object.fromEntries(Object.entries(byVerdict).map(([v, l]) => [v, { ...summarise(l), samples: l.length }])),
        per_second: perSecond,
        measured: "from just before the proposal's audit record and outbox entry are committed (as an agent proposes) to the gateway's decision read by the bench's own consumer group on governor:decisions",
      },
      grant_to_outcome: {
        ...outcome,
        samples: outcomeLat.length,
        grants: grantHeard.size,
        statuses,
        measured: "from the grant read on governor:grants to the executor's execution_result (succeeded, failed or refused, each audited) read on governor:executions",
      },
      floors: { redis_ping: redisFloor, pg_commit: { ...pgFloor, sql: floor.sql } },
      ratios: {
        decision_p99_over_pg_commit_p99: ratio(decision.p99_ms, pgFloor.p99_ms),
        decision_p99_over_redis_p99: ratio(decision.p99_ms, redisFloor.p99_ms),
        outcome_p99_over_pg_commit_p99: ratio(outcome.p99_ms, pgFloor.p99_ms),
        outcome_p99_over_redis_p99: ratio(outcome.p99_ms, redisFloor.p99_ms),
      },
      pause: {
        command: '/agents-pause',
        all_refusing_ms: allRefusing,
        target_ms: PAUSE_TARGET_MS,
        met: allRefusing !== null && allRefusing < PAUSE_TARGET_MS,
        processes: perProcess,
        pause_epoch_in_redis_ms: epochMs,
        probe: { decided_ms: probeDecision ? round(probeDecision.at - probeAt) : null, verdict: probeDecision?.verdict ?? null, level_1: Boolean(probeDecision?.rules.includes('level_1_advisory')) },
        measured: "from sending the signed slash command through the sandbox Slack console to: each process's log line applying the pause (timestamped by that process); the pause epoch readable in Redis; and a proposal offered after the command decided by the gateway",
      },
      audit: { records: chain.records, chain_valid: chain.valid },
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}

/** The same Redis with the next database number (of the default 16): what to suggest when the given one is in use. */
function otherDatabase(url: string): string {
  try {
    const u = new URL(url);
    const n = Number(u.pathname.slice(1) || '0');
    u.pathname = `/${Number.isInteger(n) ? (n + 1) % 16 : 14}`;
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://127.0.0.1:6379/14';
  }
}

/** The database was empty when the run began: every key in it is this run's. */
async function deleteAllKeys(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
