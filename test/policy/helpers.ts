// Shared by the policy tests: the fixture files as data, and bundles rebuilt with one part changed.
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { z } from 'zod';
import { Verdict } from '../../src/contracts/events.ts';
import { opaFileHash } from '../../src/policy/bundle-signature.ts';
import { DEFAULT_BUNDLE_PATH } from '../../src/policy/wasm-policy-engine.ts';

export const POLICIES_DIR = fileURLToPath(new URL('../../policies/', import.meta.url));
export const FIXTURES_DIR = join(POLICIES_DIR, 'fixtures');

export const Fixture = z
  .object({
    description: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
    expected: z.object({ verdict: Verdict, rules: z.array(z.string()) }).strict(),
  })
  .strict();
export type Fixture = z.infer<typeof Fixture> & { file: string; path: string };

export async function loadFixtures(): Promise<Fixture[]> {
  const files = (await readdir(FIXTURES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      const path = join(FIXTURES_DIR, file);
      const parsed = Fixture.safeParse(JSON.parse(await readFile(path, 'utf8')));
      if (!parsed.success) throw new Error(`fixture ${file} is malformed: ${parsed.error.message}`);
      return { ...parsed.data, file, path };
    }),
  );
}

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'governor-policy-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The committed bundle's policy.wasm and data.json (extracted under `dir`, tar's own way). */
export async function extractBundle(dir: string): Promise<{ wasm: Buffer; data: Buffer }> {
  const out = await mkdtemp(join(dir, 'extract-'));
  // opa writes absolute member names (/policy.wasm); tar strips the / and says so, which is fine.
  await tar.x({ file: DEFAULT_BUNDLE_PATH, cwd: out });
  return { wasm: await readFile(join(out, 'policy.wasm')), data: await readFile(join(out, 'data.json')) };
}

/** The committed development key, as scripts/build-policy.sh signs with it. */
export const DEVELOPMENT_PRIVATE_KEY = createPrivateKey(readFileSync(join(POLICIES_DIR, 'signing', 'development-INSECURE-private-key.pem'), 'utf8'));

/**
 * `files` with the `.signatures.json` `opa build --signing-key … --signing-alg RS256` would add: an
 * RS256 JWT over every file's OPA hash (checked against the real opa in opa.test.ts).
 */
export function signed(files: Record<string, string | Buffer>, key: KeyObject = DEVELOPMENT_PRIVATE_KEY, claims: Record<string, unknown> = {}): Record<string, string | Buffer> {
  const entries = Object.entries(files).map(([name, contents]) => {
    const bytes = Buffer.isBuffer(contents) ? contents : Buffer.from(contents, 'utf8');
    let hash: string;
    try {
      hash = opaFileHash(name, bytes);
    } catch {
      // JSON that does not parse: opa would not sign it; a signer that hashes bytes would.
      hash = createHash('sha256').update(bytes).digest('hex');
    }
    return { name, hash, algorithm: 'SHA-256' };
  });
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
  const head = `${b64({ alg: 'RS256', kid: 'default', typ: 'JWT' })}.${b64({ files: entries, keyid: 'default', ...claims })}`;
  const token = `${head}.${sign('sha256', Buffer.from(head, 'ascii'), key).toString('base64url')}`;
  return { ...files, '.signatures.json': JSON.stringify({ signatures: [token], plugin: '_default' }) };
}

/**
 * Writes a .tar.gz holding `files` (name → contents, nested paths allowed), signed with the
 * development key unless `signer` says otherwise (false: unsigned), and returns its path.
 */
export async function writeBundle(dir: string, name: string, files: Record<string, string | Buffer>, signer: KeyObject | false = DEVELOPMENT_PRIVATE_KEY): Promise<string> {
  const contents = signer === false ? files : signed(files, signer);
  const src = join(dir, `${name}.src`);
  await mkdir(src, { recursive: true });
  for (const [file, body] of Object.entries(contents)) {
    await mkdir(dirname(join(src, file)), { recursive: true });
    await writeFile(join(src, file), body);
  }
  const out = join(dir, `${name}.tar.gz`);
  await tar.c({ gzip: true, file: out, cwd: src, portable: true }, Object.keys(contents));
  return out;
}

/** Every file of a bundle (opa's absolute member names without the `/`), tar's own way. */
export async function bundleFiles(dir: string, bundle: string = DEFAULT_BUNDLE_PATH): Promise<Record<string, Buffer>> {
  const out = await mkdtemp(join(dir, 'files-'));
  const names: string[] = [];
  await tar.x({ file: bundle, cwd: out, onReadEntry: (e) => names.push(e.path.replace(/^\/+/, '')) });
  const files: Record<string, Buffer> = {};
  for (const name of names) files[name] = await readFile(join(out, name));
  return files;
}
