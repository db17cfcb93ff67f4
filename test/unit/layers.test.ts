// Keeps the layers in order, so that a walk from the gateway's onProposal never climbs back up:
// audit (the record) → governance (decisions on it) → agents (plans and actions) → the edges (Slack,
// the sandbox, the composition root, the command line). A lower layer never imports a higher one.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers } from '../import-specifiers.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const at = (...p: string[]) => join(ROOT, ...p);

/** Each layer, and the folders it must never import from. */
const RULES: { layer: string; dir: string; never: string[] }[] = [
  { layer: 'core', dir: at('src', 'core'), never: [at('src', 'llm'), at('src', 'audit'), at('src', 'governance'), at('agents'), at('src', 'slack'), at('src', 'runtime'), at('src', 'sandbox'), at('commands')] },
  { layer: 'audit', dir: at('src', 'audit'), never: [at('src', 'llm'), at('src', 'governance'), at('agents'), at('src', 'slack'), at('src', 'runtime'), at('src', 'sandbox'), at('src', 'twin'), at('commands')] },
  { layer: 'governance', dir: at('src', 'governance'), never: [at('src', 'llm'), at('agents'), at('src', 'slack'), at('src', 'runtime'), at('src', 'sandbox'), at('src', 'twin'), at('commands')] },
  { layer: 'agents', dir: at('agents'), never: [at('src', 'slack'), at('src', 'runtime'), at('src', 'sandbox'), at('src', 'twin'), at('commands'), at('mcp-servers')] },
  { layer: 'slack', dir: at('src', 'slack'), never: [at('agents'), at('src', 'runtime'), at('src', 'twin'), at('commands')] },
  // The cluster edge reads a cluster for the gateway and the composition root: never an agent's or a server's code.
  { layer: 'cluster', dir: at('src', 'cluster'), never: [at('agents'), at('src', 'slack'), at('src', 'runtime'), at('src', 'sandbox'), at('src', 'twin'), at('commands'), at('mcp-servers')] },
  // The language model reads the record and governance's interfaces, and decorates them; agents use
  // it, never the other way round, and it reaches no cluster, bus or Slack of its own.
  { layer: 'llm', dir: at('src', 'llm'), never: [at('agents'), at('src', 'slack'), at('src', 'runtime'), at('src', 'sandbox'), at('src', 'twin'), at('src', 'bus'), at('commands'), at('mcp-servers')] },
  // Paging reads the record and governance's read model; Slack and the gateway never learn of it.
  { layer: 'paging', dir: at('src', 'paging'), never: [at('agents'), at('src', 'slack'), at('src', 'runtime'), at('src', 'sandbox'), at('src', 'twin'), at('commands'), at('mcp-servers')] },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.ts$/.test(name) ? [full] : [];
  });
}

function offenders(rule: (typeof RULES)[number]): string[] {
  return sourceFiles(rule.dir).flatMap((file) =>
    importSpecifiers(readFileSync(file, 'utf8'))
      .filter((s) => s.startsWith('.'))
      .filter((s) => {
        const target = resolve(dirname(file), s);
        return rule.never.some((d) => target === d || target.startsWith(d + sep));
      })
      .map((s) => `${relative(ROOT, file)} imports ${s}`),
  );
}

describe('layers', () => {
  for (const rule of RULES) {
    it(`${rule.layer} imports nothing above it`, () => {
      expect(sourceFiles(rule.dir).length).toBeGreaterThan(0);
      expect(offenders(rule)).toEqual([]);
    });
  }

  it('the check sees a violation', () => {
    const rule = RULES.find((r) => r.layer === 'governance')!;
    const file = join(rule.dir, 'x.ts');
    const target = resolve(dirname(file), '../../agents/runtime/recorder.ts');
    expect(rule.never.some((d) => target.startsWith(d + sep))).toBe(true);
  });
});
