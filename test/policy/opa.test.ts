// Tests that need the real `opa` binary: the Rego suite itself, Go and Wasm giving the same
// decision for every fixture, and the engine failing closed on bundles that answer oddly. CI
// installs opa (.ci/run); without it these tests fail, because skipping would hide the Rego suite.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import type { PolicyInput } from '../../src/policy/policy-engine.ts';
import { ENTRYPOINT, WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { POLICIES_DIR, loadFixtures, tempDir } from './helpers.ts';

/** The same search as scripts/build-policy.sh: PATH, then $(go env GOPATH)/bin. */
function findOpa(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'opa'))) return join(dir, 'opa');
  }
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim();
    if (existsSync(join(gopath, 'bin', 'opa'))) return join(gopath, 'bin', 'opa');
  } catch {
    // no Go toolchain: nowhere else to look
  }
  return undefined;
}

const opaPath = findOpa();

function opa(args: string[], stdin?: string): string {
  if (!opaPath) {
    throw new Error('the opa binary was not found on PATH or in $(go env GOPATH)/bin: install it with `go install github.com/open-policy-agent/opa@v1.22.2` (CI does)');
  }
  const res = spawnSync(opaPath, args, { encoding: 'utf8', input: stdin, maxBuffer: 16 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`opa ${args.join(' ')} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

const fixtures = await loadFixtures();
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp?.remove();
});

describe('with the real opa', () => {
  it('is installed', () => {
    expect(opaPath, 'opa binary (PATH or $(go env GOPATH)/bin)').toBeDefined();
  });

  it('passes the Rego suite (opa test -b policies/)', () => {
    const report = JSON.parse(opa(['test', '-b', '--format', 'json', POLICIES_DIR])) as Array<{ name: string; fail?: boolean; error?: unknown }>;
    expect(report.length).toBeGreaterThan(50);
    expect(report.filter((t) => t.fail || t.error).map((t) => t.name)).toEqual([]);
  });

  it('decides every fixture exactly as the Wasm bundle does, messages included', async () => {
    const engine = await WasmPolicyEngine.fromBundle();
    for (const f of fixtures) {
      const out = JSON.parse(opa(['eval', '-b', POLICIES_DIR, '--stdin-input', '--format', 'json', 'data.governor.decision.decision'], JSON.stringify(f.input))) as {
        result: Array<{ expressions: Array<{ value: unknown }> }>;
      };
      const goDecision = out.result[0]?.expressions[0]?.value;
      const { policy_version: _v, ...wasmDecision } = await engine.evaluate(f.input as unknown as PolicyInput);
      expect(wasmDecision, f.file).toEqual(goDecision);
    }
  });

  describe('the engine fails closed on a bundle that answers oddly', () => {
    async function bundleOf(name: string, rego: string, entrypoint = ENTRYPOINT): Promise<string> {
      const dir = join(tmp.dir, name);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'policy.rego'), rego);
      await writeFile(join(dir, 'data.json'), '{}');
      const out = join(tmp.dir, `${name}.tar.gz`);
      opa(['build', '-b', '-t', 'wasm', '-e', entrypoint, '-o', out, dir]);
      return out;
    }
    const input = () => fixtures.find((f) => f.file === 'design-example-allow.json')!.input as unknown as PolicyInput;

    it.each([
      ['an unknown verdict', 'decision := {"verdict": "maybe", "violations": []}', /malformed decision .*verdict/],
      ['a violation without a message', 'decision := {"verdict": "deny", "violations": [{"layer": "safety", "rule": "x"}]}', /malformed decision .*violations\.0\.message/],
      ['an unknown layer', 'decision := {"verdict": "deny", "violations": [{"layer": "vibes", "rule": "x", "message": "m"}]}', /malformed decision .*layer/],
      ['no decision at all', 'decision := {"verdict": "allow", "violations": []} if input.never', /returned no decision/],
    ])('%s', async (name, body, message) => {
      const path = await bundleOf(name.replace(/\W+/g, '-'), `package governor.decision\n\n${body}\n`);
      const engine = await WasmPolicyEngine.fromBundle(path);
      const err = await engine.evaluate(input()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GovernorError);
      expect((err as GovernorError).code).toBe('policy_unavailable');
      expect((err as GovernorError).message).toMatch(message);
    });

    it('a bundle without the decision entrypoint is refused on load', async () => {
      const path = await bundleOf('other-entrypoint', 'package other\n\nanswer := 42\n', 'other/answer');
      const err = await WasmPolicyEngine.fromBundle(path).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as GovernorError).code).toBe('policy_unavailable');
      expect((err as GovernorError).message).toMatch(/has no governor\/decision\/decision entrypoint \(it has: other\/answer\)/);
    });
  });
});
