// The detector benchmark end to end on the real NAB subset: the figures it reports hang together
// (recall from windows found, precision from NAB's counts) and the score does not fall back below
// what BENCHMARKS.md records, so a change that hurts detection shows here.
import { describe, expect, it } from 'vitest';
import { benchDetect } from '../../src/bench/detect-bench.ts';
import { loadNabCorpus } from '../../src/bench/nab-corpus.ts';

describe('bench detect', () => {
  it('scores the whole subset and reports consistent figures', () => {
    const corpus = loadNabCorpus();
    const { result } = benchDetect(corpus);
    expect(result.series).toBe(28);
    expect(result.samples).toBe(112_092);
    expect(result.quality.windows).toBe(36);
    expect(result.quality.recall).toBeCloseTo(result.quality.windows_detected / 36, 3);
    expect(result.quality.precision).toBeCloseTo(result.nab.counts.tp / (result.nab.counts.tp + result.nab.counts.fp), 3);
    expect(result.nab.null_raw).toBe(-36);
    expect(result.nab.perfect_raw).toBe(36);
    expect(result.nab.normalised).toBeGreaterThanOrEqual(69.9);
    expect(result.throughput.samples_per_s).toBeGreaterThan(0);
  });
});
