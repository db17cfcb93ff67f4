// Small shared state that several processes must agree on, kept in the bus's backing store
// (Redis when the bus is Redis; process memory with the in-memory bus). Today: the scaling cooldown
// that the Kubernetes MCP server enforces, whichever replica of it serves the call.

export interface WindowClaim {
  acquired: boolean;
  /** The time (ms, the caller's clock) of the claim that holds the window, when not acquired. */
  heldSinceMs: number | null;
}

export interface SharedState {
  /**
   * Atomically claims `key` for a window of `windowMs` starting at `nowMs` (the caller's clock,
   * which may be simulated). Fails, returning the holder's start, when an earlier claim is still
   * inside its window. Atomic across processes.
   */
  claimWindow(key: string, nowMs: number, windowMs: number): Promise<WindowClaim>;
  /** Gives back a claim made at `nowMs` (when the action it guarded did not happen). */
  releaseWindow(key: string, nowMs: number): Promise<void>;
  close(): Promise<void>;
}
