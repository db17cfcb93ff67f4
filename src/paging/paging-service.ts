// The paging seam: how Governor wakes the human on call. PagerDuty's Events API v2 in production
// (pdjs-paging.ts), process memory in the sandbox (memory-paging.ts); one contract suite runs against
// both (test/paging/paging-service.contract.ts). An alert is named by its dedup key: a trigger opens
// it (or adds to the open one with that key), an acknowledge silences it, a resolve closes it; after
// a resolve, a trigger with the same key opens a new alert, as PagerDuty does.
// An implementation must never throw anything but a GovernorError — input_invalid (the event was
// refused: sending it again cannot help), unauthenticated (the routing key), upstream_unavailable or
// timeout (PagerDuty down, throttling, the network: retryable) — and never retries on its own beyond
// one bounded call: when to try again is the caller's decision (src/paging/pager.ts).
import { GovernorError } from '../core/errors.ts';

export const PAGE_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
/** PagerDuty's severities; with dynamic notifications, critical and error page with high urgency. */
export type PageSeverity = (typeof PAGE_SEVERITIES)[number];

/** The Events API's documented limits. */
export const MAX_SUMMARY_CHARS = 1024;
export const MAX_DEDUP_KEY_CHARS = 255;

export interface PageLink {
  href: string;
  text?: string;
}

/** One alert, as the Events API v2 describes it (PD-CEF). */
export interface TriggerEvent {
  /** Names the alert: later acknowledges and resolves, and further triggers, refer to it. */
  dedup_key: string;
  /** The alert's title (at most 1024 characters). */
  summary: string;
  /** The affected system, e.g. `acme-prod/checkout`. */
  source: string;
  severity: PageSeverity;
  /** When the problem was detected (ISO 8601); PagerDuty uses the time of receipt when absent. */
  timestamp?: string;
  component?: string;
  group?: string;
  class?: string;
  links?: PageLink[];
  custom_details?: Record<string, unknown>;
}

export type PageAction = 'trigger' | 'acknowledge' | 'resolve';

/** What the paging service answered: PagerDuty accepted the event for this dedup key. */
export interface PageReceipt {
  dedup_key: string;
  message: string;
}

export interface SendOptions {
  /** Abandons the call (the caller is stopping); it fails with upstream_unavailable. */
  signal?: AbortSignal;
}

export interface PagingService {
  /** Where pages go, for the start report: `PagerDuty Events API v2 at <host>`, `memory`. */
  readonly target: string;
  trigger(event: TriggerEvent, opts?: SendOptions): Promise<PageReceipt>;
  acknowledge(dedupKey: string, opts?: SendOptions): Promise<PageReceipt>;
  resolve(dedupKey: string, opts?: SendOptions): Promise<PageReceipt>;
}

/** Cuts a summary to the Events API's limit, saying so at its end. */
export function fitSummary(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= MAX_SUMMARY_CHARS ? oneLine : `${oneLine.slice(0, MAX_SUMMARY_CHARS - 1)}…`;
}

/**
 * The rules PagerDuty applies to an event before accepting it, for implementations that do not ask
 * PagerDuty (memory-paging.ts): the same events are refused with the same code either way.
 */
export function checkEvent(action: PageAction, dedupKey: string, trigger?: TriggerEvent): void {
  const problems: string[] = [];
  if (dedupKey.length === 0) problems.push('dedup_key is empty');
  if (dedupKey.length > MAX_DEDUP_KEY_CHARS) problems.push(`dedup_key is longer than ${MAX_DEDUP_KEY_CHARS} characters`);
  if (action === 'trigger') {
    if (!trigger) problems.push('a trigger needs a payload');
    else {
      if (trigger.summary.trim().length === 0) problems.push('payload.summary is empty');
      if (trigger.summary.length > MAX_SUMMARY_CHARS) problems.push(`payload.summary is longer than ${MAX_SUMMARY_CHARS} characters`);
      if (trigger.source.trim().length === 0) problems.push('payload.source is empty');
      if (!(PAGE_SEVERITIES as readonly string[]).includes(trigger.severity)) problems.push(`payload.severity '${String(trigger.severity)}' is not one of ${PAGE_SEVERITIES.join(', ')}`);
      if (trigger.timestamp !== undefined && Number.isNaN(Date.parse(trigger.timestamp))) problems.push('payload.timestamp is not an ISO 8601 time');
      for (const l of trigger.links ?? []) if (typeof l.href !== 'string' || l.href.length === 0) problems.push('a link has no href');
    }
  }
  if (problems.length > 0) throw new GovernorError('input_invalid', `the paging event was refused: ${problems.join('; ')}`, { details: { dedup_key: dedupKey, action } });
}
