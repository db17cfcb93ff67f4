// Small shared state that several processes must agree on, kept in the bus's backing store
// (Redis when the bus is Redis; process memory with the in-memory bus). Today: the scaling cooldown
// that the Kubernetes MCP server enforces, whichever replica of it serves the call.

export interface WindowClaim {
  acquired: boolean;
  /** The time (ms, the caller's clock) of the claim that holds the window, when not acquired. */
  heldSinceMs: number | null;
}

export interface LeaseHold {
  held: boolean;
  /** Who holds it now (the caller when `held`). */
  owner: string;
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
  /**
   * One owner for `key` among several processes (a watched target's Watchtower): taken when free or
   * expired, renewed by its owner, each time until `nowMs + ttlMs` (the caller's clock). Says who
   * holds it. A process that dies stops renewing, and another takes over once the lease expires.
   */
  holdLease(key: string, owner: string, nowMs: number, ttlMs: number): Promise<LeaseHold>;
  /** Gives the lease up at once if `owner` holds it (a clean stop hands over without waiting). */
  releaseLease(key: string, owner: string): Promise<void>;
  /**
   * Keeps `value` under `key` unless a value is already kept there (the first write wins, across
   * processes), until `nowMs + ttlMs` of the caller's clock; returns the value kept. The MCP
   * servers keep each grant's outcome this way (mcp-servers/shared/grant-ledger.ts).
   */
  keepFirst(key: string, value: string, nowMs: number, ttlMs: number): Promise<string>;
  /** The value kept under `key`, unless there is none or it has expired by `nowMs`. */
  recall(key: string, nowMs: number): Promise<string | undefined>;
  close(): Promise<void>;
}
