// What a planner proposes, before the agent around it adds identity, tenant and the tool calls it
// made: one shape for every agent, so a proposal always carries its compensating action,
// verification and reasoning.
import type { ActionName, BlastRadius, Proposal, ToolCall } from '../../src/contracts/events.ts';

export interface PlannedAction<A extends ActionName = ActionName> {
  action: A;
  params: Record<string, unknown>;
  blast_radius: BlastRadius;
  tool_call: ToolCall;
  compensating_action: ToolCall;
  verification: Proposal['verification'];
  reasoning: string[];
}
