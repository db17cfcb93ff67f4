// How fast a policy engine decides: evaluations per second and the latency of one evaluation, over
// a realistic mix of inputs (by default every policy fixture: allows, approvals and denies from
// every layer, so no single fast path flatters the figures). One evaluation at a time, in-process,
// as the gateway calls it. Measures; never asserts a target: that is for whoever reads the numbers.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PolicyEngine, PolicyInput } from './policy-engine.ts';

export const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../../policies/fixtures/', import.meta.url));

export interface PolicyBenchOptions {
  /** Timed evaluations. */
  iterations: number;
  /** Untimed evaluations first, so the JIT and the Wasm module's memory are warm. */
  warmup: number;
  /** The inputs, used round-robin; by default the inputs of every fixture in `fixturesDir`. */
  inputs?: readonly PolicyInput[];
  fixturesDir?: string;
}

export interface PolicyBenchResult {
  evaluations: number;
  evals_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export async function benchPolicy(engine: PolicyEngine, opts: PolicyBenchOptions): Promise<PolicyBenchResult> {
  const inputs = opts.inputs ?? (await loadFixtureInputs(opts.fixturesDir ?? DEFAULT_FIXTURES_DIR));
  if (inputs.length === 0) throw new Error('benchPolicy needs at least one input');
  const iterations = Math.max(0, Math.floor(opts.iterations));

  for (let i = 0; i < opts.warmup; i++) await engine.evaluate(inputs[i % inputs.length]!);

  const latencies = new Float64Array(iterations);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await engine.evaluate(inputs[i % inputs.length]!);
    latencies[i] = performance.now() - t0;
  }
  const elapsedMs = performance.now() - started;

  latencies.sort();
  const at = (q: number) => (iterations === 0 ? 0 : latencies[Math.min(iterations - 1, Math.floor(q * iterations))]!);
  const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;
  return {
    evaluations: iterations,
    evals_per_s: elapsedMs > 0 ? Math.round((iterations * 1000) / elapsedMs) : 0,
    p50_ms: round(at(0.5), 4),
    p99_ms: round(at(0.99), 4),
    max_ms: round(iterations === 0 ? 0 : latencies[iterations - 1]!, 4),
  };
}

/** The `input` of every policies/fixtures/*.json, in file-name order. */
export async function loadFixtureInputs(dir: string = DEFAULT_FIXTURES_DIR): Promise<PolicyInput[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const fixture = JSON.parse(await readFile(join(dir, file), 'utf8')) as { input?: PolicyInput };
      if (!fixture.input) throw new Error(`policy fixture ${file} has no input`);
      return fixture.input;
    }),
  );
}
