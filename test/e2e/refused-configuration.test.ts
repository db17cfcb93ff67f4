// The running system when someone changes what it is governed by: a phase file that does not parse
// and a policy bundle changed after signing are each refused, announced in the Slack channel, and
// what was in force stays in force. Through the whole composition root (src/runtime/system.ts), on
// the embedded defaults, with the files watched as in a cluster.
import { copyFile, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { RealClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { DEFAULT_BUNDLE_PATH } from '../../src/policy/wasm-policy-engine.ts';
import { startSystem, type System } from '../../src/runtime/system.ts';
import { bundleFiles, writeBundle } from '../policy/helpers.ts';

let dir: string;
let sys: System;
const said = () => sys.slackFake!.messages().map((m) => m.text);
async function until(what: string, done: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the channel says:\n${said().join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'governor-refused-'));
  await writeFile(join(dir, 'governor.json'), JSON.stringify({ phase: 'assist' }));
  await copyFile(DEFAULT_BUNDLE_PATH, join(dir, 'bundle.tar.gz'));
  const config = loadConfig({ GOVERNOR_CONFIG_FILE: join(dir, 'governor.json'), GOVERNOR_POLICY_BUNDLE: join(dir, 'bundle.tar.gz'), GOVERNOR_CONSOLE_PORT: '0' });
  sys = await startSystem({ config, clock: new RealClock(), logger: silentLogger(), scenario: 'jvm-heap-regression' });
}, 60_000);
afterAll(async () => {
  await sys?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Replaced as a deploy tool would: written beside it, renamed over it. */
async function replace(name: string, contents: string | Buffer): Promise<void> {
  await writeFile(join(dir, `.${name}.tmp`), contents);
  await rename(join(dir, `.${name}.tmp`), join(dir, name));
}

describe('a running system refuses what it cannot trust, and says so in the channel', () => {
  it('a phase file that names no valid phase: refused, announced, the phase in force stays', async () => {
    await replace('governor.json', '{ "phase": "yolo" }');
    await until('the announcement', () => said().some((t) => t.startsWith('A new phase file was refused')));
    expect(said().find((t) => t.startsWith('A new phase file was refused'))).toMatch(
      /^A new phase file was refused; phase 'assist' stays in force\. .*governor\.json is refused: phase: must be one of 'observe', 'advise', 'assist', 'govern'/,
    );
  }, 30_000);

  it('a policy bundle whose data.json was edited after signing: refused, announced, the signed bundle keeps deciding', async () => {
    const before = sys.policyVersion;
    const files = await bundleFiles(dir);
    const data = JSON.parse(files['data.json']!.toString('utf8')) as { autonomy: { supervised_actions: string[] } };
    data.autonomy.supervised_actions = [];
    await replace('bundle.tar.gz', await readFile(await writeBundle(dir, 'edited', { ...files, 'data.json': JSON.stringify(data) }, false)));
    await until('the announcement', () => said().some((t) => t.startsWith('A new policy bundle was refused')));
    expect(said().find((t) => t.startsWith('A new policy bundle was refused'))).toMatch(
      new RegExp(`holds data\\.json changed after signing .*version ${before.slice(0, 12)} stays in force`),
    );
    expect(said().some((t) => t.startsWith('Policy bundle') && t.includes('is now in force'))).toBe(false);
  }, 30_000);
});
