// Moves events from the PostgreSQL outbox to the bus. The record and its event were committed
// together; this publishes the event and marks it. A crash between publish and mark republishes the
// event, which consumers tolerate because they are idempotent. Never publishes anything that is not
// in the outbox, and never deletes from it.
import type { AuditStore } from './audit-store.ts';
import type { EventBus } from '../bus/event-bus.ts';
import type { Logger } from '../core/logger.ts';
import { describeError } from '../core/errors.ts';

/** Entries published per read of the outbox. */
const BATCH = 500;

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The drain after the one running, shared by every nudge that arrives meanwhile. */
  private queued: Promise<void> | undefined;
  private stopped = false;
  private pendingCount = 0;

  constructor(
    private readonly audit: AuditStore,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly pollMs = 200,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.nudge();
      this.timer = setTimeout(tick, this.pollMs);
      this.timer.unref?.();
    };
    tick();
  }

  /**
   * Publishes what is pending now (called right after an outbox write, so nothing waits for the
   * poll). Resolves once a drain that began after this call has finished: a drain already underway
   * may have read the outbox before the caller's write, so the caller waits for the next one.
   */
  nudge(): Promise<void> {
    if (this.running) {
      this.queued ??= this.running.then(() => {
        this.queued = undefined;
        return this.stopped ? undefined : this.nudge();
      });
      return this.queued;
    }
    // Started on the next turn of the event loop, so the nudges of writes that commit together
    // (a group commit resolves many appends at once) share one read of the outbox.
    this.running = new Promise<void>((r) => setImmediate(r))
      .then(() => this.drain())
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Entries known to be waiting (0 after a drain that found nothing). */
  async pending(): Promise<number> {
    if (this.running) await this.running;
    const rows = await this.audit.pendingOutbox(1);
    this.pendingCount = rows.length;
    return this.pendingCount + (this.running ? 1 : 0);
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const batch = await this.audit.pendingOutbox(BATCH);
        if (batch.length === 0) return;
        const published: { outbox_id: number; bus_id: string }[] = [];
        try {
          for (const entry of batch) {
            published.push({ outbox_id: entry.outbox_id, bus_id: await this.bus.publish(entry.stream, entry.event) });
          }
        } finally {
          // What reached the bus is marked even when a later publish failed, so it is not sent again.
          await this.audit.markPublishedMany(published);
        }
        // A short batch was everything pending when it was read; what was written since nudged the
        // relay (a queued drain) or waits for the poll. Reading once more to learn that costs a query per write.
        if (batch.length < BATCH) return;
      }
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'outbox relay: publish failed; will retry');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) await this.running;
    if (this.queued) await this.queued;
  }
}
