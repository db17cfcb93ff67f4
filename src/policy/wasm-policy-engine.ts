// The real PolicyEngine: the OPA bundle compiled to Wasm (policies/bundle.tar.gz, built and signed
// by scripts/build-policy.sh), evaluated in-process with @open-policy-agent/opa-wasm. It must never
// invent a verdict: input it cannot validate is `policy_invalid`, and an answer it cannot read, or a
// bundle it cannot load, is `policy_unavailable`. The gateway turns both into a deny. It must never
// load a bundle whose signature does not hold for the policy public key (bundle-signature.ts).
import { createHash, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { Parser, type ReadEntry } from 'tar';
import { z } from 'zod';
import { Verdict, Violation } from '../contracts/events.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { PolicyInput, type PolicyDecision, type PolicyEngine } from './policy-engine.ts';
import { openPolicyPublicKey, verifyBundleSignature } from './bundle-signature.ts';

export const DEFAULT_BUNDLE_PATH = fileURLToPath(new URL('../../policies/bundle.tar.gz', import.meta.url));

/** The bundle's only entrypoint: `decision` in package governor.decision. */
export const ENTRYPOINT = 'governor/decision/decision';

const WASM_FILE = 'policy.wasm';
const DATA_FILE = 'data.json';

/** What the entrypoint returns; the engine adds policy_version. */
const RegoDecision = z.object({ verdict: Verdict, violations: z.array(Violation) });

/**
 * The identity of a compiled bundle: sha256 (hex) over two lines,
 * `policy.wasm <sha256 hex of policy.wasm>\n` and `data.json <sha256 hex of data.json>\n`.
 * It depends only on what is evaluated, not on the tar's metadata or Rego comments, and the build
 * script computes the same value with sha256sum (`scripts/build-policy.sh` prints it).
 */
export function bundleVersion(wasm: Uint8Array, data: Uint8Array): string {
  const lines = `${WASM_FILE} ${sha256(wasm)}\n${DATA_FILE} ${sha256(data)}\n`;
  return sha256(Buffer.from(lines, 'utf8'));
}

export class WasmPolicyEngine implements PolicyEngine {
  private constructor(
    private readonly policy: LoadedPolicy,
    readonly version: string,
  ) {}

  /**
   * Loads a bundle built by `opa build -t wasm -e governor/decision/decision --signing-key …`, once
   * its signature holds for `publicKey` (the committed development key when absent).
   */
  static async fromBundle(path: string = DEFAULT_BUNDLE_PATH, opts: { publicKey?: KeyObject } = {}): Promise<WasmPolicyEngine> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw unavailable(`cannot read the policy bundle ${path}: ${describeError(err)}`, err);
    }
    const files = await readBundle(bytes, path);
    // Before anything in it is parsed or instantiated.
    verifyBundleSignature(files, opts.publicKey ?? openPolicyPublicKey().key, path);
    const wasm = files.get(WASM_FILE);
    const dataBytes = files.get(DATA_FILE);
    if (!wasm || !dataBytes) {
      const missing = [WASM_FILE, DATA_FILE].filter((f) => !files.has(f)).join(' and ');
      throw unavailable(`the policy bundle ${path} has no ${missing}: rebuild it with npm run policy:build`);
    }

    let data: unknown;
    try {
      data = JSON.parse(dataBytes.toString('utf8'));
    } catch (err) {
      throw unavailable(`the policy bundle ${path} has an unreadable ${DATA_FILE}: ${describeError(err)}`, err);
    }
    let policy: LoadedPolicy;
    try {
      policy = await loadPolicy(wasm);
      policy.setData(data as object);
    } catch (err) {
      throw unavailable(`the policy bundle ${path} has a ${WASM_FILE} that does not load: ${describeError(err)}`, err);
    }
    const entrypoints = Object.keys((policy.entrypoints ?? {}) as Record<string, number>);
    if (!entrypoints.includes(ENTRYPOINT)) {
      throw unavailable(`the policy bundle ${path} has no ${ENTRYPOINT} entrypoint (it has: ${entrypoints.join(', ') || 'none'})`);
    }
    return new WasmPolicyEngine(policy, bundleVersion(wasm, dataBytes));
  }

  async evaluate(input: PolicyInput): Promise<PolicyDecision> {
    const parsed = PolicyInput.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new GovernorError('policy_invalid', `policy input rejected: ${problems.join('; ')}`, {
        retryable: false,
        details: { problems },
      });
    }

    let resultSet: unknown;
    try {
      // The input as given, not zod's copy: the contract lets fields be added, and a policy that
      // reads a new field must see it, as must the audit record of the input.
      resultSet = this.policy.evaluate(input, ENTRYPOINT);
    } catch (err) {
      // Wasm evaluation is deterministic: the same input fails the same way, so no retry.
      throw unavailable(`policy evaluation failed: ${describeError(err)}`, err);
    }

    const results = Array.isArray(resultSet) ? resultSet : [];
    if (results.length !== 1 || typeof results[0] !== 'object' || results[0] === null || !('result' in results[0])) {
      throw unavailable(`the policy returned no decision (result set: ${preview(resultSet)}); failing closed`);
    }
    const decision = RegoDecision.safeParse((results[0] as { result: unknown }).result);
    if (!decision.success) {
      const problems = decision.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw unavailable(`the policy returned a malformed decision (${problems}); failing closed`);
    }
    return { verdict: decision.data.verdict, violations: decision.data.violations, policy_version: this.version };
  }
}

/**
 * Every file of a .tar.gz (or plain .tar) bundle, by path without the leading `/`: all of them, since
 * the signature must cover each one. Anything but regular files and directories, a path that climbs
 * out, or a path present twice (a second copy appended to the tar would win) is refused.
 */
export async function readBundle(bytes: Buffer, path: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(err instanceof GovernorError ? err : unavailable(`the policy bundle ${path} is not a readable tar.gz: ${describeError(err)}`, err));
    };
    // strict: a damaged header or archive is an error, not a warning to skip past.
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        const name = entry.path.replace(/^\.?\/+/, '');
        if (entry.type === 'Directory') {
          entry.resume();
          return;
        }
        if (entry.type !== 'File' && entry.type !== 'OldFile') {
          entry.resume();
          return fail(unavailable(`the policy bundle ${path} holds ${name} of type ${entry.type}; a bundle holds regular files only`));
        }
        if (name === '' || name.split('/').includes('..') || files.has(name)) {
          entry.resume();
          return fail(unavailable(`the policy bundle ${path} holds ${name === '' ? 'a file without a name' : files.has(name) ? `${name} twice` : `${name}, a path outside the bundle`}`));
        }
        const chunks: Buffer[] = [];
        files.set(name, Buffer.alloc(0));
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => files.set(name, Buffer.concat(chunks)));
      },
    });
    parser.on('error', fail);
    parser.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(files);
    });
    try {
      parser.end(bytes);
    } catch (err) {
      fail(err);
    }
  });
}

function unavailable(message: string, cause?: unknown): GovernorError {
  return new GovernorError('policy_unavailable', message, { retryable: false, ...(cause === undefined ? {} : { cause }) });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
