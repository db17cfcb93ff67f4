// The one scheduling seam for cron-driven agents. On a RealClock the job runs through node-cron
// (cron.schedule), which fires on wall-clock time; on any other Clock (the demo's VirtualClock, tests)
// the next fire time of the SAME expression is computed with cron-parser and armed with
// clock.setTimer, so virtual time fires it exactly where node-cron would. Either way the expression is
// validated with node-cron's own validator first, and a run that is still going when the next one is
// due is skipped, never stacked. It must never run a job twice for one fire time, nor swallow a
// failure without reporting it.
import { CronExpressionParser } from 'cron-parser';
import cron from 'node-cron';
import { RealClock, type Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';

export interface CronJob {
  /** Fire times skipped because the previous run was still going. */
  readonly skipped: number;
  stop(): void;
}

export interface CronOptions {
  /** IANA time zone the expression is read in; default UTC. */
  timezone?: string;
  /** For logs and node-cron's task registry. */
  name?: string;
  onError: (err: unknown) => void;
  /** Called with each fire time before the job runs (tests, logs). */
  onFire?: (atMs: number) => void;
}

/** Throws config_invalid naming the expression when node-cron or cron-parser cannot read it. */
export function assertCronExpression(expression: string, timezone = 'UTC'): void {
  if (!cron.validate(expression)) {
    throw new GovernorError('config_invalid', `'${expression}' is not a valid cron expression (minute hour day-of-month month day-of-week, optionally seconds first)`);
  }
  try {
    CronExpressionParser.parse(expression, { tz: timezone, currentDate: new Date(0) }).next();
  } catch (err) {
    throw new GovernorError('config_invalid', `cron expression '${expression}' cannot be scheduled in virtual time: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The first fire time of `expression` strictly after `afterMs`. */
export function nextFireTime(expression: string, afterMs: number, timezone = 'UTC'): number {
  return CronExpressionParser.parse(expression, { tz: timezone, currentDate: new Date(afterMs) }).next().getTime();
}

export function scheduleCron(expression: string, clock: Clock, job: () => Promise<void>, opts: CronOptions): CronJob {
  const timezone = opts.timezone ?? 'UTC';
  assertCronExpression(expression, timezone);
  let running = false;
  let skipped = 0;
  const fire = (atMs: number): void => {
    if (running) {
      skipped++;
      return;
    }
    running = true;
    opts.onFire?.(atMs);
    let p: Promise<void>;
    try {
      p = job();
    } catch (err) {
      p = Promise.reject(err);
    }
    p.catch(opts.onError).finally(() => {
      running = false;
    });
  };

  if (clock instanceof RealClock) {
    // Overlap is handled above, so node-cron's own noOverlap is not needed; the task must not keep the process alive.
    const task = cron.schedule(expression, (ctx) => fire(ctx.date.getTime()), {
      timezone,
      unref: true,
      ...(opts.name ? { name: opts.name } : {}),
    });
    return {
      get skipped() {
        return skipped;
      },
      stop: () => void Promise.resolve(task.destroy()).catch(opts.onError),
    };
  }

  let stopped = false;
  let cancel: (() => void) | undefined;
  const arm = (): void => {
    if (stopped) return;
    const now = clock.now();
    const at = nextFireTime(expression, now, timezone);
    cancel = clock.setTimer(at - now, () => {
      // The next fire time is computed from this one, so a slow run never shifts the schedule.
      fire(at);
      arm();
    });
  };
  arm();
  return {
    get skipped() {
      return skipped;
    },
    stop: () => {
      stopped = true;
      cancel?.();
    },
  };
}
