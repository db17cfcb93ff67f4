// Shared by the policy tests: the fixture files as data, and bundles rebuilt with one part changed.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { z } from 'zod';
import { Verdict } from '../../src/contracts/events.ts';
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

/** Writes a .tar.gz holding exactly `files` (name → contents) and returns its path. */
export async function writeBundle(dir: string, name: string, files: Record<string, string | Buffer>): Promise<string> {
  const src = join(dir, `${name}.src`);
  await mkdir(src, { recursive: true });
  for (const [file, contents] of Object.entries(files)) await writeFile(join(src, file), contents);
  const out = join(dir, `${name}.tar.gz`);
  await tar.c({ gzip: true, file: out, cwd: src, portable: true }, Object.keys(files));
  return out;
}
