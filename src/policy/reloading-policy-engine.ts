// A PolicyEngine that follows its bundle file: when the bundle changes (a file replaced in place, or
// a Kubernetes ConfigMap mount whose `..data` symlink kubelet swaps atomically), the new bundle is
// loaded, proven on canary inputs, and only then put in force; until that moment, and forever if it
// fails, the previous bundle keeps deciding. It must never leave the gateway without a policy, nor
// put in force a bundle it has not seen answer well, nor one whose signature does not hold: an
// unsigned or tampered bundle is refused like a broken one.
//
// Change detection: fs.watch on the bundle's directory (not the file: a ConfigMap update swaps a
// symlink two levels up and never touches the old file), debounced because one update is several
// events, plus a periodic stat as a fallback for file systems where watching misses things (network
// mounts, some container runtimes). Either one only leads to a reload when the file's identity
// (resolved path, inode, size, mtime) differs from the last one tried, so a broken bundle is
// reported once, not at every poll.
import type { KeyObject } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { GovernorError, describeError } from '../core/errors.ts';
import type { PolicyDecision, PolicyEngine, PolicyInput } from './policy-engine.ts';
import { DEFAULT_BUNDLE_PATH, WasmPolicyEngine } from './wasm-policy-engine.ts';

export interface Canary {
  name: string;
  input: PolicyInput;
  /** Verdicts a sound bundle may give; any decision that is well formed when absent. */
  verdicts?: readonly PolicyDecision['verdict'][];
}

export interface ReloadingPolicyEngineOptions {
  /** The bundle file (may be a symlink, as in a ConfigMap mount). */
  path?: string;
  /** Quiet time after the last file event before reloading. */
  debounceMs?: number;
  /** How often the file is stat'ed in case watching missed a change; 0 turns polling off. */
  pollIntervalMs?: number;
  /** Watch the directory for changes (default true); false leaves only the polling. */
  watch?: boolean;
  /** A new bundle was put in force. */
  onReload?: (version: string) => void;
  /** A new bundle was refused; the previous one stays in force. */
  onReloadError?: (err: GovernorError) => void;
  /** The key every bundle must be signed for; the committed development key by default. */
  publicKey?: KeyObject;
  /** How a bundle is loaded (tests inject failures); WasmPolicyEngine.fromBundle with `publicKey` by default. */
  load?: (path: string) => Promise<PolicyEngine>;
  /** What a new bundle must answer before it is trusted; CANARIES by default. */
  canaries?: readonly Canary[];
}

const base = (): PolicyInput => ({
  proposal: {
    id: 'canary',
    agent: 'elastik',
    tenant: 'canary',
    namespace: 'canary-prod',
    action: 'scale_deployment',
    target: { kind: 'Deployment', name: 'canary' },
    params: { from_replicas: 8, to_replicas: 12 },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 10 },
  },
  context: {
    now: '2026-11-24T10:00:00Z',
    agent_level: 3,
    environment: 'production',
    change_freeze: false,
    active_freezes: [],
    seconds_since_last_scale: 900,
    seconds_since_last_action: {},
    in_flight_actions: 0,
    tenant: { tier: 'enterprise', burn_rate: 0.5, max_replicas: 40, monthly_budget_usd: 20000, month_to_date_usd: 9000 },
    estimated_monthly_cost_delta_usd: 1200,
  },
});

/**
 * The built-in canaries: the DESIGN §5 example must get a well-formed decision, and two proposals
 * that every sound bundle denies (a 10x scale-up, a hard safety limit; a change during a freeze)
 * must be denied. A bundle that answers "allow" to everything, or nothing at all, never goes live.
 */
export const CANARIES: readonly Canary[] = [
  { name: 'the DESIGN §5 example', input: base() },
  {
    name: 'a 10x scale-up (safety limit)',
    input: { ...base(), proposal: { ...base().proposal, params: { from_replicas: 2, to_replicas: 20 } } },
    verdicts: ['deny'],
  },
  {
    name: 'a scale-up during a change freeze',
    input: {
      ...base(),
      context: { ...base().context, change_freeze: true, active_freezes: [{ name: 'canary', until: '2026-11-25T00:00:00.000Z', scope: 'global' }] },
    },
    verdicts: ['deny'],
  },
];

interface Identity {
  key: string;
}

export class ReloadingPolicyEngine implements PolicyEngine {
  private current: PolicyEngine;
  private lastTried: string;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<boolean> | undefined;
  private again = false;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly opts: ReloadingPolicyEngineOptions,
    initial: PolicyEngine,
    identity: Identity,
  ) {
    this.current = initial;
    this.lastTried = identity.key;
  }

  /**
   * Loads and checks the bundle, then starts watching it. The first bundle has nothing to fall back
   * on, so a bad one is thrown (policy_unavailable), not reported.
   */
  static async open(opts: ReloadingPolicyEngineOptions = {}): Promise<ReloadingPolicyEngine> {
    const path = resolve(opts.path ?? DEFAULT_BUNDLE_PATH);
    let identity: Identity;
    try {
      identity = await identify(path);
    } catch (err) {
      throw new GovernorError('policy_unavailable', `cannot read the policy bundle ${path}: ${describeError(err)}`, { cause: err });
    }
    const engine = await loadChecked(path, opts);
    const reloading = new ReloadingPolicyEngine(path, opts, engine, identity);
    reloading.start();
    return reloading;
  }

  /** The version of the bundle in force; every decision carries the version that made it. */
  get version(): string {
    return this.current.version;
  }

  evaluate(input: PolicyInput): Promise<PolicyDecision> {
    // One engine for the whole evaluation: a swap in between cannot mix two bundles.
    return this.current.evaluate(input);
  }

  /**
   * Reloads now if the file changed since the last attempt (`force`: even if it did not). Resolves
   * true when a new bundle went into force. Concurrent calls share one reload.
   */
  async reload(force = false): Promise<boolean> {
    if (this.closed) return false;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let swapped = false;
      try {
        do {
          this.again = false;
          swapped = (await this.tryReload(force)) || swapped;
        } while (this.again && !this.closed);
      } finally {
        this.running = undefined;
      }
      return swapped;
    })();
    return this.running;
  }

  /** Stops watching. The bundle in force keeps deciding; it just no longer changes. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private start(): void {
    const dir = dirname(this.path);
    if (this.opts.watch !== false) this.watchDirectory(dir);
    const every = this.opts.pollIntervalMs ?? 5_000;
    if (every > 0) {
      this.poller = setInterval(() => void this.reload(), every);
      this.poller.unref();
    }
  }

  private watchDirectory(dir: string): void {
    try {
      this.watcher = watch(dir, { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => {
        // Watching is an optimisation; the periodic stat still sees changes.
        this.report(new GovernorError('policy_unavailable', `watching ${dir} for policy bundle changes failed (${describeError(err)}); falling back to polling`, { cause: err }));
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.report(new GovernorError('policy_unavailable', `cannot watch ${dir} for policy bundle changes (${describeError(err)}); falling back to polling`, { cause: err }));
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.opts.debounceMs ?? 200);
    this.debounce.unref();
  }

  private async tryReload(force: boolean): Promise<boolean> {
    let identity: Identity;
    try {
      identity = await identify(this.path);
    } catch (err) {
      // Mid-swap, or removed: keep what is in force, say so once per state.
      const key = `missing:${describeError(err)}`;
      if (key !== this.lastTried) {
        this.lastTried = key;
        this.report(refused(this.path, this.current.version, `the bundle file cannot be read: ${describeError(err)}`, err));
      }
      return false;
    }
    if (!force && identity.key === this.lastTried) return false;
    this.lastTried = identity.key;

    let next: PolicyEngine;
    try {
      next = await loadChecked(this.path, this.opts);
    } catch (err) {
      this.report(refused(this.path, this.current.version, describeError(err), err));
      return false;
    }
    if (this.closed || next.version === this.current.version) return false;
    this.current = next;
    try {
      this.opts.onReload?.(next.version);
    } catch {
      // A failing listener must not undo a good reload.
    }
    return true;
  }

  private report(err: GovernorError): void {
    try {
      this.opts.onReloadError?.(err);
    } catch {
      // A failing listener changes nothing about which bundle is in force.
    }
  }
}

/** Loads the bundle and proves it on the canaries; throws policy_unavailable if it fails any. */
async function loadChecked(path: string, opts: ReloadingPolicyEngineOptions): Promise<PolicyEngine> {
  const engine = await (opts.load ?? ((p: string) => WasmPolicyEngine.fromBundle(p, opts.publicKey ? { publicKey: opts.publicKey } : {})))(path);
  for (const canary of opts.canaries ?? CANARIES) {
    let decision: PolicyDecision;
    try {
      decision = await engine.evaluate(canary.input);
    } catch (err) {
      throw new GovernorError('policy_unavailable', `the policy bundle ${path} fails on the canary input (${canary.name}): ${describeError(err)}`, { cause: err });
    }
    if (canary.verdicts && !canary.verdicts.includes(decision.verdict)) {
      throw new GovernorError(
        'policy_unavailable',
        `the policy bundle ${path} answers ${decision.verdict} to the canary input (${canary.name}), which a sound bundle answers ${canary.verdicts.join(' or ')}`,
      );
    }
  }
  return engine;
}

/** What the file is now: its resolved target (a ConfigMap swap changes it), inode, size and mtime. */
async function identify(path: string): Promise<Identity> {
  const target = await realpath(path);
  const s = await stat(target);
  return { key: `${target}:${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}` };
}

function refused(path: string, inForce: string, reason: string, cause: unknown): GovernorError {
  return new GovernorError('policy_unavailable', `refused the new policy bundle at ${path}: ${reason}; version ${inForce.slice(0, 12)} stays in force`, {
    cause,
    details: { path, version_in_force: inForce, file: basename(path) },
  });
}
