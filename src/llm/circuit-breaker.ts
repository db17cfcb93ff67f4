// A circuit breaker for the language model: after `failureThreshold` failures in a row it opens and
// the rules answer without asking; after `cooldownMs` one probe is let through (half-open) — its
// success closes the breaker, its failure opens it for another cooldown. Transitions are reported
// (`onChange`), which is how "LLM unavailable, rules in charge" and its recovery are said once each.
// Time is real time (`now`), even when the rest of the run is virtual: a model's outage is.

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold?: number;
  cooldownMs?: number;
  now?: () => number;
  onChange?: (to: BreakerState, from: BreakerState, why: string) => void;
}

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions = {}) {
    this.failureThreshold = opts.failureThreshold ?? 3;
    this.cooldownMs = opts.cooldownMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  get current(): BreakerState {
    return this.state;
  }

  /** Whether a call may go to the model now; a half-open breaker lets one probe through at a time. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.now() - this.openedAt < this.cooldownMs) return false;
      this.move('half_open', 'cooldown over: one probe');
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.state !== 'closed') this.move('closed', 'the model answered');
  }

  failure(why: string): void {
    this.probing = false;
    this.failures += 1;
    if (this.state === 'half_open' || (this.state === 'closed' && this.failures >= this.failureThreshold)) {
      this.openedAt = this.now();
      this.move('open', why);
    }
  }

  private move(to: BreakerState, why: string): void {
    const from = this.state;
    this.state = to;
    this.opts.onChange?.(to, from, why);
  }
}
