// Where a benchmark leaves its results: `<dir>/<name>.json` and its charts `<dir>/<name>*.png`
// side by side (default `bench-results/`, ignored by git; BENCHMARKS.md keeps committed copies).
// The only file writing the benchmarks do.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_BENCH_OUT = 'bench-results';

/** Writes the JSON and each PNG; returns the paths written. */
export function writeBenchOutputs(dir: string, name: string, json: unknown, charts: Record<string, Buffer>): string[] {
  mkdirSync(dir, { recursive: true });
  const written = [join(dir, `${name}.json`)];
  writeFileSync(written[0]!, `${JSON.stringify(json, null, 2)}\n`);
  for (const [suffix, png] of Object.entries(charts)) {
    const path = join(dir, `${name}${suffix}.png`);
    writeFileSync(path, png);
    written.push(path);
  }
  return written;
}
