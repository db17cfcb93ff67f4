// Agent rollback (DESIGN §4): an agent whose error rate exceeds 10% in a sliding hour is demoted to
// level 1, announced, and stays there until a human sets its level with `/agents-level`. An error is
// an action that failed verification (`not_helped`), was rolled back, or failed or was refused at
// execution; a grant voided by a pause is the operators' doing, not the agent's, and counts for
// nothing, and so does an action the infrastructure failed (the cluster or the tool's server
// unreachable, the grant expired meanwhile: INFRASTRUCTURE_FAILURES) — a stalled Kubernetes API must
// not take an agent's autonomy away in the middle of the incident it is handling. Counting is a pure core (`ErrorWindow`) over the run's clock, so virtual time works; the
// consumer (`AgentHealth`) feeds it execution_result, verification and rollback events from its own
// consumer group, idempotently by event id, and asks the autonomy manager to demote.
// Errors are counted per action (proposal): a failed verification followed by its rollback is one
// failed action. An agent is judged only on what it did since a human last set its level.
// It must never promote anyone, nor demote an agent twice for the same errors.
import type { AgentName, GovernorEvent } from '../contracts/events.ts';
import type { BusMessage } from '../bus/event-bus.ts';
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { AgentAutonomy, AutonomyChange } from './autonomy.ts';
import { isPauseRevocation } from './pause-epoch.ts';

export const HEALTH_WINDOW_MS = 60 * 60_000;
export const MAX_ERROR_RATE = 0.1;

/** What one event says about one of an agent's actions. */
export interface ActionOutcome {
  event_id: string;
  agent: AgentName;
  proposal_id: string;
  /** Run-clock ms of the event. */
  at: number;
  /** Why the action counts as an error; absent when the event only shows the action happened. */
  error?: string;
}

/** The outcome an event reports, or undefined when it says nothing about an agent's action. */
export function outcomeOf(e: GovernorEvent): ActionOutcome | undefined {
  const base = { event_id: e.id, at: Date.parse(e.ts) };
  switch (e.type) {
    case 'execution_result': {
      if (e.status !== 'succeeded' && isPauseRevocation(e.response)) return undefined;
      // The cluster or the tool's server could not be reached, or the grant ran out while they could
      // not: the infrastructure failed, not the agent's judgement; nothing to count either way.
      if (e.status !== 'succeeded' && notTheAgents(e)) return undefined;
      const error = e.status === 'succeeded' ? undefined : `${e.compensation_for ? 'compensation ' : ''}${e.status}${e.error ? ` (${e.error})` : ''}`;
      // A compensation that worked is the rollback's own news; it is not a second action.
      if (e.compensation_for && !error) return undefined;
      return { ...base, agent: e.agent, proposal_id: e.proposal_id, ...(error ? { error } : {}) };
    }
    case 'verification':
      return { ...base, agent: e.agent, proposal_id: e.proposal_id, ...(e.outcome === 'not_helped' ? { error: `verification: not helped (${e.metric} ${e.before} → ${e.after})` } : {}) };
    case 'rollback':
      return { ...base, agent: e.agent, proposal_id: e.proposal_id, error: `rolled back: ${e.reason}` };
    default:
      return undefined;
  }
}

/** Failures of the infrastructure an action went through, which say nothing of the agent that proposed it. */
export const INFRASTRUCTURE_FAILURES: ReadonlySet<string> = new Set(['upstream_unavailable', 'timeout', 'outcome_unknown', 'grant_expired']);

function notTheAgents(e: { error?: string; response?: unknown }): boolean {
  const code = (e.response && typeof e.response === 'object' ? (e.response as { code?: unknown }).code : undefined) ?? /^(\w+):/.exec(e.error ?? '')?.[1];
  return typeof code === 'string' && INFRASTRUCTURE_FAILURES.has(code);
}

export interface WindowStats {
  agent: AgentName;
  actions: number;
  errors: number;
  rate: number;
  /** The failed actions in the window, with the first reason seen for each. */
  failed: { proposal_id: string; error: string }[];
}

interface ActionEntry {
  agent: AgentName;
  /** When the action was first seen. */
  at: number;
  /** When it was first seen failing, and why. */
  errorAt?: number;
  error?: string;
}

/**
 * Actions per agent in a sliding window of the run's clock. Pure: no clock of its own, no I/O.
 * An action is in the window when it was first seen inside it; an error counts when it was seen
 * inside it (an error an hour old has slid out even if the action is younger).
 */
export class ErrorWindow {
  private readonly actions = new Map<string, ActionEntry>();
  private readonly seen = new Map<string, number>();

  constructor(readonly windowMs = HEALTH_WINDOW_MS) {}

  /** Adds an outcome; false when its event was already counted. */
  observe(o: ActionOutcome): boolean {
    if (this.seen.has(o.event_id)) return false;
    this.seen.set(o.event_id, o.at);
    let a = this.actions.get(o.proposal_id);
    if (!a) {
      a = { agent: o.agent, at: o.at };
      this.actions.set(o.proposal_id, a);
    } else if (o.at < a.at) {
      a.at = o.at;
    }
    if (o.error && (a.errorAt === undefined || o.at < a.errorAt)) {
      a.errorAt = o.at;
      a.error = o.error;
    }
    return true;
  }

  /** The agent's actions and errors in (max(now − window, since), now]. */
  stats(agent: AgentName, nowMs: number, sinceMs = -Infinity): WindowStats {
    const from = Math.max(nowMs - this.windowMs, sinceMs);
    let actions = 0;
    const failed: WindowStats['failed'] = [];
    for (const [proposal_id, a] of this.actions) {
      if (a.agent !== agent) continue;
      const actionIn = a.at > from && a.at <= nowMs;
      const errorIn = a.errorAt !== undefined && a.errorAt > from && a.errorAt <= nowMs;
      if (actionIn || errorIn) actions++;
      if (errorIn) failed.push({ proposal_id, error: a.error! });
    }
    return { agent, actions, errors: failed.length, rate: actions === 0 ? 0 : failed.length / actions, failed };
  }

  /** Forgets what can no longer be in any window ending at or after `nowMs`. */
  prune(nowMs: number): void {
    const from = nowMs - this.windowMs;
    for (const [id, a] of this.actions) if (Math.max(a.at, a.errorAt ?? -Infinity) <= from) this.actions.delete(id);
    for (const [id, at] of this.seen) if (at <= from) this.seen.delete(id);
  }
}

/** Demotes when the rate strictly exceeds the maximum (10% is still acceptable; 2 of 19 is not). */
export const exceeds = (s: WindowStats, maxRate = MAX_ERROR_RATE): boolean => s.errors > 0 && s.rate > maxRate;

/** What agent health needs of the autonomy manager. */
export interface DemotionControl {
  status(agent: AgentName): AgentAutonomy;
  demote(agent: AgentName, reason: string, by?: { id: string }): Promise<AutonomyChange | null>;
}

export interface HealthNotifier {
  notify(text: string): Promise<void>;
}

export interface AgentHealthDeps {
  autonomy: DemotionControl;
  notifier: HealthNotifier;
  clock: Clock;
  logger: Logger;
  windowMs?: number;
  maxErrorRate?: number;
}

/** The streams agent health consumes (subscribe to each with one group of its own, e.g. `agent-health`). */
export const AGENT_HEALTH_EVENTS = ['execution_result', 'verification', 'rollback'] as const;

export class AgentHealth {
  private readonly window: ErrorWindow;
  private readonly maxRate: number;

  constructor(private readonly deps: AgentHealthDeps) {
    this.window = new ErrorWindow(deps.windowMs ?? HEALTH_WINDOW_MS);
    this.maxRate = deps.maxErrorRate ?? MAX_ERROR_RATE;
  }

  async onMessage(msg: BusMessage): Promise<void> {
    await this.onEvent(msg.event);
  }

  /** Counts the event; demotes and announces if the agent crosses the limit. Idempotent by event id. */
  async onEvent(e: GovernorEvent): Promise<AutonomyChange | null> {
    const o = outcomeOf(e);
    if (!o) return null;
    const now = this.deps.clock.now();
    this.window.prune(now);
    const fresh = this.window.observe(o);
    // A redelivered event was counted already, but its demotion may not have been recorded: look again.
    if (!fresh && !o.error) return null;
    return this.judge(o.agent, now);
  }

  /** The agent's numbers now, as agent health sees them. */
  stats(agent: AgentName): WindowStats {
    const status = this.deps.autonomy.status(agent);
    return this.window.stats(agent, this.deps.clock.now(), status.judgedSince ? Date.parse(status.judgedSince) : undefined);
  }

  private async judge(agent: AgentName, now: number): Promise<AutonomyChange | null> {
    const status = this.deps.autonomy.status(agent);
    if (status.hold?.kind === 'demotion') return null;
    const s = this.window.stats(agent, now, status.judgedSince ? Date.parse(status.judgedSince) : undefined);
    if (!exceeds(s, this.maxRate)) return null;
    const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
    const hours = this.window.windowMs / 3_600_000;
    const span = hours === 1 ? 'the last hour' : `the last ${hours} h`;
    const reason = `${s.errors} of ${s.actions} actions failed in ${span} (${pct(s.rate)} > ${pct(this.maxRate)})`;
    const change = await this.deps.autonomy.demote(agent, reason, { id: 'agent-health' });
    if (!change) return null;
    this.deps.logger.warn({ agent, errors: s.errors, actions: s.actions }, `agent demoted to level 1: ${reason}`);
    const list = s.failed.slice(0, 5).map((f) => `• ${f.proposal_id}: ${f.error}`).join('\n');
    const text =
      `:rotating_light: ${agent} demoted to level 1 (advisory only): ${reason}.\n${list}${s.failed.length > 5 ? `\n…and ${s.failed.length - 5} more` : ''}\n` +
      `Only a human can promote it again: /agents-level ${agent} <2|3> (its maximum is ${status.max}).`;
    try {
      await this.deps.notifier.notify(text);
    } catch (err) {
      // The demotion is recorded and in force; the announcement is best effort.
      this.deps.logger.warn({ agent, err: describeError(err) }, 'demotion announcement failed');
    }
    return change;
  }
}
