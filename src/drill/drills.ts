// Drills: the seed incident (jvm-heap-regression) run with the processes apart on the real Redis
// and PostgreSQL, and one fault injected at a random point of it —
//   kill-agent       kill -9 of an agent at work on the incident (Watchtower, Elastik or the Arbitrator)
//   kill-gateway     kill -9 of the gateway's process
//   kill-executor    kill -9 of the executor's process
//   redis-restart    Redis killed (-9) and started again, from its append-only file
//   postgres-outage  PostgreSQL unreachable for 60 s (every connection cut, new ones refused)
//   kube-api-stall   the Kubernetes API's network stalls for 30 s (connections open, nothing moves)
// — then it waits for the incident to resolve anyway, with an on-call engineer approving what asks
// for approval in the sandbox's Slack, and counts from the audit log and the cluster itself:
// proposals lost (recorded, never decided), actions executed twice, executions the cluster saw that
// the audit log does not hold, whether the chain (and its checkpoints) verifies, and the seconds from
// detection to resolution. Everything but the last must be zero, every time.
//
// Each drill owns what it breaks: its own redis-server (append-only, on a free port), its own
// database on the given PostgreSQL server reached through a proxy it can cut, the twin's API behind a
// proxy it can stall. It never touches another Redis, database or process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { accepts, freePort } from '../core/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../config.ts';
import type { Logger } from '../core/logger.ts';
import { describeError } from '../core/errors.ts';
import { PgAuditStore } from '../audit/pg-audit-store.ts';
import { auditPublicKey, openAuditKey } from '../audit/audit-key.ts';
import { checkpointFile } from '../audit/checkpoints.ts';
import { verifyAuditLog } from '../audit/verify-command.ts';
import { SANDBOX_USERS } from '../sandbox/slack-web-api-fake.ts';
import { sandboxEnv, startApart, type Apart } from '../runtime/apart.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { Prng } from '../twin/prng.ts';

export const DRILLS = ['kill-agent', 'kill-gateway', 'kill-executor', 'redis-restart', 'postgres-outage', 'kube-api-stall'] as const;
export type DrillName = (typeof DRILLS)[number];

export interface DrillReport {
  drill: DrillName;
  /** What was broken, and when: after which record of the incident. */
  fault: string;
  proposals: number;
  proposals_lost: number;
  executions: number;
  double_executions: number;
  unaudited_executions: number;
  chain_verifies: boolean;
  chain_problems: string[];
  resolved: boolean;
  seconds_to_resolve: number | null;
  /** Incidents opened (one expected: two Watchtowers must not raise it twice). */
  incidents_opened: number;
  /** Processes of each kind. */
  replicas: number;
  /** Restarts of each supervised process during the drill. */
  restarts: Record<string, number>;
  /** All zeros but the seconds, and resolved. */
  passed: boolean;
  /** When it failed: the incident's records, one line each, to tell what went wrong. */
  timeline?: string[];
}

export interface DrillOptions {
  /** A PostgreSQL server (any database on it): the drill creates its own database there and drops it. */
  databaseUrl: string;
  /** Seeds the random point of the fault (and which agent is killed). */
  seed?: number;
  /** Give up waiting for the resolution after this long. */
  timeoutS?: number;
  /** How long PostgreSQL stays unreachable (60 s) and the Kubernetes API stalls (30 s). */
  outageS?: number;
  stallS?: number;
  /** Processes of each kind (2: every replica must be safe beside the other). */
  replicas?: number;
  logger: Logger;
  progress?: (line: string) => void;
}

const SCENARIO = 'jvm-heap-regression';
const APPROVERS = SANDBOX_USERS.filter((u) => u.id.startsWith('U0ONCALL'));

export async function runDrill(drill: DrillName, opts: DrillOptions): Promise<DrillReport> {
  const progress = opts.progress ?? (() => {});
  // Seeded, so a drill's random point can be replayed with its seed.
  const prng = new Prng(opts.seed ?? Date.now());
  const random = () => prng.next();
  const dir = mkdtempSync(join(tmpdir(), `governor-drill-${drill}-`));
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => opts.logger.warn({ err: describeError(err) }, 'drill cleanup'));
  };
  try {
    // Redis of its own, append-only: a restart keeps the streams, as a production Redis must.
    const redis = await ownRedis(dir);
    cleanups.push(() => redis.stop());
    // A database of its own, reached through a proxy the drill can cut.
    const server = new URL(opts.databaseUrl);
    const dbName = `governor_drill_${randomBytes(4).toString('hex')}`;
    await adminQuery(opts.databaseUrl, `CREATE DATABASE ${dbName}`);
    cleanups.push(() => adminQuery(opts.databaseUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    const pgProxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    cleanups.push(() => pgProxy.close());
    const direct = new URL(opts.databaseUrl);
    direct.pathname = `/${dbName}`;
    const proxied = new URL(direct);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(pgProxy.port);
    let kubeProxy: TcpProxy | undefined;

    const env = sandboxEnv(process.env, { REDIS_URL: redis.url, DATABASE_URL: proxied.toString(), GOVERNOR_DATA_DIR: join(dir, 'data'), GOVERNOR_CONSOLE_PORT: '0', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' });
    const config = loadConfig(env);
    const lines: string[] = [];
    const apart: Apart = await startApart({
      config, logger: opts.logger, scenario: SCENARIO, runDir: join(dir, 'run'), env, replicas: opts.replicas ?? 1,
      bin: fileURLToPath(new URL('../../bin/governor.mjs', import.meta.url)),
      out: (l) => lines.push(l),
      kubeApiVia: async (url) => {
        const u = new URL(url);
        kubeProxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) });
        cleanups.push(() => kubeProxy!.close());
        return `${u.protocol}//${u.hostname}:${kubeProxy.port}`;
      },
      supervision: { initialBackoffMs: 500, maxBackoffMs: 5_000, healthyAfterMs: 20_000 },
    });
    cleanups.push(() => apart.stop());
    const twin = apart.twin!;
    const fake = apart.slackFake!;
    progress(`${drill}: ${apart.children.length} processes (${Object.entries(apart.supervisor.pids()).map(([n, p]) => `${n} ${p ?? '-'}`).join(', ')})`);

    // What the cluster itself saw: every change of a Deployment's replicas or pod template.
    const specOf = new Map<string, string>();
    let clusterChanges = 0;
    for (const d of twin.listDeployments()) specOf.set(`${d.metadata.namespace}/${d.metadata.name}`, JSON.stringify([d.spec?.replicas, d.spec?.template]));
    const unwatch = twin.watch((changes) => {
      for (const c of changes) {
        if (c.kind !== 'deployments' || c.type !== 'MODIFIED') continue;
        const d = c.object as { metadata: { namespace: string; name: string }; spec?: { replicas?: number; template?: unknown } };
        const key = `${d.metadata.namespace}/${d.metadata.name}`;
        const spec = JSON.stringify([d.spec?.replicas, d.spec?.template]);
        if (specOf.get(key) !== spec) clusterChanges++;
        specOf.set(key, spec);
      }
    });
    cleanups.push(async () => unwatch());

    // The observer reads the database directly, not through the proxy it cuts.
    const reader = new pg.Pool({ connectionString: direct.toString(), max: 2 });
    cleanups.push(() => reader.end());
    const records = async (): Promise<Rec[]> => {
      try {
        return (await reader.query<Rec>('SELECT seq, kind, at, incident_id, proposal_id, payload FROM governor.audit_records ORDER BY seq')).rows;
      } catch {
        return [];
      }
    };

    // The fault, at a random point of the incident: once the log holds the k-th record after the first observation.
    const threshold = 1 + Math.floor(random() * 9);
    const agentKilled = (['watchtower', 'elastik', 'arbitrator'] as const)[Math.floor(random() * 3)]!;
    let fault = '';
    let faultDone: Promise<void> | undefined;
    const inject = async (afterRecord: string): Promise<void> => {
      switch (drill) {
        case 'kill-agent':
        case 'kill-gateway':
        case 'kill-executor': {
          const role = drill === 'kill-agent' ? agentKilled : drill === 'kill-gateway' ? 'gateway' : 'executor';
          const name = (opts.replicas ?? 1) > 1 ? `${role}-1` : role;
          const pid = apart.supervisor.pids()[name];
          if (pid) process.kill(pid, 'SIGKILL');
          fault = `kill -9 of ${name} (pid ${pid}) after ${afterRecord}`;
          return;
        }
        case 'redis-restart':
          await redis.kill();
          await sleep(2_000);
          await redis.start();
          fault = `Redis killed (-9) after ${afterRecord} and started again 2 s later from its append-only file`;
          return;
        case 'postgres-outage': {
          const s = opts.outageS ?? 60;
          pgProxy.setMode('down');
          fault = `PostgreSQL unreachable for ${s} s after ${afterRecord}`;
          await sleep(s * 1000);
          pgProxy.setMode('up');
          return;
        }
        case 'kube-api-stall': {
          const s = opts.stallS ?? 30;
          kubeProxy?.setMode('stall');
          fault = `Kubernetes API stalled for ${s} s after ${afterRecord}`;
          await sleep(s * 1000);
          kubeProxy?.setMode('up');
          return;
        }
      }
    };

    const started = Date.now();
    const deadline = started + (opts.timeoutS ?? 480) * 1000;
    const clicked = new Map<string, number>();
    const seenAt = new Map<string, number>();
    let resolved: Rec | undefined;
    let opened: Rec | undefined;
    let settledSince: number | null = null;
    while (Date.now() < deadline) {
      await sleep(500);
      const rs = await records();
      opened ??= rs.find((r) => r.kind === 'observation' && r.incident_id && severityOf(r) !== 'info');
      if (opened && !faultDone) {
        const after = rs.filter((r) => r.seq >= opened!.seq);
        if (after.length >= threshold) {
          const at = after[threshold - 1]!;
          progress(`${drill}: injecting after record ${at.seq} (${at.kind})`);
          faultDone = inject(`record ${at.seq} (${at.kind}) of the incident`).catch((err: unknown) => {
            fault = `${fault || drill}: the fault could not be injected: ${describeError(err)}`;
          });
        }
      }
      // The on-call engineer: answers a request for approval a few seconds after it appears, and
      // again if the click did not reach the app (its process was down).
      for (const m of fake.messages()) {
        if (!JSON.stringify(m.blocks ?? []).includes('proposal_approve')) continue;
        seenAt.set(m.ts, seenAt.get(m.ts) ?? Date.now());
        if (Date.now() - seenAt.get(m.ts)! < 3_000 || Date.now() - (clicked.get(m.ts) ?? 0) < 10_000) continue;
        clicked.set(m.ts, Date.now());
        for (const who of APPROVERS) {
          const now = fake.messages().find((x) => x.ts === m.ts);
          if (!now || !JSON.stringify(now.blocks ?? []).includes('proposal_approve')) break;
          await fake.clickButton({ ts: m.ts, actionId: 'proposal_approve', userId: who.id, userName: who.name }).catch(() => undefined);
        }
      }
      resolved = opened ? rs.find((r) => r.seq > opened!.seq && r.kind === 'observation' && r.incident_id === opened!.incident_id && severityOf(r) === 'info') : undefined;
      const undecided = proposalsLost(rs);
      // Done when the incident has resolved after the fault, nothing waits to be decided or executed, for 10 s.
      if (resolved && faultDone && undecided === 0 && openGrants(rs) === 0) {
        settledSince ??= Date.now();
        if (Date.now() - settledSince >= 10_000) break;
      } else settledSince = null;
    }
    await faultDone;
    await sleep(1_000);
    const rs = await records();
    const executions = rs.filter((r) => r.kind === 'execution_result' && resultOf(r).status === 'succeeded');
    const perAction = new Map<string, number>();
    for (const r of executions) {
      const e = resultOf(r);
      const key = `${e.proposal_id}:${e.compensation_for ? 'compensation' : 'action'}`;
      perAction.set(key, (perAction.get(key) ?? 0) + 1);
    }
    const doubles = [...perAction.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
    const deploymentActions = executions.filter((r) => /deployment|resources|limits/.test(resultOf(r).tool)).length;

    // The chain, the seals and the checkpoints, with the audit key the processes sealed with.
    const auditKey = openAuditKey(config, true);
    const store = new PgAuditStore({ connectionString: direct.toString(), schema: 'governor', poolSize: 1, logger: opts.logger, auditKey: auditKey.key });
    let verification;
    try {
      verification = await verifyAuditLog(store, { file: checkpointFile(config, 'governor'), schema: 'governor', key: auditPublicKey(auditKey.key.publicKey) });
    } finally {
      await store.close();
    }
    const restarts = Object.fromEntries(apart.children.map((c) => [c.name, apart.supervisor.restarts(c.name)]));
    const lost = proposalsLost(rs);
    const report: DrillReport = {
      drill,
      fault: fault || `no fault: the incident ${opened ? 'ended before the chosen point' : 'never opened'}`,
      proposals: rs.filter((r) => r.kind === 'proposal').length,
      proposals_lost: lost,
      executions: executions.length,
      double_executions: doubles,
      unaudited_executions: Math.max(0, clusterChanges - deploymentActions),
      chain_verifies: verification.valid,
      chain_problems: verification.problems.map((p) => p.message),
      resolved: Boolean(resolved),
      seconds_to_resolve: opened && resolved ? Math.round((Date.parse(resolved.at) - Date.parse(opened.at)) / 1000) : null,
      incidents_opened: new Set(rs.filter((r) => r.kind === 'observation' && r.incident_id && severityOf(r) !== 'info').map((r) => r.incident_id)).size,
      replicas: opts.replicas ?? 1,
      restarts,
      passed: false,
    };
    report.passed = Boolean(fault) && !fault.includes('could not') && report.proposals_lost === 0 && report.double_executions === 0 && report.unaudited_executions === 0 && report.chain_verifies && report.resolved && report.incidents_opened === 1;
    if (!report.passed) report.timeline = timelineOf(rs, opened);
    progress(`${drill}: ${report.passed ? 'passed' : 'FAILED'} — ${report.fault}; resolved in ${report.seconds_to_resolve ?? '—'} s`);
    return report;
  } finally {
    await cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Rec {
  seq: number;
  kind: string;
  at: string;
  incident_id: string | null;
  proposal_id: string | null;
  payload: Record<string, unknown>;
}

/** One line per record from the incident's opening on: seconds since, kind, and what it says. */
function timelineOf(rs: Rec[], opened: Rec | undefined): string[] {
  const t0 = Date.parse((opened ?? rs[0])?.at ?? new Date().toISOString());
  const said = (r: Rec): string => {
    const p = r.payload;
    const pick = (key: string, ...fields: string[]) => {
      const o = (p[key] ?? {}) as Record<string, unknown>;
      return fields.map((f) => o[f]).filter((v) => v !== undefined && v !== null).map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(' ');
    };
    switch (r.kind) {
      case 'observation': return pick('observation', 'severity', 'summary');
      case 'proposal': return pick('proposal', 'agent', 'action', 'params');
      case 'decision': return `${pick('decision', 'verdict', 'agent_level')} ${JSON.stringify(((p['decision'] as { violations?: { rule: string }[] } | undefined)?.violations ?? []).map((v) => v.rule))}`;
      case 'execution_result': return pick('result', 'tool', 'status', 'error');
      case 'verification': return pick('verification', 'outcome', 'metric', 'before', 'after');
      case 'control': return pick('control', 'action', 'agent', 'level', 'reason');
      case 'refusal': return [p['code'], p['message']].filter(Boolean).join(': ');
      case 'approval': return pick('approval', 'approved', 'approver');
      default: return '';
    }
  };
  return rs.filter((r) => !opened || r.seq >= opened.seq).map((r) => `${r.seq} +${Math.round((Date.parse(r.at) - t0) / 1000)}s ${r.kind}${r.proposal_id ? ` ${r.proposal_id.slice(0, 8)}` : ''} ${said(r)}`.trimEnd());
}

const severityOf = (r: Rec) => (r.payload['observation'] as { severity?: string } | undefined)?.severity;
const resultOf = (r: Rec) => r.payload['result'] as { proposal_id: string; status: string; tool: string; compensation_for?: string };

/** Proposals recorded and never decided. */
function proposalsLost(rs: readonly Rec[]): number {
  const decided = new Set(rs.filter((r) => r.kind === 'decision').map((r) => r.proposal_id));
  return rs.filter((r) => r.kind === 'proposal' && !decided.has(r.proposal_id)).length;
}

/** Grants neither executed, refused by the executor, nor expired yet (their 120 s). */
function openGrants(rs: readonly Rec[]): number {
  const done = new Set(rs.filter((r) => r.kind === 'execution_result').map((r) => (r.payload['result'] as { grant_id: string }).grant_id));
  const now = Date.now();
  return rs.filter((r) => {
    if (r.kind !== 'grant') return false;
    const g = r.payload['grant'] as { id: string; expires_at?: string };
    return !done.has(g.id) && (!g.expires_at || Date.parse(g.expires_at) > now);
  }).length;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

interface OwnRedis {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of the drill's own: append-only with fsync at every write, on a free port. */
async function ownRedis(dir: string): Promise<OwnRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    proc.once('error', () => undefined);
    for (let i = 0; i < 100; i++) {
      if (await accepts(port)) return;
      await sleep(100);
    }
    throw new Error('redis-server did not start (is it installed?)');
  };
  const kill = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const closed = new Promise((r) => p.once('close', r));
    p.kill('SIGKILL');
    await closed;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, start, kill, stop: kill };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

