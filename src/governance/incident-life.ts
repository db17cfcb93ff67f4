// One read model of an incident's life, folded from its records: what Watchtower saw (the first
// observation, its signals and the change it correlated, the resolution), every proposal's life in
// order, the escalations, the humans' feedback. The incident commands, Slack's thread and the LLM's
// explain all read an incident through this. It must never read anything but the records.
import type { Observation } from '../contracts/events.ts';
import type { AuditRecord } from '../audit/records.ts';
import { lifeOf, type ProposalLife } from './proposal-life.ts';

export interface IncidentLife {
  id: string;
  tenant: string;
  namespace: string;
  deployment: string;
  /** The observation that opened it. */
  opening: Observation & { seq: number };
  /** Watchtower's later observations, the resolution included. */
  observations: (Observation & { seq: number })[];
  /** When the SLO held again; undefined while open. */
  resolved: (Observation & { seq: number }) | undefined;
  /** Every proposal made for it, in the order they were made. */
  proposals: ProposalLife[];
  escalations: Extract<AuditRecord, { kind: 'escalation' }>[];
  /** All its records, in chain order: what answers cite. */
  records: AuditRecord[];
}

const SEVERITY = { info: 0, warning: 1, critical: 2 } as const;

/** Folds one incident's records (chain order); undefined without an opening observation. */
export function incidentOf(records: readonly AuditRecord[]): IncidentLife | undefined {
  const observations = records.flatMap((r) => (r.kind === 'observation' ? [{ ...r.payload.observation, seq: r.seq }] : []));
  const opening = observations.find((o) => o.severity !== 'info');
  if (!opening) return undefined;
  const byProposal = new Map<string, AuditRecord[]>();
  for (const r of records) if (r.proposal_id) byProposal.set(r.proposal_id, [...(byProposal.get(r.proposal_id) ?? []), r]);
  const proposals = [...byProposal.values()].flatMap((rs) => {
    const l = lifeOf(rs);
    return l ? [l] : [];
  });
  return {
    id: opening.incident_id ?? opening.id,
    tenant: opening.tenant,
    namespace: opening.namespace,
    deployment: opening.target.name,
    opening,
    observations,
    resolved: observations.find((o) => o.severity === 'info' && o.seq > opening.seq),
    proposals,
    escalations: records.filter((r): r is Extract<AuditRecord, { kind: 'escalation' }> => r.kind === 'escalation'),
    records: [...records],
  };
}

/** The most severe observation of the incident. */
export function severityOf(i: IncidentLife): Observation['severity'] {
  return i.observations.reduce<Observation['severity']>((m, o) => (SEVERITY[o.severity] > SEVERITY[m] ? o.severity : m), 'info');
}
