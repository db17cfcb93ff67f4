// The production event bus on Redis Streams: one consumer group per consuming service, at-least-once
// delivery, dead letters for what can never succeed. It must never acknowledge a message before its
// handler has resolved (or dead-lettered it), and its consume loops must never die silently: a Redis
// failure is logged and retried with backoff.
import { Redis } from 'ioredis';
import {
  DEFAULT_MAX_STREAM_LENGTH,
  deadLetterStream,
  outlastsOutage,
  type BusMessage,
  type DeadLetter,
  type EventBus,
  type MessageHandler,
  type SubscribeOptions,
  type Subscription,
} from './event-bus.ts';
import type { GovernorEvent } from '../contracts/events.ts';
import { decodeEvent, encodeEvent } from './event-codec.ts';
import { GovernorError, describeError, isRetryable } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';

const DEFAULT_BLOCK_MS = 1000;
const DEFAULT_BATCH = 16;
const DEFAULT_CLAIM_IDLE_MS = 30_000;
const DEFAULT_MAX_DELIVERIES = 5;
const STOP_WAIT_MS = 5000;
const CLOSE_WAIT_MS = 2000;
const MAX_BACKOFF_MS = 2000;
/** Last handler errors outlive a process (the next delivery may be in another one) but not forever. */
const LAST_ERROR_TTL_MS = 7 * 24 * 3600_000;
/** Cap on the XRANGE used to count undelivered entries when Redis cannot report a group's lag. */
const LAG_COUNT_CAP = 10_000;

/** Where the last retryable error of each pending message is kept, for the dead-letter reason. */
const lastErrorKey = (stream: string): string => `${stream}:last-error`;

/** Every Redis key the bus keeps for a stream (for cleanup and operations). */
export const redisKeysFor = (stream: string): string[] => [stream, deadLetterStream(stream), lastErrorKey(stream)];

type Fields = Record<string, string>;
type RawEntry = { id: string; fields: Fields | null };

function toFields(raw: unknown): Fields | null {
  if (!Array.isArray(raw)) return null;
  const out: Fields = {};
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = String(raw[i + 1]);
  return out;
}

function toEntries(raw: unknown): RawEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((e) => {
    const [id, fields] = e as [unknown, unknown];
    return { id: String(id), fields: toFields(fields) };
  });
}

/** XREADGROUP replies `[[stream, entries]]`, or null when the block timed out. */
function entriesOfRead(raw: unknown): RawEntry[] {
  if (!Array.isArray(raw) || raw.length === 0) return [];
  const first = raw[0] as [unknown, unknown];
  return toEntries(first[1]);
}

function toRecord(raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
  return out;
}

function decode(fields: Fields): GovernorEvent {
  return decodeEvent(fields.event);
}

export interface RedisEventBusOptions {
  url: string;
  /** Entries each stream keeps (approximate trimming on append). Default 100 000. */
  maxStreamLength?: number;
  logger?: Logger;
}

export class RedisEventBus implements EventBus {
  /** @internal Shared by the subscriptions for every non-blocking command. */
  readonly client: Redis;
  readonly url: string;
  readonly maxStreamLength: number;
  private readonly logger: Logger;
  /** Streams this instance published to or subscribed to: the scope of `backlog()`. */
  private readonly streams = new Set<string>();
  /** Groups this instance consumes, per stream: counted even before their group exists in Redis. */
  private readonly subscribedGroups = new Map<string, Set<string>>();
  private readonly subscriptions = new Set<RedisSubscription>();
  private closed = false;
  /** @internal Handlers running in this process, including ones whose subscription was aborted. */
  running = 0;

  constructor(opts: RedisEventBusOptions) {
    this.url = opts.url;
    this.maxStreamLength = opts.maxStreamLength ?? DEFAULT_MAX_STREAM_LENGTH;
    if (!Number.isInteger(this.maxStreamLength) || this.maxStreamLength < 1) {
      throw new GovernorError('config_invalid', `maxStreamLength must be a positive integer, got ${opts.maxStreamLength}`);
    }
    this.logger = opts.logger ?? silentLogger();
    this.client = this.connect('main');
  }

  /** @internal A new connection; blocking reads need one each, or they would stall every other command. */
  connect(role: string): Redis {
    // CLIENT SETNAME refuses spaces; the name is only for `CLIENT LIST` when debugging.
    const conn = new Redis(this.url, { connectionName: `governor-bus-${role}`.replace(/[^\w.:-]/g, '_') });
    // Without a listener ioredis prints every reconnect failure; the loops report what matters.
    conn.on('error', (err: unknown) => this.logger.debug({ role, err: describeError(err) }, 'redis connection error'));
    return conn;
  }

  async publish(stream: string, event: GovernorEvent): Promise<string> {
    this.assertOpen();
    const json = encodeEvent(event);
    return this.append(stream, { event: json });
  }

  /** Appends a payload without validating it: lets tests put a malformed event on a stream. */
  async appendRaw(stream: string, payload: string): Promise<string> {
    this.assertOpen();
    return this.append(stream, { event: payload });
  }

  private async append(stream: string, fields: Fields): Promise<string> {
    this.streams.add(stream);
    const id = await this.client.xadd(stream, 'MAXLEN', '~', this.maxStreamLength, '*', ...Object.entries(fields).flat());
    if (id === null) throw new GovernorError('internal', `XADD to ${stream} returned no id`);
    return id;
  }

  subscribe(stream: string, opts: SubscribeOptions, handler: MessageHandler): Subscription {
    this.assertOpen();
    this.streams.add(stream);
    let groups = this.subscribedGroups.get(stream);
    if (!groups) this.subscribedGroups.set(stream, (groups = new Set()));
    groups.add(opts.group);
    const sub = new RedisSubscription(this, stream, opts, handler, this.logger);
    this.subscriptions.add(sub);
    void sub.done.finally(() => this.subscriptions.delete(sub));
    return sub;
  }

  /**
   * Per group: pending (delivered, unacknowledged) plus lag (not yet delivered), over every group of
   * the streams this instance uses; plus handlers running here. The sum may count a message twice
   * (running and pending); only zero versus non-zero is meaningful.
   */
  async backlog(): Promise<number> {
    let total = this.running;
    for (const stream of this.streams) {
      let groups: Record<string, unknown>[];
      try {
        groups = ((await this.client.xinfo('GROUPS', stream)) as unknown[]).map(toRecord);
      } catch (err) {
        if (err instanceof Error && /no such key/i.test(err.message)) groups = [];
        else throw err;
      }
      const seen = new Set<string>();
      for (const g of groups) {
        seen.add(String(g.name));
        total += Number(g.pending ?? 0);
        total += g.lag === null || g.lag === undefined ? await this.countAfter(stream, String(g['last-delivered-id'])) : Number(g.lag);
      }
      // A subscription whose loop has not yet created its group will still read the whole stream.
      for (const group of this.subscribedGroups.get(stream) ?? []) {
        if (!seen.has(group)) total += await this.client.xlen(stream);
      }
    }
    return total;
  }

  /**
   * Redis reports no lag when deletions make it unknowable; counting the entries after the
   * group's position is exact up to the cap, and never says 0 when something is waiting.
   */
  private async countAfter(stream: string, lastDeliveredId: string): Promise<number> {
    const entries = await this.client.xrange(stream, `(${lastDeliveredId}`, '+', 'COUNT', LAG_COUNT_CAP);
    return entries.length;
  }

  async deadLetters(stream: string): Promise<DeadLetter[]> {
    const entries = toEntries(await this.client.xrange(deadLetterStream(stream), '-', '+'));
    return entries.map(({ id, fields }) => ({
      id,
      stream,
      group: fields?.group ?? '',
      original_id: fields?.original_id ?? '',
      payload: fields?.payload ?? '',
      reason: fields?.reason ?? '',
      deliveries: Number(fields?.deliveries ?? 0),
    }));
  }

  async read(stream: string, opts: { count?: number } = {}): Promise<BusMessage[]> {
    const raw =
      opts.count === undefined
        ? await this.client.xrange(stream, '-', '+')
        : await this.client.xrange(stream, '-', '+', 'COUNT', opts.count);
    const out: BusMessage[] = [];
    for (const { id, fields } of toEntries(raw)) {
      if (!fields) continue;
      try {
        out.push({ id, stream, event: decode(fields), deliveries: 0 });
      } catch {
        // Inspection shows what can be shown; malformed entries surface as dead letters when consumed.
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const subs = [...this.subscriptions];
    await Promise.all(subs.map((s) => s.abort()));
    // Loops only finish the Redis command they are in; a hung handler is not waited for.
    await withTimeout(Promise.all(subs.map((s) => s.done)), CLOSE_WAIT_MS);
    try {
      await withTimeout(this.client.quit(), CLOSE_WAIT_MS);
    } catch {
      // Already gone: nothing left to flush.
    }
    this.client.disconnect();
  }

  private assertOpen(): void {
    if (this.closed) throw new GovernorError('internal', 'event bus is closed');
  }
}

/** Resolves true when `p` settled in time, false on timeout; never rejects. */
async function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = p.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  return result;
}

interface Delivery {
  id: string;
  fields: Fields;
  deliveries: number;
}

class RedisSubscription implements Subscription {
  readonly done: Promise<void>;
  private state: 'running' | 'stopping' | 'aborted' = 'running';
  /** Only for blocking reads; everything else goes through the bus's main connection. */
  private readonly conn: Redis;
  private readonly abortSignal: Promise<void>;
  private signalAbort!: () => void;
  private wakeSleep: (() => void) | null = null;
  private readonly blockMs: number;
  private readonly batch: number;
  private readonly claimIdleMs: number;
  private readonly maxDeliveries: number;
  private nextClaimAt = 0;
  private claimCursor = '0-0';

  constructor(
    private readonly bus: RedisEventBus,
    private readonly stream: string,
    private readonly opts: SubscribeOptions,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
  ) {
    this.blockMs = opts.blockMs ?? DEFAULT_BLOCK_MS;
    this.batch = opts.batch ?? DEFAULT_BATCH;
    this.claimIdleMs = opts.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS;
    this.maxDeliveries = opts.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    this.conn = bus.connect(`${opts.group}-${opts.consumer}`);
    this.abortSignal = new Promise((r) => (this.signalAbort = r));
    this.done = this.loop()
      .catch((err) => this.logger.error({ ...this.ctx, err: describeError(err) }, 'event bus loop failed'))
      .finally(() => this.conn.disconnect());
  }

  private get redis(): Redis {
    return this.bus.client;
  }

  private get live(): boolean {
    return this.state === 'running';
  }

  private get ctx(): Record<string, string> {
    return { stream: this.stream, group: this.opts.group, consumer: this.opts.consumer };
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') return this.done;
    this.state = 'stopping';
    this.wakeSleep?.();
    // Ends a blocking read at once; entries it may have just taken stay pending for a reclaim.
    this.conn.disconnect();
    if (!(await withTimeout(this.done, STOP_WAIT_MS))) {
      this.logger.warn(this.ctx, 'handler did not finish in time; aborting');
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    this.state = 'aborted';
    this.signalAbort();
    this.wakeSleep?.();
    this.conn.disconnect();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    let ownPendingDone = false;
    while (this.live) {
      try {
        await this.ensureGroup();
        if (!ownPendingDone) {
          await this.processOwnPending();
          ownPendingDone = true;
        }
        while (this.live) {
          if (Date.now() >= this.nextClaimAt) await this.reclaim();
          if (!this.live) break;
          await this.readNew();
          failures = 0;
        }
      } catch (err) {
        if (!this.live) break;
        failures++;
        const backoff = Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(failures, 6));
        this.logger.warn({ ...this.ctx, err: describeError(err), retry_in_ms: backoff }, 'event bus loop error; retrying');
        await this.sleep(backoff);
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      // From '0', not '$': a group created after publications still sees them.
      await this.redis.xgroup('CREATE', this.stream, this.opts.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }

  /** What this consumer took before a restart is finished first (re-reading it counts a delivery). */
  private async processOwnPending(): Promise<void> {
    let cursor = '0-0';
    while (this.live) {
      const entries = entriesOfRead(
        await this.conn.xreadgroup('GROUP', this.opts.group, this.opts.consumer, 'COUNT', this.batch, 'STREAMS', this.stream, cursor),
      );
      if (entries.length === 0) return;
      cursor = entries[entries.length - 1]!.id;
      const counts = await this.deliveryCounts(entries.map((e) => e.id));
      for (const e of entries) {
        if (!this.live) return;
        if (!e.fields) {
          // Trimmed while pending: there is nothing left to deliver.
          this.logger.warn({ ...this.ctx, id: e.id }, 'pending entry was trimmed from the stream; dropped');
          await this.redis.xack(this.stream, this.opts.group, e.id);
          continue;
        }
        await this.process({ id: e.id, fields: e.fields, deliveries: counts.get(e.id) ?? 1 });
      }
    }
  }

  /** Takes over entries idle past claimIdleMs from any consumer: a dead one, or us after a retryable failure. */
  private async reclaim(): Promise<void> {
    this.nextClaimAt = Date.now() + Math.max(1, Math.floor(this.claimIdleMs / 2));
    do {
      const reply = (await this.redis.xautoclaim(
        this.stream,
        this.opts.group,
        this.opts.consumer,
        this.claimIdleMs,
        this.claimCursor,
        'COUNT',
        this.batch,
      )) as [unknown, unknown, unknown?];
      this.claimCursor = String(reply[0]);
      const deleted = Array.isArray(reply[2]) ? reply[2].map(String) : [];
      if (deleted.length > 0) this.logger.warn({ ...this.ctx, ids: deleted }, 'pending entries were trimmed from the stream; dropped');
      const entries = toEntries(reply[1]).filter((e): e is { id: string; fields: Fields } => e.fields !== null);
      if (entries.length === 0) continue;
      const counts = await this.deliveryCounts(entries.map((e) => e.id));
      for (const e of entries) {
        if (!this.live) return;
        await this.process({ id: e.id, fields: e.fields, deliveries: counts.get(e.id) ?? 2 });
      }
    } while (this.claimCursor !== '0-0' && this.live);
  }

  private async readNew(): Promise<void> {
    // Wake in time for the next reclaim pass even when the stream is quiet.
    const block = Math.max(1, Math.min(this.blockMs, this.nextClaimAt - Date.now()));
    const entries = entriesOfRead(
      await this.conn.xreadgroup(
        'GROUP',
        this.opts.group,
        this.opts.consumer,
        'COUNT',
        this.batch,
        'BLOCK',
        block,
        'STREAMS',
        this.stream,
        '>',
      ),
    );
    for (const e of entries) {
      if (!this.live) return;
      // A '>' read hands out entries no consumer of the group has seen: this is delivery 1.
      await this.process({ id: e.id, fields: e.fields ?? {}, deliveries: 1 });
    }
  }

  /** Real delivery counts from the PEL (XREADGROUP and XAUTOCLAIM do not report them). */
  private async deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xpending(this.stream, this.opts.group, id, id, 1);
    const results = (await pipeline.exec()) ?? [];
    const counts = new Map<string, number>();
    for (const [err, rows] of results) {
      if (err) throw err;
      for (const row of (rows as unknown[][] | null) ?? []) counts.set(String(row[0]), Number(row[3]));
    }
    return counts;
  }

  private async process(d: Delivery): Promise<void> {
    if (d.deliveries > this.maxDeliveries) {
      const recorded = (await this.redis.hget(lastErrorKey(this.stream), this.errorField(d.id))) ?? undefined;
      if (!outlastsOutage(recorded, d.id, Date.now())) {
        const last = recorded ?? 'none recorded (the handler never finished: consumer crashed or hung)';
        await this.deadLetterAndAck(d, `exceeded ${this.maxDeliveries} deliveries; last error: ${last}`);
        return;
      }
    }
    let event: GovernorEvent;
    try {
      event = decode(d.fields);
    } catch (err) {
      await this.deadLetterAndAck(d, describeError(err));
      return;
    }

    this.bus.running++;
    const handled = (async () => this.handler({ id: d.id, stream: this.stream, event, deliveries: d.deliveries }))();
    const settled = handled.then(
      () => ({ ok: true as const }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    void settled.finally(() => this.bus.running--);
    const outcome = await Promise.race([settled, this.abortSignal.then(() => null)]);
    // Aborted: as after a crash, whatever the handler does later is not acknowledged.
    if (outcome === null || this.state === 'aborted') return;

    if (outcome.ok) {
      const tx = this.redis.multi().xack(this.stream, this.opts.group, d.id);
      // Only a redelivered message can have a recorded error to clear.
      if (d.deliveries > 1) tx.hdel(lastErrorKey(this.stream), this.errorField(d.id));
      await tx.exec();
    } else if (!isRetryable(outcome.err)) {
      await this.deadLetterAndAck(d, describeError(outcome.err));
    } else {
      const reason = describeError(outcome.err);
      await this.redis
        .multi()
        .hset(lastErrorKey(this.stream), this.errorField(d.id), reason)
        .pexpire(lastErrorKey(this.stream), LAST_ERROR_TTL_MS)
        .exec();
      this.logger.warn({ ...this.ctx, id: d.id, deliveries: d.deliveries, err: reason }, 'handler failed; message left pending for redelivery');
    }
  }

  private errorField(id: string): string {
    return `${this.opts.group}/${id}`;
  }

  /** One transaction: a crash can neither lose the message nor dead-letter it twice. */
  private async deadLetterAndAck(d: Delivery, reason: string): Promise<void> {
    this.logger.warn({ ...this.ctx, id: d.id, reason }, 'message dead-lettered');
    const results = await this.redis
      .multi()
      .xadd(
        deadLetterStream(this.stream),
        'MAXLEN',
        '~',
        this.bus.maxStreamLength,
        '*',
        'group',
        this.opts.group,
        'original_id',
        d.id,
        'payload',
        d.fields.event ?? '',
        'reason',
        reason,
        'deliveries',
        String(d.deliveries),
      )
      .xack(this.stream, this.opts.group, d.id)
      .hdel(lastErrorKey(this.stream), this.errorField(d.id))
      .exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** A backoff pause that stop() and abort() cut short. */
  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    });
    this.wakeSleep = null;
  }
}
