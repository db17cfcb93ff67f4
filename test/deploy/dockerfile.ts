// The Dockerfile read as data, for the tests: its stages and instructions, the .dockerignore rules
// as Docker applies them, and the file set of the final stage (what the image would hold from the
// build context). There is no Docker daemon on the machines these tests run on, so the image itself
// is never built here; this is what lets the tests check it anyway. It must never run Docker.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** `--from=deps` and the like. */
  flags: Record<string, string>;
  line: number;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = line.slice(0, -1) + ' ' + lines[++i]!.trim();
    }
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: not an instruction: ${line}`);
    let args = m[2]!.trim();
    const flags: Record<string, string> = {};
    for (let f = /^--(\w[\w-]*)=(\S+)\s+/.exec(args); f; f = /^--(\w[\w-]*)=(\S+)\s+/.exec(args)) {
      flags[f[1]!] = f[2]!;
      args = args.slice(f[0].length);
    }
    instructions.push({ keyword: m[1]!.toUpperCase(), args, flags, line: start + 1 });
  }
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [from, as, name] = ins.args.split(/\s+/);
      stages.push({ from: substitute(from!, globalArgs), name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before the first FROM`);
      const [k, v = ''] = ins.args.split('=');
      globalArgs[k!] = v;
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function substitute(s: string, args: Record<string, string>): string {
  return s.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args[(a ?? b)!] ?? '');
}

/** A JSON-array (exec form) argument list, or undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  return JSON.parse(args) as string[];
}

/** COPY's sources and destination (exec or shell form). */
export function copyArgs(ins: Instruction): { sources: string[]; dest: string } {
  const parts = execForm(ins.args) ?? ins.args.split(/\s+/);
  return { sources: parts.slice(0, -1), dest: parts.at(-1)! };
}

/** The .dockerignore rules, matched as Docker does (Go filepath.Match plus `**`, `!` exceptions, last match wins). */
export class DockerIgnore {
  private readonly rules: { negate: boolean; re: RegExp }[];

  constructor(text: string) {
    this.rules = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => {
        const negate = l.startsWith('!');
        const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
        return { negate, re: globToRegExp(pattern) };
      });
  }

  static ofRepo(): DockerIgnore {
    return new DockerIgnore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  }

  /** True when the context path (relative, posix) is left out of the build context. */
  excludes(path: string): boolean {
    // A pattern that matches a parent directory excludes everything below it.
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of this.rules) {
      if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negate;
    }
    return excluded;
  }
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of directories, including none.
      re += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Every file under a context path (a file or a directory), relative to the repository, posix. */
function filesUnder(path: string): string[] {
  const abs = join(REPO, path);
  if (!statSync(abs).isDirectory()) return [path];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() || d.isSymbolicLink())
    .map((d) => relative(REPO, join(d.parentPath, d.name)).split('\\').join('/'));
}

export interface ImageFile {
  /** Path in the build context (the repository). */
  source: string;
  /** Path in the image, relative to the final stage's WORKDIR when the destination is relative. */
  dest: string;
}

/**
 * What the final stage copies from the build context, file by file, with .dockerignore applied:
 * the image's own files apart from what other stages (`COPY --from=`) bring.
 */
export function finalStageContextFiles(df: Dockerfile, ignore: DockerIgnore): ImageFile[] {
  const stage = df.stages.at(-1)!;
  const files: ImageFile[] = [];
  for (const ins of stage.instructions) {
    if ((ins.keyword !== 'COPY' && ins.keyword !== 'ADD') || ins.flags['from']) continue;
    const { sources, dest } = copyArgs(ins);
    for (const source of sources) {
      const src = posix.normalize(source.replace(/^\.\//, ''));
      for (const file of filesUnder(src)) {
        if (ignore.excludes(file)) continue;
        const target = dest.endsWith('/') && sources.length > 1 ? posix.join(dest, posix.basename(file)) : statSync(join(REPO, src)).isDirectory() ? posix.join(dest, posix.relative(src, file)) : dest.endsWith('/') ? posix.join(dest, posix.basename(file)) : dest;
        files.push({ source: file, dest: posix.normalize(target) });
      }
    }
  }
  return files;
}

export const readDockerfile = (): Dockerfile => parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
