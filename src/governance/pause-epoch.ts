// The pause epoch: the time of the latest `/agents-pause`, kept in shared state (Redis, or memory in
// one process) under `autonomy:paused_at`, where every MCP server replica and executor looks before
// it acts on a grant. A grant issued at or before the pause is void, whatever its expiry: a pause
// must stop actions already granted, not only future decisions. Reading fails closed — a caller
// that cannot learn the epoch must not act on a grant.
//
// SharedState offers only atomic claim windows; they are enough. Recording claims the key at the
// pause time with a zero-length window, which only a later pause may replace (so the epoch only
// moves forward). Reading claims at time 0: if any pause is held it is returned; otherwise the
// claim at 0 is given back at once (and meanwhile it reads as "no pause", since every grant is
// after 1970).
import type { SharedState } from '../bus/shared-state.ts';
import type { Grant } from '../contracts/events.ts';
import { GovernorError } from '../core/errors.ts';

export const PAUSE_EPOCH_KEY = 'autonomy:paused_at';

export interface PauseEpochReader {
  /** Run-clock ms of the latest pause, or null when there has been none. */
  latestPauseMs(): Promise<number | null>;
}

export interface PauseEpochWriter {
  /** Records a pause at `atMs`; an earlier time than the one held changes nothing. */
  recordPause(atMs: number): Promise<void>;
}

export class SharedStatePauseEpoch implements PauseEpochReader, PauseEpochWriter {
  constructor(private readonly state: SharedState) {}

  async recordPause(atMs: number): Promise<void> {
    // Refused only by a later pause (held > atMs); the same time re-asserts it (and refreshes Redis's TTL).
    await this.state.claimWindow(PAUSE_EPOCH_KEY, atMs, 0);
  }

  async latestPauseMs(): Promise<number | null> {
    const probe = await this.state.claimWindow(PAUSE_EPOCH_KEY, 0, 1);
    if (probe.acquired) {
      await this.state.releaseWindow(PAUSE_EPOCH_KEY, 0);
      return null;
    }
    const held = probe.heldSinceMs;
    return held !== null && held > 0 ? held : null;
  }
}

/** What a refusal for a pause carries in its details, so that it is not counted against the agent. */
export const PAUSE_REVOCATION = 'pause';

/** Throws `grant_invalid` when the grant was issued at or before the latest pause. */
export function assertIssuedAfterPause(g: Pick<Grant, 'id' | 'ts'>, pausedAtMs: number | null): void {
  if (pausedAtMs === null) return;
  if (Date.parse(g.ts) > pausedAtMs) return;
  const pausedAt = new Date(pausedAtMs).toISOString();
  throw new GovernorError(
    'grant_invalid',
    `grant ${g.id} was revoked: it was issued at ${g.ts}, not after the pause at ${pausedAt} (/agents-pause voids every grant issued before it; a human must raise the agent's level again with /agents-level and the gateway issue a new grant)`,
    { details: { revoked_by: PAUSE_REVOCATION, paused_at: pausedAt, grant_ts: g.ts } },
  );
}

/** True for a refusal (`details` of a GovernorError, or a recorded response) caused by a pause. */
export function isPauseRevocation(details: unknown): boolean {
  if (!details || typeof details !== 'object') return false;
  const d = details as Record<string, unknown>;
  if (d['revoked_by'] === PAUSE_REVOCATION) return true;
  return isPauseRevocation(d['details']);
}
