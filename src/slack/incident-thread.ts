// One incident as a Slack thread, computed from its records: the parent message (what Watchtower
// saw — signals, evidence, ranked hypotheses when the observation carries them, the correlated
// change — the incident's current state, what people answered, and the Confirm / False alarm / Page
// on-call buttons), each proposal's card (proposal-message.ts: proposalCard), a notice per
// execution, verification, rollback and escalation, and the key metric's chart around the incident.
// `threadPlan` says which messages the thread should hold, each under a stable key and with a
// digest of its content: the projector (cockpit-projector.ts) posts what is missing and edits what
// changed, so the same records always give the same thread. Pure: records in, messages out.
// It must never put a name, summary or reason from the records into mrkdwn unescaped (mrkdwn.ts),
// and never give a message a key that depends on anything but the records.
import { createHash } from 'node:crypto';
import type { AuditRecord } from '../audit/records.ts';
import type { Hypothesis, Observation } from '../contracts/events.ts';
import type { LineChartSpec } from '../charts/line-chart.ts';
import { lifeOf, stageOf, type ProposalLife } from '../governance/proposal-life.ts';
import { agentName, clip, code, context, escapeMrkdwn, fallback, header, LIMITS, mrkdwnText, plural, principal, section, slackDate, type KnownBlock, type SlackMessage } from './mrkdwn.ts';
import { CONFIRM_ACTION_ID, FALSE_ALARM_ACTION_ID, PAGE_ACTION_ID, incidentActionsBlockId } from './observation-actions.ts';
import { noticeMessage, proposalCard } from './proposal-message.ts';
import type { Point } from './metric-history.ts';

/** A ranked explanation, when the observation carries them (Watchtower's model). */
export type { Hypothesis } from '../contracts/events.ts';

export interface Answer {
  answer: 'confirmed' | 'false_alarm' | 'page_on_call';
  by: string;
  at: string;
  page?: { status: string; detail: string };
}

/** An incident as its records tell it. */
export interface IncidentView {
  incident_id: string;
  opened: Observation;
  openedAt: string;
  /** The newest observation (a worsening, or the resolution). */
  latest: Observation;
  resolvedAt: string | null;
  proposals: ProposalLife[];
  escalations: AuditRecord<'escalation'>[];
  answers: Answer[];
  hypotheses: Hypothesis[];
  /** The records the notices come from, in chain order. */
  records: readonly AuditRecord[];
}

/** Folds an incident's records (chain order); undefined while no observation opened it. */
export function incidentView(records: readonly AuditRecord[]): IncidentView | undefined {
  const observations = records.filter((r): r is AuditRecord<'observation'> => r.kind === 'observation');
  const first = observations[0];
  if (!first?.incident_id) return undefined;
  const latest = observations.at(-1)!;
  const resolved = observations.find((o) => o.payload.observation.severity === 'info' && o !== first);
  const byProposal = new Map<string, AuditRecord[]>();
  for (const r of records) if (r.proposal_id) byProposal.set(r.proposal_id, [...(byProposal.get(r.proposal_id) ?? []), r]);
  const proposals = [...byProposal.values()].flatMap((rs) => {
    const l = lifeOf(rs);
    return l ? [l] : [];
  });
  const opened = first.payload.observation;
  // Present when Watchtower's model answered; the rules give none.
  const hypotheses = (opened.hypotheses ?? []).slice().sort((a, b) => (b.confidence ?? 0) - (a.confidence ?? 0));
  return {
    incident_id: first.incident_id,
    opened,
    openedAt: first.at,
    latest: latest.payload.observation,
    resolvedAt: resolved?.at ?? null,
    proposals,
    escalations: records.filter((r): r is AuditRecord<'escalation'> => r.kind === 'escalation'),
    answers: records.flatMap((r) =>
      r.kind === 'observation_feedback' ? [{ answer: r.payload.answer, by: r.payload.by.id, at: r.at, ...(r.payload.page ? { page: r.payload.page } : {}) }] : [],
    ),
    hypotheses,
    records,
  };
}

const SEVERITY = { info: 'ℹ️', warning: '⚠️', critical: '🚨' } as const;
const STATUS_BLOCK = (id: string) => `incident_status:${id}`;

/** The incident's state in one line: resolved, or what is being done and what waits. */
export function incidentState(v: IncidentView): string {
  if (v.resolvedAt) {
    const minutes = Math.max(0, Math.round((Date.parse(v.resolvedAt) - Date.parse(v.openedAt)) / 60_000));
    return `✅ *Resolved* ${slackDate(Date.parse(v.resolvedAt))}, ${plural(minutes, 'minute')} after it opened: ${escapeMrkdwn(v.latest.summary)}`;
  }
  const stages = v.proposals.map(stageOf);
  const count = (s: string) => stages.filter((x) => x === s).length;
  const parts = [
    count('awaiting_approval') ? `${count('awaiting_approval')} awaiting approval` : '',
    count('granted') + count('executed') ? `${count('granted') + count('executed')} executing or being verified` : '',
    count('verified') ? `${count('verified')} verified` : '',
    count('rolled_back') ? `${count('rolled_back')} rolled back` : '',
    count('denied') + count('rejected') + count('expired') ? `${count('denied') + count('rejected') + count('expired')} not done (denied, rejected or expired)` : '',
  ].filter(Boolean);
  const escalated = v.escalations.length > 0 ? ` · 🆘 *escalated*: ${escapeMrkdwn(v.escalations.at(-1)!.payload.summary)}` : '';
  const latest = v.latest !== v.opened ? `\nLatest from Watchtower (${slackDate(Date.parse(v.latest.ts))}): ${escapeMrkdwn(v.latest.summary)}` : '';
  return `🔴 *Open*${parts.length ? ` — ${parts.join(', ')}` : ' — no action proposed yet'}${escalated}${latest}`;
}

function answersLine(v: IncidentView): string {
  const verdict = [...v.answers].reverse().find((a) => a.answer !== 'page_on_call');
  const page = v.answers.find((a) => a.answer === 'page_on_call' && a.page?.status !== 'failed');
  const bits = [
    verdict ? (verdict.answer === 'confirmed' ? `👍 confirmed by ${principal(verdict.by)}` : `🙅 marked a false alarm by ${principal(verdict.by)}`) : '',
    page ? `📟 on-call ${page.page?.status === 'paged' ? 'paged' : 'page requested'} by ${principal(page.by)}` : '',
  ].filter(Boolean);
  return bits.length ? bits.join(' · ') : '_Is this real? Answer below: it is how Watchtower learns its precision._';
}

function signalLine(s: Observation['signals'][number]): string {
  const unit = s.unit ? ` ${escapeMrkdwn(s.unit)}` : '';
  const change = `${s.change_pct >= 0 ? '+' : ''}${Math.round(s.change_pct)}%`;
  return `• ${code(s.metric)} on ${code(s.target)}: ${round(s.value)}${unit} (baseline ${round(s.baseline)}${unit}, ${change})`;
}

const round = (n: number): string => (Math.abs(n) >= 100 ? String(Math.round(n)) : String(Math.round(n * 100) / 100));

/** The parent message: what was seen, where the incident stands, what people answered, and the buttons. */
export function parentMessage(v: IncidentView): SlackMessage {
  const o = v.opened;
  const service = `${o.namespace}/${o.target.name}`;
  const change = o.correlated_change;
  const blocks: KnownBlock[] = [
    // The summary goes into mrkdwn below, escaped; a header is plain text, never parsed, and holds only
    // the service (Kubernetes names cannot hold `<`, `>` or `&`).
    header(`${SEVERITY[o.severity]} Incident on ${service}`, `incident_header:${v.incident_id}`),
    section(incidentState(v), STATUS_BLOCK(v.incident_id)),
    {
      type: 'section',
      fields: [
        mrkdwnText(`*Tenant*\n${escapeMrkdwn(o.tenant)}`, LIMITS.field),
        mrkdwnText(`*Service*\n${code(service)}`, LIMITS.field),
        mrkdwnText(`*Severity*\n${o.severity}`, LIMITS.field),
        mrkdwnText(`*Opened*\n${slackDate(Date.parse(v.openedAt))}`, LIMITS.field),
      ],
    },
    section(`*Signals*\n${o.signals.map(signalLine).join('\n') || '_none recorded_'}\n*Summary*\n${escapeMrkdwn(o.summary)}`),
    ...(change
      ? [section(`*Correlated change*\n${code(`${change.kind} ${change.name}`)} revision ${change.revision}, ${Math.round(change.minutes_before)} minutes before: ${escapeMrkdwn(change.description)}`)]
      : []),
    ...(v.hypotheses.length
      ? [section(`*Hypotheses, most likely first*\n${v.hypotheses.map((h, i) => `${i + 1}. ${escapeMrkdwn(h.text)}${h.confidence !== undefined ? ` (${Math.round(h.confidence * 100)}%)` : ''}`).join('\n')}`)]
      : []),
    ...(o.narrative ? [section(`*Watchtower's reading* _(a language model, over the signals and its read-only tools)_\n${escapeMrkdwn(o.narrative)}`)] : []),
    context(`${answersLine(v)} · incident ${code(v.incident_id)} · proposals, approvals, executions and the chart follow in the thread`),
    {
      type: 'actions',
      block_id: incidentActionsBlockId(v.incident_id),
      elements: [
        { type: 'button', action_id: CONFIRM_ACTION_ID, text: { type: 'plain_text', text: 'Confirm', emoji: true }, value: v.incident_id },
        { type: 'button', action_id: FALSE_ALARM_ACTION_ID, text: { type: 'plain_text', text: 'False alarm', emoji: true }, value: v.incident_id },
        // Paging makes no sense once the SLO holds again.
        ...(v.resolvedAt ? [] : [{ type: 'button' as const, action_id: PAGE_ACTION_ID, text: { type: 'plain_text' as const, text: 'Page on-call', emoji: true }, style: 'danger' as const, value: v.incident_id }]),
      ],
    },
  ];
  const state = incidentState(v).replace(/\*/g, '').replace(/<!date\^[^|]*\|([^>]*)>/g, '$1');
  return { text: fallback(`${SEVERITY[o.severity]} ${escapeMrkdwn(service)}: ${escapeMrkdwn(o.summary)} — ${state}`), blocks };
}

/** An escalation: what was tried, what blocks the next step, and what a human could approve. */
export function escalationMessage(r: AuditRecord<'escalation'>): SlackMessage {
  const e = r.payload;
  const text = [
    `🆘 *Escalated by ${escapeMrkdwn(agentName(r.actor))}*: ${escapeMrkdwn(e.summary)}`,
    e.tried.length ? `*Tried*\n${e.tried.map((t) => `• ${escapeMrkdwn(t)}`).join('\n')}` : '',
    e.blocked.length ? `*Blocked by*\n${e.blocked.map((b) => `• ${escapeMrkdwn(b.reason)}: ${escapeMrkdwn(b.detail)}`).join('\n')}` : '',
    e.options.length ? `*A human could*\n${e.options.map((o) => `• ${escapeMrkdwn(o)}`).join('\n')}` : '',
  ].filter(Boolean).join('\n');
  return { text: fallback(`Escalated: ${escapeMrkdwn(e.summary)}`), blocks: [section(text)] };
}

/** One message the thread should hold. */
export interface PlannedMessage {
  /** Stable across runs and processes: what the cockpit store keys the posted message by. */
  key: string;
  kind: 'parent' | 'card' | 'notice' | 'chart';
  message: SlackMessage;
  digest: string;
  /** A card posted elsewhere already (the approval request): adopt its message instead of posting. */
  existing?: { channel: string; ts: string };
  /** For a chart: when it is drawn (`open`: the lead-up; `resolved`: the whole incident). */
  chart?: 'open' | 'resolved';
  /** For a card: the proposal, so the projector posts it only once its approval path has spoken. */
  proposal_id?: string;
}

export const digestOf = (m: SlackMessage): string => createHash('sha256').update(JSON.stringify(m)).digest('hex').slice(0, 32);

const planned = (key: string, kind: PlannedMessage['kind'], message: SlackMessage, extra: Partial<PlannedMessage> = {}): PlannedMessage => ({
  key,
  kind,
  message,
  digest: digestOf(message),
  ...extra,
});

/**
 * Every message the incident's thread should hold, parent first, in the order they happened. A card
 * that asked for approval is adopted from the approval request's record (the gateway posted it); a
 * proposal that will ask but has not yet is left out, so the two paths never post twice.
 */
export function threadPlan(v: IncidentView): PlannedMessage[] {
  const out: PlannedMessage[] = [planned(`parent:${v.incident_id}`, 'parent', parentMessage(v))];
  out.push(planned(`chart:${v.incident_id}:open`, 'chart', { text: 'chart', blocks: [] }, { chart: 'open', digest: 'chart' }));
  const lives = new Map(v.proposals.map((l) => [l.proposal.id, l]));
  const carded = new Set<string>();
  for (const r of v.records) {
    const l = r.proposal_id ? lives.get(r.proposal_id) : undefined;
    if (l && !carded.has(l.proposal.id) && (r.kind === 'decision' || r.kind === 'approval_requested')) {
      const card = proposalCard(l);
      const asksHuman = l.decisions.some((d) => d.verdict === 'require_approval');
      const ref = l.request?.channel as { channel?: unknown; ts?: unknown } | undefined;
      if (card && asksHuman && typeof ref?.channel === 'string' && typeof ref.ts === 'string') {
        out.push(planned(`card:${l.proposal.id}`, 'card', card, { existing: { channel: ref.channel, ts: ref.ts }, proposal_id: l.proposal.id }));
        carded.add(l.proposal.id);
      } else if (card && !asksHuman) {
        out.push(planned(`card:${l.proposal.id}`, 'card', card, { proposal_id: l.proposal.id }));
        carded.add(l.proposal.id);
      }
    }
    if (l && (r.kind === 'execution_result' || r.kind === 'verification' || r.kind === 'rollback')) {
      const event = r.kind === 'execution_result' ? r.payload.result : r.kind === 'verification' ? r.payload.verification : r.payload.rollback;
      out.push(planned(`notice:${r.id}`, 'notice', noticeMessage(l.proposal, event)));
    }
    if (r.kind === 'escalation') out.push(planned(`notice:${r.id}`, 'notice', escalationMessage(r)));
  }
  if (v.resolvedAt) out.push(planned(`chart:${v.incident_id}:resolved`, 'chart', { text: 'chart', blocks: [] }, { chart: 'resolved', digest: 'chart' }));
  return out;
}

/** Minutes of lead-up the chart shows before the incident opened, and after it resolved. */
export const CHART_BEFORE_MS = 30 * 60_000;
export const CHART_AFTER_MS = 5 * 60_000;

/** The key metric's chart: p99 around the incident, the incident as a band, the SLO, each action executed. */
export function incidentChartSpec(v: IncidentView, points: readonly Point[], nowMs: number): LineChartSpec {
  const opened = Date.parse(v.openedAt);
  const until = v.resolvedAt ? Date.parse(v.resolvedAt) : nowMs;
  const slo = v.proposals.find((l) => l.proposal.verification.metric.includes('p99'))?.proposal.verification.slo_threshold;
  const executed = v.proposals.flatMap((l) =>
    l.executions.filter((e) => e.status === 'succeeded').map((e) => {
      const t = Date.parse(e.ts);
      const near = points.reduce<Point | undefined>((best, p) => (best === undefined || Math.abs(p.t - t) < Math.abs(best.t - t) ? p : best), undefined);
      return { x: t, y: near?.v ?? 0, color: '#2ca02c' };
    }),
  );
  const o = v.opened;
  return {
    title: clip(`p99 latency of ${o.namespace}/${o.target.name} (${o.tenant})`, 120),
    subtitle: `incident ${v.incident_id.slice(0, 8)} — shaded from the first observation ${v.resolvedAt ? 'to the resolution' : 'to now'}; green dots: actions executed`,
    series: [{ name: 'p99 (ms)', x: points.map((p) => p.t), y: points.map((p) => p.v), color: '#1f77b4' }],
    bands: [{ from: opened, to: until, color: '#d62728', label: v.resolvedAt ? 'incident' : 'incident (open)' }],
    ...(slo !== undefined ? { thresholds: [{ value: slo, label: `SLO ${slo} ms`, color: '#d62728' }] } : {}),
    markers: executed,
    yAxis: { label: 'ms', min: 0 },
    width: 900,
    height: 320,
  };
}
