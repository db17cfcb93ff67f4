// The bus seam. Transport only: PostgreSQL is the source of truth, the bus carries events between
// services at least once. Two implementations pass one contract suite (test/bus/event-bus.contract.ts):
// Redis Streams (`redis-event-bus.ts`) and in-memory (`memory-event-bus.ts`, the embedded default).
import type { GovernorEvent } from '../contracts/events.ts';

export interface BusMessage {
  /** The stream entry id (Redis: `<ms>-<seq>`). */
  id: string;
  stream: string;
  event: GovernorEvent;
  /** 1 on first delivery; more when the message was redelivered or reclaimed. */
  deliveries: number;
}

export interface DeadLetter {
  /** Entry id in the dead-letter stream. */
  id: string;
  stream: string;
  group: string;
  original_id: string;
  /** The raw payload as it was on the stream, even when it did not parse. */
  payload: string;
  reason: string;
  deliveries: number;
}

export interface SubscribeOptions {
  /** Consumer group: one per consuming service; each group sees every message once. */
  group: string;
  /** This process's name inside the group. */
  consumer: string;
  /** How long one blocking read waits, in real milliseconds. Default 1000. */
  blockMs?: number;
  /** Messages read per call. Default 16. */
  batch?: number;
  /** Pending entries idle longer than this (real ms) are reclaimed from their dead consumer. Default 30000. */
  claimIdleMs?: number;
  /**
   * A message delivered this many times without being acknowledged is dead-lettered (default 5) —
   * unless it failed only because a dependency was down: then for up to 30 minutes (outlastsOutage).
   */
  maxDeliveries?: number;
}

/**
 * Processes one message. Resolving acknowledges it. Throwing a terminal error (not retryable)
 * acknowledges it and moves it to the dead-letter stream with the reason; throwing a retryable
 * error leaves it pending, to be redelivered or reclaimed.
 */
export type MessageHandler = (msg: BusMessage) => Promise<void>;

export interface Subscription {
  /**
   * Stops reading; waits for the handler in progress to finish (bounded: after 5 s it aborts).
   * Unacknowledged messages stay pending.
   */
  stop(): Promise<void>;
  /**
   * Stops at once, as a crash would: the message in progress stays pending and unacknowledged
   * (another consumer reclaims it once it has been idle for `claimIdleMs`), even if its handler
   * later resolves.
   */
  abort(): Promise<void>;
}

export interface EventBus {
  /** Validates and appends an event to its stream; returns the entry id. Rejects a malformed event. */
  publish(stream: string, event: GovernorEvent): Promise<string>;
  subscribe(stream: string, opts: SubscribeOptions, handler: MessageHandler): Subscription;
  /**
   * Messages not yet fully processed across every stream and group known to this bus: published
   * but not delivered to a group, or delivered and not acknowledged. 0 means quiescent; the virtual
   * time driver waits for it before it moves the clock.
   */
  backlog(): Promise<number>;
  /** Dead letters of one stream, oldest first. */
  deadLetters(stream: string): Promise<DeadLetter[]>;
  /**
   * Entries of a stream, oldest first (for inspection and tests). Unparseable entries are skipped;
   * `deliveries` is 0, since inspection is not a delivery.
   */
  read(stream: string, opts?: { count?: number }): Promise<BusMessage[]>;
  close(): Promise<void>;
}

/** Maximum entries a stream keeps (approximate trimming on append). */
export const DEFAULT_MAX_STREAM_LENGTH = 100_000;
export const deadLetterStream = (stream: string): string => `${stream}:dead`;

/** Errors that say a dependency is down (PostgreSQL, Redis, a cluster), not that the message is bad. */
const UNAVAILABLE = /^(audit_unavailable|upstream_unavailable): /;
/** How long a message that fails only because a dependency is down keeps being delivered. */
export const UNAVAILABLE_RETRY_MS = 30 * 60_000;

/**
 * Whether a message past its delivery budget is still delivered again: its last failure said a
 * dependency was down, and it is younger than UNAVAILABLE_RETRY_MS (by its stream id, `ms-seq`). A
 * PostgreSQL outage of a minute must not turn every proposal in flight into a dead letter; a message
 * that fails for any other reason is dead-lettered at the budget, as before.
 */
export function outlastsOutage(lastError: string | undefined, id: string, nowMs: number): boolean {
  const at = Number(id.split('-')[0]);
  return lastError !== undefined && UNAVAILABLE.test(lastError) && Number.isFinite(at) && nowMs - at < UNAVAILABLE_RETRY_MS;
}
