// Tests that need the real `opa` binary: the Rego suite itself, Go and Wasm giving the same
// decision for every fixture, the engine failing closed on bundles that answer oddly, and Governor
// accepting exactly the signed bundles opa accepts. CI installs opa (.ci/run); without it these
// tests fail, because skipping would hide the Rego suite.
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import type { PolicyInput } from '../../src/policy/policy-engine.ts';
import { verifyBundleSignature } from '../../src/policy/bundle-signature.ts';
import { DEFAULT_BUNDLE_PATH, ENTRYPOINT, WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { POLICIES_DIR, bundleFiles, loadFixtures, signed, tempDir, writeBundle } from './helpers.ts';

const DEVELOPMENT_KEY_FILE = join(POLICIES_DIR, 'signing', 'development-INSECURE-private-key.pem');

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
      opa(['build', '-b', '-t', 'wasm', '-e', entrypoint, '--signing-key', DEVELOPMENT_KEY_FILE, '--signing-alg', 'RS256', '-o', out, dir]);
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

describe('signed bundles: Governor accepts exactly what opa accepts', () => {
  const developmentPublic = join(POLICIES_DIR, 'signing', 'development-public-key.pem');
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let otherPrivate: string;
  let otherPublic: string;
  beforeAll(async () => {
    otherPrivate = join(tmp.dir, 'other.pem');
    otherPublic = join(tmp.dir, 'other.pub.pem');
    await writeFile(otherPrivate, other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    await writeFile(otherPublic, other.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  });

  /** opa's own verdict: `opa build --verification-key` loads and verifies the bundle, or says why not. */
  function opaAccepts(bundle: string, publicKeyFile = developmentPublic): true | string {
    const res = spawnSync(opaPath!, ['build', '-b', bundle, '--verification-key', publicKeyFile, '--signing-alg', 'RS256', '-o', join(tmp.dir, 'opa-out.tar.gz')], { encoding: 'utf8' });
    return res.status === 0 ? true : `${res.stdout}${res.stderr}`.trim();
  }
  /** Governor's: the signature check the engine makes before loading anything. */
  async function governorAccepts(bundle: string, key: KeyObject = createPublicKey(readFileSync(developmentPublic, 'utf8'))): Promise<true | string> {
    const files = new Map(Object.entries(await bundleFiles(tmp.dir, bundle)));
    try {
      verifyBundleSignature(files, key, bundle);
      return true;
    } catch (err) {
      return (err as Error).message;
    }
  }
  async function both(bundle: string, publicKeyFile?: string) {
    const key = publicKeyFile ? createPublicKey(await readFile(publicKeyFile, 'utf8')) : undefined;
    return { opa: opaAccepts(bundle, publicKeyFile), governor: await governorAccepts(bundle, key) };
  }

  it('the committed bundle: both accept it with the development key, neither with another', async () => {
    expect(await both(DEFAULT_BUNDLE_PATH)).toEqual({ opa: true, governor: true });
    expect(await both(DEFAULT_BUNDLE_PATH, otherPublic)).toEqual({ opa: expect.any(String), governor: expect.stringMatching(/is not signed by the policy public key/) });
  });

  it('data.json edited after signing (every supervised action dropped): both refuse', async () => {
    const files = await bundleFiles(tmp.dir);
    const data = JSON.parse(files['data.json']!.toString('utf8')) as { autonomy: { supervised_actions: string[] } };
    data.autonomy.supervised_actions = [];
    const bundle = await writeBundle(tmp.dir, 'opa-edited', { ...files, 'data.json': JSON.stringify(data) }, false);
    expect(await both(bundle)).toEqual({
      opa: expect.stringMatching(/data\.json: digest mismatch/),
      governor: expect.stringMatching(/holds data\.json changed after signing/),
    });
    await expect(WasmPolicyEngine.fromBundle(bundle)).rejects.toMatchObject({ code: 'policy_unavailable', message: expect.stringMatching(/changed after signing/) });
  });

  it('unsigned, an unlisted file added, a listed file removed: both refuse', async () => {
    const { '.signatures.json': signature, ...files } = await bundleFiles(tmp.dir);
    const unsigned = await writeBundle(tmp.dir, 'opa-unsigned', files, false);
    expect(await both(unsigned)).toEqual({ opa: expect.stringMatching(/missing \.signatures\.json/), governor: expect.stringMatching(/is not signed \(no \.signatures\.json\)/) });
    await expect(WasmPolicyEngine.fromBundle(unsigned)).rejects.toMatchObject({ code: 'policy_unavailable', message: expect.stringMatching(/is not signed/) });
    const extra = await writeBundle(tmp.dir, 'opa-extra', { ...files, '.signatures.json': signature!, 'policies/extra.rego': 'package extra\n' }, false);
    expect(await both(extra)).toEqual({ opa: expect.stringMatching(/extra\.rego not included in bundle signature/), governor: expect.stringMatching(/holds policies\/extra\.rego, which its signature does not cover/) });
    const { 'policies/sla/sla.rego': _sla, ...fewer } = files;
    const missing = await writeBundle(tmp.dir, 'opa-missing', { ...fewer, '.signatures.json': signature! }, false);
    expect((await both(missing)).governor).toMatch(/lacks policies\/sla\/sla\.rego, which its signature lists/);
    expect((await both(missing)).opa).not.toBe(true);
  });

  it('signed by opa with another key: both refuse it with the development key, both accept it with that key', async () => {
    const bundle = join(tmp.dir, 'opa-other-key.tar.gz');
    opa(['build', '-b', '-t', 'wasm', '-e', ENTRYPOINT, '--ignore', '*_test.rego', '--signing-key', otherPrivate, '--signing-alg', 'RS256', '-o', bundle, POLICIES_DIR]);
    expect(await both(bundle)).toEqual({ opa: expect.any(String), governor: expect.stringMatching(/is not signed by the policy public key/) });
    expect(await both(bundle, otherPublic)).toEqual({ opa: true, governor: true });
    const engine = await WasmPolicyEngine.fromBundle(bundle, { publicKey: other.publicKey });
    expect((await engine.evaluate(fixtures.find((f) => f.file === 'design-example-allow.json')!.input as unknown as PolicyInput)).verdict).toBe('allow');
  });

  // JSON files are signed by their canonical form, not their bytes: key order and spacing do not
  // matter, but a number's spelling does (opa keeps numbers as written), and strings and keys are
  // hashed as Go writes and sorts them. Tried in both directions.
  const tricky = [
    '{ "z": 1, "\u00e9": 2.50, "\ud83d\ude00": "emoji", "\ufb00": "ligature", "A": [1.0, 1e2, -0, 1E+2, 0.10, 12345678901234567890],',
    '  "s": "quote \\" backslash \\\\ slash \\/ tab \\t nl \\n bs \\b ff \\f ctl \\u0001 del \u007f html <>& ls \\u2028 ps \u2029 astral \\ud83d\\ude00 lone \\ud800 x",',
    '  "dup": 1, "dup": 2, "nested": {"b": {}, "a": [[], {"y": null, "x": true}]}, "f": false }',
  ].join('\n');

  it('a tricky data.json signed by Governor\'s hashing is accepted by opa; changed in meaning or number spelling, refused by both', async () => {
    const manifest = '{ "roots": [""] ,"revision":"r1" }';
    const ok = await writeBundle(tmp.dir, 'tricky-ours', signed({ 'data.json': tricky, '.manifest': manifest }), false);
    expect(await both(ok)).toEqual({ opa: true, governor: true });
    const { '.signatures.json': sig } = signed({ 'data.json': tricky, '.manifest': manifest });
    const respaced = tricky.replaceAll(', ', ',').replace('{ "z": 1,', '{"z":1 ,');
    const reordered = await writeBundle(tmp.dir, 'tricky-respaced', { 'data.json': respaced, '.manifest': manifest, '.signatures.json': sig! }, false);
    expect(await both(reordered)).toEqual({ opa: true, governor: true });
    for (const [name, change] of [['number', tricky.replace('[1.0,', '[1,')], ['string', tricky.replace('ligature', 'Ligature')], ['duplicate', tricky.replace('"dup": 2', '"dup": 3')]] as const) {
      const bundle = await writeBundle(tmp.dir, `tricky-${name}`, { 'data.json': change, '.manifest': manifest, '.signatures.json': sig! }, false);
      expect(await both(bundle), name).toEqual({ opa: expect.stringMatching(/digest mismatch/), governor: expect.stringMatching(/changed after signing/) });
    }
  });

  it('a tricky data.json signed by opa is accepted by Governor', async () => {
    const dir = join(tmp.dir, 'tricky-src');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data.json'), tricky);
    const bundle = join(tmp.dir, 'tricky-opa.tar.gz');
    opa(['build', '-b', '--signing-key', DEVELOPMENT_KEY_FILE, '--signing-alg', 'RS256', '-o', bundle, dir]);
    expect(await both(bundle)).toEqual({ opa: true, governor: true });
  });
});
