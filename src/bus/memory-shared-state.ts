// Shared state for a single process (the embedded default): the same window-claim semantics as
// the Redis implementation. It must never consult the wall clock: windows are measured only in the
// caller's clock, which may be simulated.
import type { LeaseHold, SharedState, WindowClaim } from './shared-state.ts';

export class MemorySharedState implements SharedState {
  private readonly claims = new Map<string, number>();
  private readonly leases = new Map<string, { owner: string; untilMs: number }>();
  private readonly kept = new Map<string, { value: string; untilMs: number }>();

  async keepFirst(key: string, value: string, nowMs: number, ttlMs: number): Promise<string> {
    const k = this.kept.get(key);
    if (k && nowMs < k.untilMs) return k.value;
    this.kept.set(key, { value, untilMs: nowMs + ttlMs });
    return value;
  }

  async recall(key: string, nowMs: number): Promise<string | undefined> {
    const k = this.kept.get(key);
    return k && nowMs < k.untilMs ? k.value : undefined;
  }

  async holdLease(key: string, owner: string, nowMs: number, ttlMs: number): Promise<LeaseHold> {
    const l = this.leases.get(key);
    if (l && l.owner !== owner && nowMs < l.untilMs) return { held: false, owner: l.owner };
    this.leases.set(key, { owner, untilMs: nowMs + ttlMs });
    return { held: true, owner };
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    if (this.leases.get(key)?.owner === owner) this.leases.delete(key);
  }

  async claimWindow(key: string, nowMs: number, windowMs: number): Promise<WindowClaim> {
    const held = this.claims.get(key);
    if (held !== undefined && nowMs - held < windowMs) return { acquired: false, heldSinceMs: held };
    this.claims.set(key, nowMs);
    return { acquired: true, heldSinceMs: null };
  }

  async releaseWindow(key: string, nowMs: number): Promise<void> {
    // Only the claim made at `nowMs`: a later claim by someone else is not ours to give back.
    if (this.claims.get(key) === nowMs) this.claims.delete(key);
  }

  async close(): Promise<void> {
    this.claims.clear();
    this.leases.clear();
    this.kept.clear();
  }
}
