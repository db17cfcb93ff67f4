// What anyone may ask about incidents — Slack's `/incident`, `governor incident`, the App Home, the
// LLM's explain — as one interface over the incidents' own records (incident-life.ts folds them).
// Every answer says where it came from (the records it cites, rules or a model), and says so when
// the records do not hold the answer. It must never answer from anything but the audit log.

/** One incident in a list: newest first. */
export interface IncidentSummary {
  incident_id: string;
  tenant: string;
  /** `namespace/deployment`. */
  service: string;
  opened_at: string;
  /** When the SLO held again (Watchtower's resolution); null while open. */
  resolved_at: string | null;
  severity: 'info' | 'warning' | 'critical';
  summary: string;
}

/** A record an answer rests on: the operator can look it up (`governor incident show`). */
export interface Citation {
  seq: number;
  kind: string;
  at: string;
}

/** One line of an incident's timeline, with the record it comes from. */
export interface TimelineEntry {
  at: string;
  /** Seconds since the incident opened. */
  t_s: number;
  kind: string;
  text: string;
  cites: Citation;
}

export interface IncidentTimeline {
  summary: IncidentSummary;
  entries: TimelineEntry[];
}

export interface IncidentAnswer {
  incident_id: string;
  /** Plain language; says so when the records do not hold the answer. */
  answer: string;
  source: 'llm' | 'rules';
  llm: 'used' | 'unavailable';
  cites: Citation[];
}

export interface IncidentQueries {
  list(opts?: { limit?: number }): Promise<IncidentSummary[]>;
  /** `latest` is the newest incident. Undefined when there is no such incident. */
  timeline(id: string): Promise<IncidentTimeline | undefined>;
  explain(id: string, question?: string): Promise<IncidentAnswer | undefined>;
}
