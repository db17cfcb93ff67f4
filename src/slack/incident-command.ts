// `/incident list`, `/incident timeline ID|latest`, `/incident explain [ID|latest] [question…]`:
// questions about incidents answered from their own records, through the IncidentQueries interface
// (src/governance/incident-queries.ts) — the same answers as `governor incident`. Each command is
// acknowledged at once (Slack allows 3 s; reading the log and an LLM may take longer), and the answer
// follows through the command's response_url, to the person who asked. Bad arguments are answered in
// the acknowledgement with the usage.
// It must never answer from anything but the queries, never drop what an answer cites or where it
// came from (rules or a model), and never put an answer's text into mrkdwn unescaped: an LLM wrote
// some of it, and records hold names that came from the cluster.
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Citation, IncidentAnswer, IncidentQueries, IncidentSummary, IncidentTimeline } from '../governance/incident-queries.ts';
import { clip, code, escapeMrkdwn, LIMITS, quote, slackDate } from './mrkdwn.ts';

export const INCIDENT_COMMAND = '/incident';

export const INCIDENT_USAGE = [
  `Usage: \`${INCIDENT_COMMAND} list\` — recent incidents, newest first`,
  `\`${INCIDENT_COMMAND} timeline <id|latest>\` — what happened, step by step, each with its record`,
  `\`${INCIDENT_COMMAND} explain [id|latest] [question…]\` — an answer in plain language, e.g. \`${INCIDENT_COMMAND} explain latest why did you roll back?\``,
].join('\n');

export type IncidentCommand =
  | { kind: 'list' }
  | { kind: 'timeline'; id: string }
  | { kind: 'explain'; id: string; question: string | undefined }
  | { kind: 'invalid'; message: string };

/** An incident id as Governor makes them (a UUID), or a prefix of one of at least 8 characters, or `latest`. */
const INCIDENT_ID = /^(latest|[0-9a-f]{8}(?:[0-9a-f-]{0,28}))$/i;

export function parseIncidentCommand(text: string): IncidentCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [sub, ...rest] = words;
  switch (sub?.toLowerCase()) {
    case 'list':
      if (rest.length > 0) return { kind: 'invalid', message: `\`list\` takes no arguments.\n${INCIDENT_USAGE}` };
      return { kind: 'list' };
    case 'timeline':
    case 'show': {
      const [id, ...extra] = rest;
      if (!id) return { kind: 'invalid', message: `Which incident? Give its id or \`latest\`.\n${INCIDENT_USAGE}` };
      if (!INCIDENT_ID.test(id)) return { kind: 'invalid', message: `${code(id)} is not an incident id.\n${INCIDENT_USAGE}` };
      if (extra.length > 0) return { kind: 'invalid', message: `\`timeline\` takes one incident id.\n${INCIDENT_USAGE}` };
      return { kind: 'timeline', id: id.toLowerCase() };
    }
    case 'explain': {
      const [first, ...more] = rest;
      // The id is optional: `explain why did you roll back?` asks about the latest incident.
      const hasId = first !== undefined && INCIDENT_ID.test(first) && /[0-9-]/.test(first) || first?.toLowerCase() === 'latest';
      const id = hasId ? first!.toLowerCase() : 'latest';
      const question = (hasId ? more : rest).join(' ').trim();
      return { kind: 'explain', id, question: question || undefined };
    }
    default:
      return { kind: 'invalid', message: sub ? `There is no \`${escapeMrkdwn(sub)}\` subcommand.\n${INCIDENT_USAGE}` : INCIDENT_USAGE };
  }
}

const SEVERITY_ICON: Record<IncidentSummary['severity'], string> = { info: 'ℹ️', warning: '⚠️', critical: '🚨' };

const cites = (cs: readonly Citation[]): string =>
  cs.length === 0 ? 'no records' : cs.map((c) => `#${c.seq} ${escapeMrkdwn(c.kind)}`).join(', ');

function summaryLine(s: IncidentSummary): string {
  const state = s.resolved_at ? `resolved ${slackDate(Date.parse(s.resolved_at))}` : '*open*';
  return `${SEVERITY_ICON[s.severity]} ${code(s.incident_id)} ${escapeMrkdwn(s.tenant)} · ${code(s.service)} · opened ${slackDate(Date.parse(s.opened_at))} · ${state}\n      ${escapeMrkdwn(s.summary)}`;
}

/** The answer to `/incident list`. */
export function listText(list: readonly IncidentSummary[]): string {
  if (list.length === 0) return 'No incidents in the audit log yet.';
  return clip(`*Incidents, newest first* (from the audit log)\n${list.map(summaryLine).join('\n')}`, LIMITS.section);
}

/** The answer to `/incident timeline`. */
export function timelineText(t: IncidentTimeline): string {
  const lines = t.entries.map((e) => `\`+${String(Math.round(e.t_s)).padStart(5)} s\` *${escapeMrkdwn(e.kind)}* ${escapeMrkdwn(e.text)} _(record #${e.cites.seq})_`);
  return clip(`*Timeline of incident* ${summaryLine(t.summary)}\n${lines.join('\n')}`, LIMITS.section);
}

/** The answer to `/incident explain`: the answer quoted, where it came from, and what it rests on. */
export function answerText(a: IncidentAnswer, question: string | undefined): string {
  const source = a.source === 'llm' ? 'a language model, over the records' : `rules over the records${a.llm === 'unavailable' ? ' (LLM unavailable)' : ''}`;
  return clip(
    `*Incident* ${code(a.incident_id)}${question ? ` — _${escapeMrkdwn(question)}_` : ''}\n${quote(a.answer)}\n_Source: ${source}. Cites: ${cites(a.cites)}._`,
    LIMITS.section,
  );
}

type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;

export function registerIncidentCommand(app: App, opts: { queries: IncidentQueries; logger: Logger; track?: (work: Promise<unknown>) => void }): void {
  const log = opts.logger.child({ component: 'incident-command' });
  const notFound = (id: string) => `No incident ${code(id)} in the audit log. \`${INCIDENT_COMMAND} list\` shows the recent ones.`;

  const answer = async (parsed: Exclude<IncidentCommand, { kind: 'invalid' }>): Promise<string> => {
    switch (parsed.kind) {
      case 'list':
        return listText(await opts.queries.list({ limit: 10 }));
      case 'timeline': {
        const t = await opts.queries.timeline(parsed.id);
        return t ? timelineText(t) : notFound(parsed.id);
      }
      case 'explain': {
        const a = await opts.queries.explain(parsed.id, parsed.question);
        return a ? answerText(a, parsed.question) : notFound(parsed.id);
      }
    }
  };

  app.command(INCIDENT_COMMAND, async ({ command, ack, respond }: CommandArgs) => {
    const parsed = parseIncidentCommand(command.text);
    if (parsed.kind === 'invalid') {
      await ack({ response_type: 'ephemeral', text: parsed.message });
      return;
    }
    // Acknowledged before any reading: the answer arrives through response_url.
    await ack();
    const work = (async () => {
      let text: string;
      try {
        text = await answer(parsed);
      } catch (err) {
        log.error({ err: describeError(err), user_id: command.user_id, subcommand: parsed.kind }, 'incident question could not be answered');
        text = `The question could not be answered: ${escapeMrkdwn(describeError(err))}`;
      }
      await respond({ response_type: 'ephemeral', text });
    })();
    opts.track?.(work);
    await work;
  });
}
