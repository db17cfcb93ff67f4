// Configurer's rule-based planner for feature flags: from one observation about a deployment and the
// flagd flags that deployment reads (their setting now and the history the Feature Flag server keeps),
// the proposal an SRE would make when a flag flip lines up with the incident — turn it back off, or
// back to the variant it served before. Pure: no clock, no I/O; the agent feeds it and publishes. It
// proposes; it never decides whether the action is allowed (the gateway's job), and it only ever
// proposes a setting the flag had before (never a variant or flag that was not there).
import type { PlannedAction } from '../runtime/planned-action.ts';
import type { Observation } from '../../src/contracts/events.ts';
import type { FlagHistoryView, FlagSetting, FlagVersion } from './flag-views.ts';
import { CHANGE_LOOKBACK_MS } from './planner.ts';

export const FEATURE_FLAGS_SERVER = 'feature-flags';
const P99_METRIC = 'http_request_duration_p99_ms';

export interface FlagFacts {
  config_map: string;
  /** Deployments whose pod templates read the flag file. */
  referenced_by: string[];
  flag: string;
  current: FlagSetting;
  served_value: unknown;
  history: FlagHistoryView;
}

export interface FlagPlannerInput {
  observation: Observation;
  /** The flags of the flag files the observed deployment reads. */
  flags: FlagFacts[];
  sloP99Ms: number;
  /** When the incident began (its first observation); the observation's own time when unknown. */
  incidentStartMs?: number;
  lookbackMs?: number;
}

export type PlannedFlagRevert = PlannedAction<'set_feature_flag'>;

interface Suspect {
  facts: FlagFacts;
  /** Changes in the window, newest first. */
  changes: FlagVersion[];
  /** The setting before the earliest of them. */
  previous: FlagSetting;
}

/** A flag's changes seen within [fromMs, toMs], newest first, and the setting before the earliest. */
export function suspectFlagChanges(history: FlagHistoryView, fromMs: number, toMs: number): { changes: FlagVersion[]; previous: FlagSetting } | undefined {
  const changes: FlagVersion[] = [];
  for (const v of history.versions) {
    const at = Date.parse(v.observed_at);
    if (at > toMs) continue; // after the observation: not what caused it
    if (at < fromMs || v.kind !== 'changed') break;
    changes.push(v);
  }
  const earliest = changes[changes.length - 1];
  if (!earliest?.before) return undefined;
  return { changes, previous: earliest.before };
}

const same = (a: FlagSetting, b: FlagSetting) => a.state === b.state && a.default_variant === b.default_variant;
const show = (s: FlagSetting) => (s.state === 'DISABLED' ? `DISABLED (default variant ${s.default_variant})` : `serving '${s.default_variant}'`);
const clock = (iso: string): string => iso.slice(11, 19);

/** The fields of `to` that differ from `from`: exactly what set_flag is asked to change. */
function settingArgs(from: FlagSetting, to: FlagSetting): Record<string, string> {
  return {
    ...(to.state !== from.state ? { state: to.state } : {}),
    ...(to.default_variant !== from.default_variant ? { default_variant: to.default_variant } : {}),
  };
}

/**
 * One revert per flag that changed in the window, the rules' choice first (the flag changed most
 * recently); each names the others in its reasoning. Only one is proposed.
 */
export function flagRevertCandidates(input: FlagPlannerInput): PlannedFlagRevert[] {
  const { observation: obs } = input;
  if (obs.severity !== 'critical' && obs.severity !== 'warning') return [];
  const obsMs = Date.parse(obs.ts);
  const startMs = Math.min(input.incidentStartMs ?? obsMs, obsMs);
  const fromMs = startMs - (input.lookbackMs ?? CHANGE_LOOKBACK_MS);
  const suspects: Suspect[] = [];
  for (const facts of input.flags) {
    const s = suspectFlagChanges(facts.history, fromMs, obsMs);
    // Already back where it was (someone flipped it back): not a suspect any more.
    if (s && !same(s.previous, facts.current)) suspects.push({ facts, ...s });
  }
  suspects.sort((a, b) => Date.parse(b.changes[0]!.observed_at) - Date.parse(a.changes[0]!.observed_at));
  return suspects.map((chosen) => revertFor(chosen, suspects.filter((s) => s !== chosen), input, startMs));
}

function revertFor(chosen: Suspect, others: Suspect[], input: FlagPlannerInput, startMs: number): PlannedFlagRevert {
  const { observation: obs } = input;
  const deployment = obs.target.name;
  const { facts, previous } = chosen;
  const { config_map, flag, current } = facts;
  const ns = obs.namespace;
  const earliest = chosen.changes[chosen.changes.length - 1]!;
  const minutesBefore = Math.max(0, Math.round((startMs - Date.parse(earliest.observed_at)) / 60_000));
  const p99 = obs.signals.find((s) => s.metric === P99_METRIC && s.target === deployment) ?? obs.signals.find((s) => s.metric === P99_METRIC);
  const verb = previous.state === 'DISABLED' ? 'turning it off' : `setting it back to '${previous.default_variant}'`;

  const reasoning: string[] = [];
  if (p99) reasoning.push(`p99 latency of ${deployment} is ${Math.round(p99.value)} ms against a ${input.sloP99Ms} ms SLO (baseline ${Math.round(p99.baseline)} ms)`);
  else reasoning.push(`${obs.severity} observation on ${deployment}: ${obs.summary}`);
  reasoning.push(
    `feature flag ${flag} (${config_map}) changed ${minutesBefore} min before the incident (seen ${clock(earliest.observed_at)} UTC, resourceVersion ${earliest.resource_version}): ` +
      `${show(previous)} → ${show(current)}`,
  );
  reasoning.push(`${deployment} reads the flag file ${config_map}, so every request it serves evaluates ${flag}`);
  reasoning.push(`${verb} restores what it served before the incident${previous.state === 'DISABLED' ? ' (switched off, not deleted: it can be turned on again)' : ''}; flagd reloads the file in place, no restart`);
  for (const other of others) {
    reasoning.push(`flag ${other.facts.flag} (${other.facts.config_map}) also changed in the window (seen ${clock(other.changes[0]!.observed_at)} UTC); left alone, reverting one change at a time`);
  }
  reasoning.push('a flag that switched on a slower code path is not helped by scaling: every pod runs the same path');

  return {
    action: 'set_feature_flag',
    params: { config_map, flag, from: current, to: previous, changed_at: earliest.observed_at, readers: facts.referenced_by },
    blast_radius: { tenants: 1, services: Math.max(1, facts.referenced_by.length), capacity_change_pct: 0 },
    tool_call: {
      server: FEATURE_FLAGS_SERVER,
      tool: 'set_flag',
      args: { namespace: ns, config_map, flag, ...settingArgs(current, previous), expected: current },
    },
    // Re-applies the flip only if the flag still has the setting the revert wrote.
    compensating_action: {
      server: FEATURE_FLAGS_SERVER,
      tool: 'set_flag',
      args: { namespace: ns, config_map, flag, ...settingArgs(previous, current), expected: previous },
    },
    // No restart: the effect shows as soon as flagd reloads the file.
    verification: { metric: P99_METRIC, slo_threshold: input.sloP99Ms, min_improvement_pct: 50, window_s: 180 },
    reasoning,
  };
}
