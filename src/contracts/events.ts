// The events that travel the bus, as versioned zod schemas. Every event is validated when it is
// published and again when it is consumed; a malformed one is dead-lettered with the reason, never
// half-processed. Adding optional fields is compatible; changing a field's meaning needs a new `v`.
import { z } from 'zod';

export const EVENT_VERSION = 1 as const;

export const ActionName = z.enum([
  'scale_deployment',
  'rollback_deployment',
  'patch_resource_limits',
  'cordon_node',
  'scale_node_group',
  'update_config',
  'set_feature_flag',
  'adjust_quota',
  'throttle_tenant',
  'recommendation',
]);
export type ActionName = z.infer<typeof ActionName>;

export const AgentName = z.enum(['watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist']);
export type AgentName = z.infer<typeof AgentName>;

export const Verdict = z.enum(['allow', 'require_approval', 'deny']);
export type Verdict = z.infer<typeof Verdict>;

const base = {
  id: z.string().min(1),
  v: z.literal(EVENT_VERSION),
  /** When the event happened, in the clock of the run (simulated time in the demo). */
  ts: z.string().datetime(),
  incident_id: z.string().min(1).optional(),
};

export const Signal = z.object({
  metric: z.string(),
  /** What the signal is about: a deployment, a pod, a tenant. */
  target: z.string(),
  value: z.number(),
  baseline: z.number(),
  change_pct: z.number(),
  unit: z.string().optional(),
});
export type Signal = z.infer<typeof Signal>;

export const CorrelatedChange = z.object({
  kind: z.literal('deployment'),
  name: z.string(),
  revision: z.number().int(),
  at: z.string().datetime(),
  minutes_before: z.number(),
  description: z.string(),
  /** The revision that ran before this one, before the incident's onset: what a rollback returns to. */
  last_good_revision: z.number().int().optional(),
  /** Why this rollout is blamed and not another (rollouts after the onset are not the cause). */
  reasons: z.array(z.string()).optional(),
});

/** When an incident began: its first departing sample, and the last healthy one before it (absent: degraded from the first sample watched). */
export const Onset = z.object({
  at: z.string().datetime(),
  last_healthy_at: z.string().datetime().optional(),
});

/** A ranked explanation of an incident (Watchtower's model, when one answered). */
export const Hypothesis = z.object({
  text: z.string().min(1).max(500),
  confidence: z.number().min(0).max(1).optional(),
});
export type Hypothesis = z.infer<typeof Hypothesis>;

/**
 * A signal one of Watchtower's streaming detectors (src/detect/anomaly-detector.ts) labelled
 * anomalous: its value, what the learned baseline expected there, and the score in [0, 1].
 */
export const Anomaly = z.object({
  metric: z.string(),
  target: z.string(),
  value: z.number(),
  expected: z.number(),
  score: z.number().min(0).max(1),
  at: z.string().datetime(),
  label: z.string().optional(),
  unit: z.string().optional(),
});
export type Anomaly = z.infer<typeof Anomaly>;

/** The multi-window multi-burn-rate rules (src/detect/burn-rate.ts) over the error ratio, against its SLO. */
export const BurnRateEvidence = z.object({
  slo_error_ratio: z.number(),
  severity: z.enum(['page', 'ticket', 'none']),
  firing: z.array(z.object({
    severity: z.enum(['page', 'ticket']),
    long_s: z.number(),
    short_s: z.number(),
    factor: z.number(),
    burn_long: z.number(),
    burn_short: z.number(),
  })),
});
export type BurnRateEvidence = z.infer<typeof BurnRateEvidence>;

export const Observation = z.object({
  ...base,
  type: z.literal('observation'),
  agent: AgentName,
  tenant: z.string(),
  namespace: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  summary: z.string(),
  target: z.object({ kind: z.string(), name: z.string() }),
  /** The tenants file does not name the tenant: the tier Governor assumed for it, and why (src/governance/assumed-tenant.ts). */
  tenant_assumed: z.object({ tier: z.string(), reason: z.string() }).optional(),
  signals: z.array(Signal),
  onset: Onset.optional(),
  correlated_change: CorrelatedChange.optional(),
  /** What opened the incident: the rule-based detector (absent: the same) or the burn-rate 'page' rule over the error ratio. */
  opened_by: z.enum(['rules', 'burn_rate']).optional(),
  /** The streaming detectors' anomalies that coincide with the incident, strongest first (absent: none, or an older Watchtower). */
  anomalies: z.array(Anomaly).optional(),
  /** The error-budget burn rates when rules fire (absent: none fires, or an older Watchtower). */
  burn_rate: BurnRateEvidence.optional(),
  /** Hypotheses, most likely first, and a narrative: written by a language model, absent when the rules spoke alone. */
  hypotheses: z.array(Hypothesis).max(5).optional(),
  narrative: z.string().max(2000).optional(),
  llm: z.enum(['used', 'unavailable']).optional(),
});
export type Observation = z.infer<typeof Observation>;

export const BlastRadius = z.object({
  tenants: z.number().int().nonnegative(),
  services: z.number().int().nonnegative(),
  capacity_change_pct: z.number(),
});
export type BlastRadius = z.infer<typeof BlastRadius>;

export const ToolCall = z.object({
  /** MCP server that owns the tool, e.g. `kubernetes`. */
  server: z.string(),
  tool: z.string(),
  args: z.record(z.string(), z.unknown()),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const Proposal = z.object({
  ...base,
  type: z.literal('proposal'),
  agent: AgentName,
  tenant: z.string(),
  namespace: z.string(),
  action: ActionName,
  target: z.object({ kind: z.string(), name: z.string() }),
  params: z.record(z.string(), z.unknown()),
  blast_radius: BlastRadius,
  /** The exact tool call the executor will make if the proposal is granted. */
  tool_call: ToolCall,
  /** What undoes the action if verification fails; recorded before the action executes. */
  compensating_action: ToolCall.optional(),
  /** How the outcome is judged: the SLO the action must restore or improve. */
  verification: z.object({
    metric: z.string(),
    slo_threshold: z.number(),
    min_improvement_pct: z.number(),
    window_s: z.number().positive(),
    /**
     * The service whose SLO judges the action, when it is not the proposal's own target: a node
     * cordoned for the deployment it hurt, a neighbour throttled for its victim.
     */
    target: z.object({ namespace: z.string(), deployment: z.string() }).optional(),
    /**
     * The action adds capacity (a scale-up): judge it also by what it can change — throughput
     * served, saturation, errors shed — so that a step that helped but did not restore is
     * `partially_helped`, not undone.
     */
    capacity: z.boolean().optional(),
    /**
     * The action changes a container's limits: judge it also by the signal that made the limit the
     * cause — restored only once throttling is below `max_throttled_ratio` (CPU), or no pod has been
     * OOMKilled since the change (memory).
     */
    limits: z
      .object({ cause: z.enum(['cpu_throttling', 'memory_limit']), max_throttled_ratio: z.number().min(0).max(1).optional() })
      .optional(),
  }),
  reasoning: z.array(z.string()).min(1),
  observation_id: z.string().optional(),
  llm: z.enum(['used', 'unavailable']).default('unavailable'),
});
export type Proposal = z.infer<typeof Proposal>;

/** The deployment whose SLO an action is judged by (DESIGN §3: outcome verified). */
export function judgedService(p: Pick<Proposal, 'namespace' | 'target' | 'verification'>): { namespace: string; deployment: string } {
  return p.verification.target ?? { namespace: p.namespace, deployment: p.target.name };
}

export const Violation = z.object({
  layer: z.enum(['safety', 'sla', 'operational', 'cost', 'autonomy', 'blast_radius']),
  rule: z.string(),
  message: z.string(),
});
export type Violation = z.infer<typeof Violation>;

export const Decision = z.object({
  ...base,
  type: z.literal('decision'),
  proposal_id: z.string(),
  agent: AgentName,
  tenant: z.string(),
  action: ActionName,
  verdict: Verdict,
  violations: z.array(Violation),
  policy_version: z.string(),
  agent_level: z.number().int().min(1).max(3),
});
export type Decision = z.infer<typeof Decision>;

export const Approval = z.object({
  ...base,
  type: z.literal('approval'),
  proposal_id: z.string(),
  approved: z.boolean(),
  approver: z.object({ id: z.string(), name: z.string().optional(), source: z.enum(['slack', 'cli', 'scripted']) }),
  reason: z.string().optional(),
  /** A human breaking a change freeze for this proposal; needs a reason, and never reaches past safety. */
  override: z.literal('change_freeze').optional(),
});
export type Approval = z.infer<typeof Approval>;

export const Grant = z.object({
  ...base,
  type: z.literal('grant'),
  proposal_id: z.string(),
  agent: AgentName,
  tenant: z.string(),
  namespace: z.string(),
  server: z.string(),
  tool: z.string(),
  args: z.record(z.string(), z.unknown()),
  /** SHA-256 of the canonical JSON of `args`: the grant covers exactly this call. */
  args_hash: z.string(),
  expires_at: z.string().datetime(),
  key_id: z.string(),
  /** Ed25519 signature (base64url) over the canonical JSON of the grant without this field. */
  signature: z.string(),
  /** Why it was granted: policy allowed it, or a named human approved it. */
  basis: z.enum(['policy', 'approval', 'compensation']),
});
export type Grant = z.infer<typeof Grant>;

export const ExecutionResult = z.object({
  ...base,
  type: z.literal('execution_result'),
  proposal_id: z.string(),
  grant_id: z.string(),
  agent: AgentName,
  tenant: z.string(),
  tool: z.string(),
  args: z.record(z.string(), z.unknown()),
  status: z.enum(['succeeded', 'failed', 'refused']),
  response: z.unknown(),
  error: z.string().optional(),
  before: z.record(z.string(), z.number()).optional(),
  compensation_for: z.string().optional(),
});
export type ExecutionResult = z.infer<typeof ExecutionResult>;

export const Verification = z.object({
  ...base,
  type: z.literal('verification'),
  proposal_id: z.string(),
  agent: AgentName,
  tenant: z.string(),
  outcome: z.enum(['restored', 'improved', 'partially_helped', 'not_helped']),
  metric: z.string(),
  before: z.number(),
  after: z.number(),
  slo_threshold: z.number(),
  /** What was verified: the action (absent) or the compensating action that undid it. */
  of: z.enum(['action', 'compensation']).optional(),
});
export type Verification = z.infer<typeof Verification>;

export const Rollback = z.object({
  ...base,
  type: z.literal('rollback'),
  proposal_id: z.string(),
  agent: AgentName,
  tenant: z.string(),
  reason: z.string(),
  compensating_action: ToolCall,
});
export type Rollback = z.infer<typeof Rollback>;

/**
 * A change of autonomy (src/governance/autonomy-manager.ts), broadcast after it is stored in
 * PostgreSQL. `epoch` is the change's position in that store: a process that applied epoch N and
 * hears of N+2 knows it missed one and reloads.
 */
export const Control = z.object({
  ...base,
  type: z.literal('control'),
  command: z.enum(['pause', 'resume', 'set_level', 'set_phase', 'demote', 'promote']),
  agent: AgentName.optional(),
  level: z.number().int().min(1).max(3).optional(),
  phase: z.enum(['observe', 'advise', 'assist', 'govern']).optional(),
  epoch: z.number().int().positive().optional(),
  actor: z.string(),
  reason: z.string().optional(),
});
export type Control = z.infer<typeof Control>;

/**
 * Something to tell the humans, from a process that has no Slack of its own (an agent, the
 * executor, the supervisor): the gateway's process, which hosts the Slack app, posts it
 * (src/runtime/bus-notifier.ts). Delivered, not audited: what it says is in the records already.
 */
export const Notice = z.object({
  ...base,
  type: z.literal('notice'),
  text: z.string().min(1).max(4000),
  /** Who says it: the process (e.g. `agent elastik`, `supervisor`). */
  source: z.string().min(1),
});
export type Notice = z.infer<typeof Notice>;

export const GovernorEvent = z.discriminatedUnion('type', [
  Observation,
  Proposal,
  Decision,
  Approval,
  Grant,
  ExecutionResult,
  Verification,
  Rollback,
  Control,
  Notice,
]);
export type GovernorEvent = z.infer<typeof GovernorEvent>;
export type EventType = GovernorEvent['type'];

/** One stream per event type: consumers subscribe to what they act on. */
export const STREAMS = {
  observation: 'governor:observations',
  proposal: 'governor:proposals',
  decision: 'governor:decisions',
  approval: 'governor:approvals',
  grant: 'governor:grants',
  execution_result: 'governor:executions',
  verification: 'governor:verifications',
  rollback: 'governor:rollbacks',
  control: 'governor:control',
  notice: 'governor:notices',
} as const satisfies Record<EventType, string>;

export const streamFor = (e: GovernorEvent): string => STREAMS[e.type];

/** Parses an unknown value as an event; throws a terminal `event_invalid` error naming every problem. */
export function parseEvent(value: unknown): GovernorEvent {
  const res = GovernorEvent.safeParse(value);
  if (!res.success) {
    const problems = res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new EventInvalidError(problems);
  }
  return res.data;
}

import { GovernorError } from '../core/errors.ts';

export class EventInvalidError extends GovernorError {
  constructor(problems: string) {
    super('event_invalid', `malformed event: ${problems}`, { retryable: false });
  }
}
