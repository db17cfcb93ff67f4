// The evidence a phase promotion is decided on (DESIGN §2: Observe → Advise → Assist → Govern),
// computed from the audit records alone: Watchtower's precision (incidents people confirmed vs
// marked false alarms), the acceptance rate of recommendations (proposals humans approved vs
// rejected or let expire: the seed's "80% recommendation accuracy vs human decisions"), SLA
// violations caused by agent actions (verifications that found an action did not help, and
// rollbacks), MTTR (an incident's first observation to Watchtower's resolution), and the monthly
// cost change of the actions that stayed executed. Metric coverage (watched services reporting)
// is the one input that is not a record: the caller measures it and passes it in.
// It must never read anything but its inputs — no clock, no I/O — and never call a check met on too
// little evidence: below the minimum sample it says "not enough evidence" (met: null).
import type { Phase } from '../config.ts';
import type { AuditRecord } from '../audit/records.ts';
import { actionExecution, compensationExecution, lifeOf } from './proposal-life.ts';

/** Fewer judged cases than this, and a ratio is not evidence yet. */
export const MIN_SAMPLE = 5;

export const TARGETS = {
  /** Observe: watched services whose metrics arrive. */
  coverage: 0.95,
  /** Observe: incidents people confirmed among those they judged. */
  precision: 0.8,
  /** Advise: proposals humans approved among those they decided (the seed's 80%). */
  acceptance: 0.8,
  /** Assist: SLA violations caused by agent actions. */
  agentCausedViolations: 0,
  /** Govern: median detection-to-restoration (the seed: under 5 minutes). */
  mttrS: 300,
} as const;

export interface Coverage {
  /** `namespace/deployment` of every watched service. */
  watched: readonly string[];
  /** Those whose key metric has a recent sample. */
  reporting: readonly string[];
}

export interface ExitCheck {
  phase: Phase;
  name: string;
  /** The measured value, in words (`92% (11 of 12)`). */
  value: string;
  target: string;
  /** null: not enough evidence to say. */
  met: boolean | null;
}

export interface PhaseEvidence {
  coverage: { watched: number; reporting: number; ratio: number | null; missing: string[] };
  precision: { confirmed: number; false_alarms: number; unjudged: number; ratio: number | null };
  acceptance: { approved: number; rejected: number; expired: number; ratio: number | null };
  agentCausedViolations: { not_helped: number; rollbacks: number; total: number; executed: number };
  mttr: { resolved: number; open: number; median_s: number | null };
  costChange: { monthly_usd: number; actions: number };
  /** Every phase's exit checks; the current phase's decide whether to promote. */
  checks: ExitCheck[];
}

const pct = (r: number | null): string => (r === null ? 'n/a' : `${Math.round(r * 100)}%`);
const ratio = (num: number, den: number): number | null => (den === 0 ? null : num / den);
const enough = (r: number | null, n: number, target: number): boolean | null => (r === null || n < MIN_SAMPLE ? null : r >= target);

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Folds the records (chain order) and the measured coverage into the evidence and every phase's exit checks. */
export function phaseEvidence(records: readonly AuditRecord[], coverage: Coverage): PhaseEvidence {
  // Incidents: opened by their first observation, resolved by an informational one (Watchtower's resolution).
  const incidents = new Map<string, { opened: number; resolved: number | null }>();
  // The latest verdict per incident; a page request is not a verdict.
  const verdicts = new Map<string, 'confirmed' | 'false_alarm'>();
  const byProposal = new Map<string, AuditRecord[]>();
  for (const r of records) {
    if (r.kind === 'observation' && r.incident_id) {
      const at = Date.parse(r.at);
      const known = incidents.get(r.incident_id);
      if (!known) incidents.set(r.incident_id, { opened: at, resolved: r.payload.observation.severity === 'info' ? at : null });
      else if (r.payload.observation.severity === 'info' && known.resolved === null) known.resolved = at;
    }
    if (r.kind === 'observation_feedback' && r.incident_id && r.payload.answer !== 'page_on_call') verdicts.set(r.incident_id, r.payload.answer);
    if (r.proposal_id) byProposal.set(r.proposal_id, [...(byProposal.get(r.proposal_id) ?? []), r]);
  }

  const confirmed = [...verdicts.values()].filter((v) => v === 'confirmed').length;
  const falseAlarms = verdicts.size - confirmed;
  const unjudged = [...incidents.keys()].filter((id) => !verdicts.has(id)).length;

  let approved = 0;
  let rejected = 0;
  let expired = 0;
  let notHelped = 0;
  let rollbacks = 0;
  let executed = 0;
  let costUsd = 0;
  let costActions = 0;
  for (const rs of byProposal.values()) {
    const life = lifeOf(rs);
    if (!life) continue;
    if (life.outcome?.outcome === 'approved') approved++;
    else if (life.outcome?.outcome === 'rejected') rejected++;
    else if (life.outcome?.outcome === 'expired') expired++;
    const exec = actionExecution(life);
    if (exec?.status !== 'succeeded') continue;
    executed++;
    const undone = compensationExecution(life)?.status === 'succeeded' || life.rollback !== undefined;
    if (life.verification?.outcome === 'not_helped') notHelped++;
    if (undone) rollbacks++;
    // What the gateway estimated when it decided (the policy input), for actions that stayed done.
    const decision = rs.find((r) => r.kind === 'decision');
    const delta = decision?.kind === 'decision' ? costDelta(decision.payload.policy_input) : undefined;
    if (!undone && delta !== undefined) {
      costUsd += delta;
      costActions++;
    }
  }

  const durations = [...incidents.values()].flatMap((i) => (i.resolved !== null && i.resolved > i.opened ? [(i.resolved - i.opened) / 1000] : []));
  const open = [...incidents.values()].filter((i) => i.resolved === null).length;
  const reporting = coverage.watched.filter((s) => coverage.reporting.includes(s));
  const cov = { watched: coverage.watched.length, reporting: reporting.length, ratio: ratio(reporting.length, coverage.watched.length), missing: coverage.watched.filter((s) => !coverage.reporting.includes(s)) };
  const precision = { confirmed, false_alarms: falseAlarms, unjudged, ratio: ratio(confirmed, verdicts.size) };
  const decided = approved + rejected + expired;
  const acceptance = { approved, rejected, expired, ratio: ratio(approved, decided) };
  const violations = { not_helped: notHelped, rollbacks, total: notHelped + rollbacks, executed };
  const mttr = { resolved: durations.length, open, median_s: median(durations) };
  const costChange = { monthly_usd: Math.round(costUsd), actions: costActions };

  const checks: ExitCheck[] = [
    {
      phase: 'observe',
      name: 'metric coverage: watched services reporting',
      value: `${pct(cov.ratio)} (${cov.reporting} of ${cov.watched})${cov.missing.length ? `; silent: ${cov.missing.join(', ')}` : ''}`,
      target: `≥ ${pct(TARGETS.coverage)}`,
      met: cov.ratio === null ? null : cov.ratio >= TARGETS.coverage,
    },
    {
      phase: 'observe',
      name: "Watchtower's precision: incidents confirmed vs false alarms",
      value: `${pct(precision.ratio)} (${confirmed} confirmed, ${falseAlarms} false alarms, ${unjudged} not judged)`,
      target: `≥ ${pct(TARGETS.precision)} of at least ${MIN_SAMPLE} judged`,
      met: enough(precision.ratio, verdicts.size, TARGETS.precision),
    },
    {
      phase: 'advise',
      name: 'recommendation accuracy: proposals approved vs rejected or expired',
      value: `${pct(acceptance.ratio)} (${approved} approved, ${rejected} rejected, ${expired} expired)`,
      target: `≥ ${pct(TARGETS.acceptance)} of at least ${MIN_SAMPLE} decided`,
      met: enough(acceptance.ratio, decided, TARGETS.acceptance),
    },
    {
      phase: 'assist',
      name: 'SLA violations caused by agent actions (verified not helped, rolled back)',
      value: `${violations.total} (${notHelped} not helped, ${rollbacks} rolled back) of ${executed} executed`,
      target: `${TARGETS.agentCausedViolations} over at least ${MIN_SAMPLE} executed`,
      met: executed < MIN_SAMPLE ? null : violations.total <= TARGETS.agentCausedViolations,
    },
    {
      phase: 'govern',
      name: 'MTTR: first observation to resolution (median)',
      value: mttr.median_s === null ? `n/a (${open} open)` : `${Math.round(mttr.median_s)} s over ${mttr.resolved} resolved (${open} open)`,
      target: `< ${TARGETS.mttrS} s`,
      met: mttr.resolved < 1 ? null : mttr.median_s! < TARGETS.mttrS,
    },
    {
      phase: 'govern',
      name: 'cost change of the actions that stayed executed (per month)',
      value: `${costChange.monthly_usd >= 0 ? '+' : '−'}$${Math.abs(costChange.monthly_usd).toLocaleString('en-US')} over ${costActions} action${costActions === 1 ? '' : 's'}`,
      target: 'within the tenants’ budgets (a decision, not a threshold)',
      met: null,
    },
  ];
  return { coverage: cov, precision, acceptance, agentCausedViolations: violations, mttr, costChange, checks };
}

/** The gateway's estimate in a decision's policy input, when it made one. */
function costDelta(policyInput: unknown): number | undefined {
  const v = (policyInput as { context?: { estimated_monthly_cost_delta_usd?: unknown } } | null)?.context?.estimated_monthly_cost_delta_usd;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The checks that decide leaving `phase` (the current phase's own). */
export const exitChecksOf = (e: PhaseEvidence, phase: Phase): ExitCheck[] => e.checks.filter((c) => c.phase === phase);
