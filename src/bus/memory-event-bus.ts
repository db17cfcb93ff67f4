// The embedded event bus: Redis Streams semantics held in process memory, so `npm start` with no
// setup behaves like production (groups start at the beginning of a stream, per-group pending
// entries with consumer, delivery count and last delivery time, reclaim after `claimIdleMs`,
// dead letters, `maxDeliveries`, bounded streams). It must never acknowledge a message whose
// handler has not resolved, and never diverge from the contract suite that the Redis bus passes.
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

interface EntryId {
  ms: number;
  seq: number;
}

interface Entry extends EntryId {
  id: string;
  fields: Readonly<Record<string, string>>;
}

interface PendingEntry {
  consumer: string;
  deliveries: number;
  /** Real ms of the last delivery: idleness, and so reclaim, is measured from it (as in Redis). */
  lastDeliveryMs: number;
  lastError?: string;
}

interface Group {
  lastDelivered: EntryId;
  /** Insertion order is id order: entries enter on first delivery, which follows the stream. */
  pel: Map<string, PendingEntry>;
}

interface Delivery {
  entry: Entry;
  deliveries: number;
}

const DEFAULT_BATCH = 16;
const DEFAULT_CLAIM_IDLE_MS = 30_000;
const DEFAULT_MAX_DELIVERIES = 5;
const STOP_WAIT_MS = 5000;

const compareIds = (a: EntryId, b: EntryId): number => a.ms - b.ms || a.seq - b.seq;

class MemoryStream {
  readonly entries: Entry[] = [];
  readonly byId = new Map<string, Entry>();
  readonly groups = new Map<string, Group>();
  private last: EntryId = { ms: 0, seq: 0 };
  private listeners = new Set<() => void>();

  constructor(private readonly maxLength: number) {}

  append(fields: Record<string, string>): string {
    const now = Date.now();
    const next = now > this.last.ms ? { ms: now, seq: 0 } : { ms: this.last.ms, seq: this.last.seq + 1 };
    this.last = next;
    const entry: Entry = { ...next, id: `${next.ms}-${next.seq}`, fields: Object.freeze({ ...fields }) };
    this.entries.push(entry);
    this.byId.set(entry.id, entry);
    this.trim();
    this.changed();
    return entry.id;
  }

  /**
   * Approximate trimming, like `MAXLEN ~`: dropping a slice at a time keeps appends amortised O(1)
   * on a 100k-entry stream, at the price of up to 10% extra entries.
   */
  private trim(): void {
    const slack = Math.max(1, Math.floor(this.maxLength / 10));
    if (this.entries.length < this.maxLength + slack) return;
    for (const gone of this.entries.splice(0, this.entries.length - this.maxLength)) this.byId.delete(gone.id);
  }

  group(name: string): Group {
    let g = this.groups.get(name);
    if (!g) {
      // From the beginning, as `XGROUP CREATE ... 0`: a group created late still sees what was published.
      g = { lastDelivered: { ms: 0, seq: 0 }, pel: new Map() };
      this.groups.set(name, g);
    }
    return g;
  }

  /** Index of the first entry after `id`. */
  indexAfter(id: EntryId): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(this.entries[mid]!, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  undelivered(g: Group): number {
    return this.entries.length - this.indexAfter(g.lastDelivered);
  }

  /** Resolves on the next change of this stream (append, delivery, acknowledgement). */
  nextChange(): { promise: Promise<void>; cancel: () => void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.listeners.add(resolve);
    return { promise, cancel: () => this.listeners.delete(resolve) };
  }

  changed(): void {
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const l of listeners) l();
  }
}

function decode(entry: Entry): GovernorEvent {
  return decodeEvent(entry.fields.event);
}

export class MemoryEventBus implements EventBus {
  private readonly streams = new Map<string, MemoryStream>();
  private readonly subscriptions = new Set<MemorySubscription>();
  private readonly maxStreamLength: number;
  private readonly logger: Logger;
  private closed = false;
  /** @internal Handlers running in this process, including ones whose subscription was aborted. */
  running = 0;

  constructor(opts: { maxStreamLength?: number; logger?: Logger } = {}) {
    this.maxStreamLength = opts.maxStreamLength ?? DEFAULT_MAX_STREAM_LENGTH;
    if (!Number.isInteger(this.maxStreamLength) || this.maxStreamLength < 1) {
      throw new GovernorError('config_invalid', `maxStreamLength must be a positive integer, got ${opts.maxStreamLength}`);
    }
    this.logger = opts.logger ?? silentLogger();
  }

  /** @internal */
  stream(name: string): MemoryStream {
    let s = this.streams.get(name);
    if (!s) {
      s = new MemoryStream(this.maxStreamLength);
      this.streams.set(name, s);
    }
    return s;
  }

  async publish(stream: string, event: GovernorEvent): Promise<string> {
    this.assertOpen();
    const json = encodeEvent(event);
    return this.stream(stream).append({ event: json });
  }

  /** Appends a payload without validating it: lets tests put a malformed event on a stream. */
  async appendRaw(stream: string, payload: string): Promise<string> {
    this.assertOpen();
    return this.stream(stream).append({ event: payload });
  }

  subscribe(stream: string, opts: SubscribeOptions, handler: MessageHandler): Subscription {
    this.assertOpen();
    const sub = new MemorySubscription(this, stream, opts, handler, this.logger);
    this.subscriptions.add(sub);
    void sub.done.finally(() => this.subscriptions.delete(sub));
    return sub;
  }

  /** Pending and undelivered entries of every group of every stream, plus handlers still running. */
  async backlog(): Promise<number> {
    let total = this.running;
    for (const s of this.streams.values()) {
      for (const g of s.groups.values()) total += g.pel.size + s.undelivered(g);
    }
    return total;
  }

  async deadLetters(stream: string): Promise<DeadLetter[]> {
    const dead = this.streams.get(deadLetterStream(stream));
    if (!dead) return [];
    return dead.entries.map((e) => ({
      id: e.id,
      stream,
      group: e.fields.group ?? '',
      original_id: e.fields.original_id ?? '',
      payload: e.fields.payload ?? '',
      reason: e.fields.reason ?? '',
      deliveries: Number(e.fields.deliveries ?? 0),
    }));
  }

  async read(stream: string, opts: { count?: number } = {}): Promise<BusMessage[]> {
    const s = this.streams.get(stream);
    if (!s) return [];
    const out: BusMessage[] = [];
    for (const entry of s.entries) {
      if (opts.count !== undefined && out.length >= opts.count) break;
      try {
        out.push({ id: entry.id, stream, event: decode(entry), deliveries: 0 });
      } catch {
        // Inspection shows what can be shown; malformed entries surface as dead letters when consumed.
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.abort()));
  }

  /** @internal */
  deadLetter(stream: string, group: string, d: Delivery, reason: string): void {
    this.stream(deadLetterStream(stream)).append({
      group,
      original_id: d.entry.id,
      payload: d.entry.fields.event ?? '',
      reason,
      deliveries: String(d.deliveries),
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new GovernorError('internal', 'event bus is closed');
  }
}

class MemorySubscription implements Subscription {
  readonly done: Promise<void>;
  private state: 'running' | 'stopping' | 'aborted' = 'running';
  private wake: (() => void) | null = null;
  private abortSignal: Promise<void>;
  private signalAbort!: () => void;
  private readonly stream: MemoryStream;
  private readonly group: Group;
  private readonly batch: number;
  private readonly claimIdleMs: number;
  private readonly maxDeliveries: number;

  constructor(
    private readonly bus: MemoryEventBus,
    private readonly streamName: string,
    private readonly opts: SubscribeOptions,
    private readonly handler: MessageHandler,
    private readonly logger: Logger,
  ) {
    this.stream = bus.stream(streamName);
    this.group = this.stream.group(opts.group);
    this.batch = opts.batch ?? DEFAULT_BATCH;
    this.claimIdleMs = opts.claimIdleMs ?? DEFAULT_CLAIM_IDLE_MS;
    this.maxDeliveries = opts.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
    // `blockMs` does not apply: waiting here is driven by notifications, not by polling.
    this.abortSignal = new Promise((r) => (this.signalAbort = r));
    this.done = this.loop().catch((err) => {
      this.logger.error({ stream: streamName, group: opts.group, err: describeError(err) }, 'memory bus loop failed');
    });
  }

  async stop(): Promise<void> {
    if (this.state !== 'running') return this.done;
    this.state = 'stopping';
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.done.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger.warn({ stream: this.streamName, group: this.opts.group }, 'handler did not finish in time; aborting');
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    this.state = 'aborted';
    this.signalAbort();
    this.wake?.();
  }

  private get live(): boolean {
    return this.state === 'running';
  }

  private async loop(): Promise<void> {
    // Our own pending entries first: what this consumer took before a restart is finished first.
    for (const d of this.takeOwnPending()) {
      if (!this.live) return;
      await this.process(d);
    }
    while (this.live) {
      const batch = this.reclaim();
      if (batch.length < this.batch) batch.push(...this.takeNew(this.batch - batch.length));
      if (batch.length === 0) {
        await this.waitForWork();
        continue;
      }
      for (const d of batch) {
        if (!this.live) return;
        await this.process(d);
      }
    }
  }

  private takeOwnPending(): Delivery[] {
    const now = Date.now();
    const out: Delivery[] = [];
    for (const [id, p] of this.group.pel) {
      if (p.consumer !== this.opts.consumer) continue;
      const entry = this.liveEntry(id);
      if (!entry) continue;
      p.deliveries++;
      p.lastDeliveryMs = now;
      out.push({ entry, deliveries: p.deliveries });
    }
    return out;
  }

  /** Entries idle past `claimIdleMs`, from any consumer (a dead one, or us after a retryable failure). */
  private reclaim(): Delivery[] {
    const now = Date.now();
    const out: Delivery[] = [];
    for (const [id, p] of this.group.pel) {
      if (out.length >= this.batch) break;
      if (now - p.lastDeliveryMs < this.claimIdleMs) continue;
      const entry = this.liveEntry(id);
      if (!entry) continue;
      p.consumer = this.opts.consumer;
      p.deliveries++;
      p.lastDeliveryMs = now;
      out.push({ entry, deliveries: p.deliveries });
    }
    if (out.length > 0) this.stream.changed();
    return out;
  }

  private takeNew(max: number): Delivery[] {
    const start = this.stream.indexAfter(this.group.lastDelivered);
    const entries = this.stream.entries.slice(start, start + max);
    const now = Date.now();
    for (const e of entries) {
      this.group.pel.set(e.id, { consumer: this.opts.consumer, deliveries: 1, lastDeliveryMs: now });
      this.group.lastDelivered = { ms: e.ms, seq: e.seq };
    }
    if (entries.length > 0) this.stream.changed();
    return entries.map((entry) => ({ entry, deliveries: 1 }));
  }

  /** The entry of a pending id, or undefined after dropping it from the PEL when it was trimmed. */
  private liveEntry(id: string): Entry | undefined {
    const entry = this.stream.byId.get(id);
    if (entry) return entry;
    // Nothing is left to deliver; Redis drops such entries from the PEL in XAUTOCLAIM as well.
    this.group.pel.delete(id);
    this.logger.warn({ stream: this.streamName, group: this.opts.group, id }, 'pending entry was trimmed from the stream; dropped');
    return undefined;
  }

  /** Sleeps until the stream changes, the oldest pending entry becomes reclaimable, or we stop. */
  private async waitForWork(): Promise<void> {
    let nextReclaimAt = Infinity;
    for (const p of this.group.pel.values()) nextReclaimAt = Math.min(nextReclaimAt, p.lastDeliveryMs + this.claimIdleMs);
    const change = this.stream.nextChange();
    let timer: NodeJS.Timeout | undefined;
    const woken = new Promise<void>((resolve) => {
      this.wake = resolve;
      if (nextReclaimAt !== Infinity) {
        timer = setTimeout(resolve, Math.max(1, nextReclaimAt - Date.now()));
        timer.unref?.();
      }
    });
    await Promise.race([change.promise, woken]);
    change.cancel();
    clearTimeout(timer);
    this.wake = null;
  }

  private async process(d: Delivery): Promise<void> {
    const id = d.entry.id;
    const pending = this.group.pel.get(id);
    if (d.deliveries > this.maxDeliveries && !outlastsOutage(pending?.lastError, id, Date.now())) {
      const last = pending?.lastError ?? 'none recorded (the handler never finished: consumer crashed or hung)';
      this.deadLetterAndAck(d, `exceeded ${this.maxDeliveries} deliveries; last error: ${last}`);
      return;
    }
    let event: GovernorEvent;
    try {
      event = decode(d.entry);
    } catch (err) {
      this.deadLetterAndAck(d, describeError(err));
      return;
    }

    this.bus.running++;
    const handled = (async () => this.handler({ id, stream: this.streamName, event, deliveries: d.deliveries }))();
    const settled = handled.then(
      () => ({ ok: true as const }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    void settled.finally(() => this.bus.running--);
    const outcome = await Promise.race([settled, this.abortSignal.then(() => null)]);
    // Aborted: as after a crash, whatever the handler does later is not acknowledged.
    if (outcome === null || this.state === 'aborted') return;

    if (outcome.ok) {
      this.ack(id);
    } else if (!isRetryable(outcome.err)) {
      this.deadLetterAndAck(d, describeError(outcome.err));
    } else {
      const entry = this.group.pel.get(id);
      if (entry) entry.lastError = describeError(outcome.err);
      this.logger.warn(
        { stream: this.streamName, group: this.opts.group, id, deliveries: d.deliveries, err: describeError(outcome.err) },
        'handler failed; message left pending for redelivery',
      );
    }
  }

  private ack(id: string): void {
    if (this.group.pel.delete(id)) this.stream.changed();
  }

  private deadLetterAndAck(d: Delivery, reason: string): void {
    this.logger.warn({ stream: this.streamName, group: this.opts.group, id: d.entry.id, reason }, 'message dead-lettered');
    this.bus.deadLetter(this.streamName, this.opts.group, d, reason);
    this.ack(d.entry.id);
  }
}
