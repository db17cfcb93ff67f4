// `governor start` with REDIS_URL and DATABASE_URL: seven processes, each its own pid; a child
// killed -9 is restarted; what a process without Slack says reaches the channel through the
// gateway's process; stopping the supervisor stops them all. (The drills — test/drills — kill each
// kind of process in the middle of the seed incident and count what was lost.)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisEventBus } from '../../src/bus/redis-event-bus.ts';
import { RealClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { BusNotifier } from '../../src/runtime/bus-notifier.ts';
import { sandboxEnv } from '../../src/runtime/apart.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/governor.mjs');
const PG = process.env['TEST_DATABASE_URL'];
const REDIS = process.env['TEST_REDIS_URL'];
const describeReal = PG && REDIS ? describe : describe.skip;
if (!PG || !REDIS) console.warn('SKIPPED: processes-apart needs TEST_DATABASE_URL and TEST_REDIS_URL (the real PostgreSQL and Redis)');

let child: ChildProcess | undefined;
let dir: string | undefined;
let db: string | undefined;
let redisUrl: string | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  if (db) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  if (redisUrl) {
    const { Redis } = await import('ioredis');
    const r = new Redis(redisUrl);
    await r.flushdb();
    r.disconnect();
  }
});

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describeReal('governor start with the processes apart', () => {
  it('runs seven processes, restarts one killed -9, relays a notice to Slack, and leaves none behind when the supervisor is killed -9', async () => {
    dir = await mkdtemp(join(tmpdir(), 'governor-apart-'));
    db = `governor_apart_${process.pid}`;
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${db}`);
    const dbUrl = new URL(PG!);
    dbUrl.pathname = `/${db}`;
    // A Redis database of this test's own: the processes apart use the bus's plain stream names.
    const r = new URL(REDIS!);
    r.pathname = '/12';
    redisUrl = r.toString();
    const env = sandboxEnv(process.env, { REDIS_URL: redisUrl, DATABASE_URL: dbUrl.toString(), GOVERNOR_DATA_DIR: dir, GOVERNOR_CONSOLE_PORT: '0', LOG_LEVEL: 'warn' });
    child = spawn(process.execPath, [BIN, 'start', '--scenario', 'steady-state'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
    createInterface({ input: child.stderr! }).on('line', () => undefined);
    const until = async (cond: () => boolean, what: string, ms = 120_000) => {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${lines.slice(-40).join('\n')}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const pids = () => new Map(lines.flatMap((l) => [...l.matchAll(/^governor: ([a-z]+) (?:started|restarted \(\d+\)), pid (\d+)$/g)].map((m) => [m[1]!, Number(m[2])] as const)));
    await until(() => pids().size === 7 && lines.filter((l) => / ready, pid \d+$/.test(l)).length === 7, 'seven processes ready');
    const first = pids();
    expect([...first.keys()].sort()).toEqual(['arbitrator', 'configurer', 'elastik', 'executor', 'gateway', 'strategist', 'watchtower']);
    expect(new Set(first.values()).size).toBe(7);
    for (const pid of first.values()) expect(alive(pid)).toBe(true);
    expect(lines.some((l) => /^governor: processes: watchtower, elastik, configurer, arbitrator, strategist, gateway, executor/.test(l))).toBe(true);
    // Each child holds only its own agents' sessions.
    expect(lines.find((l) => l.startsWith('[strategist] mcp:'))).toMatch(/servers elsewhere \(finops http:\/\/127\.0\.0\.1:\d+\/mcp\); 1 sessions/);
    expect(lines.find((l) => l.startsWith('[gateway] mcp:'))).toMatch(/servers elsewhere \(none\); 0 sessions/);
    const consoleUrl = lines.map((l) => /open (http:\/\/\S+) to see the Slack channel/.exec(l)?.[1]).find(Boolean)!;
    expect(consoleUrl).toBeTruthy();

    // kill -9 of the executor: restarted, with a new pid.
    process.kill(first.get('executor')!, 'SIGKILL');
    await until(() => lines.some((l) => /^governor: executor \(pid \d+\) exited on SIGKILL; restarting in/.test(l)), 'the exit to be seen');
    await until(() => lines.some((l) => /^governor: executor restarted \(1\), pid \d+$/.test(l)), 'the executor to be restarted');
    const again = pids().get('executor')!;
    expect(again).not.toBe(first.get('executor'));
    expect(alive(again)).toBe(true);
    for (const [name, pid] of first) if (name !== 'executor') expect(alive(pid)).toBe(true);

    // What a process without Slack says (a notice on the bus) is posted by the gateway's process.
    const bus = new RedisEventBus({ url: redisUrl, logger: silentLogger() });
    await new BusNotifier({ bus, source: 'test', clock: new RealClock(), logger: silentLogger() }).notify('notice from a process without Slack');
    await bus.close();
    const posted = async () => {
      const state = (await (await fetch(new URL('/console/state', consoleUrl))).json()) as { messages?: { text?: string }[] };
      return (state.messages ?? []).some((m) => (m.text ?? '').includes('notice from a process without Slack'));
    };
    const end = Date.now() + 30_000;
    while (!(await posted())) {
      if (Date.now() > end) throw new Error('the notice never reached the channel');
      await new Promise((res) => setTimeout(res, 200));
    }

    // The supervisor killed -9: it cannot stop its children, and none stays behind (each stops once orphaned).
    const last = [...pids().values()];
    child.kill('SIGKILL');
    await new Promise((res) => child!.once('exit', res));
    child = undefined;
    const gone = Date.now() + 20_000;
    while (last.some(alive) && Date.now() < gone) await new Promise((res) => setTimeout(res, 200));
    for (const pid of last) expect(alive(pid)).toBe(false);
  }, 240_000);
});
