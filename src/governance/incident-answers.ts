// Incident questions answered by rules over the incident's own records (IncidentQueries): the list,
// the timeline with a citation per line, and `explain` — why an action was taken, who approved what,
// what came of it — in plain language, each claim resting on records it cites. A question the rules
// do not understand gets what the records hold and says so; a counterfactual ("what would have
// happened without it?") is answered with what the records show, never invented.
// It must never read anything but the audit log, nor answer about another tenant's incident than
// the one asked for.
import type { AuditStore } from '../audit/audit-store.ts';
import type { AuditRecord } from '../audit/records.ts';
import type { Citation, IncidentAnswer, IncidentQueries, IncidentSummary, IncidentTimeline } from './incident-queries.ts';
import { incidentOf, severityOf, type IncidentLife } from './incident-life.ts';
import { actionExecution, firstDecision, stageOf, type ProposalLife } from './proposal-life.ts';
import { describeRecord } from './record-text.ts';

/** How far back `list` looks for observations (newest first). */
const LIST_SCAN = 2000;

export class RecordsIncidentQueries implements IncidentQueries {
  constructor(private readonly audit: Pick<AuditStore, 'list'>) {}

  async list(opts: { limit?: number } = {}): Promise<IncidentSummary[]> {
    const observations = await this.audit.list({ kind: 'observation', newest_first: true, limit: LIST_SCAN });
    const ids: string[] = [];
    for (const r of observations) if (r.incident_id && !ids.includes(r.incident_id)) ids.push(r.incident_id);
    const out: IncidentSummary[] = [];
    for (const id of ids.slice(0, opts.limit ?? 20)) {
      const life = incidentOf(await this.audit.list({ incident_id: id }));
      if (life) out.push(summaryOf(life));
    }
    return out;
  }

  async timeline(id: string): Promise<IncidentTimeline | undefined> {
    const life = await this.load(id);
    if (!life) return undefined;
    const opened = Date.parse(life.opening.ts);
    const entries = life.records.flatMap((r) => {
      const text = describeRecord(r);
      return text === undefined ? [] : [{ at: r.at, t_s: Math.round((Date.parse(r.at) - opened) / 1000), kind: r.kind, text, cites: cite(r) }];
    });
    return { summary: summaryOf(life), entries };
  }

  async explain(id: string, question = ''): Promise<IncidentAnswer | undefined> {
    const life = await this.load(id);
    if (!life) return undefined;
    const { answer, cites } = explainByRules(life, question);
    return { incident_id: life.id, answer, source: 'rules', llm: 'unavailable', cites };
  }

  /** The incident by id, or the newest one for `latest`. */
  private async load(id: string): Promise<IncidentLife | undefined> {
    let incidentId = id;
    if (id === 'latest') {
      const [newest] = await this.audit.list({ kind: 'observation', newest_first: true, limit: 50 }).then((rs) => rs.filter((r) => r.incident_id));
      if (!newest?.incident_id) return undefined;
      incidentId = newest.incident_id;
    }
    return incidentOf(await this.audit.list({ incident_id: incidentId }));
  }
}

export function summaryOf(life: IncidentLife): IncidentSummary {
  return {
    incident_id: life.id,
    tenant: life.tenant,
    service: `${life.namespace}/${life.deployment}`,
    opened_at: life.opening.ts,
    resolved_at: life.resolved?.ts ?? null,
    severity: severityOf(life),
    summary: life.opening.summary,
  };
}

const cite = (r: AuditRecord): Citation => ({ seq: r.seq, kind: r.kind, at: r.at });
const hhmmss = (iso: string) => iso.slice(11, 19);
const ms = (x: number) => `${Math.round(x)} ms`;

type Intent = 'rollback' | 'approval' | 'scale' | 'counterfactual' | 'outcome' | 'summary';

/** What the question asks, by its words. */
export function intentOf(question: string): Intent {
  const q = question.toLowerCase();
  if (/without|would have|had you not|if you had not|counterfactual|if nothing/.test(q)) return 'counterfactual';
  if (/who .*approv|approv(ed|al)|reject|who .*decid/.test(q)) return 'approval';
  if (/roll ?back|revert|undo|undid/.test(q)) return 'rollback';
  if (/scal|replica|capacity|pods?\b/.test(q)) return 'scale';
  if (/restor|fix|resolv|work|help|outcome|result|now/.test(q)) return 'outcome';
  return 'summary';
}

/** One proposal in a sentence: what, why, decided how, approved by whom, what came of it. */
function storyOf(l: ProposalLife, records: AuditRecord[], cites: Citation[]): string {
  const p = l.proposal;
  const d = firstDecision(l);
  const exec = actionExecution(l);
  const parts: string[] = [];
  const what = p.action === 'scale_deployment'
    ? `scale ${p.target.name} ${String(p.params['from_replicas'])} → ${String(p.params['to_replicas'])}`
    : p.action === 'rollback_deployment'
      ? `roll ${p.target.name} back from revision ${String(p.params['from_revision'])} to ${String(p.params['to_revision'])}`
      : `${p.action} on ${p.target.name} ${JSON.stringify(p.params)}`;
  parts.push(`${p.agent} proposed to ${what} at ${hhmmss(p.ts)} because ${p.reasoning.join('; ')}`);
  const at = (kind: string, pred: (r: AuditRecord) => boolean = () => true) => records.find((r) => r.kind === kind && r.proposal_id === p.id && pred(r));
  const proposalRec = at('proposal');
  if (proposalRec) cites.push(cite(proposalRec));
  if (d) {
    const decisionRec = at('decision');
    if (decisionRec) cites.push(cite(decisionRec));
    parts.push(`the gateway's verdict: ${d.verdict} at level ${d.agent_level}${d.violations.length ? ` (${d.violations.map((v) => v.message).join('; ')})` : ''}`);
  }
  if (l.outcome) {
    const rec = records.find((r) => r.proposal_id === p.id && ((r.kind === 'approval' && r.payload.outcome) || r.kind === 'approval_expired'));
    if (rec) cites.push(cite(rec));
    parts.push(
      l.outcome.outcome === 'expired'
        ? `nobody approved it before it expired at ${hhmmss(l.outcome.at)}`
        : `${l.outcome.outcome} by ${l.outcome.approvers.map((a) => a.name ?? a.id).join(' and ')} at ${hhmmss(l.outcome.at)}`,
    );
  }
  if (exec) {
    const rec = at('execution_result', (r) => r.kind === 'execution_result' && !r.payload.result.compensation_for);
    if (rec) cites.push(cite(rec));
    parts.push(`executed at ${hhmmss(exec.ts)}: ${exec.status}`);
  } else {
    parts.push(`not executed (${stageOf(l)})`);
  }
  if (l.verification) {
    const rec = at('verification', (r) => r.kind === 'verification' && r.payload.verification.of !== 'compensation');
    if (rec) cites.push(cite(rec));
    const v = l.verification;
    parts.push(`verified ${v.outcome.replace('_', ' ')}: ${v.metric} ${ms(v.before)} → ${ms(v.after)} against ${ms(v.slo_threshold)}`);
  }
  if (l.rollback) parts.push(`then undone: ${l.rollback.reason}`);
  return `${parts.join('; ')}.`;
}

function openingStory(life: IncidentLife, cites: Citation[]): string {
  const o = life.opening;
  const rec = life.records.find((r) => r.seq === o.seq);
  if (rec) cites.push(cite(rec));
  const c = o.correlated_change;
  return `Watchtower opened the incident at ${hhmmss(o.ts)}: ${o.summary}.` +
    (c ? ` It correlated the change: revision ${c.revision} of ${c.name} (${c.description}), rolled out ${c.minutes_before} minutes earlier.` : '');
}

function endingStory(life: IncidentLife, cites: Citation[]): string {
  if (!life.resolved) return 'The incident is still open: the SLO does not hold yet.';
  const rec = life.records.find((r) => r.seq === life.resolved!.seq);
  if (rec) cites.push(cite(rec));
  const p99 = life.resolved.signals.find((s) => s.metric === 'http_request_duration_p99_ms');
  return `The SLO held again at ${hhmmss(life.resolved.ts)}${p99 ? ` (p99 ${ms(p99.value)})` : ''}: ${life.resolved.summary}.`;
}

export function explainByRules(life: IncidentLife, question: string): { answer: string; cites: Citation[] } {
  const cites: Citation[] = [];
  const intent = intentOf(question);
  const props = life.proposals;
  const of = (action: string) => props.filter((l) => l.proposal.action === action);
  const lines: string[] = [];
  switch (intent) {
    case 'rollback': {
      const rollbacks = [...of('rollback_deployment'), ...props.filter((l) => l.rollback)];
      if (rollbacks.length === 0) {
        lines.push('Nothing was rolled back in this incident: no rollback was proposed, and no action was undone.');
        lines.push(...props.map((l) => storyOf(l, life.records, cites)));
        break;
      }
      lines.push(openingStory(life, cites));
      for (const l of rollbacks) lines.push(storyOf(l, life.records, cites));
      const others = props.filter((l) => !rollbacks.includes(l));
      if (others.length) lines.push(`Alongside: ${others.map((l) => storyOf(l, life.records, cites)).join(' ')}`);
      lines.push(endingStory(life, cites));
      break;
    }
    case 'approval': {
      const decided = props.filter((l) => l.outcome || l.request);
      if (decided.length === 0) {
        lines.push('No human was asked to approve anything in this incident: every action ran within the guardrails or was refused by policy.');
      }
      for (const l of decided) lines.push(storyOf(l, life.records, cites));
      break;
    }
    case 'scale': {
      const scales = of('scale_deployment');
      if (scales.length === 0) lines.push('No scaling was proposed in this incident.');
      for (const l of scales) lines.push(storyOf(l, life.records, cites));
      lines.push(endingStory(life, cites));
      break;
    }
    case 'counterfactual': {
      lines.push('The records do not hold what would have happened without the actions: Governor did not run the incident twice.');
      lines.push(`What they hold: ${openingStory(life, cites)}`);
      const p99 = life.opening.signals.find((s) => s.metric === 'http_request_duration_p99_ms');
      if (p99) lines.push(`At that moment p99 was ${ms(p99.value)} against a usual ${ms(p99.baseline)}.`);
      for (const l of props) lines.push(storyOf(l, life.records, cites));
      lines.push(endingStory(life, cites));
      break;
    }
    case 'outcome':
    case 'summary': {
      if (intent === 'summary' && question.trim()) lines.push(`The records do not answer "${question.trim()}" directly; here is what they hold.`);
      lines.push(openingStory(life, cites));
      for (const l of props) lines.push(storyOf(l, life.records, cites));
      for (const e of life.escalations) {
        cites.push(cite(e));
        lines.push(`Escalated to a human at ${hhmmss(e.at)}: ${e.payload.summary}.`);
      }
      lines.push(endingStory(life, cites));
      break;
    }
  }
  const unique = [...new Map(cites.map((c) => [c.seq, c])).values()].sort((a, b) => a.seq - b.seq);
  return { answer: lines.join('\n'), cites: unique };
}
