// The grant checks of a mutating MCP tool, for one server and one session, shared by the servers
// whose writes need an execution grant — signed by a trusted key, unexpired,
// for exactly this tool and the canonical hash of these arguments, for this server, namespace, agent
// and the namespace's tenant, issued after the latest /agents-pause, and single use across every
// replica (claimed in shared state). It must never let a call through on a grant it could not fully
// check: not knowing the pause epoch is a refusal too.
import type { KeyObject } from 'node:crypto';
import type { SharedState } from '../../src/bus/shared-state.ts';
import type { Clock } from '../../src/core/clock.ts';
import type { Grant } from '../../src/contracts/events.ts';
import type { Logger } from '../../src/core/logger.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { verifyGrant } from '../../src/governance/grants.ts';
import { assertIssuedAfterPause, type PauseEpochReader } from '../../src/governance/pause-epoch.ts';
import { TENANT_LABEL } from '../kubernetes/guardrails.ts';

/** A consumed grant stays remembered this long past its own lifetime, to absorb clock skew between the gateway and the server. */
export const GRANT_REPLAY_MARGIN_MS = 60 * 60_000;

export interface GrantGateDeps {
  server: string;
  session: { agent: string };
  clock: Clock;
  sharedState: SharedState;
  grantPublicKeys: ReadonlyMap<string, KeyObject>;
  pauseEpoch: PauseEpochReader;
  logger?: Logger;
}

export interface GrantClaim {
  key: string;
  nowMs: number;
}

export class GrantGate {
  /** Grants this gate spent and did not give back: their calls happened, and their outcomes are kept (grant-ledger.ts). */
  private readonly spent = new Set<string>();

  constructor(private readonly deps: GrantGateDeps) {}

  get sharedState(): SharedState {
    return this.deps.sharedState;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  /** Whether a call through this gate spent the grant, and kept it spent (the cluster may have the change). */
  spentHere(grantId: string): boolean {
    return this.spent.has(grantId);
  }

  /** Forgets a spent grant once its outcome is kept. */
  settled(grantId: string): void {
    this.spent.delete(grantId);
  }

  /** Everything that can be checked without spending the grant. Throws coded `grant_*` errors. */
  async check(tool: string, args: Record<string, unknown> & { namespace: string }, grant: unknown): Promise<Grant> {
    const g = await this.verify(tool, args, grant);
    if (g.namespace !== args.namespace) throw new GovernorError('grant_mismatch', `grant ${g.id} is for namespace '${g.namespace}', not '${args.namespace}'`);
    return g;
  }

  /**
   * For a tool whose arguments name no namespace (a node): the grant's namespace (its proposal's)
   * must be one of the session's.
   */
  async checkScoped(tool: string, args: Record<string, unknown>, grant: unknown, namespaces: ReadonlySet<string>): Promise<Grant> {
    const g = await this.verify(tool, args, grant);
    if (!namespaces.has(g.namespace)) {
      throw new GovernorError('tenant_forbidden', `grant ${g.id} is for namespace '${g.namespace}', which this session (agent '${this.deps.session.agent}') is not bound to`);
    }
    return g;
  }

  private async verify(tool: string, args: Record<string, unknown>, grant: unknown): Promise<Grant> {
    const { server, session } = this.deps;
    const g = verifyGrant(this.deps.grantPublicKeys, grant, { tool, args, nowMs: this.deps.clock.now() });
    if (g.server !== server) throw new GovernorError('grant_mismatch', `grant ${g.id} is for server '${g.server}', not '${server}'`);
    if (g.agent !== session.agent) {
      throw new GovernorError('grant_mismatch', `grant ${g.id} was issued to agent '${g.agent}', not to this session's agent '${session.agent}'`);
    }
    // A pause voids every grant issued before it. Not knowing when the last pause was is a refusal too.
    let pausedAtMs: number | null;
    try {
      pausedAtMs = await this.deps.pauseEpoch.latestPauseMs();
    } catch (err) {
      throw new GovernorError('upstream_unavailable', `cannot check grant ${g.id} against the latest pause: ${err instanceof Error ? err.message : String(err)}`, { retryable: true, cause: err });
    }
    assertIssuedAfterPause(g, pausedAtMs);
    return g;
  }

  /** A grant must belong to the tenant that owns the namespace, when the namespace says which one. */
  checkTenant(g: Grant, namespace: string, labels: Record<string, string>): void {
    const owner = labels[TENANT_LABEL];
    if (owner !== undefined && owner !== g.tenant) {
      throw new GovernorError('grant_mismatch', `grant ${g.id} is for tenant '${g.tenant}', but namespace '${namespace}' belongs to '${owner}'`);
    }
  }

  /** Single use, across every replica: the first claim of the grant's id wins. */
  async consume(g: Grant): Promise<GrantClaim> {
    const key = `grant:${g.id}`;
    const nowMs = this.deps.clock.now();
    // A window fixed per grant (not measured from now), so that every later claim still overlaps the first.
    const lifetime = Math.max(0, Date.parse(g.expires_at) - Date.parse(g.ts));
    const claim = await this.deps.sharedState.claimWindow(key, nowMs, lifetime + GRANT_REPLAY_MARGIN_MS);
    if (!claim.acquired) {
      const since = claim.heldSinceMs === null ? '' : ` at ${new Date(claim.heldSinceMs).toISOString()}`;
      throw new GovernorError('grant_used', `grant ${g.id} was already used${since}`);
    }
    this.spent.add(g.id);
    return { key, nowMs };
  }

  /**
   * Gives the claims back (the grant, a cooldown taken with it) when the cluster refused the write
   * with an HTTP answer (nothing applied); after a lost connection the write may have happened, so
   * they stay spent. A claim that cannot be given back is logged, never thrown over the write's error.
   */
  /**
   * The write of a change that has a cooldown: claims the cooldown window (`refused` says why when
   * another change holds it), spends the grant (the window is given back if the grant was already
   * used), then applies; if the cluster refused the change, both claims are given back.
   */
  async applyInCooldown<T>(g: Grant, cooldown: { key: string; windowMs: number; refused: (heldSinceMs: number | null, nowMs: number) => Error }, apply: () => Promise<T>): Promise<T> {
    const nowMs = this.deps.clock.now();
    const held = await this.deps.sharedState.claimWindow(cooldown.key, nowMs, cooldown.windowMs);
    if (!held.acquired) throw cooldown.refused(held.heldSinceMs, nowMs);
    const claims: GrantClaim[] = [{ key: cooldown.key, nowMs }];
    try {
      claims.push(await this.consume(g));
    } catch (err) {
      await this.deps.sharedState.releaseWindow(cooldown.key, nowMs);
      throw err;
    }
    try {
      return await apply();
    } catch (err) {
      await this.releaseIfNotApplied(err, claims);
      throw err;
    }
  }

  async releaseIfNotApplied(err: unknown, claims: GrantClaim | readonly GrantClaim[]): Promise<void> {
    const refused = err instanceof GovernorError && typeof err.details?.['status'] === 'number';
    if (!refused) return;
    for (const c of Array.isArray(claims) ? claims : [claims as GrantClaim]) {
      if (c.key.startsWith('grant:')) this.spent.delete(c.key.slice('grant:'.length));
      await this.deps.sharedState.releaseWindow(c.key, c.nowMs).catch((e: unknown) => this.deps.logger?.warn({ err: e, key: c.key }, 'could not release claim'));
    }
  }
}
