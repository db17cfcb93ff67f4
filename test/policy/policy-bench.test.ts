// The policy benchmark's shape only: timings depend on the machine, so nothing here asserts one.
import { describe, expect, it } from 'vitest';
import { benchPolicy, loadFixtureInputs } from '../../src/policy/policy-bench.ts';
import type { PolicyEngine } from '../../src/policy/policy-engine.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';

describe('benchPolicy', () => {
  it('measures the real bundle over the fixtures and reports counts and latencies', async () => {
    const result = await benchPolicy(await WasmPolicyEngine.fromBundle(), { iterations: 200, warmup: 20 });
    expect(Object.keys(result).sort()).toEqual(['evals_per_s', 'evaluations', 'max_ms', 'p50_ms', 'p99_ms']);
    expect(result.evaluations).toBe(200);
    for (const value of Object.values(result)) expect(Number.isFinite(value) && value >= 0).toBe(true);
    expect(result.p50_ms).toBeLessThanOrEqual(result.p99_ms);
    expect(result.p99_ms).toBeLessThanOrEqual(result.max_ms);
  });

  it('cycles through every input it is given, warm-up included', async () => {
    const inputs = await loadFixtureInputs();
    expect(inputs.length).toBeGreaterThanOrEqual(35);
    const seen: string[] = [];
    const engine: PolicyEngine = {
      version: 'counting',
      evaluate: async (input) => {
        seen.push(JSON.stringify(input));
        return { verdict: 'allow', violations: [], policy_version: 'counting' };
      },
    };
    await benchPolicy(engine, { iterations: inputs.length, warmup: 3, inputs });
    expect(seen).toHaveLength(inputs.length + 3);
    expect(new Set(seen.slice(3)).size).toBe(new Set(inputs.map((i) => JSON.stringify(i))).size);
  });

  it('refuses to measure nothing', async () => {
    await expect(benchPolicy({ version: 'x', evaluate: async () => { throw new Error('unused'); } }, { iterations: 1, warmup: 0, inputs: [] })).rejects.toThrow(/at least one input/);
  });
});
