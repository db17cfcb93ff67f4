// Wiring for autonomy tests: a PostgreSQL schema of their own (migrated by the audit store, as in the
// system), and "processes" that each hold their own store connection, recorder, outbox relay and
// autonomy manager over one bus — the in-memory bus, or real Redis under a per-test prefix.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import { OutboxRelay } from '../../src/audit/outbox-relay.ts';
import type { EventBus } from '../../src/bus/event-bus.ts';
import { MemoryEventBus } from '../../src/bus/memory-event-bus.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { PrefixedEventBus } from '../../src/bus/prefixed-event-bus.ts';
import { RedisEventBus } from '../../src/bus/redis-event-bus.ts';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { Phase } from '../../src/config.ts';
import { VirtualClock, type Clock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { AutonomyManager } from '../../src/governance/autonomy-manager.ts';
import { PgAutonomyStore } from '../../src/governance/autonomy-store.ts';
import { SharedStatePauseEpoch } from '../../src/governance/pause-epoch.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';

export const PG_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const T0 = Date.parse('2026-11-24T10:00:00Z');

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Process {
  manager: AutonomyManager;
  audit: PgAuditStore;
  store: PgAutonomyStore;
  bus: EventBus;
  relay: OutboxRelay;
  recorder: AuditRecorder;
  stop(): Promise<void>;
}

/** One database schema, one bus (memory or Redis), one shared state, and processes started on them. */
export async function autonomyWorld(opts: { bus?: 'memory' | 'redis'; clock?: Clock; defaultPhase?: Phase; shared?: SharedState } = {}) {
  const schema = `aut_${randomUUID().slice(0, 8)}`;
  const admin = new PgAuditStore({ connectionString: PG_URL, schema, poolSize: 2 });
  await admin.migrate();
  const clock = opts.clock ?? new VirtualClock(T0);
  const prefix = `test-autonomy-${randomUUID().slice(0, 8)}:`;
  const memoryBus = new MemoryEventBus();
  const shared: SharedState = opts.shared ?? new MemorySharedState();
  const pauseEpoch = new SharedStatePauseEpoch(shared);
  const processes: Process[] = [];

  const newBus = (): EventBus =>
    opts.bus === 'redis' ? new PrefixedEventBus(new RedisEventBus({ url: REDIS_URL }), prefix) : memoryBus;

  async function startProcess(over: { reloadEveryMs?: number; viewId?: string } = {}): Promise<Process> {
    const audit = new PgAuditStore({ connectionString: PG_URL, schema, poolSize: 2 });
    const store = new PgAutonomyStore({ connectionString: PG_URL, schema, poolSize: 2 });
    const bus = newBus();
    const relay = new OutboxRelay(audit, bus, silentLogger(), 50);
    relay.start();
    const recorder = new AuditRecorder(audit, () => void relay.nudge());
    const manager = new AutonomyManager({
      store,
      recorder,
      bus,
      clock,
      logger: silentLogger(),
      defaultPhase: opts.defaultPhase ?? 'govern',
      pauseEpoch,
      reloadEveryMs: over.reloadEveryMs ?? 0,
      ...(over.viewId ? { viewId: over.viewId } : {}),
    });
    await manager.start();
    let stopped = false;
    const p: Process = {
      manager,
      audit,
      store,
      bus,
      relay,
      recorder,
      async stop() {
        if (stopped) return;
        stopped = true;
        await manager.stop();
        await relay.stop();
        if (bus !== memoryBus) await bus.close();
        await store.close();
        await audit.close();
      },
    };
    processes.push(p);
    return p;
  }

  return {
    schema,
    clock,
    shared,
    pauseEpoch,
    admin,
    startProcess,
    async close() {
      for (const p of processes) await p.stop();
      await memoryBus.close();
      await admin.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
      if (opts.bus === 'redis') {
        const redis = new Redis(REDIS_URL);
        try {
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
            cursor = next;
            if (keys.length) await redis.del(...keys);
          } while (cursor !== '0');
        } finally {
          await redis.quit();
        }
      }
    },
  };
}
