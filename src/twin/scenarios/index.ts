// The twin's scenarios by name: what `governor demo --scenario` and the sandbox can run, and what
// Watchtower is told to watch in each. Scenario modules build state; this one only names them.
import type { Clock } from '../../core/clock.ts';
import { ClusterTwin } from '../cluster-twin.ts';
import { DEFAULT_SEED, JVM_HEAP_REGRESSION, buildJvmHeapRegression, populateAcme } from './jvm-heap-regression.ts';

export const SCENARIOS = ['jvm-heap-regression', 'steady-state'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioTarget {
  tenant: string;
  namespace: string;
  deployment: string;
  sloP99Ms: number;
}

export interface Scenario {
  name: ScenarioName;
  twin: ClusterTwin;
  targets: ScenarioTarget[];
  /** When the SLO is first breached if nothing is done; null when the scenario has no incident. */
  incidentStartMs: number | null;
}

const acmeCheckout: ScenarioTarget = {
  tenant: JVM_HEAP_REGRESSION.tenant,
  namespace: JVM_HEAP_REGRESSION.namespace,
  deployment: JVM_HEAP_REGRESSION.deployment,
  sloP99Ms: JVM_HEAP_REGRESSION.sloP99Ms,
};

export function buildScenario(name: ScenarioName, clock: Clock, opts: { seed?: number } = {}): Scenario {
  switch (name) {
    case 'jvm-heap-regression': {
      const s = buildJvmHeapRegression(clock, opts);
      return { name, twin: s.twin, targets: [acmeCheckout], incidentStartMs: s.incidentStartMs };
    }
    case 'steady-state': {
      const seed = opts.seed ?? DEFAULT_SEED;
      const twin = new ClusterTwin(clock, { seed });
      populateAcme(twin, clock.now(), seed, false);
      return { name, twin, targets: [acmeCheckout], incidentStartMs: null };
    }
  }
}
