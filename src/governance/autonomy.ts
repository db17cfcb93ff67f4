// Autonomy: how far each agent may act on its own. The maximum per agent is fixed by design
// (DESIGN §2); the current level follows the deployment phase, operators' `/agents-level`, pauses
// and demotions, and is never above the maximum. This module is the pure part: `AutonomyLevels`
// folds autonomy changes into current levels, with no I/O. Storing, broadcasting and reloading
// the changes is AutonomyManager's job (autonomy-manager.ts), which keeps one `AutonomyLevels` per
// process current; the gateway only ever reads `level(agent)`. Nothing here may raise a level
// above an agent's maximum, or lift a pause or a demotion other than by a human's change.
import type { AgentName } from '../contracts/events.ts';
import type { Phase } from '../config.ts';

export type Level = 1 | 2 | 3;

export const AGENTS: readonly AgentName[] = ['watchtower', 'elastik', 'configurer', 'arbitrator', 'strategist'];

export const MAX_LEVEL: Readonly<Record<AgentName, Level>> = {
  watchtower: 2,
  elastik: 3,
  configurer: 2,
  arbitrator: 2,
  strategist: 1,
};

/** Level each agent gets from a phase alone (DESIGN §2: Observe, Advise, Assist, Govern). */
export function levelForPhase(agent: AgentName, phase: Phase): Level {
  return capLevel(agent, phaseWants(agent, phase));
}

/** The phase's level before the agent's maximum applies. */
function phaseWants(agent: AgentName, phase: Phase): Level {
  return phase === 'observe' || phase === 'advise' ? 1 : phase === 'assist' ? 2 : agent === 'elastik' ? 3 : 2;
}

export const capLevel = (agent: AgentName, level: Level): Level => Math.min(level, MAX_LEVEL[agent]) as Level;

export const isAgentName = (s: string): s is AgentName => (AGENTS as readonly string[]).includes(s);

/**
 * One change of autonomy, as stored (append-only) and broadcast. `agent` is null for changes that
 * concern every agent (phase, pause, resume). `level` and `promotion` carry the level set, already
 * capped at the agent's maximum.
 */
export type AutonomyChangeKind = 'phase' | 'level' | 'pause' | 'resume' | 'demotion' | 'promotion';

export interface AutonomyChange {
  /** Position in the store, from 1; 0 for a change made to one in-process view only. */
  epoch: number;
  /** When, in the run's clock (ISO-8601 UTC). */
  at: string;
  agent: AgentName | null;
  kind: AutonomyChangeKind;
  level: Level | null;
  phase: Phase | null;
  /** Who: a Slack user id, `config`, `agent-health`. */
  actor: string;
  reason: string | null;
}

/** What holds an agent at level 1 whatever its phase or override. */
export interface Hold {
  kind: 'pause' | 'demotion';
  at: string;
  actor: string;
  reason: string | null;
}

export interface AgentAutonomy {
  agent: AgentName;
  level: Level;
  max: Level;
  /** The level without a hold: the override if any, else the phase's. */
  base: Level;
  override: { level: Level; at: string; actor: string; reason: string | null } | null;
  hold: Hold | null;
  /** When a human last set this agent's level: health is judged on what happened since. */
  judgedSince: string | null;
  /** Why the agent is at its level, in an operator's words. */
  why: string;
}

interface AgentState {
  override: AgentAutonomy['override'];
  hold: Hold | null;
  judgedSince: string | null;
}

export class AutonomyLevels {
  private currentPhase: Phase;
  private agents = new Map<AgentName, AgentState>();
  private lastPause: string | null = null;
  private lastEpoch = 0;
  private phaseChanged = false;

  constructor(phase: Phase) {
    this.currentPhase = phase;
  }

  get phase(): Phase {
    return this.currentPhase;
  }

  /** True once a phase change has been applied (false: the phase is still the constructor's default). */
  get phaseRecorded(): boolean {
    return this.phaseChanged;
  }

  /** Epoch of the last stored change applied (0: none). */
  get epoch(): number {
    return this.lastEpoch;
  }

  /** Time (run clock, ms) of the latest pause ever applied: grants issued at or before it are void. */
  get pausedAtMs(): number | null {
    return this.lastPause === null ? null : Date.parse(this.lastPause);
  }

  level(agent: AgentName): Level {
    const s = this.agents.get(agent);
    if (s?.hold) return 1;
    return capLevel(agent, s?.override?.level ?? levelForPhase(agent, this.currentPhase));
  }

  status(agent: AgentName): AgentAutonomy {
    const s = this.agents.get(agent) ?? { override: null, hold: null, judgedSince: null };
    const base = capLevel(agent, s.override?.level ?? levelForPhase(agent, this.currentPhase));
    const by = (actor: string, at: string, reason: string | null) => `by ${actor} at ${at}${reason ? `: ${reason}` : ''}`;
    const why = s.hold
      ? `${s.hold.kind === 'pause' ? 'paused' : 'demoted'} ${by(s.hold.actor, s.hold.at, s.hold.reason)}`
      : s.override
        ? `set to ${s.override.level} ${by(s.override.actor, s.override.at, s.override.reason)}`
        : `phase ${this.currentPhase}${base < phaseWants(agent, this.currentPhase) ? ` (capped at its maximum ${MAX_LEVEL[agent]})` : ''}`;
    return {
      agent,
      level: this.level(agent),
      max: MAX_LEVEL[agent],
      base,
      override: s.override,
      hold: s.hold,
      judgedSince: s.judgedSince,
      why,
    };
  }

  statuses(): AgentAutonomy[] {
    return AGENTS.map((a) => this.status(a));
  }

  /** Levels of every agent, for audit records. */
  snapshot(): Record<AgentName, Level> {
    return Object.fromEntries(AGENTS.map((a) => [a, this.level(a)])) as Record<AgentName, Level>;
  }

  /**
   * One step of the fold. A phase change resets operators' overrides (the phase is the new
   * baseline) but no hold; a pause holds every agent not already demoted; a resume lifts pauses,
   * not demotions; a level set by a human replaces the override and lifts any hold.
   */
  apply(c: AutonomyChange): void {
    switch (c.kind) {
      case 'phase':
        if (c.phase) this.currentPhase = c.phase;
        this.phaseChanged = true;
        for (const s of this.agents.values()) s.override = null;
        break;
      case 'pause':
        this.lastPause = c.at;
        for (const agent of AGENTS) {
          const s = this.state(agent);
          if (s.hold?.kind !== 'demotion') s.hold = { kind: 'pause', at: c.at, actor: c.actor, reason: c.reason };
        }
        break;
      case 'resume':
        for (const s of this.agents.values()) if (s.hold?.kind === 'pause') s.hold = null;
        break;
      case 'demotion':
        if (c.agent) this.state(c.agent).hold = { kind: 'demotion', at: c.at, actor: c.actor, reason: c.reason };
        break;
      case 'level':
      case 'promotion':
        if (c.agent && c.level) {
          const s = this.state(c.agent);
          s.override = { level: capLevel(c.agent, c.level), at: c.at, actor: c.actor, reason: c.reason };
          s.hold = null;
          s.judgedSince = c.at;
        }
        break;
    }
    if (c.epoch > this.lastEpoch) this.lastEpoch = c.epoch;
  }

  /** Starts over from `phase` and folds `changes` (epoch order): what a reload from the store does. */
  reset(phase: Phase, changes: readonly AutonomyChange[] = []): void {
    this.currentPhase = phase;
    this.agents = new Map();
    this.lastPause = null;
    this.lastEpoch = 0;
    this.phaseChanged = false;
    for (const c of changes) this.apply(c);
  }

  // In-process shortcuts: they change this view only. Every other process, and the next start of
  // this one, will not know of them; AutonomyManager makes changes that hold everywhere.

  setPhase(phase: Phase): void {
    this.apply(local({ kind: 'phase', phase }));
  }

  setLevel(agent: AgentName, level: Level): void {
    this.apply(local({ kind: 'level', agent, level: capLevel(agent, level) }));
  }

  pause(): void {
    this.apply(local({ kind: 'pause' }));
  }

  resume(): void {
    this.apply(local({ kind: 'resume' }));
  }

  private state(agent: AgentName): AgentState {
    let s = this.agents.get(agent);
    if (!s) {
      s = { override: null, hold: null, judgedSince: null };
      this.agents.set(agent, s);
    }
    return s;
  }
}

function local(c: Partial<AutonomyChange> & Pick<AutonomyChange, 'kind'>): AutonomyChange {
  return { epoch: 0, at: new Date().toISOString(), agent: null, level: null, phase: null, actor: 'local', reason: null, ...c };
}
