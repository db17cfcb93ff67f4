// The audit seam. PostgreSQL is the source of truth: every step of every proposal lands here,
// append-only and hash-chained, before anything downstream acts on it. One implementation over
// `pg` runs against a real PostgreSQL or against PGlite served over the wire protocol; the same
// contract suite (test/audit/audit-store.contract.ts) runs against both.
import type { GovernorEvent } from '../contracts/events.ts';
import type { AuditEntry, AuditInput, AuditKind, AuditRecord, VerificationPlan } from './records.ts';

export type { AuditEntry, AuditInput, AuditKind, AuditRecord } from './records.ts';

export interface OutboxMessage {
  stream: string;
  event: GovernorEvent;
}

export interface OutboxEntry extends OutboxMessage {
  outbox_id: number;
}

/** A point of the chain: the record at `seq` and its hash. */
export interface ChainPoint {
  seq: number;
  hash: string;
}

export interface ChainVerification {
  valid: boolean;
  records: number;
  /** The first record whose hash, link or seal does not hold. */
  first_bad?: { seq: number; id: string; reason: string };
  /** The last record that holds: where the intact chain ends. Absent when none does. */
  head?: ChainPoint;
  /**
   * With the audit public key: how many records carry a seal that holds, and how many carry none
   * because they were written before sealing was enabled (every record before the first sealed one).
   * A record without a seal after that, or with one that does not hold, is `first_bad`.
   */
  seals?: { key_id: string; sealed: number; unsealed: number };
  /** The hashes of the intact records at the seqs asked for (the checkpoints to compare with). */
  hashes_at?: Record<number, string>;
}

export interface AuditFilter {
  proposal_id?: string;
  incident_id?: string;
  kind?: AuditKind;
  tenant?: string;
  /** Records whose `at` is at or after this ISO time. */
  since?: string;
  /** Records whose payload contains this JSON (PostgreSQL `@>`). */
  payload_contains?: Record<string, unknown>;
  /** Newest (by `at`) first instead of chain order. */
  newest_first?: boolean;
  limit?: number;
}

export interface AuditStore {
  /** Applies pending schema migrations. Idempotent. */
  migrate(): Promise<void>;
  append(input: AuditInput): Promise<AuditRecord>;
  /**
   * Appends the record and queues the event for publication in one transaction: an event is
   * never on the bus without its record, and a record never loses its event.
   */
  appendWithOutbox(input: AuditInput, message: OutboxMessage): Promise<AuditRecord>;
  /**
   * Appends several records (each with an optional outbox event) consecutively in one transaction:
   * all of them or none.
   */
  appendAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]>;
  /**
   * Holds the chain lock (every other append, in every process, waits), lets `plan` read the log
   * as it stands, and appends what the plan returns, in one transaction. For writes that must be
   * decided against the log itself, such as the one decision on a proposal (src/governance/approvals.ts).
   * A plan that throws writes nothing.
   */
  appendChecked<T>(plan: (read: AuditReader) => Promise<{ entries: readonly AuditEntry[]; result: T }>): Promise<{ records: AuditRecord[]; result: T }>;
  /** Approval requests still waiting whose time ran out at `nowIso`, oldest first. */
  expiredApprovals(nowIso: string, limit?: number): Promise<{ proposal_id: string; tenant: string | null; expires_at: string }[]>;
  /** Executed actions whose verification has not been recorded yet, soonest deadline first. */
  pendingVerifications(): Promise<PendingVerification[]>;
  /** Outbox entries not yet published, oldest first. */
  pendingOutbox(limit: number): Promise<OutboxEntry[]>;
  markPublished(outboxId: number, busId: string): Promise<void>;
  /** Marks a relay batch as published in one statement (one commit). */
  markPublishedMany(entries: readonly { outbox_id: number; bus_id: string }[]): Promise<void>;
  /**
   * Claims the right to execute a proposal's grant. True exactly once per grant id, across every
   * process: the guarantee that a redelivered grant never executes twice.
   */
  claimExecution(claim: { grant_id: string; proposal_id: string; consumer: string; at: string }): Promise<boolean>;
  list(filter?: AuditFilter): Promise<AuditRecord[]>;
  /**
   * Everything deciding one proposal reads from the log, in one round trip: the proposal's own
   * records (a redelivery finds its decision), the tenant's grants still valid and not yet executed,
   * and the newest successful execution results on `target` (the namespace and deployment in the
   * result's arguments: the target's recent actions, for cooldowns and staleness).
   */
  decisionContext(q: DecisionContextQuery): Promise<DecisionContext>;
  /** Walks the whole chain: links, hashes and, with the audit public key, seals. */
  verify(opts?: { hashesAt?: readonly number[] }): Promise<ChainVerification>;
  /** The last record of the log as it stands, or null when the log is empty. */
  head(): Promise<ChainPoint | null>;
  /** The hash of the record at `seq`, or null when there is none. */
  hashAt(seq: number): Promise<string | null>;
  close(): Promise<void>;
}

/** An executed action (or compensation) still waiting for its verification, with the plan stored with its execution. */
export interface PendingVerification {
  proposal_id: string;
  tenant: string | null;
  plan: VerificationPlan;
}

/** Reads inside an appendChecked transaction. */
export interface AuditReader {
  list(filter: AuditFilter): Promise<AuditRecord[]>;
}

export interface DecisionContextQuery {
  proposal_id: string;
  tenant: string;
  /** Grants recorded before this ISO time have expired: not in flight any more. */
  grants_since: string;
  results_since: string;
  target: { namespace: string; deployment: string };
  results_limit: number;
}

export interface DecisionContext {
  /** The proposal's records in chain order. */
  own: AuditRecord[];
  inFlight: { id: string; target: string | null; proposal_id: string | null }[];
  /** Newest first. */
  recentResults: AuditRecord[];
}

export const GENESIS_HASH = '0'.repeat(64);
