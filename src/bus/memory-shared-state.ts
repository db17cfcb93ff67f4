// Shared state for a single process (the embedded default): the same window-claim semantics as
// the Redis implementation. It must never consult the wall clock: windows are measured only in the
// caller's clock, which may be simulated.
import type { SharedState, WindowClaim } from './shared-state.ts';

export class MemorySharedState implements SharedState {
  private readonly claims = new Map<string, number>();

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
  }
}
