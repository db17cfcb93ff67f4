// The audit seam. PostgreSQL is the source of truth: every step of every proposal lands here,
// append-only and hash-chained, before anything downstream acts on it. One implementation over
// `pg` runs against a real PostgreSQL or against PGlite served over the wire protocol; the same
// contract suite (test/audit/audit-store.contract.ts) runs against both.
import type { GovernorEvent } from '../contracts/events.ts';

export type AuditKind =
  | 'observation'
  | 'proposal'
  | 'decision'
  | 'approval_requested'
  | 'approval'
  | 'grant'
  | 'tool_call'
  | 'execution_result'
  | 'verification'
  | 'compensating_action'
  | 'rollback'
  | 'control'
  | 'note';

export interface AuditInput {
  kind: AuditKind;
  /** Who acted: an agent name, `gateway`, `executor`, or a human's id. */
  actor: string;
  /** When it happened, in the run's clock (ISO). */
  at: string;
  incident_id?: string | undefined;
  proposal_id?: string | undefined;
  tenant?: string | undefined;
  /** Everything worth proving later: reasoning, tool calls and responses, policy inputs, metrics. */
  payload: Record<string, unknown>;
}

export interface AuditRecord extends AuditInput {
  seq: number;
  id: string;
  prev_hash: string;
  /** SHA-256 over prev_hash and the canonical JSON of the record's content. */
  hash: string;
  /**
   * Ed25519 signature (base64url) over `hash` by the Governor audit key (src/audit/audit-key.ts):
   * proof that Governor wrote the record. Absent on records written before sealing was enabled.
   */
  seal?: string;
}

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
  appendAll(entries: readonly { input: AuditInput; message?: OutboxMessage }[]): Promise<AuditRecord[]>;
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
