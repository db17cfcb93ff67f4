// How a process without the Slack app tells the humans: a notice on the bus, which the gateway's
// process (the one hosting the app) posts where the direct notifier would have — the incident's
// thread, else the channel. A notice that cannot be published is logged, never thrown: telling
// people is never a reason for an action to fail.
import { randomUUID } from 'node:crypto';
import { EVENT_VERSION, STREAMS } from '../contracts/events.ts';
import type { EventBus } from '../bus/event-bus.ts';
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Notifier } from '../governance/channels.ts';

export class BusNotifier implements Notifier {
  constructor(private readonly deps: { bus: EventBus; source: string; clock: Clock; logger: Logger }) {}

  async notify(text: string, about?: { incident_id?: string | undefined }): Promise<void> {
    const { bus, source, clock, logger } = this.deps;
    try {
      await bus.publish(STREAMS.notice, {
        id: randomUUID(),
        v: EVENT_VERSION,
        ts: new Date(clock.now()).toISOString(),
        ...(about?.incident_id ? { incident_id: about.incident_id } : {}),
        type: 'notice',
        text: text.slice(0, 4000),
        source,
      });
    } catch (err) {
      logger.warn({ err: describeError(err), text }, 'notice not published; it is in this log only');
    }
  }
}
