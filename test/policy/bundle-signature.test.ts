// The signature check on the ways around it that opa never produces: the JWT algorithm chosen by the
// token (`none`, or HS256 keyed with the public key), a scope, several signatures, and tar tricks (a
// second copy of a file appended, a link, a path that climbs out). Agreement with opa on the bundles
// it does produce is in opa.test.ts.
import { createHmac, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_PUBLIC_KEY_PATH, opaCanonicalJson, openPolicyPublicKey, verifyBundleSignature } from '../../src/policy/bundle-signature.ts';
import { WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { bundleFiles, signed, tempDir, writeBundle } from './helpers.ts';

const publicKey = createPublicKey(readFileSync(DEVELOPMENT_PUBLIC_KEY_PATH, 'utf8'));
let tmp: Awaited<ReturnType<typeof tempDir>>;
let files: Record<string, Buffer>;
beforeAll(async () => {
  tmp = await tempDir();
  const { '.signatures.json': _s, ...rest } = await bundleFiles(tmp.dir);
  files = rest;
});
afterAll(async () => {
  await tmp?.remove();
});

const check = (contents: Record<string, string | Buffer>) =>
  verifyBundleSignature(new Map(Object.entries(contents).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)])), publicKey, 'test.tar.gz');

/** What the build's signature lists: every file and its hash. */
function listed(): unknown {
  const token = (JSON.parse(signed(files)['.signatures.json'] as string) as { signatures: string[] }).signatures[0]!;
  return (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { files: unknown }).files;
}

/** The bundle's files with a hand-made token in place of the signature. */
function withToken(header: object, payload: object, signature: (signingInput: string) => string) {
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  return { ...files, '.signatures.json': JSON.stringify({ signatures: [`${input}.${signature(input)}`] }) };
}

describe('verifyBundleSignature', () => {
  it('accepts the bundle as the build signs it', () => {
    expect(check(signed(files))).toEqual({ kid: 'default' });
  });

  it('never lets the token choose its algorithm: none, and HS256 keyed with the public key, are refused', () => {
    expect(() => check(withToken({ alg: 'none' }, { files: listed() }, () => 'x'))).toThrow(/is signed with none; only RS256 is accepted/);
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const hs = withToken({ alg: 'HS256', kid: 'default' }, { files: listed() }, (input) => createHmac('sha256', pem).update(input).digest('base64url'));
    expect(() => check(hs)).toThrow(/is signed with HS256; only RS256 is accepted/);
  });

  it('refuses a scope, several signatures, a foreign plugin, and a file listed twice', () => {
    expect(() => check(signed(files, undefined, { scope: 'write' }))).toThrow(/signed for scope 'write'/);
    const one = JSON.parse(signed(files)['.signatures.json'] as string) as { signatures: string[] };
    expect(() => check({ ...files, '.signatures.json': JSON.stringify({ signatures: [one.signatures[0], one.signatures[0]] }) })).toThrow(/has 2 signatures/);
    expect(() => check({ ...files, '.signatures.json': JSON.stringify({ signatures: one.signatures, plugin: 'vault' }) })).toThrow(/signature plugin 'vault'/);
    expect(() => check({ ...files, '.signatures.json': '{"signatures": "nope"}' })).toThrow(/unreadable \.signatures\.json/);
  });

  it('refuses a signature whose payload was changed, even by one listed hash', () => {
    const token = (JSON.parse(signed(files)['.signatures.json'] as string) as { signatures: string[] }).signatures[0]!;
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { files: { name: string; hash: string }[] };
    payload.files[0]!.hash = '0'.repeat(64);
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect(() => check({ ...files, '.signatures.json': JSON.stringify({ signatures: [forged] }) })).toThrow(/is not signed by the policy public key/);
  });
});

describe('the bundle as a tar', () => {
  it('refuses a second copy of a file appended after the signed one', async () => {
    await writeBundle(tmp.dir, 'appended-a', files); // leaves the signed files in appended-a.src
    const dir = join(tmp.dir, 'appended-b');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data.json'), '{}');
    // Appended to a plain tar (node-tar appends only to uncompressed archives; the loader reads both).
    const plain = join(tmp.dir, 'appended.tar');
    await tar.c({ file: plain, cwd: join(tmp.dir, 'appended-a.src'), portable: true }, Object.keys(signed(files)));
    await tar.r({ file: plain, cwd: dir, portable: true }, ['data.json']);
    await expect(WasmPolicyEngine.fromBundle(plain)).rejects.toThrow(/holds data\.json twice/);
  });

  it('refuses a link, and a path that climbs out of the bundle', async () => {
    const dir = join(tmp.dir, 'linked');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data.json'), '{}');
    await symlink('/etc/passwd', join(dir, 'policy.wasm'));
    const linked = join(tmp.dir, 'linked.tar.gz');
    await tar.c({ gzip: true, file: linked, cwd: dir, portable: true }, ['data.json', 'policy.wasm']);
    await expect(WasmPolicyEngine.fromBundle(linked)).rejects.toThrow(/holds policy\.wasm of type SymbolicLink; a bundle holds regular files only/);
  });
});

describe('OPA\'s canonical JSON', () => {
  it('sorts keys by their UTF-8 bytes, keeps numbers as written, and writes strings as Go does', () => {
    expect(opaCanonicalJson(Buffer.from('{ "\ufb00": 1, "\ud83d\ude00": 2, "b": [1.0, -0, 1E+2], "a": "<&>\\u2028\\u0001\\b\\/" }'))).toBe(
      '{"a":"<&>\\u2028\\u0001\\b/","b":[1.0,-0,1E+2],"\ufb00":1,"\ud83d\ude00":2}',
    );
    expect(opaCanonicalJson(Buffer.from('\ufeff{"dup": 1, "dup": 2}'))).toBe('{"dup":2}');
    expect(() => opaCanonicalJson(Buffer.from('{"a": 01}'))).toThrow(/not valid JSON/);
    expect(() => opaCanonicalJson(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))).toThrow(/not valid UTF-8/);
  });
});

describe('the policy public key', () => {
  it('is the development key unless one is configured, and says so', () => {
    expect(openPolicyPublicKey()).toMatchObject({ development: true, source: DEVELOPMENT_PUBLIC_KEY_PATH });
    expect(openPolicyPublicKey(DEVELOPMENT_PUBLIC_KEY_PATH).development).toBe(true);
  });
});
