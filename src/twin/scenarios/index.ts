// The twin's scenarios: by name, the files in scenarios/ at the repository root (scenario-file.ts says
// their format), which `governor demo --scenario` and the sandbox run; or by the path of any scenario
// file (the tests' fixtures in test/fixtures/scenarios/). This module only finds, reads and names
// them; scenario-builder.ts builds the cluster.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../core/clock.ts';
import { GovernorError } from '../../core/errors.ts';
import type { Tenants } from '../../governance/tenants.ts';
import type { ClusterTwin } from '../cluster-twin.ts';
import { buildFromSpec, tenantsOf, type BuildOptions, type ScenarioTarget } from './scenario-builder.ts';
import { parseScenarioSpec, type ScenarioSpec } from './scenario-file.ts';

export type { ScenarioTarget } from './scenario-builder.ts';
export type { ScenarioSpec, ExpectSpec } from './scenario-file.ts';

/** scenarios/ beside src/: where the scenario files live. */
export const DEFAULT_SCENARIOS_DIR = fileURLToPath(new URL('../../../scenarios/', import.meta.url));

/** The scenario names in a directory: its *.json files, sorted. */
export function scenarioNames(dir: string = DEFAULT_SCENARIOS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The names `governor demo --scenario` accepts. */
export const SCENARIOS: readonly string[] = scenarioNames();
export type ScenarioName = string;

/** A scenario named by its file: a path ends in `.json`; anything else is a name in the directory. */
const isPath = (nameOrPath: string) => nameOrPath.endsWith('.json');

function scenarioPath(nameOrPath: string, dir: string): string {
  if (isPath(nameOrPath)) return resolve(nameOrPath);
  const known = scenarioNames(dir);
  if (!known.includes(nameOrPath)) throw new GovernorError('config_invalid', `unknown scenario '${nameOrPath}'; known: ${known.join(', ')}`);
  return join(dir, `${nameOrPath}.json`);
}

/**
 * Reads and validates one scenario file, by name (scenarios/NAME.json, or `dir`) or by path; a
 * missing or malformed file is a config_invalid error naming it. A scenario's name is its file's.
 */
export function loadScenarioSpec(nameOrPath: string, dir: string = DEFAULT_SCENARIOS_DIR): ScenarioSpec {
  const path = scenarioPath(nameOrPath, dir);
  const name = basename(path, '.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GovernorError('config_invalid', `cannot read scenario file ${path}: ${(err as Error).message}`);
  }
  return parseScenarioSpec(raw, path, name);
}

export interface Scenario {
  name: ScenarioName;
  twin: ClusterTwin;
  /** Every watched service. */
  targets: ScenarioTarget[];
  /** When the SLO is first breached if nothing is done; null when the scenario has no incident. */
  incidentStartMs: number | null;
  /** The scenario's tenants, as the gateway reads config/tenants.json. */
  tenants: Tenants;
  /** The parsed file, the declared outcome (`spec.expect`) included. */
  spec: ScenarioSpec;
  /** The pods whose heaps a jvm_heap_regression fault put on the edge, by target ("namespace/deployment"). */
  sickPods: Record<string, string[]>;
}

/** The scenario's cluster on `clock`, by name or by the path of its file (loadScenarioSpec). */
export function buildScenario(nameOrPath: ScenarioName, clock: Clock, opts: BuildOptions & { scenariosDir?: string } = {}): Scenario {
  const dir = opts.scenariosDir ?? DEFAULT_SCENARIOS_DIR;
  const spec = loadScenarioSpec(nameOrPath, dir);
  const built = buildFromSpec(spec, clock, opts);
  return { name: spec.name, ...built, tenants: tenantsOf(spec, scenarioPath(nameOrPath, dir)), spec };
}
