// Time as a dependency. Everything that waits or timestamps takes a Clock, so the same code runs in
// real time (the sandbox, production) and in virtual time (the demo, tests, benchmarks), where a
// simulated hour passes as fast as the work allows.

export interface Clock {
  /** Milliseconds since the epoch, real or simulated. */
  now(): number;
  /** Runs `fn` once after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
  /** Resolves after `ms` of this clock's time. */
  sleep(ms: number): Promise<void>;
}

export const isoAt = (clock: Clock): string => new Date(clock.now()).toISOString();

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimer(ms: number, fn: () => void): () => void {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return () => clearTimeout(t);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * Simulated time. Nothing moves until `advance` is called; timers fire in time order (ties in the
 * order they were set), and `now()` inside a timer callback is that timer's due time.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(ms, resolve));
  }

  /** Due time of the earliest pending timer, if any. */
  nextTimerAt(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /**
   * Moves time forward by `ms`, firing every timer due on the way. Between timers it yields to the
   * event loop so that promise continuations of a fired timer run before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.current = target;
  }
}
