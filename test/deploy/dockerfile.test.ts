// The Dockerfile's promises, checked without Docker (no daemon on the CI machine: the image is never
// built here). Its file set is rebuilt and run for real by image-runtime.deploy.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DockerIgnore, REPO, copyArgs, execForm, finalStageContextFiles, readDockerfile } from './dockerfile.ts';

const df = readDockerfile();
const ignore = DockerIgnore.ofRepo();
const final = df.stages.at(-1)!;
const files = finalStageContextFiles(df, ignore);
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

describe('Dockerfile', () => {
  it('is multi-stage: production dependencies from the lockfile in their own stage, copied into the final one', () => {
    expect(df.stages.length).toBeGreaterThanOrEqual(2);
    const deps = df.stages.find((s) => s.name === 'deps')!;
    expect(deps).toBeDefined();
    const copied = deps.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copyArgs(i).sources);
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json']));
    const runs = deps.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r) && /--omit=dev\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm (install|i)\b/.test(r))).toBe(false);
    const fromDeps = final.instructions.filter((i) => i.keyword === 'COPY' && i.flags['from'] === 'deps');
    expect(fromDeps.map((i) => copyArgs(i).sources)).toEqual([['/app/node_modules']]);
  });

  it('runs on Node 20 (slim or distroless), as a numeric non-root user, with the governor entrypoint', () => {
    expect(final.from).toMatch(/^(node:20-bookworm-slim|gcr\.io\/distroless\/nodejs20-debian12(:nonroot)?)(@sha256:[0-9a-f]{64})?$/);
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(user.split(':').every((id) => Number(id) > 0)).toBe(true);
    // Nothing after the last USER runs as someone else.
    const last = final.instructions.lastIndexOf(users.at(-1)!);
    expect(final.instructions.slice(last).filter((i) => i.keyword === 'RUN')).toEqual([]);
    const entry = final.instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)!;
    expect(execForm(entry.args)).toEqual(['node', 'bin/governor.mjs']);
    // tsx runs the sources at run time: it must be a production dependency, not a dev one.
    expect(pkg.dependencies['tsx']).toBeDefined();
    expect(pkg.devDependencies['tsx']).toBeUndefined();
  });

  it('copies sources that exist, not wholly excluded by .dockerignore, and everything the entrypoint loads', () => {
    for (const ins of final.instructions.filter((i) => i.keyword === 'COPY' && !i.flags['from'])) {
      for (const source of copyArgs(ins).sources) {
        expect(files.some((f) => f.source === source || f.source.startsWith(`${source}/`)), `COPY ${source} (line ${ins.line}) brings no file`).toBe(true);
      }
    }
    const dests = new Set(files.map((f) => f.dest));
    for (const needed of ['bin/governor.mjs', 'src/cli.ts', 'src/config.ts', 'commands/mcp.ts', 'policies/bundle.tar.gz', 'policies/signing/development-public-key.pem', 'config/tenants.json', 'config/signals.json', 'config/node-groups.json', 'package.json']) {
      expect(dests.has(needed), needed).toBe(true);
    }
    expect([...dests].some((d) => d.startsWith('migrations/') && d.endsWith('.sql'))).toBe(true);
  });

  it('carries no secret and nothing of the host: no private key, no .env, no node_modules, no tests', () => {
    for (const f of files) {
      expect(f.source, f.source).not.toMatch(/(^|\/)(node_modules|\.git|test|\.governor)\//);
      expect(f.source).not.toMatch(/(^|\/)\.env(\.|$)/);
      // A PEM block with a body, not code that names the header.
      const text = readFileSync(join(REPO, f.source), 'latin1');
      expect(/-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]{40,}/.test(text), `${f.source} holds a private key`).toBe(false);
    }
    expect(ignore.excludes('policies/signing/development-INSECURE-private-key.pem')).toBe(true);
    expect(final.instructions.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG').map((i) => i.args).join(' ')).not.toMatch(/TOKEN|SECRET|PASSWORD|_KEY\b/);
  });

  it('reads .dockerignore as Docker does', () => {
    const di = new DockerIgnore('**/node_modules\ntest\n*.log\n**/*.test.ts\npolicies/signing/*private*\n!keep.log');
    expect(di.excludes('node_modules/tsx/package.json')).toBe(true);
    expect(di.excludes('a/b/node_modules/x.js')).toBe(true);
    expect(di.excludes('test/unit/x.test.ts')).toBe(true);
    expect(di.excludes('src/test-helpers.ts')).toBe(false);
    expect(di.excludes('src/a.test.ts')).toBe(true);
    expect(di.excludes('x.log')).toBe(true);
    expect(di.excludes('src/x.log')).toBe(false);
    expect(di.excludes('keep.log')).toBe(false);
    expect(di.excludes('policies/signing/development-INSECURE-private-key.pem')).toBe(true);
    expect(di.excludes('policies/signing/development-public-key.pem')).toBe(false);
  });
});
