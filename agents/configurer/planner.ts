// Configurer's rule-based planner: from one observation about a deployment and the config maps that
// deployment reads (their data and the history the ConfigMap server keeps), the proposal an SRE
// would make when a config push lines up with the incident — put the previous data back. Pure: no
// clock, no I/O; the agent feeds it and publishes. It proposes; it never decides whether the action
// is allowed (the gateway's job), and it never proposes removing a key a pod template names (the
// server would refuse it: the next pod start would fail).
import type { PlannedAction } from '../runtime/planned-action.ts';
import { hashOf } from '../../src/core/canonical-json.ts';
import type { Observation } from '../../src/contracts/events.ts';
import type { ConfigHistoryView, ConfigVersion, ConfigView } from './config-views.ts';

/** How far before the incident a config change still counts as its suspect. */
export const CHANGE_LOOKBACK_MS = 60 * 60_000;
export const CONFIGMAP_SERVER = 'configmap';
const P99_METRIC = 'http_request_duration_p99_ms';

export interface ConfigFacts {
  config: ConfigView;
  history: ConfigHistoryView;
}

export interface PlannerInput {
  observation: Observation;
  /** The config maps the observed deployment reads. */
  configs: ConfigFacts[];
  sloP99Ms: number;
  /** When the incident began (its first observation); the observation's own time when unknown. */
  incidentStartMs?: number;
  lookbackMs?: number;
}

export interface KeyRevert {
  key: string;
  /** What the map holds now (the push); null: the push added the key. */
  current: string | null;
  /** What the revert writes; null: the key is removed. */
  restored: string | null;
}

export type PlannedConfigRevert = PlannedAction<'update_config'>;

interface Suspect {
  facts: ConfigFacts;
  /** Changes in the window, newest first. */
  changes: ConfigVersion[];
  /** The version in force before the earliest of them. */
  previous: ConfigVersion;
}

/** The changes of a map's data between two versions, as a revert writes them, sorted by key. */
export function revertOf(current: Readonly<Record<string, string>>, restore: Readonly<Record<string, string>>): KeyRevert[] {
  const keys = [...new Set([...Object.keys(current), ...Object.keys(restore)])].sort();
  const out: KeyRevert[] = [];
  for (const key of keys) {
    const c = Object.hasOwn(current, key) ? current[key]! : null;
    const r = Object.hasOwn(restore, key) ? restore[key]! : null;
    if (c !== r) out.push({ key, current: c, restored: r });
  }
  return out;
}

/** Changes of a map's data seen within [fromMs, toMs], newest first, and the version before the earliest. */
export function suspectChanges(history: ConfigHistoryView, fromMs: number, toMs: number): { changes: ConfigVersion[]; previous: ConfigVersion } | undefined {
  const versions = history.versions;
  const changes: ConfigVersion[] = [];
  let i = 0;
  for (; i < versions.length; i++) {
    const at = Date.parse(versions[i]!.observed_at);
    if (at > toMs) continue; // after the observation: not what caused it
    if (at < fromMs || versions[i]!.kind !== 'changed') break;
    changes.push(versions[i]!);
  }
  if (changes.length === 0) return undefined;
  const earliest = versions.indexOf(changes[changes.length - 1]!);
  const previous = versions[earliest + 1];
  // No version before the change (or the map was deleted then): nothing known to go back to.
  if (!previous || previous.kind === 'deleted') return undefined;
  return { changes, previous };
}

const fmt = (v: string | null): string => (v === null ? '(absent)' : JSON.stringify(v));
const clock = (iso: string): string => iso.slice(11, 19);

/** The rules' revert: of the map changed most recently, the likeliest cause. */
export function planConfigRevert(input: PlannerInput): PlannedConfigRevert | null {
  return configRevertCandidates(input)[0] ?? null;
}

/**
 * One revert per map that changed in the window, the rules' choice first (the map changed most
 * recently); each names the others in its reasoning. A model may choose among them
 * (agents/runtime/candidate-choice.ts); only one is proposed.
 */
export function configRevertCandidates(input: PlannerInput): PlannedConfigRevert[] {
  const { observation: obs } = input;
  if (obs.severity !== 'critical' && obs.severity !== 'warning') return [];
  const obsMs = Date.parse(obs.ts);
  const startMs = Math.min(input.incidentStartMs ?? obsMs, obsMs);
  const fromMs = startMs - (input.lookbackMs ?? CHANGE_LOOKBACK_MS);
  const suspects: Suspect[] = [];
  for (const facts of input.configs) {
    const s = suspectChanges(facts.history, fromMs, obsMs);
    if (s) suspects.push({ facts, ...s });
  }
  suspects.sort((a, b) => Date.parse(b.changes[0]!.observed_at) - Date.parse(a.changes[0]!.observed_at));
  const plans = suspects.map((chosen) => revertFor(chosen, suspects.filter((s) => s !== chosen), input, startMs));
  // The likeliest cause already reverted (someone put it back): nothing to propose, as before.
  if (!plans[0]) return [];
  return plans.filter((p): p is PlannedConfigRevert => p !== null);
}

function revertFor(chosen: Suspect, others: Suspect[], input: PlannerInput, startMs: number): PlannedConfigRevert | null {
  const { observation: obs } = input;
  const deployment = obs.target.name;
  const { config } = chosen.facts;
  const named = new Map<string, string[]>();
  for (const r of config.referenced_by) for (const k of r.keys) named.set(k, [...(named.get(k) ?? []), r.deployment]);
  // The revert writes the previous data, except that a key a pod template names is never removed.
  const restore: Record<string, string> = { ...chosen.previous.data };
  const kept: string[] = [];
  for (const [key, value] of Object.entries(config.data)) {
    if (!(key in restore) && named.has(key)) {
      restore[key] = value;
      kept.push(key);
    }
  }
  const keys = revertOf(config.data, restore);
  if (keys.length === 0) return null; // already back to the previous data (someone reverted it)

  const changed = new Set(keys.map((k) => k.key));
  const restarts = config.referenced_by.filter((r) => r.wholesale || r.keys.some((k) => changed.has(k))).map((r) => r.deployment);
  const ns = obs.namespace;
  const earliest = chosen.changes[chosen.changes.length - 1]!;
  const minutesBefore = Math.max(0, Math.round((startMs - Date.parse(earliest.observed_at)) / 60_000));
  const reader = config.referenced_by.find((r) => r.deployment === deployment);
  const p99 = obs.signals.find((s) => s.metric === P99_METRIC && s.target === deployment) ?? obs.signals.find((s) => s.metric === P99_METRIC);

  const reasoning: string[] = [];
  if (p99) reasoning.push(`p99 latency of ${deployment} is ${Math.round(p99.value)} ms against a ${input.sloP99Ms} ms SLO (baseline ${Math.round(p99.baseline)} ms)`);
  else reasoning.push(`${obs.severity} observation on ${deployment}: ${obs.summary}`);
  reasoning.push(
    `config map ${config.name} changed ${minutesBefore} min before the incident (seen ${clock(earliest.observed_at)} UTC, resourceVersion ${earliest.resource_version}): ` +
      chosen.changes
        .slice()
        .reverse()
        .flatMap((v) => v.changes.map((c) => `${c.key} ${fmt(c.before)} → ${fmt(c.after)}`))
        .join(', '),
  );
  if (reader) reasoning.push(`${deployment} reads ${config.name} (${reader.via.join(', ')}), so the change reaches every pod it starts`);
  reasoning.push(
    `restoring the data of resourceVersion ${chosen.previous.resource_version} (${keys.map((k) => `${k.key} → ${fmt(k.restored)}`).join(', ')}) undoes the push; ` +
      `${restarts.length > 0 ? `${restarts.join(', ')} will be restarted to read it` : 'no deployment needs a restart'}`,
  );
  if (kept.length > 0) reasoning.push(`keeping ${kept.join(', ')}: named by a pod template now, removing it would fail the next pod start`);
  for (const other of others) {
    reasoning.push(`${other.facts.config.name} also changed in the window (seen ${clock(other.changes[0]!.observed_at)} UTC); left alone, reverting one change at a time`);
  }
  reasoning.push('a config change rolled out by a restart is not helped by scaling: the new pods read the same bad value');

  const pushed = { ...config.data };
  return {
    action: 'update_config',
    params: {
      config_map: config.name,
      from_resource_version: config.resource_version,
      restore_resource_version: chosen.previous.resource_version,
      changed_at: earliest.observed_at,
      keys,
      restarts,
    },
    blast_radius: { tenants: 1, services: Math.max(1, restarts.length), capacity_change_pct: 0 },
    tool_call: {
      server: CONFIGMAP_SERVER,
      tool: 'update_config',
      args: { namespace: ns, name: config.name, data: restore, expected_resource_version: config.resource_version },
    },
    // Re-applies the push only if the map still holds what the revert wrote (its resourceVersion is not known yet).
    compensating_action: {
      server: CONFIGMAP_SERVER,
      tool: 'update_config',
      args: { namespace: ns, name: config.name, data: pushed, expected_data_sha256: hashOf(restore) },
    },
    // A restart rolls the pods a quarter at a time: a longer window than a scale-up needs.
    verification: { metric: P99_METRIC, slo_threshold: input.sloP99Ms, min_improvement_pct: 50, window_s: 300 },
    reasoning,
  };
}
