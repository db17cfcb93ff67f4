// The one way text from outside reaches a Slack message: pod and deployment names, annotations,
// config values, log lines, observation summaries, agent reasoning (possibly an LLM's), people's
// free text. Slack's mrkdwn treats `<…>` as control sequences — `<!channel>` pages a whole channel,
// `<https://evil|Approve here>` disguises a link, `<@U…>` and `<!subteam^S…>` forge mentions — and
// with the default `verbatim: false` it also turns bare `@channel`-style words, URLs and `#names`
// into live mentions and links. Everything built here escapes the first, breaks the second, and
// marks its text objects verbatim. Also the small Block Kit helpers every message in src/slack uses.
// It must never let data decide what a message pings or links to: only the code that builds a
// message may mention someone (`principal`) or link somewhere, with values it chose.
import type { types as SlackTypes } from '@slack/bolt';

export type KnownBlock = SlackTypes.KnownBlock;

/** What Slack needs to post a message: blocks, and the plain text shown in notifications. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

// Slack's documented limits; a message beyond them is refused with `invalid_blocks`.
export const LIMITS = { header: 150, section: 3000, field: 2000, context: 2000, fallback: 3000 } as const;

// Bidirectional overrides and isolates reorder what a reader sees (a name that reads `…gpj.exe`);
// zero-width characters hide text inside words Slack would otherwise match.
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;
// Words that Slack turns into mass mentions when the text is not verbatim, and a client may still
// highlight: broken with a zero-width joiner after the `@`, which reads the same.
const MASS_MENTION = /@(channel|here|everyone|group)\b/gi;

/**
 * Escapes external text for mrkdwn or plain_text: `&`, `<`, `>` as Slack's entities (so no control
 * sequence survives), mass-mention words broken, invisible direction and zero-width characters
 * removed. Idempotent on what it produced only in the sense that it is safe: escaping twice shows
 * `&amp;amp;`, so escape once, where the data enters the message.
 */
export function escapeMrkdwn(s: string): string {
  return s
    .replace(INVISIBLE, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(MASS_MENTION, '@\u2060$1');
}

/** Cuts escaped text to `max` characters without splitting an `&amp;`-style entity. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = s.slice(0, max - 1);
  const amp = cut.lastIndexOf('&');
  if (amp >= 0 && amp > cut.length - 6 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  return `${cut}…`;
}

/** External text as inline code: escaped, on one line, without backticks that would end it. */
export const code = (s: string): string => `\`${escapeMrkdwn(s).replace(/`/g, "'").replace(/\s*\n\s*/g, ' ')}\``;

/** External text as a block quote of several lines (log lines, an LLM's answer), each escaped. */
export const quote = (s: string): string =>
  escapeMrkdwn(s)
    .split('\n')
    .map((l) => `>${l}`)
    .join('\n');

/** A Slack user or user group, as a mention (ids are [A-Z0-9]; anything else is shown escaped). */
export function principal(id: string): string {
  if (!/^[UWS][A-Z0-9]+$/.test(id)) return escapeMrkdwn(id);
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

/**
 * Slack renders `<!date^…>` in the reader's own time zone; the fallback after `|` is what clients that
 * cannot (and the sandbox console) show.
 */
export function slackDate(atMs: number): string {
  const sec = Math.floor(atMs / 1000);
  const fallback = `${new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC')}`;
  return `<!date^${sec}^{date_num} {time_secs}|${fallback}>`;
}

/** A mrkdwn text object Slack shows as written: no auto-linked URLs, names or mentions. */
export const mrkdwnText = (text: string, max: number = LIMITS.section) => ({ type: 'mrkdwn' as const, text: clip(text, max), verbatim: true });

export function section(text: string, blockId?: string): KnownBlock {
  return { type: 'section', ...(blockId === undefined ? {} : { block_id: blockId }), text: mrkdwnText(text) };
}

export function context(text: string, blockId?: string): KnownBlock {
  return { type: 'context', ...(blockId === undefined ? {} : { block_id: blockId }), elements: [mrkdwnText(text, LIMITS.context)] };
}

/**
 * A header from external text. plain_text is never parsed for control sequences or mentions, so
 * it is only cleared of invisible characters (escaping would show `&amp;` as written).
 */
export function header(text: string, blockId?: string): KnownBlock {
  return {
    type: 'header',
    ...(blockId === undefined ? {} : { block_id: blockId }),
    text: { type: 'plain_text', text: clip(plainText(text), LIMITS.header), emoji: true },
  };
}

/** External text for a plain_text object (buttons, headers, App Home titles). */
export const plainText = (s: string): string => s.replace(INVISIBLE, '');

/** The notification text (top-level `text`) from parts that are already escaped. */
export const fallback = (text: string): string => clip(text, LIMITS.fallback);

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export const agentName = (a: string): string => a.charAt(0).toUpperCase() + a.slice(1);
