// The deployment phase from a small watched file (`config/governor.json`: `{ "phase": "govern" }`;
// in a cluster, a ConfigMap mounted from a Helm values override). A change applies without a
// restart: the new phase is recorded and broadcast by the autonomy manager. A file that does not
// parse or names no valid phase is refused with a clear error and the phase in force stays; a
// missing file changes nothing. Only the process that owns the configuration (the one running the
// gateway) should watch it: other processes hear the phase from the bus.
// Watching uses fs.watch on the directory (ConfigMaps are updated by swapping a symlink, which a
// watch on the file itself would miss) and a slow poll underneath, since fs.watch is best effort.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** How long a bad-looking file is given to finish being written before it is reported. */
const SETTLE_MS = 50;
import { basename, dirname, resolve } from 'node:path';
import { z } from 'zod';
import { Phase } from '../config.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AutonomyChange } from './autonomy.ts';

export const DEFAULT_GOVERNOR_FILE = 'config/governor.json';

const GovernorFile = z
  .object({
    phase: Phase.describe('deployment phase: observe, advise, assist or govern'),
  })
  .passthrough();

/** Parses the file's text; throws `config_invalid` saying what is wrong, in words an operator understands. */
export function parsePhaseFile(text: string, path: string): z.infer<typeof Phase> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GovernorError('config_invalid', `${path} is not valid JSON (${describeError(err)}); the phase in force stays`);
  }
  const res = GovernorFile.safeParse(value);
  if (!res.success) {
    const problems = res.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.path[0] === 'phase' ? "must be one of 'observe', 'advise', 'assist', 'govern'" : i.message}`)
      .join('; ');
    throw new GovernorError('config_invalid', `${path} is refused: ${problems}; the phase in force stays`);
  }
  return res.data.phase;
}

export interface PhaseTarget {
  readonly phase: z.infer<typeof Phase>;
  setPhase(phase: z.infer<typeof Phase>, by: { id: string }, reason?: string): Promise<AutonomyChange | null>;
}

export interface PhaseFileWatcherOptions {
  path: string;
  target: PhaseTarget;
  logger: Logger;
  /** Real ms between polls under the file watch. Default 2000. */
  pollMs?: number;
  /** Told about every refused version of the file (once per distinct content). */
  onInvalid?: (err: GovernorError) => void;
}

export type PhaseCheck =
  | { status: 'applied'; phase: z.infer<typeof Phase>; change: AutonomyChange | null }
  | { status: 'unchanged' }
  | { status: 'missing' }
  | { status: 'invalid'; error: GovernorError };

export class PhaseFileWatcher {
  private readonly path: string;
  private lastText: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<PhaseCheck> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly opts: PhaseFileWatcherOptions) {
    this.path = resolve(opts.path);
  }

  /** Applies the file as it is now, then watches it. Resolves with what the first read found. */
  async start(): Promise<PhaseCheck> {
    const first = await this.check();
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(this.path) || name.startsWith('..')) this.kick();
      });
      this.watcher.on('error', (err) => this.opts.logger.warn({ err: err.message, path: this.path }, 'phase file: watch failed; polling only'));
    } catch (err) {
      this.opts.logger.warn({ err: describeError(err), path: this.path }, 'phase file: cannot watch the directory; polling only');
    }
    this.poll();
    return first;
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    clearTimeout(this.timer);
  }

  /** Reads the file and applies its phase if it changed. Never throws for a bad file. */
  check(): Promise<PhaseCheck> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = this.checkNow().finally(() => {
      this.checking = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
    return this.checking;
  }

  private kick(): void {
    void this.check().catch((err: unknown) => this.opts.logger.error({ err: describeError(err), path: this.path }, 'phase file: applying the phase failed'));
  }

  private poll(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.kick();
      this.poll();
    }, this.opts.pollMs ?? 2000);
    this.timer.unref();
  }

  private async checkNow(): Promise<PhaseCheck> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      throw err;
    }
    if (text === this.lastText) return { status: 'unchanged' };
    let phase: z.infer<typeof Phase>;
    try {
      phase = parsePhaseFile(text, this.opts.path);
    } catch (first) {
      // An editor writing in place can be caught halfway: read once more after a moment, and only
      // report content that is still bad.
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const again = await readFile(this.path, 'utf8').catch(() => text);
      if (again !== text) return this.checkNow();
      const err = first;
      const error = err instanceof GovernorError ? err : new GovernorError('config_invalid', describeError(err));
      // Remembered, so the same bad content is reported once, not on every poll.
      this.lastText = text;
      this.opts.logger.error({ path: this.path, phase_in_force: this.opts.target.phase }, error.message);
      this.opts.onInvalid?.(error);
      return { status: 'invalid', error };
    }
    // Applied before it is remembered: a failed write is tried again on the next poll.
    const change = await this.opts.target.setPhase(phase, { id: 'config' }, `${this.opts.path} says phase '${phase}'`);
    this.lastText = text;
    if (change) this.opts.logger.info({ path: this.path, phase }, `phase file: phase '${phase}' in force`);
    return { status: 'applied', phase, change };
  }
}
