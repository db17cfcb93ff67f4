// Hot reload of the policy bundle: a new bundle goes into force only after it has answered the
// canaries well; a broken one is refused with a clear error and the previous one keeps deciding.
// The Kubernetes case is tested exactly as kubelet updates a ConfigMap volume: the files live in a
// timestamped directory, `..data` is a symlink to it, the visible file a symlink through `..data`,
// and an update renames a new `..data` symlink over the old one.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GovernorError } from '../../src/core/errors.ts';
import type { PolicyDecision, PolicyEngine, PolicyInput } from '../../src/policy/policy-engine.ts';
import { ReloadingPolicyEngine, type ReloadingPolicyEngineOptions } from '../../src/policy/reloading-policy-engine.ts';
import { DEFAULT_BUNDLE_PATH, WasmPolicyEngine } from '../../src/policy/wasm-policy-engine.ts';
import { bundleFiles, extractBundle, loadFixtures, tempDir, writeBundle } from './helpers.ts';

const fixtures = await loadFixtures();
const example = fixtures.find((f) => f.file === 'design-example-allow.json')!.input as unknown as PolicyInput;

let tmp: Awaited<ReturnType<typeof tempDir>>;
let good: Buffer;
let goodVersion: string;
/** The same policy with the level-3 capacity limit at 5%: the example scale-up needs an approval. */
let tighter: Buffer;
let tighterVersion: string;
const garbage = Buffer.from('this is not a policy bundle');

beforeAll(async () => {
  tmp = await tempDir();
  good = await readFile(DEFAULT_BUNDLE_PATH);
  goodVersion = (await WasmPolicyEngine.fromBundle()).version;
  const { wasm, data } = await extractBundle(tmp.dir);
  const table = JSON.parse(data.toString('utf8')) as { autonomy: { blast_radius: Record<string, Record<string, number>> } };
  table.autonomy.blast_radius['3']!['max_capacity_change_pct'] = 5;
  const path = await writeBundle(tmp.dir, 'tighter', { 'policy.wasm': wasm, 'data.json': JSON.stringify(table) });
  tighter = await readFile(path);
  tighterVersion = (await WasmPolicyEngine.fromBundle(path)).version;
});
afterAll(async () => {
  await tmp?.remove();
});

const open: ReloadingPolicyEngine[] = [];
afterEach(() => {
  for (const e of open.splice(0)) e.close();
});

/** Listeners that tests can wait on. */
function listen() {
  const reloads: string[] = [];
  const errors: GovernorError[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const until = async (what: string, done: () => boolean, ms = 5_000) => {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (reloads: ${reloads.length}, errors: ${errors.map((e) => e.message).join(' | ')})`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return {
    reloads,
    errors,
    until,
    opts: {
      onReload: (v: string) => {
        reloads.push(v);
        wake();
      },
      onReloadError: (e: GovernorError) => {
        errors.push(e);
        wake();
      },
    } satisfies ReloadingPolicyEngineOptions,
  };
}

async function start(opts: ReloadingPolicyEngineOptions): Promise<ReloadingPolicyEngine> {
  const engine = await ReloadingPolicyEngine.open({ debounceMs: 50, ...opts });
  open.push(engine);
  return engine;
}

/** A ConfigMap volume as kubelet lays it out, holding `bundle.tar.gz`. */
async function configMapVolume(name: string, bytes: Buffer) {
  const dir = join(tmp.dir, name);
  await mkdir(dir);
  let generation = 0;
  const publish = async (contents: Buffer) => {
    generation += 1;
    const stamped = `..2026_11_24_10_00_00.00000000${generation}`;
    await mkdir(join(dir, stamped));
    await writeFile(join(dir, stamped, 'bundle.tar.gz'), contents);
    return stamped;
  };
  let current = await publish(bytes);
  await symlink(current, join(dir, '..data'));
  await symlink(join('..data', 'bundle.tar.gz'), join(dir, 'bundle.tar.gz'));
  return {
    path: join(dir, 'bundle.tar.gz'),
    /** kubelet's AtomicWriter: new timestamped dir, `..data_tmp` → it, rename over `..data`, old dir removed. */
    async swap(contents: Buffer) {
      const next = await publish(contents);
      await symlink(next, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
      await rm(join(dir, current), { recursive: true, force: true });
      current = next;
    },
  };
}

/** A plain file replaced atomically (written beside it, then renamed over it). */
async function plainFile(name: string, bytes: Buffer) {
  const dir = join(tmp.dir, name);
  await mkdir(dir);
  const path = join(dir, 'bundle.tar.gz');
  await writeFile(path, bytes);
  let n = 0;
  return {
    path,
    async replace(contents: Buffer) {
      const next = join(dir, `.bundle-${++n}.tmp`);
      await writeFile(next, contents);
      await rename(next, path);
    },
  };
}

describe('ReloadingPolicyEngine', () => {
  it('decides with the bundle it opened, and says which', async () => {
    const engine = await start({ path: DEFAULT_BUNDLE_PATH, pollIntervalMs: 0 });
    expect(engine.version).toBe(goodVersion);
    expect(await engine.evaluate(example)).toEqual({ verdict: 'allow', violations: [], policy_version: goodVersion });
  });

  it('follows an atomic ConfigMap update (the ..data symlink swapped), without polling', async () => {
    const volume = await configMapVolume('configmap', good);
    const l = listen();
    const engine = await start({ path: volume.path, pollIntervalMs: 0, ...l.opts });
    expect(engine.version).toBe(goodVersion);

    await volume.swap(tighter);
    await l.until('the reload', () => l.reloads.length === 1);
    expect(l.reloads).toEqual([tighterVersion]);
    expect(engine.version).toBe(tighterVersion);
    const d = await engine.evaluate(example);
    expect(d.policy_version).toBe(tighterVersion);
    expect(d.verdict).toBe('require_approval');
    expect(l.errors).toEqual([]);

    // And back: every update is followed, not just the first.
    await volume.swap(good);
    await l.until('the second reload', () => l.reloads.length === 2);
    expect(engine.version).toBe(goodVersion);
    expect((await engine.evaluate(example)).verdict).toBe('allow');
  });

  it('refuses a broken bundle in a ConfigMap update, keeps the previous one in force, and takes the next good one', async () => {
    const volume = await configMapVolume('configmap-broken', good);
    const l = listen();
    const engine = await start({ path: volume.path, pollIntervalMs: 0, ...l.opts });

    await volume.swap(garbage);
    await l.until('the refusal', () => l.errors.length === 1);
    const [err] = l.errors;
    expect(err!.code).toBe('policy_unavailable');
    expect(err!.message).toMatch(/^refused the new policy bundle at .*bundle\.tar\.gz: policy_unavailable: the policy bundle .* is not a readable tar\.gz: .*; version [0-9a-f]{12} stays in force$/);
    expect(err!.details?.['version_in_force']).toBe(goodVersion);
    expect(l.reloads).toEqual([]);
    expect(engine.version).toBe(goodVersion);
    expect(await engine.evaluate(example)).toMatchObject({ verdict: 'allow', policy_version: goodVersion });

    await volume.swap(tighter);
    await l.until('the reload', () => l.reloads.length === 1);
    expect(engine.version).toBe(tighterVersion);
  });

  it('falls back to polling when watching is not available, and reports a broken file once', async () => {
    const file = await plainFile('polled', good);
    const l = listen();
    const engine = await start({ path: file.path, watch: false, pollIntervalMs: 40, ...l.opts });

    await file.replace(garbage);
    await l.until('the refusal', () => l.errors.length === 1);
    await new Promise((r) => setTimeout(r, 300)); // several polls of the same broken file
    expect(l.errors).toHaveLength(1);
    expect(engine.version).toBe(goodVersion);

    await file.replace(tighter);
    await l.until('the reload', () => l.reloads.length === 1);
    expect(engine.version).toBe(tighterVersion);
  });

  it('reports a missing file once and keeps deciding', async () => {
    const file = await plainFile('vanishing', good);
    const l = listen();
    const engine = await start({ path: file.path, watch: false, pollIntervalMs: 0, ...l.opts });
    await rm(file.path);
    expect(await engine.reload()).toBe(false);
    expect(await engine.reload()).toBe(false);
    expect(l.errors).toHaveLength(1);
    expect(l.errors[0]!.message).toMatch(/the bundle file cannot be read/);
    expect((await engine.evaluate(example)).policy_version).toBe(goodVersion);
    await file.replace(tighter);
    expect(await engine.reload()).toBe(true);
    expect(engine.version).toBe(tighterVersion);
  });

  it('does nothing for a file that changed but holds the same bundle', async () => {
    const file = await plainFile('same', good);
    const l = listen();
    const engine = await start({ path: file.path, watch: false, pollIntervalMs: 0, ...l.opts });
    await file.replace(good);
    expect(await engine.reload()).toBe(false);
    expect(l.reloads).toEqual([]);
    expect(l.errors).toEqual([]);
  });

  it('shares one reload between concurrent callers', async () => {
    const file = await plainFile('concurrent', good);
    let loads = 0;
    const engine = await start({
      path: file.path, watch: false, pollIntervalMs: 0,
      load: async (p) => {
        loads += 1;
        return WasmPolicyEngine.fromBundle(p);
      },
    });
    await file.replace(tighter);
    const results = await Promise.all([engine.reload(), engine.reload(), engine.reload()]);
    expect(results).toEqual([true, true, true]);
    expect(loads).toBe(2); // the open, and one reload
  });

  it('stops following the file after close(), and keeps the bundle in force', async () => {
    const volume = await configMapVolume('closed', good);
    const l = listen();
    const engine = await start({ path: volume.path, pollIntervalMs: 20, ...l.opts });
    engine.close();
    await volume.swap(tighter);
    await new Promise((r) => setTimeout(r, 300));
    expect(l.reloads).toEqual([]);
    expect(await engine.reload()).toBe(false);
    expect((await engine.evaluate(example)).policy_version).toBe(goodVersion);
  });

  it('refuses a bundle changed after signing, or signed by another key, like a broken one; the signed one stays in force', async () => {
    const files = await bundleFiles(tmp.dir);
    const data = JSON.parse(files['data.json']!.toString('utf8')) as { autonomy: { supervised_actions: string[] } };
    // What an attacker with write access to the bundle wants: no action supervised any more.
    data.autonomy.supervised_actions = [];
    const edited = await readFile(await writeBundle(tmp.dir, 'edited-after-signing', { ...files, 'data.json': JSON.stringify(data) }, false));
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { '.signatures.json': _dropped, ...unsigned } = files;
    const foreign = await readFile(await writeBundle(tmp.dir, 'signed-by-another-key', unsigned, otherKey));
    const volume = await configMapVolume('configmap-tampered', good);
    const l = listen();
    const engine = await start({ path: volume.path, pollIntervalMs: 0, ...l.opts });

    await volume.swap(edited);
    await l.until('the refusal', () => l.errors.length === 1);
    expect(l.errors[0]!.message).toMatch(/^refused the new policy bundle at .*: policy_unavailable: the policy bundle .* holds data\.json changed after signing \(digest [0-9a-f]{64}, signed [0-9a-f]{64}\); version [0-9a-f]{12} stays in force$/);
    await volume.swap(foreign);
    await l.until('the second refusal', () => l.errors.length === 2);
    expect(l.errors[1]!.message).toMatch(/is not signed by the policy public key/);
    expect(l.reloads).toEqual([]);
    expect(engine.version).toBe(goodVersion);
    expect(await engine.evaluate(example)).toMatchObject({ verdict: 'allow', policy_version: goodVersion });
  });

  it('will not open on a bundle signed by another key than the one it is given, and opens with that one', async () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { '.signatures.json': _dropped, ...files } = await bundleFiles(tmp.dir);
    const file = await plainFile('own-key', await readFile(await writeBundle(tmp.dir, 'own-key', files, otherKey.privateKey)));
    await expect(ReloadingPolicyEngine.open({ path: file.path })).rejects.toThrow(/is not signed by the policy public key/);
    const engine = await start({ path: file.path, publicKey: otherKey.publicKey, watch: false, pollIntervalMs: 0 });
    expect(engine.version).toBe(goodVersion);
    // And then the development-signed bundle is the foreign one.
    await expect(ReloadingPolicyEngine.open({ path: DEFAULT_BUNDLE_PATH, publicKey: otherKey.publicKey })).rejects.toThrow(/not signed by the policy public key/);
  });

  it('says which path it cannot read when the bundle is missing at start, in one sentence', async () => {
    const err = await ReloadingPolicyEngine.open({ path: join(tmp.dir, 'no', 'bundle.tar.gz') }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'policy_unavailable', message: expect.stringMatching(/^cannot read the policy bundle .*no\/bundle\.tar\.gz: ENOENT/) });
  });

  it('will not open on a broken bundle: there is nothing to fall back on', async () => {
    const file = await plainFile('broken-from-the-start', garbage);
    const err = await ReloadingPolicyEngine.open({ path: file.path }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GovernorError);
    expect((err as GovernorError).code).toBe('policy_unavailable');
    expect((err as GovernorError).message).toMatch(/not a readable tar\.gz/);
  });
});

describe('canaries: a bundle must answer well before it decides anything', () => {
  /** An engine that answers `verdict` to everything, or throws, or answers malformed. */
  function fake(version: string, answer: (input: PolicyInput) => PolicyDecision): PolicyEngine {
    return { version, evaluate: async (input) => answer(input) };
  }

  /** Opens on the real bundle, then offers `bad` as the next one. */
  async function refusalOf(bad: PolicyEngine): Promise<GovernorError> {
    const file = await plainFile(`canary-${bad.version}`, good);
    const l = listen();
    let opened = false;
    const engine = await start({
      path: file.path, watch: false, pollIntervalMs: 0, ...l.opts,
      load: async (p) => (opened ? bad : WasmPolicyEngine.fromBundle(p)),
    });
    opened = true;
    await file.replace(tighter);
    expect(await engine.reload()).toBe(false);
    expect(engine.version).toBe(goodVersion);
    expect(l.reloads).toEqual([]);
    expect(l.errors).toHaveLength(1);
    return l.errors[0]!;
  }

  it('refuses a bundle that allows what every sound bundle denies', async () => {
    const err = await refusalOf(fake('allow-all', () => ({ verdict: 'allow', violations: [], policy_version: 'allow-all' })));
    expect(err.message).toMatch(/answers allow to the canary input \(a 10x scale-up \(safety limit\)\), which a sound bundle answers deny/);
  });

  it('refuses a bundle that ignores change freezes', async () => {
    const err = await refusalOf(
      fake('no-freeze', (input) => ({
        verdict: (input.proposal.params['to_replicas'] as number) > 12 ? 'deny' : 'allow',
        violations: [],
        policy_version: 'no-freeze',
      })),
    );
    expect(err.message).toMatch(/canary input \(a scale-up during a change freeze\)/);
  });

  it('refuses a bundle that fails to evaluate', async () => {
    const err = await refusalOf(
      fake('throws', () => {
        throw new GovernorError('policy_unavailable', 'the policy returned a malformed decision');
      }),
    );
    expect(err.message).toMatch(/fails on the canary input \(the DESIGN §5 example\): policy_unavailable: the policy returned a malformed decision/);
  });

  it('the real bundle passes them', async () => {
    const file = await plainFile('canary-real', good);
    const l = listen();
    const engine = await start({ path: file.path, watch: false, pollIntervalMs: 0, ...l.opts });
    await file.replace(tighter);
    expect(await engine.reload()).toBe(true);
    expect(l.reloads).toEqual([tighterVersion]);
  });
});
