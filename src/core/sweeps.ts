// A sweep that runs every interval on the run's clock, as tracked work: the next one is armed only
// after the current one finishes (a slow sweep never overlaps itself), and a failed one is logged by
// `onError` and tried again at the next. Stopping cancels the armed timer; a sweep in flight finishes.
import type { Clock } from './clock.ts';

export interface Sweeps {
  stop(): void;
}

export function startSweeps(opts: {
  clock: Pick<Clock, 'setTimer'>;
  everyMs: number;
  spawn: (fn: () => Promise<void>, onError: (err: unknown) => void) => void;
  sweep: () => Promise<void>;
  onError: (err: unknown) => void;
}): Sweeps {
  let stopped = false;
  let cancel: (() => void) | undefined;
  const arm = () => {
    if (stopped) return;
    cancel = opts.clock.setTimer(opts.everyMs, () =>
      opts.spawn(async () => {
        try {
          await opts.sweep();
        } finally {
          arm();
        }
      }, opts.onError),
    );
  };
  arm();
  return {
    stop() {
      stopped = true;
      cancel?.();
    },
  };
}
