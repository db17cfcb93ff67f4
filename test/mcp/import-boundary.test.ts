// Keeps the dependency direction: MCP servers are infrastructure that agents call, so nothing under
// mcp-servers/ may import agents/ or commands/ (an agent's logic inside a server would let the
// caller's code decide what the last line of defence allows).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers } from '../import-specifiers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SERVERS = join(ROOT, 'mcp-servers');
const FORBIDDEN = ['agents', 'commands'].map((d) => join(ROOT, d));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(c|m)?(t|j)sx?$/.test(name) ? [full] : [];
  });
}

function violates(file: string, specifier: string): boolean {
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) {
    // A bare specifier could still reach the folders through a path alias or the package name.
    return /(^|\/)(agents|commands)(\/|$)/.test(specifier) && !specifier.startsWith('@');
  }
  const target = resolve(dirname(file), specifier);
  return FORBIDDEN.some((dir) => target === dir || target.startsWith(dir + sep));
}

describe('import boundary: mcp-servers/', () => {
  it('the scanner sees every kind of import', () => {
    const src = [
      "import { a } from '../../agents/x.ts';",
      "import type { B } from '../../commands/y.ts';",
      "export * from '../../agents/z.ts';",
      "const m = await import('../../agents/w.ts');",
      "import '../../agents/side-effect.ts';",
    ].join('\n');
    const specs = importSpecifiers(src);
    expect(specs).toEqual(
      expect.arrayContaining(['../../agents/x.ts', '../../commands/y.ts', '../../agents/z.ts', '../../agents/w.ts', '../../agents/side-effect.ts']),
    );
    const fake = join(SERVERS, 'kubernetes', 'fake.ts');
    expect(specs.every((s) => violates(fake, s))).toBe(true);
    expect(violates(fake, '../../src/core/errors.ts')).toBe(false);
  });

  it('no file under mcp-servers/ imports from agents/ or commands/', () => {
    const files = sourceFiles(SERVERS);
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.flatMap((file) =>
      importSpecifiers(readFileSync(file, 'utf8'))
        .filter((s) => violates(file, s))
        .map((s) => `${relative(ROOT, file)} imports ${s}`),
    );
    expect(offenders).toEqual([]);
  });
});
