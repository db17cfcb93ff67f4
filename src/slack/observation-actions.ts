// The buttons on an incident's parent message — Confirm, False alarm, Page on-call — as Bolt
// listeners: acknowledge at once, hand the answer to the observation desk (observation-answers.ts),
// which records it and, for a page, pages; then say in the incident's thread what was answered and
// by whom, or tell the person alone why nothing changed.
// It must never record or page anything itself, and never trust a click whose block does not carry
// the incident it names (a button not built by this app).
import type { AllMiddlewareArgs, App, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { Person } from '../audit/records.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { escapeMrkdwn } from './mrkdwn.ts';
import { toGovernorError } from './slack-errors.ts';

export const CONFIRM_ACTION_ID = 'observation_confirm';
export const FALSE_ALARM_ACTION_ID = 'observation_false_alarm';
export const PAGE_ACTION_ID = 'observation_page';

export type ObservationAnswer = 'confirmed' | 'false_alarm' | 'page_on_call';

const ANSWER_OF: Record<string, ObservationAnswer> = {
  [CONFIRM_ACTION_ID]: 'confirmed',
  [FALSE_ALARM_ACTION_ID]: 'false_alarm',
  [PAGE_ACTION_ID]: 'page_on_call',
};

const ACTIONS_PREFIX = 'incident_actions:';
export const incidentActionsBlockId = (incidentId: string): string => `${ACTIONS_PREFIX}${incidentId}`;
export const incidentIdFromBlockId = (blockId: string): string | undefined =>
  blockId.startsWith(ACTIONS_PREFIX) && blockId.length > ACTIONS_PREFIX.length ? blockId.slice(ACTIONS_PREFIX.length) : undefined;

export type AnswerResult =
  /** Recorded: `text` (mrkdwn, already escaped) is told in the incident's thread. */
  | { status: 'recorded'; text: string }
  /** Nothing changed (already answered the same way, unknown incident, no right): told to the person alone. */
  | { status: 'unchanged'; message: string };

/** What the buttons ask of the observation desk. */
export interface ObservationDesk {
  answer(a: { incident_id: string; answer: ObservationAnswer; by: Person }): Promise<AnswerResult>;
}

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

export function registerObservationActions(app: App, opts: { desk: ObservationDesk; logger: Logger; track?: (work: Promise<unknown>) => void }): void {
  const log = opts.logger.child({ component: 'observation-actions' });

  async function handle({ ack, body, action, client }: ButtonArgs): Promise<void> {
    await ack();
    const answer = ANSWER_OF[action.action_id]!;
    const incidentId = action.value ?? '';
    const channel = body.channel?.id ?? (body.container['channel_id'] as string | undefined);
    const parentTs = (body.container['message_ts'] as string | undefined) ?? body.message?.ts;
    const userName = body.user.username ?? body.user.name;
    const by: Person = { id: body.user.id, ...(userName ? { name: userName } : {}) };
    const ilog = log.child({ incident_id: incidentId || undefined, user_id: by.id, answer });
    const tell = async (text: string): Promise<void> => {
      if (!channel) return;
      try {
        await client.chat.postEphemeral({ channel, user: by.id, text });
      } catch (err) {
        ilog.warn({ err: toGovernorError('chat.postEphemeral', err) }, 'could not reach the user with an ephemeral message');
      }
    };
    if (!incidentId || incidentIdFromBlockId(action.block_id) !== incidentId || !channel || !parentTs) {
      ilog.warn({ block_id: action.block_id }, 'malformed observation click ignored');
      await tell('That button is not attached to a Governor incident; nothing was recorded.');
      return;
    }
    let result: AnswerResult;
    try {
      result = await opts.desk.answer({ incident_id: incidentId, answer, by });
    } catch (err) {
      ilog.error({ err: describeError(err) }, 'observation answer could not be recorded');
      await tell(`Your answer could not be recorded (${escapeMrkdwn(describeError(err))}); nothing changed. Try again.`);
      return;
    }
    if (result.status === 'unchanged') {
      await tell(result.message);
      return;
    }
    ilog.info('observation answer recorded');
    // Thrown to app.error if the thread cannot be written: the answer is recorded either way.
    await client.chat.postMessage({ channel, thread_ts: parentTs, text: result.text, unfurl_links: false, unfurl_media: false });
  }

  const tracked = (args: ButtonArgs): Promise<void> => {
    const work = handle(args);
    opts.track?.(work);
    return work;
  };
  for (const actionId of Object.keys(ANSWER_OF)) app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: actionId }, tracked);
}
