// The cron seam, both paths: on a virtual clock the job fires exactly at the expression's fire times
// (computed by cron-parser, armed on the clock); on the real clock node-cron fires it. Invalid
// expressions are refused by node-cron's validator before anything is armed.
import { describe, expect, it } from 'vitest';
import { RealClock, VirtualClock } from '../../src/core/clock.ts';
import { assertCronExpression, nextFireTime, scheduleCron } from '../../agents/strategist/scheduler.ts';

const T0 = Date.parse('2026-11-24T10:07:30Z');
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('scheduleCron on a virtual clock', () => {
  it('fires at the cron times of the expression, every 15 minutes from the next quarter hour', async () => {
    const clock = new VirtualClock(T0);
    const fired: string[] = [];
    const seenNow: string[] = [];
    const job = scheduleCron('*/15 * * * *', clock, async () => void seenNow.push(iso(clock.now())), {
      onError: (e) => {
        throw e;
      },
      onFire: (at) => fired.push(iso(at)),
    });
    await clock.advance(60 * MINUTE);
    job.stop();
    expect(fired).toEqual(['2026-11-24T10:15:00.000Z', '2026-11-24T10:30:00.000Z', '2026-11-24T10:45:00.000Z', '2026-11-24T11:00:00.000Z']);
    expect(seenNow).toEqual(fired);
    await clock.advance(60 * MINUTE);
    expect(fired).toHaveLength(4); // stopped: nothing more
  });

  it('reads the expression in the given time zone', async () => {
    // 09:00 in Berlin is 08:00 UTC in November.
    expect(iso(nextFireTime('0 9 * * *', Date.parse('2026-11-24T00:00:00Z'), 'Europe/Berlin'))).toBe('2026-11-24T08:00:00.000Z');
    // Strictly after: a fire time is never returned for itself.
    expect(iso(nextFireTime('*/15 * * * *', Date.parse('2026-11-24T10:15:00Z')))).toBe('2026-11-24T10:30:00.000Z');
  });

  it('skips a fire time while the previous run is still going, and reports failures', async () => {
    const clock = new VirtualClock(T0);
    let release: () => void = () => {};
    let runs = 0;
    const errors: unknown[] = [];
    const job = scheduleCron(
      '*/15 * * * *',
      clock,
      async () => {
        runs++;
        if (runs === 1) await new Promise<void>((r) => (release = r));
        if (runs === 2) throw new Error('finops unavailable');
      },
      { onError: (e) => errors.push(e) },
    );
    await clock.advance(35 * MINUTE); // 10:15 starts and hangs; 10:30 is skipped
    expect(runs).toBe(1);
    expect(job.skipped).toBe(1);
    release();
    await new Promise((r) => setImmediate(r)); // the hung run finishes
    await clock.advance(15 * MINUTE); // 10:45 runs and fails
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['finops unavailable']);
    job.stop();
  });

  it('refuses an expression node-cron does not accept', () => {
    expect(() => assertCronExpression('every 15 minutes')).toThrow(/not a valid cron expression/);
    expect(() => scheduleCron('61 * * * *', new VirtualClock(T0), async () => {}, { onError: () => {} })).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    expect(() => assertCronExpression('*/15 * * * *')).not.toThrow();
  });
});

describe('scheduleCron on the real clock', () => {
  it('runs through node-cron: a job every second fires on wall-clock time', async () => {
    const fired: number[] = [];
    let resolveFirst: () => void = () => {};
    const first = new Promise<void>((r) => (resolveFirst = r));
    const job = scheduleCron('* * * * * *', new RealClock(), async () => resolveFirst(), {
      onError: (e) => {
        throw e;
      },
      onFire: (at) => fired.push(at),
    });
    try {
      await Promise.race([first, new Promise((_, reject) => setTimeout(() => reject(new Error('node-cron did not fire within 3 s')), 3_000))]);
    } finally {
      job.stop();
    }
    expect(fired.length).toBeGreaterThanOrEqual(1);
    // node-cron fires on whole seconds of the wall clock.
    expect(fired[0]! % 1000).toBe(0);
    expect(Math.abs(fired[0]! - Date.now())).toBeLessThan(2_000);
  });
});
