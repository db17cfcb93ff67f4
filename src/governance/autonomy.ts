// Autonomy: how far each agent may act on its own. The maximum per agent is fixed by design
// (DESIGN §2); the current level follows the deployment phase and operator overrides and is never
// above the maximum. Persistence and broadcast across processes arrive with the gateway issue; here
// the levels live in the process that owns the gateway.
import type { AgentName } from '../contracts/events.ts';
import type { Phase } from '../config.ts';

export type Level = 1 | 2 | 3;

export const MAX_LEVEL: Readonly<Record<AgentName, Level>> = {
  watchtower: 2,
  elastik: 3,
  configurer: 2,
  arbitrator: 2,
  strategist: 1,
};

/** Level each agent gets from a phase alone (DESIGN §2: Observe, Advise, Assist, Govern). */
export function levelForPhase(agent: AgentName, phase: Phase): Level {
  const wanted: Level = phase === 'observe' || phase === 'advise' ? 1 : phase === 'assist' ? 2 : agent === 'elastik' ? 3 : 2;
  return Math.min(wanted, MAX_LEVEL[agent]) as Level;
}

export class AutonomyLevels {
  private overrides = new Map<AgentName, Level>();
  private paused = false;

  constructor(private phase: Phase) {}

  level(agent: AgentName): Level {
    if (this.paused) return 1;
    const base = this.overrides.get(agent) ?? levelForPhase(agent, this.phase);
    return Math.min(base, MAX_LEVEL[agent]) as Level;
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
  }

  setLevel(agent: AgentName, level: Level): void {
    this.overrides.set(agent, Math.min(level, MAX_LEVEL[agent]) as Level);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }
}
