// Paging kept in this process: what the sandbox uses when no PAGERDUTY_ROUTING_KEY is set, and a
// first-class implementation of the seam, not a mock — it refuses the events PagerDuty refuses and
// keeps alerts as PagerDuty does (one open alert per dedup key; acknowledge and resolve of a key with
// no open alert are accepted and dropped; a trigger after a resolve opens a new alert). What it was
// sent, and which alerts are open, can be read back. It must never reach the network.
import type { Clock } from '../core/clock.ts';
import { RealClock } from '../core/clock.ts';
import { GovernorError } from '../core/errors.ts';
import { checkEvent, type PageAction, type PageReceipt, type PagingService, type SendOptions, type TriggerEvent } from './paging-service.ts';

export interface SentPage {
  action: PageAction;
  dedup_key: string;
  at: string;
  /** The trigger's event, for a trigger. */
  event?: TriggerEvent;
}

export interface MemoryAlert {
  dedup_key: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  /** The trigger that opened it. */
  event: TriggerEvent;
  /** Triggers it received, the first included. */
  triggers: number;
}

export class MemoryPagingService implements PagingService {
  readonly target = 'memory (this process only)';
  private readonly sent: SentPage[] = [];
  /** The latest alert per dedup key. */
  private readonly alerts = new Map<string, MemoryAlert>();
  private readonly clock: Clock;

  constructor(opts: { clock?: Clock } = {}) {
    this.clock = opts.clock ?? new RealClock();
  }

  async trigger(event: TriggerEvent, opts: SendOptions = {}): Promise<PageReceipt> {
    this.accept('trigger', event.dedup_key, opts, event);
    const open = this.openAlert(event.dedup_key);
    if (open) open.triggers++;
    else this.alerts.set(event.dedup_key, { dedup_key: event.dedup_key, status: 'triggered', event, triggers: 1 });
    return { dedup_key: event.dedup_key, message: 'Event processed' };
  }

  async acknowledge(dedupKey: string, opts: SendOptions = {}): Promise<PageReceipt> {
    this.accept('acknowledge', dedupKey, opts);
    const open = this.openAlert(dedupKey);
    if (open) open.status = 'acknowledged';
    return { dedup_key: dedupKey, message: 'Event processed' };
  }

  async resolve(dedupKey: string, opts: SendOptions = {}): Promise<PageReceipt> {
    this.accept('resolve', dedupKey, opts);
    const open = this.openAlert(dedupKey);
    if (open) open.status = 'resolved';
    return { dedup_key: dedupKey, message: 'Event processed' };
  }

  /** Every accepted event, oldest first. */
  pages(): readonly SentPage[] {
    return [...this.sent];
  }

  /** Alerts not resolved, oldest first. */
  openAlerts(): MemoryAlert[] {
    return [...this.alerts.values()].filter((a) => a.status !== 'resolved').map((a) => ({ ...a }));
  }

  private openAlert(key: string): MemoryAlert | undefined {
    const a = this.alerts.get(key);
    return a && a.status !== 'resolved' ? a : undefined;
  }

  private accept(action: PageAction, dedupKey: string, opts: SendOptions, event?: TriggerEvent): void {
    if (opts.signal?.aborted) throw new GovernorError('upstream_unavailable', `the ${action} was abandoned: its caller stopped`, { retryable: true });
    checkEvent(action, dedupKey, event);
    this.sent.push({ action, dedup_key: dedupKey, at: new Date(this.clock.now()).toISOString(), ...(event ? { event } : {}) });
  }
}
