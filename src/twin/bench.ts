// How fast the twin simulates: a day of the WorldCup trace on the worldcup-day cluster (three
// tenants, seven services behind HPAs, ten nodes), on the twin's ordinary 1 s grid, read the way a
// Prometheus scrape would (every service's metrics once a minute). The bar is a simulated
// day in under 60 s on a 2-core machine. It reads the wall clock (that is what it measures) and
// nothing else; the twin itself runs on a clock that only this loop moves.
import type { Clock } from '../core/clock.ts';
import type { Trace } from './load-shapes.ts';
import { buildWorldCupDay } from './scenarios/worldcup-day.ts';

export interface TwinBenchResult {
  simulated_s: number;
  wall_s: number;
  /** Grid steps the model took. */
  steps: number;
  /** Most pods the cluster ran at once (sampled every minute). */
  pods: number;
}

export interface TwinBenchOptions {
  /** Simulated time to run (one day by default). */
  simulatedMs?: number;
  gridMs?: number;
  /** How often every service's metrics are read, as a scrape would. */
  sampleEveryMs?: number;
  seed?: number;
  trace?: Trace;
  tracesDir?: string;
  /** Called once a simulated hour with the hour and the pods running, for progress output. */
  onHour?: (hour: number, pods: number) => void;
}

const START = Date.parse('2026-06-30T00:00:00Z');

export function benchTwinDay(opts: TwinBenchOptions = {}): TwinBenchResult {
  let now = START;
  const clock: Clock = { now: () => now, setTimer: () => () => {}, sleep: () => Promise.resolve() };
  const simulatedMs = opts.simulatedMs ?? 86_400_000;
  const sampleEvery = opts.sampleEveryMs ?? 60_000;
  const wallStart = performance.now();
  const { twin, services } = buildWorldCupDay(clock, {
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.gridMs !== undefined ? { gridMs: opts.gridMs } : {}),
    ...(opts.trace ? { trace: opts.trace } : {}),
    ...(opts.tracesDir ? { tracesDir: opts.tracesDir } : {}),
  });
  const first = twin.modelTimeMs;
  let pods = 0;
  for (let t = sampleEvery; t <= simulatedMs; t += sampleEvery) {
    now = START + t;
    let running = 0;
    for (const s of services) running += twin.serviceMetrics(s.namespace, s.name).ready_pods;
    pods = Math.max(pods, running);
    if (opts.onHour && t % 3_600_000 === 0) opts.onHour(t / 3_600_000, running);
  }
  now = START + simulatedMs;
  twin.step();
  const wall = (performance.now() - wallStart) / 1000;
  return {
    simulated_s: (twin.modelTimeMs - first) / 1000,
    wall_s: Math.round(wall * 100) / 100,
    steps: Math.round((twin.modelTimeMs - first) / twin.stepMs),
    pods,
  };
}
