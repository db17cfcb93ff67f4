// The operator's levers in Slack: `/agents-pause [reason]` (every agent to level 1 in every process;
// grants issued before it are void) and `/agents-level` (no arguments: every agent's current and
// maximum level and why; `<agent> <1|2|3> [reason]`: set one agent's level, capped at its maximum).
// They arrive through Bolt's receiver, so the signature and timestamp are checked before anything
// here runs. Who may pull which lever is configured (operators in the tenants file, checked by the
// approval desk): anyone may pause or lower a level, not anyone may raise one or break a freeze;
// looking is free. Each command is acknowledged at once (Slack allows 3 s), then the change is made
// and confirmed in the channel through the command's response_url, so everyone there sees who
// changed what; a refusal is told to the person alone, and recorded.
// It must never change autonomy for someone without the right, report a change that failed, or
// report as failed a change that was made.
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { AgentName } from '../contracts/events.ts';
import type { Phase } from '../config.ts';
import { GovernorError, describeError } from '../core/errors.ts';
import type { Approvals } from './slack-app.ts';
import type { Logger } from '../core/logger.ts';
import { AGENTS, MAX_LEVEL, isAgentName, type AgentAutonomy, type AutonomyChange } from '../governance/autonomy.ts';
import type { Actor, LevelChangeResult } from '../governance/autonomy-manager.ts';

export const PAUSE_COMMAND = '/agents-pause';
export const LEVEL_COMMAND = '/agents-level';
export const OVERRIDE_FREEZE_COMMAND = '/agents-override-freeze';

/** What the commands need of the autonomy manager. */
export interface AutonomyCommands {
  readonly phase: Phase;
  statuses(): AgentAutonomy[];
  setLevel(agent: string, level: number, by: Actor, reason?: string): Promise<LevelChangeResult>;
  pause(by: Actor, reason?: string): Promise<AutonomyChange>;
}

export interface SlashCommandOptions {
  autonomy: AutonomyCommands;
  /** Who may pull which lever, freeze overrides, and the record of refusals. */
  approvals: Approvals;
  logger: Logger;
  /** Lets the app wait for commands in progress when it stops. */
  track?: (work: Promise<unknown>) => void;
}

export type OverrideCommand = { kind: 'override'; proposal_id: string; reason: string } | { kind: 'invalid'; message: string };

const OVERRIDE_USAGE = `Usage: \`${OVERRIDE_FREEZE_COMMAND} <proposal-id> <reason>\` — breaks a change freeze for that one proposal; the reason is recorded in the audit log.`;

export function parseOverrideCommand(text: string): OverrideCommand {
  const [id, ...rest] = text.trim().split(/\s+/).filter(Boolean);
  if (!id) return { kind: 'invalid', message: OVERRIDE_USAGE };
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    return { kind: 'invalid', message: `\`${id}\` is not a proposal id. ${OVERRIDE_USAGE}` };
  }
  const reason = rest.join(' ').trim();
  // An override without a reason cannot be audited as a decision someone owns.
  if (reason.length < 10) return { kind: 'invalid', message: `Say why the freeze must be broken (at least a sentence). ${OVERRIDE_USAGE}` };
  return { kind: 'override', proposal_id: id.toLowerCase(), reason };
}

export type LevelCommand =
  | { kind: 'show' }
  | { kind: 'set'; agent: AgentName; level: 1 | 2 | 3; reason: string | undefined }
  | { kind: 'invalid'; message: string };

const USAGE = `Usage: \`${LEVEL_COMMAND}\` to see every agent's level, or \`${LEVEL_COMMAND} <agent> <1|2|3> [reason]\` to set one (${AGENTS.join(', ')}).`;

export function parseLevelCommand(text: string): LevelCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { kind: 'show' };
  const [name, levelText, ...rest] = words as [string, string | undefined, ...string[]];
  const agent = name.toLowerCase();
  if (!isAgentName(agent)) {
    return { kind: 'invalid', message: `There is no agent named \`${name}\`. Agents: ${AGENTS.join(', ')}.` };
  }
  if (levelText === undefined) return { kind: 'invalid', message: `Which level for ${agent}? ${USAGE}` };
  if (!/^[123]$/.test(levelText)) {
    return { kind: 'invalid', message: `\`${levelText}\` is not a level: use 1 (advisory), 2 (supervised) or 3 (autonomous). ${USAGE}` };
  }
  return { kind: 'set', agent, level: Number(levelText) as 1 | 2 | 3, reason: rest.length > 0 ? rest.join(' ') : undefined };
}

const LEVEL_NAMES = { 1: 'advisory', 2: 'supervised', 3: 'autonomous' } as const;

/** The `/agents-level` table: current and maximum level of every agent, and why. */
export function levelsTable(phase: Phase, statuses: readonly AgentAutonomy[]): string {
  const rows = statuses.map((s) => [s.agent, `${s.level} ${LEVEL_NAMES[s.level]}`, String(s.max), s.why]);
  const header = ['agent', 'level', 'max', 'why'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const paused = statuses.some((s) => s.hold?.kind === 'pause');
  return [
    `*Agent autonomy* — phase *${phase}*${paused ? ' — :octagonal_sign: *paused*' : ''}`,
    '```',
    line(header),
    ...rows.map(line),
    '```',
    `Set one with \`${LEVEL_COMMAND} <agent> <1|2|3> [reason]\` (raising a level takes the right to; lowering does not).`,
  ].join('\n');
}

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export function registerSlashCommands(app: App, opts: SlashCommandOptions): void {
  const log = opts.logger.child({ component: 'slash-commands' });
  const tracked = (handler: (args: CommandArgs) => Promise<void>) => (args: CommandArgs): Promise<void> => {
    const work = handler(args);
    opts.track?.(work);
    return work;
  };
  /** Refuses to the person alone, and records it; never throws (the refusal is already the answer). */
  const refuse = async (ack: CommandArgs['ack'], by: Actor, request: string, message: string): Promise<void> => {
    await ack({ response_type: 'ephemeral', text: message });
    try {
      await opts.approvals.refuse({ by, code: 'not_permitted', message, request, source: 'slack' });
    } catch (err) {
      log.error({ err: describeError(err), user_id: by.id }, 'refusal could not be audited');
    }
  };
  /** Confirms in the channel; a failed reply is logged, never turned into "not changed". */
  const confirm = async (respond: CommandArgs['respond'], text: string): Promise<void> => {
    try {
      await respond({ response_type: 'in_channel', text });
    } catch (err) {
      log.warn({ err: describeError(err) }, 'the change was made, but the confirmation could not be posted');
    }
  };
  /** What to tell the person when a change threw: it may have been made and only not audited. */
  const failure = (err: unknown, what: string): string =>
    err instanceof GovernorError && err.details?.['stored'] === true
      ? `${what} was made and is in force, but it could not be audited or broadcast yet: ${describeError(err)}`
      : `${what} was not made: ${describeError(err)}`;

  app.command(
    PAUSE_COMMAND,
    tracked(async ({ command, ack, respond }) => {
      const by: Actor = { id: command.user_id, ...(command.user_name ? { name: command.user_name } : {}) };
      const clog = log.child({ command: PAUSE_COMMAND, user_id: by.id });
      if (!(await opts.approvals.may(by.id, 'pause'))) {
        clog.warn('pause from a user without the right refused');
        await refuse(ack, by, PAUSE_COMMAND, 'You may not pause the agents (operators.pause in the tenants file), so nothing was paused.');
        return;
      }
      await ack();
      const reason = command.text.trim() || undefined;
      let change: AutonomyChange;
      try {
        change = await opts.autonomy.pause(by, reason);
      } catch (err) {
        clog.error({ err: describeError(err) }, 'pause failed');
        await respond({ response_type: 'ephemeral', text: failure(err, 'The pause') }).catch(() => undefined);
        return;
      }
      await confirm(
        respond,
        `:octagonal_sign: <@${by.id}> paused every agent at level 1 (advisory only)${reason ? `: ${reason}` : ''}. ` +
          `Grants issued before ${change.at} are void. Only a human raises an agent again: \`${LEVEL_COMMAND} <agent> <2|3>\`.`,
      );
    }),
  );

  app.command(
    OVERRIDE_FREEZE_COMMAND,
    tracked(async ({ command, ack, respond }) => {
      const by: Actor = { id: command.user_id, ...(command.user_name ? { name: command.user_name } : {}) };
      const clog = log.child({ command: OVERRIDE_FREEZE_COMMAND, user_id: by.id });
      const parsed = parseOverrideCommand(command.text);
      if (parsed.kind === 'invalid') {
        await ack({ response_type: 'ephemeral', text: parsed.message });
        return;
      }
      await ack();
      let result: Awaited<ReturnType<Approvals['overrideFreeze']>>;
      try {
        result = await opts.approvals.overrideFreeze({ proposal_id: parsed.proposal_id, reason: parsed.reason, by, source: 'slack' });
      } catch (err) {
        clog.error({ err: describeError(err), proposal_id: parsed.proposal_id }, 'freeze override failed');
        await respond({ response_type: 'ephemeral', text: `The freeze was not overridden: ${describeError(err)}` }).catch(() => undefined);
        return;
      }
      if (result.status === 'refused') {
        await respond({ response_type: 'ephemeral', text: result.message }).catch(() => undefined);
        return;
      }
      await confirm(
        respond,
        `:warning: <@${by.id}> overrode the change freeze for proposal \`${parsed.proposal_id}\`: ${parsed.reason}. ` +
          'The gateway re-evaluates it now (the safety layer still applies); another approver must then approve it here.',
      );
    }),
  );

  app.command(
    LEVEL_COMMAND,
    tracked(async ({ command, ack, respond }) => {
      const by: Actor = { id: command.user_id, ...(command.user_name ? { name: command.user_name } : {}) };
      const clog = log.child({ command: LEVEL_COMMAND, user_id: by.id });
      const parsed = parseLevelCommand(command.text);
      if (parsed.kind === 'show') {
        await ack({ response_type: 'ephemeral', text: levelsTable(opts.autonomy.phase, opts.autonomy.statuses()) });
        return;
      }
      if (parsed.kind === 'invalid') {
        await ack({ response_type: 'ephemeral', text: parsed.message });
        return;
      }
      const before = opts.autonomy.statuses().find((s) => s.agent === parsed.agent);
      // Lowering a level is as safe as pausing; raising one takes the right to.
      const raising = before === undefined || parsed.level > before.level;
      if (!(await opts.approvals.may(by.id, raising ? 'set_level' : 'pause'))) {
        clog.warn({ agent: parsed.agent }, 'level change from a user without the right refused');
        await refuse(
          ack,
          by,
          LEVEL_COMMAND,
          `You may not ${raising ? 'raise' : 'lower'} an agent's level (operators.${raising ? 'set_level' : 'pause'} in the tenants file), so ${parsed.agent}'s level was not changed.`,
        );
        return;
      }
      await ack();
      let res: LevelChangeResult;
      try {
        res = await opts.autonomy.setLevel(parsed.agent, parsed.level, by, parsed.reason);
      } catch (err) {
        clog.error({ err: describeError(err), agent: parsed.agent }, 'level change failed');
        await respond({ response_type: 'ephemeral', text: failure(err, `The change of ${parsed.agent}'s level`) }).catch(() => undefined);
        return;
      }
      const max = MAX_LEVEL[parsed.agent];
      const capped = res.capped ? ` ${parsed.agent}'s maximum is ${max}, so it was set to ${max} instead of ${parsed.level}.` : '';
      const lifted = before?.hold && (res.change.level ?? 1) > 1 ? ` This lifts its ${before.hold.kind === 'pause' ? 'pause' : 'demotion'}.` : '';
      await confirm(
        respond,
        `<@${by.id}> set *${parsed.agent}* to level ${res.change.level} (${LEVEL_NAMES[res.change.level ?? 1]}; maximum ${max})${parsed.reason ? `: ${parsed.reason}` : ''}.${capped}${lifted}`,
      );
    }),
  );
}
