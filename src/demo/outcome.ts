// Whether a demo run met the outcome its scenario declares (`expect` in scenarios/*.json): a pure
// function of the declared outcome and the run's summary, each failure a sentence an operator can act
// on. It must never read the twin, the audit log or a clock; the summary is the evidence.
import type { ActionExpectation, ExpectSpec, Severity } from '../twin/scenarios/scenario-file.ts';

/** The parts of the demo summary the outcome is judged on (DemoSummary has them all). */
export interface OutcomeEvidence {
  detected: boolean;
  mttd_s: number | null;
  mttr_s: number | null;
  sla_restored: boolean;
  slo_violation_minutes: number;
  /** Whether any watched service breached its SLO during the run. */
  breached: boolean;
  observations: { count: number; max_severity: Severity | null };
  actions: { agent: string; action: string; verdict: string; executed: boolean; verified: boolean }[];
  audit: { chain_valid: boolean };
}

export interface Outcome {
  met: boolean;
  failures: string[];
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

const describeExpectation = (e: Partial<ActionExpectation>): string => {
  const who = e.agent ? `${e.agent} ` : '';
  const how = [
    e.verdict ? `verdict ${e.verdict}` : '',
    e.executed === true ? 'executed' : e.executed === false ? 'not executed' : '',
    e.verified === true ? 'verified' : e.verified === false ? 'not verified' : '',
  ].filter(Boolean);
  return `${who}${e.action ?? 'any action'}${how.length ? ` (${how.join(', ')})` : ''}`;
};

const matches = (a: OutcomeEvidence['actions'][number], e: Partial<ActionExpectation>): boolean =>
  (e.agent === undefined || a.agent === e.agent) &&
  (e.action === undefined || a.action === e.action) &&
  (e.verdict === undefined || a.verdict === e.verdict) &&
  (e.executed === undefined || a.executed === e.executed) &&
  (e.verified === undefined || a.verified === e.verified);

export function checkOutcome(expect: ExpectSpec, run: OutcomeEvidence): Outcome {
  const failures: string[] = [];

  if (expect.incident && !run.breached) failures.push('the scenario declares an incident, but no watched service ever breached its SLO: the fault did not bite');
  if (!expect.incident && run.breached) failures.push(`the scenario declares no incident, but a watched service breached its SLO (${run.slo_violation_minutes} min in violation)`);

  if (expect.detected !== undefined && run.detected !== expect.detected) {
    failures.push(expect.detected ? 'Watchtower published no observation: the incident went undetected' : 'Watchtower published an observation where none was expected');
  }
  if (expect.max_mttd_s !== undefined) {
    if (run.mttd_s === null) failures.push(`no time to detect (expected at most ${expect.max_mttd_s} s): nothing was detected after a breach`);
    else if (run.mttd_s > expect.max_mttd_s) failures.push(`detection took ${run.mttd_s} s after the breach, more than the ${expect.max_mttd_s} s expected`);
  }
  if (expect.sla_restored !== undefined && run.sla_restored !== expect.sla_restored) {
    failures.push(expect.sla_restored ? 'the SLA was not restored before the run ended' : 'the SLA was declared restored where the scenario expects it not to be');
  }
  if (expect.max_mttr_s !== undefined) {
    if (run.mttr_s === null) failures.push(`no time to restore (expected at most ${expect.max_mttr_s} s): the SLA was never restored`);
    else if (run.mttr_s > expect.max_mttr_s) failures.push(`restoration took ${run.mttr_s} s after the breach, more than the ${expect.max_mttr_s} s expected`);
  }
  if (expect.max_slo_violation_minutes !== undefined && run.slo_violation_minutes > expect.max_slo_violation_minutes) {
    failures.push(`watched services were in SLO violation for ${run.slo_violation_minutes} min, more than the ${expect.max_slo_violation_minutes} min allowed`);
  }
  if (expect.max_observation_severity !== undefined && run.observations.max_severity !== null) {
    if (SEVERITY_RANK[run.observations.max_severity] > SEVERITY_RANK[expect.max_observation_severity]) {
      failures.push(`Watchtower published a ${run.observations.max_severity} observation; at most ${expect.max_observation_severity} was expected`);
    }
  }

  for (const e of expect.required_actions) {
    if (run.actions.some((a) => matches(a, e))) continue;
    const same = run.actions.filter((a) => a.action === e.action && a.agent === e.agent);
    const seen = same.length
      ? `; seen: ${same.map((a) => `verdict ${a.verdict}, executed=${a.executed}, verified=${a.verified}`).join(' | ')}`
      : '; it was never proposed';
    failures.push(`expected ${describeExpectation(e)}${seen}`);
  }
  for (const e of expect.forbidden_actions) {
    const hits = run.actions.filter((a) => matches(a, e));
    if (hits.length) failures.push(`${describeExpectation(e)} must not happen, but ${hits.map((a) => `${a.agent} proposed ${a.action} (verdict ${a.verdict})`).join(', ')}`);
  }
  if (expect.no_actions && run.actions.length > 0) {
    failures.push(`no action was expected, but ${run.actions.map((a) => `${a.agent} proposed ${a.action}`).join(', ')}`);
  }
  if (!run.audit.chain_valid) failures.push('the audit hash chain does not verify');

  return { met: failures.length === 0, failures };
}
