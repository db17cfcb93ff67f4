// `governor policy eval` end to end: a fixture file in, one DESIGN §5 decision object out.
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyEval } from '../../commands/policy-eval.ts';
import { PolicyDecision } from '../../src/policy/policy-engine.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { bundleFiles, loadFixtures, tempDir, writeBundle } from './helpers.ts';

const fixtures = await loadFixtures();
let tmp: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => {
  await tmp?.remove();
});

async function run(opts: { input: string; bundle?: string; publicKeyFile?: string }): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await policyEval(opts, (s) => out.push(s), (s) => err.push(s));
  return { code, out, err };
}

describe('governor policy eval', () => {
  it('prints one decision object for a fixture file and exits 0', async () => {
    const f = fixtures.find((x) => x.file === 'blast-radius-level-3-capacity-40.json')!;
    const { code, out, err } = await run({ input: f.path });
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out).toHaveLength(1);
    const decision = PolicyDecision.strict().parse(JSON.parse(out[0]!));
    expect(decision.verdict).toBe('require_approval');
    expect(decision.violations.map((v) => v.rule)).toEqual(['blast_radius_level_3']);
    expect(decision.policy_version).toBe((await WasmPolicyEngine.fromBundle()).version);
  });

  it('reads a bare policy input as well as a fixture', async () => {
    const f = fixtures.find((x) => x.file === 'design-example-allow.json')!;
    const path = join(tmp.dir, 'bare-input.json');
    await writeFile(path, JSON.stringify(f.input));
    const { code, out } = await run({ input: path });
    expect(code).toBe(0);
    expect(JSON.parse(out[0]!).verdict).toBe('allow');
  });

  it('exits 0 for a deny too: the command reports decisions, it does not judge them', async () => {
    const f = fixtures.find((x) => x.expected.verdict === 'deny')!;
    const { code, out } = await run({ input: f.path });
    expect(code).toBe(0);
    expect(JSON.parse(out[0]!).verdict).toBe('deny');
  });

  it('writes errors to the single writer when only one is given', async () => {
    const lines: string[] = [];
    const code = await policyEval({ input: join(tmp.dir, 'absent.json') }, (s) => lines.push(s));
    expect(code).toBe(2);
    expect(lines).toHaveLength(1);
  });

  it.each([
    ['a missing file', 'absent.json', null, /cannot read .*absent\.json/],
    ['a file that is not JSON', 'broken.json', '{"proposal": ', /broken\.json is not JSON/],
    ['an input that is not a policy input', 'invalid.json', JSON.stringify({ proposal: { action: 'scale_deployment' } }), /invalid\.json: policy input rejected: .*context/],
  ])('exits 2 with one line for %s', async (_what, name, contents, message) => {
    const path = join(tmp.dir, name);
    if (contents !== null) await writeFile(path, contents);
    const { code, out, err } = await run({ input: path });
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
    expect(err[0]).not.toMatch(/\n/);
  });

  it('exits 1 when the bundle does not load', async () => {
    const bundle = join(tmp.dir, 'not-a-bundle.tar.gz');
    await writeFile(bundle, 'nope');
    const { code, err } = await run({ input: fixtures[0]!.path, bundle });
    expect(code).toBe(1);
    expect(err[0]).toMatch(/policy_unavailable: the policy bundle .* is not a readable tar\.gz/);
  });

  it('gives no decision from a bundle whose signature does not hold for the configured key — exit 1 and why', async () => {
    const { '.signatures.json': _sig, ...files } = await bundleFiles(tmp.dir);
    const unsigned = await writeBundle(tmp.dir, 'eval-unsigned', files, false);
    const f = fixtures.find((x) => x.file === 'design-example-allow.json')!;
    const r = await run({ input: f.path, bundle: unsigned });
    expect(r).toMatchObject({ code: 1, out: [] });
    expect(r.err[0]).toMatch(/the policy bundle .*eval-unsigned\.tar\.gz is not signed/);
    // The committed bundle, checked against a key it was not signed for.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const publicKeyFile = join(tmp.dir, 'other.pub.pem');
    await writeFile(publicKeyFile, other.export({ type: 'spki', format: 'pem' }) as string);
    const foreign = await run({ input: f.path, publicKeyFile });
    expect(foreign.code).toBe(1);
    expect(foreign.err[0]).toMatch(/is not signed by the policy public key/);
  });
});
