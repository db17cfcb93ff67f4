// Paging through PagerDuty's Events API v2 with @pagerduty/pdjs: one POST /v2/enqueue per event,
// bounded in time (pagerduty-http.ts), with PagerDuty's answer turned into a receipt (202) or a coded
// error (anything else, a timeout, an unreachable or untrusted host). It never retries on its own
// beyond pdjs's three bounded retries of a 429: the pager decides when to try again, so a PagerDuty
// outage costs the caller at most one timeout per attempt and never blocks it.
// It must never log or return the routing key.
import { event } from '@pagerduty/pdjs';
// Types only: pdjs does not re-export its event types from the package root.
import type { EventPayloadV2 } from '@pagerduty/pdjs/build/src/events.js';
import { PagerDutyEndpoint, pagerDutyFailure, type PagerDutyEndpointOptions } from './pagerduty-http.ts';
import type { PageAction, PageReceipt, PagingService, SendOptions, TriggerEvent } from './paging-service.ts';

export const DEFAULT_EVENTS_HOST = 'events.pagerduty.com';

export interface PdjsPagingOptions extends PagerDutyEndpointOptions {
  /** The Events API v2 integration key of the service to page. */
  routingKey: string;
}

export class PdjsPagingService implements PagingService {
  readonly target: string;
  private readonly endpoint: PagerDutyEndpoint;

  constructor(private readonly opts: PdjsPagingOptions) {
    this.endpoint = new PagerDutyEndpoint(opts, DEFAULT_EVENTS_HOST);
    this.target = `PagerDuty Events API v2 at ${this.endpoint.host}`;
  }

  trigger(e: TriggerEvent, opts?: SendOptions): Promise<PageReceipt> {
    const payload: EventPayloadV2['payload'] = {
      summary: e.summary,
      source: e.source,
      severity: e.severity,
      ...(e.timestamp ? { timestamp: e.timestamp } : {}),
      ...(e.component ? { component: e.component } : {}),
      ...(e.group ? { group: e.group } : {}),
      ...(e.class ? { class: e.class } : {}),
      ...(e.custom_details ? { custom_details: e.custom_details } : {}),
    };
    return this.send('trigger', e.dedup_key, { payload, ...(e.links?.length ? { links: e.links } : {}) }, opts);
  }

  acknowledge(dedupKey: string, opts?: SendOptions): Promise<PageReceipt> {
    return this.send('acknowledge', dedupKey, {}, opts);
  }

  resolve(dedupKey: string, opts?: SendOptions): Promise<PageReceipt> {
    return this.send('resolve', dedupKey, {}, opts);
  }

  private async send(action: PageAction, dedupKey: string, rest: Partial<EventPayloadV2>, opts: SendOptions = {}): Promise<PageReceipt> {
    const what = `PagerDuty ${action} of ${dedupKey}`;
    // acknowledge and resolve carry no payload on the wire; pdjs's type asks for one on every event.
    const data = { routing_key: this.opts.routingKey, event_action: action, dedup_key: dedupKey, ...rest } as EventPayloadV2;
    const res = await this.endpoint.call(what, (options) => event({ server: this.endpoint.host, data, ...options }), opts.signal);
    if (res.status !== 202) throw pagerDutyFailure(what, res.status, res.data);
    const body = (res.data ?? {}) as { dedup_key?: unknown; message?: unknown };
    return {
      dedup_key: typeof body.dedup_key === 'string' ? body.dedup_key : dedupKey,
      message: typeof body.message === 'string' ? body.message : 'accepted',
    };
  }
}
