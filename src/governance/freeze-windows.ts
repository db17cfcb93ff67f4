// Change-freeze windows: which freezes are in force at a given instant. The policy cannot work this
// out itself (the Wasm runtime has no reliable time-zone built-ins), so the policy input carries the
// answer (context.active_freezes, context.change_freeze) and the operational layer only reads it.
// Pure: the instant is passed in, nothing here reads a clock or a file. It must never guess: a
// window it cannot understand is refused when the configuration is validated, not ignored later.
//
// Two kinds of window, both in the tenants configuration (per tenant, and a global list):
//   one-off    {name, from, to}                                   ISO 8601 instants with an offset
//   recurring  {name, cron, duration_minutes, timezone}           e.g. "0 18 * * FRI", 3720, "Europe/Berlin"
// A recurring window starts at each occurrence of its cron expression, read as wall-clock time in
// its time zone, and lasts duration_minutes of wall-clock time there: "Friday 18:00 for 3720
// minutes" ends on Monday at 08:00 local time, also on the weekends when the clocks change (that
// weekend it then lasts 61 or 63 hours). This is what an operator who writes such a window means.
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

const MINUTE_MS = 60_000;
/** Enough to follow any realistic chain of back-to-back windows; see `until` below. */
const MAX_CHAINED_WINDOWS = 1_000;

export interface OneOffFreeze {
  name: string;
  from: string;
  to: string;
  reason?: string | undefined;
}

export interface RecurringFreeze {
  name: string;
  cron: string;
  duration_minutes: number;
  timezone: string;
  reason?: string | undefined;
}

export type FreezeWindow = OneOffFreeze | RecurringFreeze;

export interface ActiveFreeze {
  name: string;
  /** When the freeze lifts, as an ISO 8601 UTC instant. */
  until: string;
}

const Instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone offset, e.g. 2026-11-27T00:00:00-05:00' });

/**
 * One window as written in the configuration. All fields are read together so that a mistake is
 * named precisely ("cron needs timezone") rather than as "matches neither kind of window".
 */
export const FreezeWindow = z
  .object({
    name: z.string().trim().min(1, 'a freeze window needs a name'),
    reason: z.string().optional(),
    from: Instant.optional(),
    to: Instant.optional(),
    cron: z.string().optional(),
    duration_minutes: z.number().int('must be a whole number of minutes').positive().optional(),
    timezone: z.string().optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (w.cron === undefined) {
      if (w.from === undefined) problem('from', 'a one-off freeze needs from (and to); a recurring one needs cron, duration_minutes and timezone');
      if (w.to === undefined) problem('to', 'a one-off freeze needs to (and from); a recurring one needs cron, duration_minutes and timezone');
      for (const field of ['duration_minutes', 'timezone'] as const) {
        if (w[field] !== undefined) problem(field, `${field} belongs to a recurring freeze, which needs cron too`);
      }
      if (w.from !== undefined && w.to !== undefined && Date.parse(w.to) <= Date.parse(w.from)) {
        problem('to', `must be after from (${w.from})`);
      }
      return;
    }
    for (const field of ['from', 'to'] as const) {
      if (w[field] !== undefined) problem(field, `${field} belongs to a one-off freeze; a recurring one has cron, duration_minutes and timezone`);
    }
    if (w.duration_minutes === undefined) problem('duration_minutes', 'a recurring freeze needs duration_minutes');
    if (w.timezone === undefined) {
      problem('timezone', 'a recurring freeze needs timezone (an IANA name such as Europe/Berlin), so that its hours mean local time');
      return;
    }
    if (!isTimeZone(w.timezone)) {
      problem('timezone', `'${w.timezone}' is not an IANA time zone (such as Europe/Berlin or America/New_York)`);
      return;
    }
    const cronProblem = checkCron(w.cron, w.timezone);
    if (cronProblem) problem('cron', cronProblem);
  })
  .transform((w): FreezeWindow => {
    const reason = w.reason === undefined ? {} : { reason: w.reason };
    if (w.cron === undefined) return { name: w.name, from: w.from!, to: w.to!, ...reason };
    return { name: w.name, cron: w.cron, duration_minutes: w.duration_minutes!, timezone: w.timezone!, ...reason };
  });

export function isRecurring(w: FreezeWindow): w is RecurringFreeze {
  return 'cron' in w;
}

/**
 * The freezes in force at `nowMs` (a window includes its start and excludes its end), each with
 * the instant it lifts. When occurrences of a recurring window overlap or touch, the freeze lifts
 * only at the end of the last of them, which is what `until` says. Sorted by until, then name.
 */
export function activeFreezes(windows: readonly FreezeWindow[], nowMs: number): ActiveFreeze[] {
  const active: ActiveFreeze[] = [];
  for (const w of windows) {
    const until = isRecurring(w) ? recurringUntil(w, nowMs) : oneOffUntil(w, nowMs);
    if (until !== undefined) active.push({ name: w.name, until: new Date(until).toISOString() });
  }
  return active.sort((a, b) => a.until.localeCompare(b.until) || a.name.localeCompare(b.name));
}

function oneOffUntil(w: OneOffFreeze, nowMs: number): number | undefined {
  const from = Date.parse(w.from);
  const to = Date.parse(w.to);
  return from <= nowMs && nowMs < to ? to : undefined;
}

function recurringUntil(w: RecurringFreeze, nowMs: number): number | undefined {
  // The latest start at or before now (prev() is strictly before its current date, hence +1 ms).
  // Every occurrence lasts as long, so if the latest one has ended, every earlier one has too.
  const past = CronExpressionParser.parse(w.cron, { currentDate: new Date(nowMs + 1), tz: w.timezone });
  let start: number;
  try {
    start = past.prev().getTime();
  } catch {
    return undefined; // no occurrence before now
  }
  let until = wallClockEnd(start, w.duration_minutes, w.timezone);
  if (until <= nowMs) return undefined;

  const upcoming = CronExpressionParser.parse(w.cron, { currentDate: new Date(start), tz: w.timezone });
  for (let i = 0; i < MAX_CHAINED_WINDOWS; i++) {
    let next: number;
    try {
      next = upcoming.next().getTime();
    } catch {
      break; // no further occurrence
    }
    if (next > until) break;
    until = Math.max(until, wallClockEnd(next, w.duration_minutes, w.timezone));
  }
  return until;
}

/** `start` plus `minutes` of wall-clock time in `timeZone`, as an instant. */
function wallClockEnd(startMs: number, minutes: number, timeZone: string): number {
  const wallEnd = startMs + offsetMs(startMs, timeZone) + minutes * MINUTE_MS;
  // The offset at the end may differ from the one at the start (a DST change in between): take the
  // one in force at the candidate instant, and check once more in case that moved it across the
  // change. A wall time the change skips (spring forward) comes out an hour later, as clocks do.
  const first = wallEnd - offsetMs(wallEnd, timeZone);
  return wallEnd - offsetMs(first, timeZone);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** How far `timeZone`'s wall clock is ahead of UTC at `atMs`. */
function offsetMs(atMs: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(atMs);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return wall - Math.floor(atMs / 1000) * 1000;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Undefined when `cron` parses and occurs at least once; otherwise what is wrong with it. */
function checkCron(cron: string, timeZone: string): string | undefined {
  try {
    const expr = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: new Date(0) });
    expr.next();
    return undefined;
  } catch (err) {
    return `'${cron}' is not a cron expression that ever occurs (minute hour day-of-month month day-of-week, e.g. "0 18 * * FRI"): ${(err as Error).message}`;
  }
}
