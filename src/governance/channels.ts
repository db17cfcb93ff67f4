// How governance reaches people, as interfaces the composition root fills in (Slack, a page, the
// sandbox console): putting a proposal in front of its approvers, and telling the channel what
// happened. Governance decides; these only deliver.
import type { Decision, Proposal } from '../contracts/events.ts';
import type { ApprovalRequirement } from '../audit/records.ts';

export interface ApprovalChannel {
  /**
   * Puts the proposal in front of the humans who may approve it (Slack buttons, a page); returns
   * where it was posted, for the record.
   */
  requestApproval(p: Proposal, d: Decision, requirement: ApprovalRequirement): Promise<Record<string, unknown>>;
}

export interface Notifier {
  /**
   * Tells the humans something. `about.incident_id`: it belongs to that incident, and goes into its
   * thread (the channel stays quiet) where the incident has one.
   */
  notify(text: string, about?: { incident_id?: string | undefined }): Promise<void>;
}
