// The autonomy manager: makes a change of autonomy hold in every process, and keeps this process's
// view of the levels current. A change (phase, `/agents-level`, pause, resume, demotion) is stored in
// PostgreSQL first (the source of truth), applied here at once, recorded in the audit log and
// broadcast on the bus as a `control` event through the outbox. Every process has its own consumer
// group on the control stream, so every process hears every change; a process that missed one (a gap
// in epochs, a restart) reloads from PostgreSQL, and reloads periodically anyway. A pause is also
// written to shared state as the pause epoch, which MCP servers and executors check on every grant.
// It must never let a view rise above what the store says, start without loading the store, or lift
// a pause or a demotion on anything but a human's word.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { EVENT_VERSION, STREAMS, type AgentName, type Control } from '../contracts/events.ts';
import type { BusMessage, EventBus, Subscription } from '../bus/event-bus.ts';
import type { Phase } from '../config.ts';
import type { Clock } from '../core/clock.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { Logger } from '../core/logger.ts';
import { publishEvent, type Recorder } from '../audit/recorder.ts';
import {
  AutonomyLevels,
  MAX_LEVEL,
  capLevel,
  isAgentName,
  type AgentAutonomy,
  type AutonomyChange,
  type AutonomyChangeKind,
  type Level,
} from './autonomy.ts';
import type { AutonomyStore, NewAutonomyChange } from './autonomy-store.ts';
import type { PauseEpochReader, PauseEpochWriter } from './pause-epoch.ts';

/** Who made a change: a Slack user, `config` (the phase file), `agent-health`. */
export interface Actor {
  id: string;
  name?: string;
}

export interface AutonomyManagerDeps {
  store: AutonomyStore;
  recorder: Recorder;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  /** The phase in force while the store holds no phase change yet (config GOVERNOR_PHASE). */
  defaultPhase: Phase;
  /** Where a pause is written for MCP servers and executors (SharedStatePauseEpoch). */
  pauseEpoch?: PauseEpochWriter;
  /** Names this process's view: its consumer group on the control stream. Unique per process. */
  viewId?: string;
  /** Run-clock ms between full reloads from the store; 0 disables. Default 30 s. */
  reloadEveryMs?: number;
}

export interface LevelChangeResult {
  change: AutonomyChange;
  requested: Level;
  /** True when the request was above the agent's maximum and the maximum was set instead. */
  capped: boolean;
}

const COMMAND: Readonly<Record<AutonomyChangeKind, Control['command']>> = {
  phase: 'set_phase',
  level: 'set_level',
  promotion: 'promote',
  pause: 'pause',
  resume: 'resume',
  demotion: 'demote',
};
const KIND = Object.fromEntries(Object.entries(COMMAND).map(([k, c]) => [c, k])) as Record<Control['command'], AutonomyChangeKind>;

/** Changes applied from broadcasts, kept to be re-applied over a reload that raced them. */
const RECENT = 64;

export class AutonomyManager implements PauseEpochReader {
  /** This process's view: what the gateway reads (`level(agent)`). Kept current by this manager. */
  readonly levels: AutonomyLevels;
  readonly viewId: string;
  private sub: Subscription | undefined;
  private cancelTimer: (() => void) | undefined;
  private reloads: Promise<void> = Promise.resolve();
  private recent: AutonomyChange[] = [];
  private started = false;
  private stopped = false;

  constructor(private readonly deps: AutonomyManagerDeps) {
    this.levels = new AutonomyLevels(deps.defaultPhase);
    this.viewId = deps.viewId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  /** Loads the levels from the store (throws if it cannot: no view is better than a wrong one), then listens. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.reload();
    this.started = true;
    this.sub = this.deps.bus.subscribe(
      STREAMS.control,
      { group: `autonomy-view-${this.viewId}`, consumer: this.viewId, blockMs: 1000 },
      (m) => this.onMessage(m),
    );
    this.scheduleReload();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    await this.sub?.stop();
    await this.reloads;
  }

  level(agent: AgentName): Level {
    return this.levels.level(agent);
  }

  status(agent: AgentName): AgentAutonomy {
    return this.levels.status(agent);
  }

  statuses(): AgentAutonomy[] {
    return this.levels.statuses();
  }

  get phase(): Phase {
    return this.levels.phase;
  }

  async latestPauseMs(): Promise<number | null> {
    return this.levels.pausedAtMs;
  }

  /** Records a new deployment phase; null when it is already in force. */
  async setPhase(phase: Phase, by: Actor, reason?: string): Promise<AutonomyChange | null> {
    if (phase === this.levels.phase && this.levels.phaseRecorded) return null;
    return this.commit({ kind: 'phase', phase, agent: null, level: null, reason: reason ?? null }, by);
  }

  /**
   * A human sets one agent's level. Capped at the agent's maximum; lifts a pause or demotion of
   * that agent (recorded as a promotion when it does).
   */
  async setLevel(agent: string, level: number, by: Actor, reason?: string): Promise<LevelChangeResult> {
    if (!isAgentName(agent)) throw new GovernorError('not_found', `no agent named '${agent}'`);
    if (level !== 1 && level !== 2 && level !== 3) throw new GovernorError('config_invalid', `level must be 1, 2 or 3, not ${level}`);
    const capped = capLevel(agent, level);
    const held = this.levels.status(agent).hold !== null;
    const change = await this.commit(
      { kind: held && capped > 1 ? 'promotion' : 'level', agent, level: capped, phase: null, reason: reason ?? null },
      by,
    );
    return { change, requested: level, capped: capped < level };
  }

  /** Every agent to level 1, in every process; grants issued until now are void. */
  pause(by: Actor, reason?: string): Promise<AutonomyChange> {
    return this.commit({ kind: 'pause', agent: null, level: null, phase: null, reason: reason ?? null }, by);
  }

  /** Lifts the pause for every agent not demoted; null when nothing is paused. */
  async resume(by: Actor, reason?: string): Promise<AutonomyChange | null> {
    if (!this.levels.statuses().some((s) => s.hold?.kind === 'pause')) return null;
    return this.commit({ kind: 'resume', agent: null, level: null, phase: null, reason: reason ?? null }, by);
  }

  /** Holds one agent at level 1 until a human sets its level; null when it is already demoted. */
  async demote(agent: AgentName, reason: string, by: Actor = { id: 'agent-health' }): Promise<AutonomyChange | null> {
    if (this.levels.status(agent).hold?.kind === 'demotion') return null;
    return this.commit({ kind: 'demotion', agent, level: 1, phase: null, reason }, by);
  }

  /** Rebuilds the view from the store (and re-asserts the pause epoch in shared state). */
  reload(): Promise<void> {
    const run = this.reloads.then(() => this.reloadNow());
    this.reloads = run.catch(() => undefined);
    return run;
  }

  async onMessage(msg: BusMessage): Promise<void> {
    const e = msg.event;
    if (e.type !== 'control') return;
    if (e.epoch !== undefined && e.epoch <= this.levels.epoch) return;
    const change = e.epoch === this.levels.epoch + 1 ? changeFromControl(e) : undefined;
    if (change) {
      this.applyLocally(change);
      this.deps.logger.info({ agent: change.agent ?? undefined, epoch: change.epoch, kind: change.kind }, `autonomy: ${describeChange(change)}`);
      return;
    }
    // A gap, or an event that does not say where it belongs: the store knows.
    await this.reload();
  }

  private async commit(input: Omit<NewAutonomyChange, 'at' | 'actor'>, by: Actor): Promise<AutonomyChange> {
    const change = await this.deps.store.append({ ...input, at: new Date(this.deps.clock.now()).toISOString(), actor: by.id });
    if (change.epoch === this.levels.epoch + 1) this.applyLocally(change);
    else await this.reload();
    this.deps.logger.info({ agent: change.agent ?? undefined, epoch: change.epoch, actor: by.id }, `autonomy: ${describeChange(change)}`);

    const event: Control = {
      id: newId(),
      v: EVENT_VERSION,
      ts: change.at,
      type: 'control',
      command: COMMAND[change.kind],
      ...(change.agent ? { agent: change.agent } : {}),
      ...(change.level ? { level: change.level } : {}),
      ...(change.phase ? { phase: change.phase } : {}),
      epoch: change.epoch,
      actor: change.actor,
      ...(change.reason ? { reason: change.reason } : {}),
    };
    const writes = await Promise.allSettled([
      publishEvent<'control'>(this.deps.recorder, event, { change, by, phase: this.levels.phase, levels: this.levels.snapshot() }),
      change.kind === 'pause' && this.deps.pauseEpoch ? this.deps.pauseEpoch.recordPause(Date.parse(change.at)) : Promise.resolve(),
    ]);
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) {
      // The change is stored and in force here; others converge on their next reload.
      throw new GovernorError(
        'audit_unavailable',
        `${describeChange(change)} is stored and in force in this process, but could not be audited or broadcast: ${describeError(failed.reason)}`,
        // `stored`: the change itself happened; whoever reports it must not say it did not.
        { retryable: true, cause: failed.reason, details: { stored: true } },
      );
    }
    return change;
  }

  private applyLocally(change: AutonomyChange): void {
    this.levels.apply(change);
    this.recent.push(change);
    if (this.recent.length > RECENT) this.recent.shift();
  }

  private async reloadNow(): Promise<void> {
    const changes = await this.deps.store.list();
    this.levels.reset(this.deps.defaultPhase, changes);
    // Applied from a broadcast while the store was being read, and committed after the read began.
    for (const c of this.recent.filter((r) => r.epoch > this.levels.epoch).sort((a, b) => a.epoch - b.epoch)) {
      if (c.epoch === this.levels.epoch + 1) this.levels.apply(c);
    }
    this.recent = [];
    const pausedAt = this.levels.pausedAtMs;
    if (pausedAt !== null && this.deps.pauseEpoch) {
      // Keeps the epoch in shared state even if Redis lost it (restart, eviction, key expiry).
      await this.deps.pauseEpoch.recordPause(pausedAt).catch((err: unknown) =>
        this.deps.logger.warn({ err: describeError(err) }, 'autonomy: could not re-assert the pause epoch in shared state'),
      );
    }
  }

  private scheduleReload(): void {
    const every = this.deps.reloadEveryMs ?? 30_000;
    if (every <= 0 || this.stopped) return;
    this.cancelTimer = this.deps.clock.setTimer(every, () => {
      if (this.stopped) return;
      this.reload()
        .catch((err: unknown) => this.deps.logger.warn({ err: describeError(err) }, 'autonomy: periodic reload failed; keeping the current view'))
        .finally(() => this.scheduleReload());
    });
  }
}

/** The change a control event carries, when it carries a complete one. */
export function changeFromControl(e: Control): AutonomyChange | undefined {
  if (e.epoch === undefined) return undefined;
  const kind = KIND[e.command];
  const change: AutonomyChange = {
    epoch: e.epoch,
    at: e.ts,
    agent: e.agent ?? null,
    kind,
    level: (e.level ?? null) as Level | null,
    phase: e.phase ?? null,
    actor: e.actor,
    reason: e.reason ?? null,
  };
  const complete =
    kind === 'phase' ? change.phase !== null
    : kind === 'level' || kind === 'promotion' ? change.agent !== null && change.level !== null
    : kind === 'demotion' ? change.agent !== null
    : change.agent === null;
  return complete ? change : undefined;
}

/** One line an operator understands. */
export function describeChange(c: AutonomyChange): string {
  const why = c.reason ? ` (${c.reason})` : '';
  switch (c.kind) {
    case 'phase':
      return `phase set to ${c.phase} by ${c.actor}${why}`;
    case 'pause':
      return `every agent paused at level 1 by ${c.actor}${why}`;
    case 'resume':
      return `pause lifted by ${c.actor}${why}`;
    case 'demotion':
      return `${c.agent} demoted to level 1 by ${c.actor}${why}`;
    case 'level':
    case 'promotion':
      return `${c.agent} set to level ${c.level} (maximum ${MAX_LEVEL[c.agent!]}) by ${c.actor}${why}`;
  }
}
