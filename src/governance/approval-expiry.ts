// The end of approval requests nobody answered: every sweep (in the run's clock) records each request
// whose time ran out as expired — after which no vote can count — and tells the channel, so the
// message loses its buttons and the people know nothing will run. A vote arriving after the deadline
// is refused anyway (approvals.ts); the sweep makes the end visible when nobody clicks.
// It must never expire a request that was decided: the desk checks under the chain lock.
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ApprovalDesk } from './approvals.ts';
import { firstDecision, type ProposalLife } from './proposal-life.ts';
import { startSweeps, type Sweeps } from '../core/sweeps.ts';

export interface ApprovalExpiryDeps {
  desk: Pick<ApprovalDesk, 'expireDue'>;
  /** Shows the end on the request's message (Slack: the buttons go). */
  ended: (life: ProposalLife) => Promise<void>;
  clock: Clock;
  logger: Logger;
  /** Counts the sweep as work in progress (the demo's clock waits for it). */
  spawn: (fn: () => Promise<unknown>, onError: (err: unknown) => void) => void;
  sweepMs?: number;
}

export class ApprovalExpiry {
  private sweeps: Sweeps | undefined;

  constructor(private readonly deps: ApprovalExpiryDeps) {}

  start(): void {
    this.sweeps = startSweeps({
      clock: this.deps.clock, everyMs: this.deps.sweepMs ?? 15_000, spawn: this.deps.spawn, sweep: async () => void (await this.sweep()),
      onError: (err) => this.deps.logger.warn({ err: describeError(err) }, 'approval expiry sweep failed; trying again at the next one'),
    });
  }

  stop(): void {
    this.sweeps?.stop();
  }

  /** One sweep: records what expired, and shows it. */
  async sweep(): Promise<ProposalLife[]> {
    const expired = await this.deps.desk.expireDue();
    for (const life of expired) {
      this.deps.logger.info({ proposal_id: life.proposal.id, tenant: life.proposal.tenant }, 'approval request expired');
      try {
        if (firstDecision(life)) await this.deps.ended(life);
      } catch (err) {
        this.deps.logger.warn({ proposal_id: life.proposal.id, err: describeError(err) }, 'expired approval could not be shown on its message');
      }
    }
    return expired;
  }
}
