// Who is woken, about what, and when they may sleep again: the paging policy as pure functions of
// the audit records (no clock but the one passed in, no I/O).
//   - A supervised proposal — one an approval was asked for — pages the on-call: dedup key = the
//     proposal id; the summary names agent, action, target and tenant; a link to its Slack message
//     once the approval request records it; severity from the tenant's tier and burn rate as the
//     gateway saw them. It is waited for until the request is recorded (the link is the point of
//     the page), but never longer than a grace period after the decision asked for approval: Slack
//     being down must not keep the on-call from being paged. The page is over when the proposal is
//     decided (approved or rejected) or its approval expires.
//   - A critical observation pages as an incident: dedup key = the incident id; over when the
//     incident resolves (Watchtower's info observation of the same incident id).
//   - An escalation (an incident no agent can move further) pages whatever the incident's severity:
//     dedup key = `<incident id>:escalation`, with what was tried, what blocks it and the options a
//     human could approve; over when the incident resolves.
//   - A person's "Page on-call" on an incident is sent at once by the one who asked (the answer is
//     theirs to see: paged, or failed and try again) under `<incident id>:requested`; the pager only
//     ends it when the incident resolves.
// It must never page about anything no human is asked to decide or look at, and never invent a fact
// the records do not hold (an unknown tier pages as critical rather than guessing it harmless).
import { z } from 'zod';
import type { Observation } from '../contracts/events.ts';
import { ofKind, type AuditRecord } from '../audit/records.ts';
import { latestDecision, lifeOf, type ProposalLife } from '../governance/proposal-life.ts';
import { fitSummary, type PageLink, type PageSeverity, type TriggerEvent } from './paging-service.ts';

/** What PagerDuty should show for one dedup key, by the records. */
export type PageState =
  /** Nothing to page about. */
  | { state: 'none' }
  /** A page is due but waits for the Slack message until `untilMs` (the run's clock). */
  | { state: 'pending'; untilMs: number }
  | { state: 'open'; trigger: TriggerEvent }
  /** Over; `paged` says whether it ever was due, so that a resolve may be owed. */
  | { state: 'closed'; paged: boolean };

/** The tenant as the gateway decided with it (DESIGN §5 policy input, `context.tenant`). */
export interface TenantFacts {
  tier: string;
  burn_rate: number;
  /** False when the tenants file does not name the tenant and its tier was assumed. */
  known?: boolean;
}

/** Burn rate above which a tenant's page is critical whatever its tier (its error budget goes in under a month). */
export const CRITICAL_BURN_RATE = 1.5;

/**
 * enterprise, or burning faster than 1.5x → critical; premium, or burning faster than the budget
 * accrues (> 1x) → error; anything else → warning. Facts unknown, or a tenant nobody agreed terms
 * with (its tier assumed) → critical: when in doubt, wake someone.
 */
export function pageSeverity(tenant: TenantFacts | undefined): PageSeverity {
  if (!tenant || tenant.known === false) return 'critical';
  if (tenant.tier === 'enterprise' || tenant.burn_rate > CRITICAL_BURN_RATE) return 'critical';
  if (tenant.tier === 'premium' || tenant.burn_rate > 1) return 'error';
  return 'warning';
}

const PolicyInputTenant = z.object({ context: z.object({ tenant: z.object({ tier: z.string(), burn_rate: z.number(), known: z.boolean().optional() }) }) });

/** The tenant facts of the newest decision that carries a policy input. */
export function tenantFactsOf(records: readonly AuditRecord[]): TenantFacts | undefined {
  for (const d of ofKind(records, 'decision').reverse()) {
    const parsed = PolicyInputTenant.safeParse(d.payload.policy_input);
    if (parsed.success) return parsed.data.context.tenant;
  }
  return undefined;
}

/**
 * The Slack message an approval request was posted as: Slack's permalink when the app recorded
 * one, else the archive path Slack's permalinks use (`/archives/<channel>/p<ts without the dot>`)
 * on slack.com, which opens the message in the reader's workspace.
 */
export function slackMessageLink(channel: Record<string, unknown> | undefined): PageLink | undefined {
  const text = 'The approval request in Slack (Approve / Reject)';
  if (typeof channel?.['permalink'] === 'string' && channel['permalink'].startsWith('https://')) return { href: channel['permalink'], text };
  const id = channel?.['channel'];
  const ts = channel?.['ts'];
  if (typeof id !== 'string' || typeof ts !== 'string' || !/^[A-Z0-9]+$/.test(id) || !/^\d+\.\d+$/.test(ts)) return undefined;
  return { href: `https://slack.com/archives/${id}/p${ts.replace('.', '')}`, text };
}

/** A proposal's page, from its records in chain order. */
export function proposalPageState(records: readonly AuditRecord[], nowMs: number, opts: { graceMs: number }): PageState {
  const life = lifeOf(records);
  if (!life) return { state: 'none' };
  const asked = latestDecision(life)?.verdict === 'require_approval';
  if (!life.request && !asked) return { state: 'none' };
  if (life.outcome) return { state: 'closed', paged: true };
  const facts = tenantFactsOf(records);
  if (life.request) return { state: 'open', trigger: proposalTrigger(life, facts, life.request.at, slackMessageLink(life.request.channel)) };
  const askedAt = Date.parse(latestDecision(life)!.ts);
  if (nowMs < askedAt + opts.graceMs) return { state: 'pending', untilMs: askedAt + opts.graceMs };
  return { state: 'open', trigger: proposalTrigger(life, facts, latestDecision(life)!.ts, undefined) };
}

function proposalTrigger(life: ProposalLife, facts: TenantFacts | undefined, at: string, link: PageLink | undefined): TriggerEvent {
  const p = life.proposal;
  const decision = latestDecision(life);
  const req = life.request?.requirement;
  const tenant = facts ? `tenant ${p.tenant} (${facts.tier}, burn rate ${facts.burn_rate})` : `tenant ${p.tenant}`;
  return {
    dedup_key: p.id,
    summary: fitSummary(`Approval needed: ${p.agent} proposes ${p.action} of ${p.target.kind} ${p.namespace}/${p.target.name} for ${tenant}`),
    source: `${p.namespace}/${p.target.name}`,
    severity: pageSeverity(facts),
    timestamp: at,
    component: p.target.name,
    group: p.tenant,
    class: p.action,
    ...(link ? { links: [link] } : {}),
    custom_details: {
      proposal_id: p.id,
      ...(p.incident_id ? { incident_id: p.incident_id } : {}),
      agent: p.agent,
      action: p.action,
      target: `${p.namespace}/${p.target.kind}/${p.target.name}`,
      params: p.params,
      tenant: p.tenant,
      ...(facts ? { tier: facts.tier, burn_rate: facts.burn_rate } : {}),
      why_supervised: (decision?.violations ?? []).map((v) => v.message),
      reasoning: p.reasoning,
      ...(req ? { approvals_required: req.required, approvers: req.approvers, expires_at: req.expires_at } : {}),
      how_to_decide: link ? 'Approve or reject in Slack (the link).' : 'The Slack message is not known yet: look for this proposal id in the approvals channel.',
    },
  };
}

/** An incident's page, from its observations in order. */
export function incidentPageState(observations: readonly Observation[]): PageState {
  const critical = observations.find((o) => o.severity === 'critical');
  if (!critical?.incident_id) return { state: 'none' };
  const after = observations.slice(observations.indexOf(critical) + 1);
  if (after.some((o) => o.severity === 'info')) return { state: 'closed', paged: true };
  return { state: 'open', trigger: incidentTrigger(critical, critical.incident_id) };
}

function incidentTrigger(o: Observation, incidentId: string): TriggerEvent {
  return {
    dedup_key: incidentId,
    summary: fitSummary(`Incident on ${o.namespace}/${o.target.name} (tenant ${o.tenant}): ${o.summary}`),
    source: `${o.namespace}/${o.target.name}`,
    severity: 'critical',
    timestamp: o.ts,
    component: o.target.name,
    group: o.tenant,
    class: o.signals[0]?.metric ?? 'observation',
    custom_details: {
      incident_id: incidentId,
      observation_id: o.id,
      tenant: o.tenant,
      signals: o.signals,
      ...(o.correlated_change ? { correlated_change: o.correlated_change } : {}),
    },
  };
}

type EscalationRecord = Extract<AuditRecord, { kind: 'escalation' }>;

/** The dedup key of an incident's escalation page. */
export const escalationKey = (incidentId: string): string => `${incidentId}:escalation`;

/** An incident's escalation page, from its escalation and observation records (chain order). */
export function escalationPageState(records: readonly AuditRecord[]): PageState {
  const first = ofKind(records, 'escalation')[0];
  if (!first?.incident_id) return { state: 'none' };
  const resolved = ofKind(records, 'observation').some((r) => r.seq > first.seq && r.payload.observation.severity === 'info');
  if (resolved) return { state: 'closed', paged: true };
  return { state: 'open', trigger: escalationTrigger(first, first.incident_id, tenantFactsOf(records)) };
}

function escalationTrigger(e: EscalationRecord, incidentId: string, facts: TenantFacts | undefined): TriggerEvent {
  const { target, summary, tried, blocked, options } = e.payload;
  return {
    dedup_key: escalationKey(incidentId),
    summary: fitSummary(`Needs a human: ${summary} (${target.namespace}/${target.deployment}, tenant ${e.tenant ?? 'unknown'})`),
    source: `${target.namespace}/${target.deployment}`,
    severity: facts ? pageSeverity(facts) : 'critical',
    timestamp: e.at,
    component: target.deployment,
    ...(e.tenant ? { group: e.tenant } : {}),
    class: 'escalation',
    custom_details: { incident_id: incidentId, escalated_by: e.actor, tried, blocked, options },
  };
}

/** The dedup key of a page a person asked for on an incident. */
export const requestedKey = (incidentId: string): string => `${incidentId}:requested`;

/** A person's request to page the on-call about an incident, as the Slack desk sends it. */
export function requestedTrigger(r: {
  incident_id: string;
  tenant: string;
  service: string;
  severity: Observation['severity'];
  summary: string;
  requested_by: { id: string; name?: string | undefined };
  at: string;
}): TriggerEvent {
  const who = r.requested_by.name ?? r.requested_by.id;
  return {
    dedup_key: requestedKey(r.incident_id),
    summary: fitSummary(`${who} asks for the on-call: ${r.summary} (${r.service}, tenant ${r.tenant})`),
    source: r.service,
    severity: r.severity === 'critical' ? 'critical' : 'error',
    timestamp: r.at,
    component: r.service.split('/')[1] ?? r.service,
    group: r.tenant,
    class: 'page_requested',
    custom_details: { incident_id: r.incident_id, requested_by: r.requested_by, observation_severity: r.severity },
  };
}

/** A requested page: over (a resolve owed) once the incident resolves after a page that went out. */
export function requestedPageState(records: readonly AuditRecord[]): PageState {
  const paged = ofKind(records, 'observation_feedback').find((r) => r.payload.answer === 'page_on_call' && r.payload.page?.status === 'paged');
  if (!paged) return { state: 'none' };
  const resolved = ofKind(records, 'observation').some((r) => r.payload.observation.severity === 'info' && r.seq > paged.seq);
  // Open: sent by the desk already; the pager has nothing to add until the incident resolves.
  return resolved ? { state: 'closed', paged: true } : { state: 'none' };
}
