// Change-freeze windows: one-off and recurring (cron in a time zone), evaluated at an instant,
// correct on the weekends the clocks change.
import { describe, expect, it } from 'vitest';
import { FreezeWindow, activeFreezes, type FreezeWindow as Window } from '../../src/governance/freeze-windows.ts';

const at = (iso: string) => Date.parse(iso);
const parse = (w: unknown): Window => FreezeWindow.parse(w);

/** Friday 18:00 to Monday 08:00, Berlin time. */
const weekend = parse({ name: 'weekend', cron: '0 18 * * FRI', duration_minutes: 3720, timezone: 'Europe/Berlin' });

describe('one-off windows', () => {
  const blackFriday = parse({ name: 'black-friday', from: '2026-11-27T00:00:00-05:00', to: '2026-11-30T23:59:00-05:00' });

  it('is in force from its start (inclusive) to its end (exclusive), offsets respected', () => {
    expect(activeFreezes([blackFriday], at('2026-11-27T04:59:59Z'))).toEqual([]);
    expect(activeFreezes([blackFriday], at('2026-11-27T05:00:00Z'))).toEqual([{ name: 'black-friday', until: '2026-12-01T04:59:00.000Z' }]);
    expect(activeFreezes([blackFriday], at('2026-12-01T04:58:59Z'))).toHaveLength(1);
    expect(activeFreezes([blackFriday], at('2026-12-01T04:59:00Z'))).toEqual([]);
  });

  it('lists every window in force, soonest end first', () => {
    const newYear = parse({ name: 'new-year', from: '2026-11-01T00:00:00Z', to: '2026-11-28T00:00:00Z' });
    expect(activeFreezes([blackFriday, newYear], at('2026-11-27T12:00:00Z')).map((f) => f.name)).toEqual(['new-year', 'black-friday']);
  });
});

describe('recurring windows (cron in a time zone)', () => {
  it('starts at the cron time on the local wall clock and ends duration_minutes later there', () => {
    // 27 Nov 2026, winter time (CET, UTC+1): Friday 18:00 is 17:00Z, Monday 08:00 is 07:00Z.
    expect(activeFreezes([weekend], at('2026-11-27T16:59:59Z'))).toEqual([]);
    expect(activeFreezes([weekend], at('2026-11-27T17:00:00Z'))).toEqual([{ name: 'weekend', until: '2026-11-30T07:00:00.000Z' }]);
    expect(activeFreezes([weekend], at('2026-11-29T12:00:00Z'))).toEqual([{ name: 'weekend', until: '2026-11-30T07:00:00.000Z' }]);
    expect(activeFreezes([weekend], at('2026-11-30T06:59:59Z'))).toHaveLength(1);
    expect(activeFreezes([weekend], at('2026-11-30T07:00:00Z'))).toEqual([]);
    // The seed incident's Tuesday is not frozen.
    expect(activeFreezes([weekend], at('2026-11-24T10:00:00Z'))).toEqual([]);
  });

  it('follows summer time: Friday 18:00 in July is 16:00Z', () => {
    expect(activeFreezes([weekend], at('2026-07-03T15:59:59Z'))).toEqual([]);
    expect(activeFreezes([weekend], at('2026-07-03T16:00:00Z'))).toEqual([{ name: 'weekend', until: '2026-07-06T06:00:00.000Z' }]);
  });

  it('is correct across the spring-forward weekend (29 Mar 2026): Friday 18:00 CET to Monday 08:00 CEST, 61 hours', () => {
    expect(activeFreezes([weekend], at('2026-03-27T16:59:59Z'))).toEqual([]);
    const [freeze] = activeFreezes([weekend], at('2026-03-27T17:00:00Z'));
    expect(freeze).toEqual({ name: 'weekend', until: '2026-03-30T06:00:00.000Z' });
    expect((Date.parse(freeze!.until) - at('2026-03-27T17:00:00Z')) / 3_600_000).toBe(61);
    // Sunday after the change, and the last second before Monday 08:00 CEST.
    expect(activeFreezes([weekend], at('2026-03-29T03:00:00Z'))).toHaveLength(1);
    expect(activeFreezes([weekend], at('2026-03-30T05:59:59Z'))).toHaveLength(1);
    expect(activeFreezes([weekend], at('2026-03-30T06:00:00Z'))).toEqual([]);
  });

  it('is correct across the fall-back weekend (25 Oct 2026): Friday 18:00 CEST to Monday 08:00 CET, 63 hours', () => {
    expect(activeFreezes([weekend], at('2026-10-23T15:59:59Z'))).toEqual([]);
    expect(activeFreezes([weekend], at('2026-10-23T16:00:00Z'))).toEqual([{ name: 'weekend', until: '2026-10-26T07:00:00.000Z' }]);
    expect(activeFreezes([weekend], at('2026-10-26T06:30:00Z'))).toHaveLength(1);
    expect(activeFreezes([weekend], at('2026-10-26T07:00:00Z'))).toEqual([]);
  });

  it('reads the cron in its own zone, not in UTC or the machine zone', () => {
    const nightly = parse({ name: 'nightly-batch', cron: '0 22 * * *', duration_minutes: 60, timezone: 'America/New_York' });
    // 22:00 EST = 03:00Z the next day (winter); 22:00 EDT = 02:00Z (summer).
    expect(activeFreezes([nightly], at('2026-01-15T03:30:00Z'))).toEqual([{ name: 'nightly-batch', until: '2026-01-15T04:00:00.000Z' }]);
    expect(activeFreezes([nightly], at('2026-07-15T02:30:00Z'))).toEqual([{ name: 'nightly-batch', until: '2026-07-15T03:00:00.000Z' }]);
    expect(activeFreezes([nightly], at('2026-07-15T03:30:00Z'))).toEqual([]);
  });

  it('says when a chain of back-to-back occurrences lifts, not when the current one ends', () => {
    // The first three days of each month, each a whole day: one freeze from the 1st to the 4th.
    const monthStart = parse({ name: 'month-start', cron: '0 0 1-3 * *', duration_minutes: 1440, timezone: 'UTC' });
    expect(activeFreezes([monthStart], at('2026-12-01T12:00:00Z'))).toEqual([{ name: 'month-start', until: '2026-12-04T00:00:00.000Z' }]);
    expect(activeFreezes([monthStart], at('2026-12-04T00:00:00Z'))).toEqual([]);
  });

  it('combines with one-off windows', () => {
    const release = parse({ name: 'release', from: '2026-11-27T12:00:00Z', to: '2026-11-27T20:00:00Z' });
    expect(activeFreezes([weekend, release], at('2026-11-27T18:00:00Z'))).toEqual([
      { name: 'release', until: '2026-11-27T20:00:00.000Z' },
      { name: 'weekend', until: '2026-11-30T07:00:00.000Z' },
    ]);
  });
});

describe('window specs are validated, every problem named', () => {
  const problems = (w: unknown) => {
    const res = FreezeWindow.safeParse(w);
    expect(res.success).toBe(false);
    return res.success ? [] : res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts both kinds, with an optional reason', () => {
    expect(parse({ name: 'x', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00+01:00', reason: 'audit' })).toEqual({
      name: 'x', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00+01:00', reason: 'audit',
    });
    expect(weekend).toEqual({ name: 'weekend', cron: '0 18 * * FRI', duration_minutes: 3720, timezone: 'Europe/Berlin' });
  });

  it('refuses an instant without an offset, and an end before the start', () => {
    expect(problems({ name: 'x', from: '2026-01-01T00:00:00', to: '2026-01-02T00:00:00Z' })).toEqual([
      'from: must be an ISO 8601 date-time with a time zone offset, e.g. 2026-11-27T00:00:00-05:00',
    ]);
    expect(problems({ name: 'x', from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' })).toEqual(['to: must be after from (2026-01-02T00:00:00Z)']);
  });

  it('refuses a recurring window without a zone or duration, with a bad zone or cron', () => {
    expect(problems({ name: 'x', cron: '0 18 * * FRI' })).toEqual([
      'duration_minutes: a recurring freeze needs duration_minutes',
      'timezone: a recurring freeze needs timezone (an IANA name such as Europe/Berlin), so that its hours mean local time',
    ]);
    expect(problems({ name: 'x', cron: '0 18 * * FRI', duration_minutes: 60, timezone: 'Berlin' })).toEqual([
      "timezone: 'Berlin' is not an IANA time zone (such as Europe/Berlin or America/New_York)",
    ]);
    const [cron] = problems({ name: 'x', cron: '0 25 * * FRI', duration_minutes: 60, timezone: 'UTC' });
    expect(cron).toMatch(/^cron: '0 25 \* \* FRI' is not a cron expression that ever occurs/);
    expect(problems({ name: 'x', cron: '0 18 31 2 *', duration_minutes: 60, timezone: 'UTC' })[0]).toMatch(/^cron: /);
  });

  it('refuses a mix of the two kinds, unknown fields, no name, a fractional duration', () => {
    expect(problems({ name: 'x', cron: '0 18 * * FRI', duration_minutes: 60, timezone: 'UTC', from: '2026-01-01T00:00:00Z' })).toEqual([
      'from: from belongs to a one-off freeze; a recurring one has cron, duration_minutes and timezone',
    ]);
    expect(problems({ name: 'x', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', timezone: 'UTC' })).toEqual([
      'timezone: timezone belongs to a recurring freeze, which needs cron too',
    ]);
    expect(problems({ name: ' ', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', until: 'x' })).toEqual([
      'name: a freeze window needs a name',
      ': Unrecognized key: "until"',
    ]);
    expect(problems({ name: 'x', cron: '0 18 * * FRI', duration_minutes: 1.5, timezone: 'UTC' })).toEqual(['duration_minutes: must be a whole number of minutes']);
    expect(problems({ name: 'x' })).toHaveLength(2);
  });
});
