// Counts work in progress that the bus cannot see: timer-started polls, HTTP round trips,
// verification checks. The virtual-time driver moves the clock only when this, the bus and the
// outbox are all idle, so simulated time never runs ahead of the work it is simulating.

export class WorkTracker {
  private inFlight = 0;

  get busy(): number {
    return this.inFlight;
  }

  /** Runs `fn`, counting it as in flight until it settles. Errors propagate to the caller. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await fn();
    } finally {
      this.inFlight--;
    }
  }

  /** Starts `fn` in the background, counted; failures go to `onError` instead of being lost. */
  spawn(fn: () => Promise<unknown>, onError: (err: unknown) => void): void {
    this.run(fn).catch(onError);
  }
}
