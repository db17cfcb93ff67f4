// What the audit log holds, kind by kind: one schema per record kind (a discriminated union on
// `kind`), checked when a record is written, so that whoever reads a record back reads a type, not a
// `Record<string, unknown>` and a cast. A record that carries a bus event has its envelope (kind,
// actor, time, incident, proposal, tenant) derived from that event, never written by hand.
// It must never accept a payload its kind does not describe: a record is evidence, and evidence that
// nobody can read back without guessing is not evidence.
import { z } from 'zod';
import {
  Approval,
  BlastRadius,
  Control,
  Decision,
  ExecutionResult,
  Grant,
  Observation,
  Proposal,
  Rollback,
  STREAMS,
  ToolCall,
  Verification,
  Violation,
  type GovernorEvent,
} from '../contracts/events.ts';
import { GovernorError } from '../core/errors.ts';

/** An MCP tool call made as evidence for a record, with the response it got. */
export const RecordedToolCall = z.object({
  server: z.string(),
  tool: z.string(),
  args: z.record(z.string(), z.unknown()),
  response: z.unknown(),
});
export type RecordedToolCall = z.infer<typeof RecordedToolCall>;

const Person = z.object({ id: z.string().min(1), name: z.string().optional() });
export type Person = z.infer<typeof Person>;

/** Who must approve a proposal, decided when the approval is requested (src/governance/approvals.ts). */
export const ApprovalRequirement = z.object({
  /** Slack user ids (U…, W…) and user group ids (S…) whose members may approve. */
  approvers: z.array(z.string()),
  /** Distinct approvals needed. */
  required: z.number().int().positive(),
  /** People who may not approve this one (the requester of a human-originated change). */
  excluded: z.array(z.string()).default([]),
  expires_at: z.string().datetime(),
  /** Which rule of the approval policy chose these approvers, for the record and the message. */
  rule: z.string(),
});
export type ApprovalRequirement = z.infer<typeof ApprovalRequirement>;

export const FreezeOverride = z.object({ by: z.string(), reason: z.string() });

/** What a capacity action is judged by besides the SLO metric (agents/elastik/capacity.ts). */
export const CapacitySample = z.strictObject({
  offered_rps: z.number(),
  served_rps: z.number(),
  error_ratio: z.number(),
  /** Mean CPU of the ready pods over their CPU limit. */
  saturation: z.number().nullable(),
  ready_pods: z.number().int(),
});
export type CapacitySample = z.infer<typeof CapacitySample>;

export const VerificationPlan = z.strictObject({
  started_at: z.string().datetime(),
  deadline: z.string().datetime(),
  level: z.union([z.literal(2), z.literal(3)]),
  /** The judged metric when the action ran. */
  before: z.number(),
  /** What is verified: the action, or the compensating action that undid it. */
  of: z.enum(['action', 'compensation']).default('action'),
  /** For a capacity action: throughput, errors and saturation when it ran. */
  before_capacity: CapacitySample.optional(),
});
export type VerificationPlan = z.infer<typeof VerificationPlan>;

/** Why a human's request was refused (approvals, slash commands, replayed requests). */
export const RefusalCode = z.enum([
  'not_approver',
  'no_approvers_configured',
  'self_approval',
  'already_voted',
  'already_decided',
  'expired',
  'unknown_proposal',
  'not_awaiting_approval',
  'replayed_request',
  'future_timestamp',
  'not_permitted',
]);
export type RefusalCode = z.infer<typeof RefusalCode>;

/** Every record kind and what its payload holds. */
export const RecordPayloads = {
  observation: z.strictObject({ observation: Observation, tool_calls: z.array(RecordedToolCall).default([]) }),
  /** The proposal, and the evidence its plan was made from (every tool call; more is welcome). */
  proposal: z.looseObject({
    proposal: Proposal,
    reasoning_mode: z.enum(['rule-based', 'llm']),
    tool_calls: z.array(RecordedToolCall),
  }),
  decision: z.strictObject({
    decision: Decision,
    policy_input: z.unknown(),
    policy_version: z.string(),
    reevaluation: z.boolean().optional(),
    freeze_override: FreezeOverride.optional(),
    /** The approval (vote or freeze override) that caused this re-evaluation. */
    approval_id: z.string().optional(),
    /** The blast radius the agent declared, the one the gateway computed from the target, and the one the policy decided on. */
    blast_radius: z
      .strictObject({ declared: BlastRadius, computed: BlastRadius.nullable(), used: BlastRadius, basis: z.string().nullable(), understated: z.array(z.string()) })
      .optional(),
    /** Denied only for the agent's level 1 (phase Advise): advice a person may carry out. */
    advice: z.literal(true).optional(),
  }),
  approval_requested: z.strictObject({
    /** Where the humans were asked (a Slack message), when it is known. */
    channel: z.record(z.string(), z.unknown()).optional(),
    violations: z.array(Violation),
    policy_version: z.string(),
    requirement: ApprovalRequirement,
  }),
  /**
   * One human's word on a proposal: a vote (approve or reject), or a freeze override. `outcome` is set
   * on the vote that decided the proposal; the approval event is published with it.
   */
  approval: z.strictObject({
    approval: Approval,
    outcome: z.enum(['approved', 'rejected']).optional(),
    /** Distinct approvals so far, this one included, and how many are required. */
    approvals: z.number().int().nonnegative().optional(),
    required: z.number().int().positive().optional(),
    freeze_override: FreezeOverride.optional(),
  }),
  /** A proposal nobody decided before its approval expired: it can no longer be approved. */
  approval_expired: z.strictObject({ expires_at: z.string().datetime(), approvals: z.number().int().nonnegative(), required: z.number().int().positive() }),
  /** A human's request refused, and why (told to them, ephemerally, as well). */
  refusal: z.strictObject({
    by: Person,
    code: RefusalCode,
    message: z.string(),
    /** What was asked: `approve`, `reject`, `override_freeze`, `set_level`, `pause`, a command… */
    request: z.string(),
    source: z.enum(['slack', 'cli']),
  }),
  grant: z.strictObject({
    grant: Grant,
    /** The target the grant acts on (`namespace/Kind/name`), for in-flight checks. */
    target: z.string(),
    agent_level: z.number().int().min(1).max(3),
    policy_version: z.string(),
    approvers: z.array(Person).optional(),
    approval_id: z.string().optional(),
  }),
  /** Recorded before the action executes: what undoes it. */
  compensating_action: z.strictObject({
    compensating_action: ToolCall,
    for_tool: z.string(),
    for_args: z.record(z.string(), z.unknown()),
  }),
  execution_result: z.strictObject({
    result: ExecutionResult,
    grant_id: z.string(),
    basis: Grant.shape.basis,
    /**
     * How the action will be verified, stored with the execution so that any process can resume it
     * after a crash: the metric before, the level's rollback budget, and the deadline it ends at.
     */
    verification: VerificationPlan.optional(),
    tool_call: z.object({
      server: z.string(),
      tool: z.string(),
      args: z.record(z.string(), z.unknown()),
      grant_id: z.string(),
      response: z.unknown(),
    }),
    /** Why this result was recorded by another consumer than the one that made the call (executor.ts: reconcile). */
    recovered: z.string().optional(),
  }),
  verification: z.strictObject({
    verification: Verification,
    /** Whether the compensating action was asked for; `not_fired` when it was too late to be safe. */
    compensation: z.enum(['requested', 'not_fired', 'none']).optional(),
    /** Why, when the verification was resumed or the compensation not fired. */
    note: z.string().optional(),
  }),
  rollback: z.strictObject({ rollback: Rollback }),
  control: z.looseObject({ control: Control }),
  /**
   * An incident no agent can move further on its own: what was tried, what blocks the next step
   * (blast radius, cooldown, entitlement, budget, a declined approval), and what a human could approve.
   */
  escalation: z.strictObject({
    /** The same blockage is escalated once: its key. */
    key: z.string(),
    target: z.object({ namespace: z.string(), deployment: z.string() }),
    summary: z.string(),
    tried: z.array(z.string()),
    blocked: z.array(z.object({ reason: z.string(), detail: z.string() })),
    options: z.array(z.string()),
  }),
  /**
   * A human's word on an incident Watchtower raised (the buttons on its Slack thread): confirmed,
   * a false alarm (the latest of these counts), or a request to page the on-call. What Watchtower's
   * precision and the phase exit checks are computed from (src/governance/phase-evidence.ts).
   */
  observation_feedback: z.strictObject({
    answer: z.enum(['confirmed', 'false_alarm', 'page_on_call']),
    by: Person,
    /** The observation that opened the incident: what was judged. */
    observation_id: z.string(),
    source: z.enum(['slack', 'cli']),
    /** For a page: what the pager said (sent, or only recorded when no pager is configured). */
    page: z.strictObject({ status: z.enum(['paged', 'recorded', 'failed']), detail: z.string() }).optional(),
  }),
  /**
   * One exchange with the language model (src/llm/reasoner.ts), linked to the incident or proposal it
   * served: the prompt (data quoted as data), every tool call and result, the answer, model, tokens,
   * latency, and — when the rules answered instead — why.
   */
  llm_exchange: z.strictObject({
    /** What it served: `watchtower_hypotheses`, `elastik_choice`, `configurer_choice`, `incident_explain`. */
    purpose: z.string(),
    model: z.string(),
    prompt: z.strictObject({ system: z.string(), user: z.string() }),
    tool_calls: z.array(z.strictObject({ tool: z.string(), args: z.record(z.string(), z.unknown()), response: z.unknown(), is_error: z.boolean().optional() })),
    /** The model's answer as given (also when it was refused as invalid). */
    output: z.unknown().optional(),
    usage: z.strictObject({ input_tokens: z.number().int().nonnegative(), output_tokens: z.number().int().nonnegative() }),
    steps: z.number().int().nonnegative(),
    latency_ms: z.number().nonnegative(),
    /** Who answered in the end: the model, or the rules. */
    source: z.enum(['llm', 'rules']),
    fallback: z.strictObject({ reason: z.string(), detail: z.string() }).optional(),
  }),
  /**
   * The Arbitrator raised a tenant's priority: its error budget burns faster than it can sustain
   * (src/governance/arbitration.ts). Until the matching `priority_lowered`, work for this tenant
   * goes first and may preempt competing work of others on the nodes it runs on.
   */
  priority_raised: z.strictObject({
    burn_rate: z.number(),
    /** The fast window pair the burn rate is the smaller of. */
    windows: z.strictObject({ long_s: z.number(), long: z.number(), short_s: z.number(), short: z.number() }),
    threshold: z.number(),
    /** Below this (hysteresis), the priority is lowered again. */
    lower_below: z.number(),
    reason: z.string(),
  }),
  priority_lowered: z.strictObject({
    /** The burn rate now; null when it can no longer be read. */
    burn_rate: z.number().nullable(),
    windows: z.strictObject({ long_s: z.number(), long: z.number(), short_s: z.number(), short: z.number() }).nullable(),
    lower_below: z.number(),
    /** The `priority_raised` record this ends. */
    raised_id: z.string(),
    reason: z.string(),
  }),
  /**
   * A proposal's execution deferred, not dropped: its tenant's work competes for the nodes of a
   * tenant with raised priority. It resumes (re-evaluated) when the priority ends, or expires.
   */
  preempted: z.strictObject({
    by: z.strictObject({ tenant: z.string(), burn_rate: z.number(), raised_id: z.string() }),
    /** The nodes both run on. */
    nodes: z.array(z.string()),
    reason: z.string(),
    /** Which grant was held back: the policy's, or one a human approved. */
    basis: z.enum(['policy', 'approval']),
    approval_id: z.string().optional(),
    expires_at: z.string().datetime(),
  }),
  /** What became of a preempted proposal: resumed and granted, denied on re-evaluation, or expired. */
  preemption_ended: z.strictObject({
    outcome: z.enum(['resumed', 'denied', 'expired']),
    preempted_id: z.string(),
    reason: z.string(),
  }),
  /**
   * The Arbitrator's check right before a grant (DESIGN §3, §6 step 4): the action breaches no
   * entitlement and starves no co-located tenant. A failed check blocks the grant (fail closed).
   */
  arbitration_check: z.strictObject({
    passed: z.boolean(),
    /** The tenant the action is for (a throttle's victim; otherwise the proposal's tenant). */
    beneficiary: z.string(),
    checks: z.array(z.strictObject({ name: z.enum(['entitlement', 'starvation']), passed: z.boolean(), detail: z.string() })),
    basis: z.enum(['policy', 'approval']),
    /** What the check read of the target's nodes (tenants, requests and use per node). */
    tenancy: z.unknown(),
  }),
  /** Free-form evidence that belongs to no other kind (tests, operators' notes). */
  note: z.record(z.string(), z.unknown()),
} as const;

export type AuditKind = keyof typeof RecordPayloads;
export const AUDIT_KINDS = Object.keys(RecordPayloads) as AuditKind[];
export type PayloadOf<K extends AuditKind> = z.output<(typeof RecordPayloads)[K]>;

interface Envelope {
  /** Who acted: an agent name, `gateway`, `executor`, or a human's id. */
  actor: string;
  /** When it happened, in the run's clock (ISO). */
  at: string;
  incident_id?: string | undefined;
  proposal_id?: string | undefined;
  tenant?: string | undefined;
}

/** A record to append, typed by its kind. */
export type AuditInput<K extends AuditKind = AuditKind> = K extends AuditKind ? Envelope & { kind: K; payload: PayloadOf<K> } : never;

/** A record as stored: its input, its place in the chain, and its hash. */
export type AuditRecord<K extends AuditKind = AuditKind> = K extends AuditKind
  ? AuditInput<K> & {
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
  : never;

/** Narrows records to one kind. */
export function ofKind<K extends AuditKind>(records: readonly AuditRecord[], kind: K): AuditRecord<K>[] {
  return records.filter((r): r is AuditRecord<K> => r.kind === kind);
}

/**
 * Checks a record against its kind's schema; returns it with the schema's defaults applied. Throws
 * a terminal `event_invalid` error naming every problem.
 */
export function checkRecord<K extends AuditKind>(input: AuditInput<K>): AuditInput<K> {
  const schema = RecordPayloads[input.kind as AuditKind] as z.ZodType | undefined;
  if (!schema) throw new GovernorError('event_invalid', `unknown audit record kind '${String(input.kind)}'`);
  const res = schema.safeParse(input.payload);
  if (!res.success) {
    const problems = res.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
    throw new GovernorError('event_invalid', `audit record '${input.kind}' is malformed: ${problems}`, { details: { kind: input.kind } });
  }
  return { ...input, payload: res.data } as AuditInput<K>;
}

// ---- envelopes derived from events ----

/** Every event but a notice, which is delivered and not recorded (events.ts). */
export type AuditedType = Exclude<GovernorEvent['type'], 'notice'>;

export type AuditedEvent = Exclude<GovernorEvent, { type: 'notice' }>;
type EventOf<T extends AuditedType> = Extract<AuditedEvent, { type: T }>;

/** The record kind and the payload key each event travels under. */
const EVENT_RECORD = {
  observation: { kind: 'observation', key: 'observation' },
  proposal: { kind: 'proposal', key: 'proposal' },
  decision: { kind: 'decision', key: 'decision' },
  approval: { kind: 'approval', key: 'approval' },
  grant: { kind: 'grant', key: 'grant' },
  execution_result: { kind: 'execution_result', key: 'result' },
  verification: { kind: 'verification', key: 'verification' },
  rollback: { kind: 'rollback', key: 'rollback' },
  control: { kind: 'control', key: 'control' },
} as const satisfies { [T in AuditedType]: { kind: AuditKind; key: string } };

type RecordKindOf<T extends AuditedType> = (typeof EVENT_RECORD)[T]['kind'];
type KeyOf<T extends AuditedType> = (typeof EVENT_RECORD)[T]['key'];
/** What a record carrying event type T holds besides the event itself. */
export type ExtrasOf<T extends AuditedType> = Omit<PayloadOf<RecordKindOf<T>>, KeyOf<T>>;

function envelopeOf(e: EventOf<AuditedType>): Envelope {
  const common = { at: e.ts, incident_id: e.incident_id };
  switch (e.type) {
    case 'observation':
      return { ...common, actor: e.agent, tenant: e.tenant };
    case 'proposal':
      return { ...common, actor: e.agent, proposal_id: e.id, tenant: e.tenant };
    case 'decision':
    case 'grant':
      return { ...common, actor: 'gateway', proposal_id: e.proposal_id, tenant: e.tenant };
    case 'approval':
      return { ...common, actor: e.approver.id, proposal_id: e.proposal_id };
    case 'execution_result':
    case 'verification':
    case 'rollback':
      return { ...common, actor: e.agent, proposal_id: e.proposal_id, tenant: e.tenant };
    case 'control':
      return { ...common, actor: e.actor };
  }
}

/** The record that carries `event`, with the rest of its kind's payload. */
export function recordOfEvent<T extends AuditedType>(
  event: EventOf<T>,
  extras: ExtrasOf<T>,
  envelope: Partial<Envelope> = {},
): AuditInput<RecordKindOf<T>> {
  const { kind, key } = EVENT_RECORD[event.type as T];
  return { kind, ...envelopeOf(event), ...envelope, payload: { ...extras, [key]: event } } as unknown as AuditInput<RecordKindOf<T>>;
}

/** An entry for the recorder: the record and, in the same transaction, its event's outbox entry. */
export interface AuditEntry {
  input: AuditInput;
  message?: { stream: string; event: GovernorEvent };
}

export function entryOfEvent<T extends AuditedType>(
  event: EventOf<T>,
  extras: ExtrasOf<T>,
  envelope: Partial<Envelope> = {},
): AuditEntry & { message: { stream: string; event: GovernorEvent } } {
  return { input: recordOfEvent(event, extras, envelope), message: { stream: STREAMS[event.type], event } };
}
