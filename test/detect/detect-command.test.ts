// `governor detect` as an operator runs it: a real process on a NAB file writes the scored series;
// bad input is refused with exit code 2 and the line named.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { detect } from '../../commands/detect.ts';
import { defaultNabDir } from '../../src/bench/nab-corpus.ts';

const BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'governor-detect-'));
const NAB_FILE = join(defaultNabDir(), 'data', 'realAWSCloudwatch', 'rds_cpu_utilization_e47b3b.csv');

function runDetect(input: string, output?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = detect({ input, ...(output ? { output } : {}) }, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('governor detect', () => {
  it('writes timestamp,value,anomaly_score,label for every row, the input echoed as written, and labels the spike', async () => {
    const output = join(dir, 'scored.csv');
    await promisify(execFile)(process.execPath, [BIN, 'detect', '--input', NAB_FILE, '--output', output], { timeout: 60_000 });
    const input = readFileSync(NAB_FILE, 'utf8').trim().split('\n');
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('timestamp,value,anomaly_score,label');
    expect(lines).toHaveLength(input.length);
    expect(lines[1]!.startsWith(`${input[1]},`)).toBe(true);
    for (const l of lines.slice(1)) {
      const [, , score, label] = l.split(',');
      expect(Number(score) >= 0 && Number(score) <= 1).toBe(true);
      expect(['0', '1']).toContain(label);
    }
    // The labelled spike of 2014-04-13 06:52 (76.23 against a level near 17).
    expect(lines.find((l) => l.startsWith('2014-04-13 06:52:00,'))!.endsWith(',1')).toBe(true);
  });

  it('refuses a file without a header, naming line 1, with exit code 2', () => {
    const f = join(dir, 'no-header.csv');
    writeFileSync(f, '2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n');
    const r = runDetect(f);
    expect(r.code).toBe(2);
    expect(r.err).toContain('line 1: expected a header line');
  });

  it('refuses a non-numeric value and unsorted timestamps, naming the line', () => {
    const bad = join(dir, 'bad-value.csv');
    writeFileSync(bad, 'timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,high\n');
    expect(runDetect(bad)).toMatchObject({ code: 2, err: expect.stringContaining('line 3: value "high" is not a number') });
    const unsorted = join(dir, 'unsorted.csv');
    writeFileSync(unsorted, 'timestamp,value\n2014-01-01 00:05:00,1\n2014-01-01 00:00:00,2\n');
    expect(runDetect(unsorted)).toMatchObject({ code: 2, err: expect.stringContaining('line 3: timestamp 2014-01-01 00:00:00 is before') });
  });

  it('says so when the file cannot be read', () => {
    expect(runDetect(join(dir, 'missing.csv'))).toMatchObject({ code: 2, err: expect.stringContaining('cannot read') });
  });
});
