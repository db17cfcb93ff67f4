// How every agent turns a plan into a proposal on the record: the Proposal event (identity, tenant,
// target, the plan), and one audit record holding it with the evidence the plan was made from — every
// MCP tool call with its arguments and response — committed together with its outbox entry, so the
// proposal is persisted before anything can see it on the bus.
import { EVENT_VERSION, type AgentName, type Proposal } from '../../src/contracts/events.ts';
import { publishEvent } from '../../src/audit/recorder.ts';
import type { RecordedToolCall } from '../../src/audit/records.ts';
import { newId } from '../../src/core/ids.ts';
import type { PlannedAction } from './planned-action.ts';
import type { Recorder } from '../../src/audit/recorder.ts';

export type { RecordedToolCall } from '../../src/audit/records.ts';

export interface ProposalOrigin {
  agent: AgentName;
  tenant: string;
  namespace: string;
  target: Proposal['target'];
  nowMs: number;
  incident_id?: string | undefined;
  /** The observation the plan answers; absent for scheduled work (the Strategist's reviews). */
  observation_id?: string | undefined;
  /** `used` when a language model chose this plan among the rules' candidates. */
  llm?: 'used' | 'unavailable';
}

export function proposalOf(plan: PlannedAction, from: ProposalOrigin): Proposal {
  return {
    id: newId(),
    v: EVENT_VERSION,
    ts: new Date(from.nowMs).toISOString(),
    ...(from.incident_id ? { incident_id: from.incident_id } : {}),
    type: 'proposal',
    agent: from.agent,
    tenant: from.tenant,
    namespace: from.namespace,
    action: plan.action,
    target: from.target,
    params: plan.params,
    blast_radius: plan.blast_radius,
    tool_call: plan.tool_call,
    compensating_action: plan.compensating_action,
    verification: plan.verification,
    reasoning: plan.reasoning,
    ...(from.observation_id ? { observation_id: from.observation_id } : {}),
    llm: from.llm ?? 'unavailable',
  };
}

/** Records the proposal with its evidence and publishes it, in one transaction. */
export async function recordProposal(
  recorder: Recorder,
  proposal: Proposal,
  evidence: { tool_calls: RecordedToolCall[] } & Record<string, unknown>,
): Promise<void> {
  await publishEvent<'proposal'>(recorder, proposal, { reasoning_mode: proposal.llm === 'used' ? 'llm' : 'rule-based', ...evidence });
}
