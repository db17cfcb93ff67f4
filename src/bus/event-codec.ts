// How an event travels as a stream entry: one `event` field holding its JSON. Shared by every bus
// implementation so they agree byte for byte, and so a malformed entry is refused the same way.
import { EventInvalidError, parseEvent, type GovernorEvent } from '../contracts/events.ts';
import { describeError } from '../core/errors.ts';

/** Validates and serialises an event; throws a terminal `event_invalid` error, writing nothing. */
export function encodeEvent(event: GovernorEvent): string {
  const parsed = parseEvent(event);
  try {
    return JSON.stringify(parsed);
  } catch (err) {
    throw new EventInvalidError(`not serialisable as JSON (${describeError(err)})`);
  }
}

/** Parses an entry's `event` field; throws a terminal `event_invalid` error naming the problem. */
export function decodeEvent(raw: string | undefined): GovernorEvent {
  if (raw === undefined) throw new EventInvalidError('entry has no `event` field');
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new EventInvalidError(`payload is not JSON (${describeError(err)})`);
  }
  return parseEvent(value);
}
