// The Arbitrator's step in the gateway, right before a grant (DESIGN §3): reads the priorities in
// force (from the audit log, where the Arbitrator's priority watch records them) and who shares the
// target's nodes (the cluster), and says whether the grant is deferred (preempted by a tenant with
// raised priority), blocked (the pre-execution check failed) or clear — with the records that say so,
// for the gateway to write in the same transaction as the grant. It also lists the preempted
// proposals still waiting, highest priority first, for the gateway to resume or expire.
// It never grants, executes or writes anything itself: the gateway does, under its target lease.
// Fail closed: when the target's nodes cannot be read, the check fails (a retryable read is retried).
import type { AuditRecord, AuditStore } from '../audit/audit-store.ts';
import type { AuditEntry, AuditInput } from '../audit/records.ts';
import type { Proposal } from '../contracts/events.ts';
import type { Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  PREEMPTION_TTL_MS,
  activePriorities,
  beneficiary,
  describeCheck,
  needsTenancy,
  preExecutionCheck,
  preemptionOf,
  type ActivePriority,
  type ArbitrationCheck,
  type NodeShare,
  type TenancyFacts,
} from './arbitration.ts';
import type { Tenants } from './tenants.ts';

export type GrantBasis = 'policy' | 'approval';

export interface ArbitrationVerdict {
  /** Whether the grant may be issued now. */
  proceed: boolean;
  /** The records to write with (or instead of) the grant. */
  entries: AuditEntry[];
  /** What the threads are told: the proposal's incident, and for a preemption the priority tenant's too. */
  notices: { text: string; incident_id: string | undefined }[];
}

/** A preempted proposal not yet resumed, denied or expired. */
export interface Preempted {
  record: AuditRecord<'preempted'>;
  /** Its own tenant's burn when that tenant has priority itself now (0 otherwise): who resumes first. */
  rank: number;
  expired: boolean;
  /** The priority that preempted it is still in force. */
  held: boolean;
}

export class ArbitrationGate {
  constructor(
    private readonly deps: {
      audit: Pick<AuditStore, 'list'>;
      tenants: Tenants;
      facts: TenancyFacts;
      clock: Clock;
      logger: Logger;
    },
  ) {}

  /** The priorities in force now. */
  async priorities(): Promise<Map<string, ActivePriority>> {
    const [raised, lowered] = await Promise.all([this.deps.audit.list({ kind: 'priority_raised' }), this.deps.audit.list({ kind: 'priority_lowered' })]);
    return activePriorities([...raised, ...lowered].sort((a, b) => a.seq - b.seq));
  }

  /**
   * Before a grant of `p`'s action: deferred when a tenant with raised priority shares the nodes the
   * action would take more CPU on; otherwise the pre-execution check, which must pass.
   * `resuming` is the preemption this call ends, when it resumes one.
   */
  async judge(p: Proposal, basis: GrantBasis, opts: { approvalId?: string; resuming?: AuditRecord<'preempted'> } = {}): Promise<ArbitrationVerdict> {
    const now = this.deps.clock.now();
    const envelope = { actor: 'arbitrator', at: new Date(now).toISOString(), incident_id: p.incident_id, proposal_id: p.id, tenant: p.tenant };
    const entry = (input: AuditInput): AuditEntry => ({ input });
    let tenancy: NodeShare[] | undefined;
    let unreadable: string | undefined;
    if (needsTenancy(p)) {
      try {
        tenancy = await this.deps.facts.tenancy(p.namespace, p.target.name);
      } catch (err) {
        if (err instanceof GovernorError && err.retryable) throw err;
        unreadable = describeError(err);
      }
    }
    const ended = (outcome: 'resumed' | 'denied', reason: string): AuditEntry[] =>
      opts.resuming ? [entry({ kind: 'preemption_ended', ...envelope, payload: { outcome, preempted_id: opts.resuming.id, reason } })] : [];

    const preemption = tenancy ? preemptionOf(p, await this.priorities(), tenancy) : undefined;
    if (preemption) {
      const expires = new Date(now + PREEMPTION_TTL_MS).toISOString();
      this.deps.logger.info({ proposal_id: p.id, tenant: p.tenant, incident_id: p.incident_id }, preemption.reason);
      return {
        proceed: false,
        entries: [
          ...ended('resumed', `${opts.resuming?.payload.by.tenant ?? 'another tenant'}'s priority ended, but ${preemption.by.tenant}'s now holds it back`),
          entry({
            kind: 'preempted',
            ...envelope,
            payload: {
              by: { tenant: preemption.by.tenant, burn_rate: preemption.by.burn_rate, raised_id: preemption.by.raised_id },
              nodes: preemption.nodes,
              reason: preemption.reason,
              basis,
              ...(opts.approvalId ? { approval_id: opts.approvalId } : {}),
              expires_at: expires,
            },
          }),
        ],
        notices: [
          { text: `Preempted: ${preemption.reason}. It resumes, re-evaluated, when that priority ends, or expires at ${expires} unexecuted.`, incident_id: p.incident_id },
          ...(preemption.by.incident_id && preemption.by.incident_id !== p.incident_id
            ? [{ text: `For ${preemption.by.tenant}'s priority, ${p.tenant}'s ${p.action} of ${p.target.name} is held back on ${preemption.nodes.join(', ')} until the priority ends.`, incident_id: preemption.by.incident_id }]
            : []),
        ],
      };
    }

    const check: ArbitrationCheck = unreadable
      ? { passed: false, checks: [{ name: 'starvation', passed: false, detail: `who shares ${p.namespace}/${p.target.name}'s nodes could not be read (${unreadable}): co-tenant impact cannot be ruled out` }] }
      : preExecutionCheck(p, { tenants: this.deps.tenants, tenancy, basis });
    return {
      proceed: check.passed,
      entries: [
        ...ended(check.passed ? 'resumed' : 'denied', check.passed ? 'the priority that held it back ended; re-evaluated and checked' : 'the pre-execution check failed on resumption'),
        entry({ kind: 'arbitration_check', ...envelope, payload: { passed: check.passed, beneficiary: beneficiary(p), checks: check.checks, basis, tenancy: tenancy ?? null } }),
      ],
      notices: [{ text: describeCheck(p, check), incident_id: p.incident_id }],
    };
  }

  /** Preempted proposals still waiting, highest priority first, then oldest first. */
  async waiting(): Promise<Preempted[]> {
    const now = this.deps.clock.now();
    const since = new Date(now - 4 * PREEMPTION_TTL_MS).toISOString();
    const [preempted, ended, active] = await Promise.all([
      this.deps.audit.list({ kind: 'preempted', since }),
      this.deps.audit.list({ kind: 'preemption_ended', since }),
      this.priorities(),
    ]);
    const done = new Set(ended.flatMap((r) => (r.kind === 'preemption_ended' ? [r.payload.preempted_id] : [])));
    const out: Preempted[] = [];
    for (const r of preempted) {
      if (r.kind !== 'preempted' || done.has(r.id)) continue;
      // Held while the priority that preempted it lasts, unless its own tenant has gained priority since.
      const held = active.get(r.payload.by.tenant)?.raised_id === r.payload.by.raised_id && !(r.tenant && active.has(r.tenant));
      out.push({ record: r, rank: (r.tenant ? active.get(r.tenant)?.burn_rate : undefined) ?? 0, expired: Date.parse(r.payload.expires_at) <= now, held });
    }
    return out.sort((a, b) => b.rank - a.rank || a.record.seq - b.record.seq);
  }

  /** The record that ends a preemption without a grant. */
  endedEntry(w: Preempted, outcome: 'denied' | 'expired' | 'resumed', reason: string): AuditEntry {
    const r = w.record;
    return { input: { kind: 'preemption_ended', actor: 'arbitrator', at: new Date(this.deps.clock.now()).toISOString(), incident_id: r.incident_id, proposal_id: r.proposal_id, tenant: r.tenant, payload: { outcome, preempted_id: r.id, reason } } };
  }
}
