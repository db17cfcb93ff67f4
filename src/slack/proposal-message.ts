// What a person sees in Slack: Block Kit for a proposal awaiting approval, for the same proposal once
// someone has decided, and for the notices that follow it (executed, verified, rolled back). Pure
// functions of their inputs: no I/O, no clock (times are passed in), so the sandbox console, the tests
// and the real Slack all show the same thing.
// Never put agent-supplied text into mrkdwn unescaped: reasoning may come from an LLM, and an
// unescaped `<!channel>` or `<https://evil|link>` in it would page a whole channel or disguise a link.
import type { Decision, ExecutionResult, Proposal, Rollback, ToolCall, Verification } from '../contracts/events.ts';
import type { ApprovalRequirement } from '../audit/records.ts';
import { actionExecution, approvalsSoFar, firstDecision, latestDecision, stageOf, type ProposalLife } from '../governance/proposal-life.ts';
import { LIMITS, agentName, clip, code, context, escapeMrkdwn, header, mrkdwnText, plural, principal, section, slackDate, type KnownBlock, type SlackMessage } from './mrkdwn.ts';

export type { KnownBlock, SlackMessage } from './mrkdwn.ts';

export const APPROVE_ACTION_ID = 'proposal_approve';
export const REJECT_ACTION_ID = 'proposal_reject';

// Block ids carry the proposal id so that a click (and a resolved message rebuilt from the blocks Slack
// sends back) can be tied to its proposal without any state in the app.
const ACTIONS_PREFIX = 'proposal:';
const STATUS_PREFIX = 'proposal_status:';
export const actionsBlockId = (proposalId: string): string => `${ACTIONS_PREFIX}${proposalId}`;
export const statusBlockId = (proposalId: string): string => `${STATUS_PREFIX}${proposalId}`;
export function proposalIdFromBlockId(blockId: string): string | undefined {
  return blockId.startsWith(ACTIONS_PREFIX) && blockId.length > ACTIONS_PREFIX.length
    ? blockId.slice(ACTIONS_PREFIX.length)
    : undefined;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}

function paramsSummary(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${formatValue(v)}`);
  return parts.length === 0 ? '' : parts.join(', ');
}

function toolCallText(t: ToolCall): string {
  return code(clip(`${t.server}.${t.tool}(${paramsSummary(t.args)})`, 500));
}

const signed = (n: number): string => (n > 0 ? `+${n}` : String(n));

const targetText = (p: Pick<Proposal, 'target'>): string => `${p.target.kind}/${p.target.name}`;

/** The one-line subject used in headers and notification text. */
function subject(p: Proposal): string {
  return `${p.action} ${targetText(p)} (${p.tenant}/${p.namespace})`;
}

const VERDICT_TEXT: Record<Decision['verdict'], string> = {
  allow: 'allow',
  require_approval: 'approval required',
  deny: 'deny',
};

function violationLines(d: Decision): string {
  if (d.violations.length === 0) {
    return d.verdict === 'require_approval'
      ? `No policy violations; approval is required at autonomy level ${d.agent_level}.`
      : 'No policy violations.';
  }
  return d.violations
    .map((v) => `• *${escapeMrkdwn(v.layer)}* ${code(v.rule)}: ${escapeMrkdwn(v.message)}`)
    .join('\n');
}

/** Who must approve, how many, and until when: the status line of a message awaiting approval. */
export function awaitingText(req: ApprovalRequirement | undefined, approvedBy: readonly string[] = []): string {
  if (!req) return '⏳ *Awaiting approval*';
  if (req.approvers.length === 0) return '🚫 *Nobody can approve this*: no approvers are configured for this tenant in the tenants file.';
  const who = req.approvers.map(principal).join(', ');
  const needs = req.required > 1 ? `${req.required} different approvers among ${who}` : `one of ${who}`;
  const so_far = approvedBy.length > 0 ? ` — approved so far by ${approvedBy.map(principal).join(', ')} (${approvedBy.length} of ${req.required})` : '';
  const not = req.excluded.length > 0 ? ` (not ${req.excluded.map(principal).join(', ')}, who asked for it)` : '';
  return `⏳ *Awaiting approval* from ${needs}${not}${so_far} · expires ${slackDate(Date.parse(req.expires_at))}`;
}

/** A proposal waiting for a human: everything needed to decide, and the two buttons. */
export function proposalAwaitingApproval(p: Proposal, d: Decision, req?: ApprovalRequirement): SlackMessage {
  const blast = p.blast_radius;
  const params = paramsSummary(p.params);
  const fields: Array<{ type: 'mrkdwn'; text: string }> = [
    ['Agent', `${escapeMrkdwn(agentName(p.agent))} (level ${d.agent_level})`],
    ['Action', `${code(p.action)}${params ? `\n${code(clip(params, 300))}` : ''}`],
    ['Target', escapeMrkdwn(targetText(p))],
    ['Tenant / namespace', `${escapeMrkdwn(p.tenant)} / ${escapeMrkdwn(p.namespace)}`],
    [
      'Blast radius',
      `${plural(blast.tenants, 'tenant')} · ${plural(blast.services, 'service')} · ${signed(blast.capacity_change_pct)}% capacity`,
    ],
    ['Verdict', `${VERDICT_TEXT[d.verdict]}${d.violations.length ? ` (${plural(d.violations.length, 'violation')})` : ''}`],
  ].map(([label, value]) => (mrkdwnText(`*${label}*\n${value}`, LIMITS.field)));

  const reasoning = p.reasoning.map((r) => `• ${escapeMrkdwn(r)}`).join('\n');
  const v = p.verification;
  const undo = p.compensating_action ? toolCallText(p.compensating_action) : '_none recorded_';
  const contextBits = [
    `Proposal ${code(p.id)}`,
    ...(p.incident_id ? [`incident ${code(p.incident_id)}`] : []),
    `policy ${code(d.policy_version.replace(/^sha256:/, '').slice(0, 12))}`,
    p.llm === 'used' ? 'reasoning by LLM' : 'reasoning by rules (LLM unavailable)',
  ];

  const blocks: KnownBlock[] = [
    header(`${agentName(p.agent)} proposes: ${subject(p)}`, `proposal_header:${p.id}`),
    section(awaitingText(req), statusBlockId(p.id)),
    { type: 'section', fields },
    section(`*Why*\n${reasoning}`),
    section(`*Policy*\n${violationLines(d)}`),
    section(
      `*Verification*\n${code(v.metric)} must reach ${v.slo_threshold} (or improve ≥ ${v.min_improvement_pct}%) within ${v.window_s} s\n` +
        `*Compensating action* (fires if not restored)\n${undo}`,
    ),
    context(contextBits.join(' · ')),
    {
      type: 'actions',
      block_id: actionsBlockId(p.id),
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION_ID,
          text: { type: 'plain_text', text: 'Approve', emoji: true },
          style: 'primary',
          value: p.id,
        },
        {
          type: 'button',
          action_id: REJECT_ACTION_ID,
          text: { type: 'plain_text', text: 'Reject', emoji: true },
          style: 'danger',
          value: p.id,
        },
      ],
    },
  ];
  const text = clip(
    `Approval needed: ${agentName(p.agent)} proposes ${escapeMrkdwn(subject(p))} — ${VERDICT_TEXT[d.verdict]}`,
    LIMITS.fallback,
  );
  return { text, blocks };
}

/** How an approval ended: who decided (every approver, for M of N), which way, and when (ms since the epoch). */
export interface Resolution {
  outcome: 'approved' | 'rejected' | 'expired';
  user_ids: readonly string[];
  at_ms: number;
}

export function resolutionText(r: Resolution): string {
  if (r.outcome === 'expired') return `⌛ *Expired* at ${slackDate(r.at_ms)}: nobody decided in time, so nothing runs.`;
  return `${r.outcome === 'approved' ? '✅ *Approved*' : '❌ *Rejected*'} by ${r.user_ids.map(principal).join(', ')} at ${slackDate(r.at_ms)}`;
}

/**
 * The resolved form of a proposal message: the status line says who decided, and the buttons are gone.
 * Works on the blocks Slack sends back with a click, so resolving a message needs no memory of it
 * (a restarted app can still resolve messages it posted before).
 */
export function resolveProposalBlocks(blocks: readonly unknown[], proposalId: string, r: Resolution): unknown[] {
  return replaceStatus(blocks, proposalId, resolutionText(r), true);
}

/** The same message with a new status line; with `dropButtons`, without its Approve / Reject buttons. */
export function replaceStatus(blocks: readonly unknown[], proposalId: string, statusText: string, dropButtons: boolean): unknown[] {
  const status = section(statusText, statusBlockId(proposalId));
  let replaced = false;
  const out: unknown[] = [];
  for (const b of blocks) {
    const id = typeof b === 'object' && b !== null ? (b as { block_id?: unknown }).block_id : undefined;
    if (dropButtons && id === actionsBlockId(proposalId)) continue;
    if (id === statusBlockId(proposalId)) {
      out.push(status);
      replaced = true;
      continue;
    }
    out.push(b);
  }
  if (!replaced) out.push(status);
  return out;
}

export function proposalResolved(p: Proposal, d: Decision, r: Resolution, req?: ApprovalRequirement): SlackMessage {
  return {
    text: resolvedText(r, subject(p)),
    blocks: resolveProposalBlocks(proposalAwaitingApproval(p, d, req).blocks, p.id, r) as KnownBlock[],
  };
}

/** Notification text for a resolved proposal; `what` is already plain text (it is escaped here). */
export function resolvedText(r: Resolution, what: string): string {
  const verb = r.outcome === 'approved' ? 'Approved' : r.outcome === 'rejected' ? 'Rejected' : 'Expired';
  const by = r.user_ids.length > 0 ? ` by ${r.user_ids.map(principal).join(', ')}` : '';
  return clip(`${verb}${by}: ${escapeMrkdwn(what)}`, LIMITS.fallback);
}

/** What happened after the decision: one message per execution, verification or rollback. */
export function noticeMessage(p: Proposal, e: ExecutionResult | Verification | Rollback): SlackMessage {
  const who = agentName(p.agent);
  let headline: string;
  let detail: string;
  switch (e.type) {
    case 'execution_result': {
      const compensation = e.compensation_for !== undefined;
      const what = compensation ? 'Compensating action' : 'Executed';
      headline =
        e.status === 'succeeded'
          ? `▶️ *${what}*`
          : e.status === 'refused'
            ? `⛔ *${what} refused by the MCP server*`
            : `⚠️ *${what} failed*`;
      detail = `${toolCallText({ server: p.tool_call.server, tool: e.tool, args: e.args })}` +
        (e.error ? `\n${escapeMrkdwn(e.error)}` : '');
      break;
    }
    case 'verification': {
      const what = e.of === 'compensation' ? 'the compensating action' : 'the action';
      headline =
        e.outcome === 'restored'
          ? e.of === 'compensation' ? '✅ *Verified: back to where it was*' : '✅ *Verified: SLO restored*'
          : e.outcome === 'improved'
            ? '➖ *Verified: improved, not yet restored*'
            : e.outcome === 'partially_helped'
              ? '➖ *Verified: partially helped* (more served, less saturated; not yet within the SLO)'
              : `⚠️ *Verification: ${what} did not help*`;
      detail = `${code(e.metric)} ${e.before} → ${e.after} (SLO ${e.slo_threshold})`;
      break;
    }
    case 'rollback': {
      headline = '↩️ *Rolled back*';
      detail = `${escapeMrkdwn(e.reason)}\nCompensating action: ${toolCallText(e.compensating_action)}`;
      break;
    }
  }
  const line = `${headline}: ${escapeMrkdwn(who)} — ${escapeMrkdwn(subject(p))}`;
  const blocks: KnownBlock[] = [
    section(`${line}\n${detail}`),
    context(`Proposal ${code(p.id)}${p.incident_id ? ` · incident ${code(p.incident_id)}` : ''}`),
  ];
  const plain = headline.replace(/\*/g, '');
  return { text: clip(`${plain}: ${who} — ${escapeMrkdwn(subject(p))}`, LIMITS.fallback), blocks };
}

const VERIFIED_TEXT: Record<Verification['outcome'], string> = {
  restored: '✅ *Verified: SLO restored*',
  improved: '➖ *Verified: improved, not yet restored*',
  partially_helped: '➖ *Verified: partially helped*',
  not_helped: '⚠️ *Verified: did not help*',
};

/** Where a proposal stands, for its card's status line: every fact from its records, with its time. */
export function stageText(l: ProposalLife): string {
  const stage = stageOf(l);
  const decided = l.outcome && l.outcome.outcome !== 'expired'
    ? `${resolutionText({ outcome: l.outcome.outcome, user_ids: l.outcome.approvers.map((a) => a.id), at_ms: Date.parse(l.outcome.at) })}\n`
    : '';
  const exec = actionExecution(l);
  const v = l.verification;
  switch (stage) {
    case 'deciding':
      return '⏳ *Deciding*';
    case 'awaiting_approval':
      return awaitingText(l.request?.requirement, approvalsSoFar(l).map((p) => p.id));
    case 'denied': {
      const d = latestDecision(l)!;
      return `⛔ *Denied by policy*: ${d.violations.map((x) => escapeMrkdwn(x.message)).join('; ') || 'no reason given'}`;
    }
    case 'rejected':
    case 'expired':
      return resolutionText({ outcome: l.outcome!.outcome, user_ids: l.outcome!.approvers.map((a) => a.id), at_ms: Date.parse(l.outcome!.at) });
    case 'granted':
      return `${decided}▶️ *Granted*: executing now`;
    case 'executed':
      return `${decided}▶️ *Executed* at ${slackDate(Date.parse(exec!.ts))}; verifying within ${l.proposal.verification.window_s} s`;
    case 'failed':
      return `${decided}⚠️ *Execution ${exec!.status}*${exec!.error ? `: ${escapeMrkdwn(exec!.error)}` : ''}`;
    case 'verified':
      return `${decided}${VERIFIED_TEXT[v!.outcome]}: ${code(v!.metric)} ${v!.before} → ${v!.after} (SLO ${v!.slo_threshold}) at ${slackDate(Date.parse(v!.ts))}`;
    case 'rolled_back': {
      const back = l.compensationVerification;
      return `${decided}↩️ *Rolled back*${l.rollback ? `: ${escapeMrkdwn(l.rollback.reason)}` : ''}${back ? `\n${back.outcome === 'restored' ? '✅ back to where it was' : `compensation ${back.outcome.replace(/_/g, ' ')}`}: ${code(back.metric)} ${back.before} → ${back.after}` : ''}`;
    }
  }
}

/**
 * A proposal's card as its records tell it now: while it waits for a human, the approval message
 * with its buttons and the votes so far; after that, the same card without buttons and with where
 * it stands. What the cockpit edits in place as the proposal moves; undefined before any decision.
 */
export function proposalCard(l: ProposalLife): SlackMessage | undefined {
  const d = firstDecision(l);
  if (!d) return undefined;
  const base = proposalAwaitingApproval(l.proposal, d, l.request?.requirement);
  const waiting = stageOf(l) === 'awaiting_approval';
  const status = stageText(l);
  return {
    text: waiting ? base.text : clip(`${status.split('\n').at(-1)!.replace(/\*/g, '')} — ${escapeMrkdwn(subject(l.proposal))}`, LIMITS.fallback),
    blocks: replaceStatus(base.blocks, l.proposal.id, status, !waiting) as KnownBlock[],
  };
}
