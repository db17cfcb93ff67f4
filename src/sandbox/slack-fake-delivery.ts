// How the Slack fake delivers what a person does (a click, a slash command, opening the App Home)
// to the app: one seam with two implementations, as Slack has two. Over HTTP (here) every request is
// a POST signed with the app's signing secret exactly as Slack signs it — form-encoded `payload=` for
// interactions, form fields for commands, JSON for events. Over Socket Mode
// (test/slack/socket-mode-fake.ts) the same payloads travel as envelopes down the app's WebSocket.
// It must never deliver anything unsigned over HTTP, nor change a body after signing it.
import { signSlackRequest } from './slack-signing.ts';

export type DeliveryKind = 'interactive' | 'slash_commands' | 'events_api';

export interface SignOverrides {
  /** Sign with this secret instead of the app's (a forgery). */
  signingSecret?: string;
  /** Seconds since the epoch to sign with (a stale or replayed request). */
  timestampSec?: number;
  /** Sent as X-Slack-Retry-Num / X-Slack-Retry-Reason, as Slack does when it re-sends. */
  retryNum?: number;
  retryReason?: string;
}

export interface DeliveryResult {
  /** HTTP status, or 200 for an acknowledged envelope. */
  status: number;
  /** What the app answered: its HTTP body, or the envelope acknowledgement's payload. */
  body: unknown;
}

export interface SlackDelivery {
  readonly kind: 'http' | 'socket';
  deliver(kind: DeliveryKind, payload: Record<string, unknown>, sign?: SignOverrides): Promise<DeliveryResult>;
}

const TIMEOUT_MS = 10_000;

/** Signed POSTs to the app's request URL, as Slack sends them; remembers the last one for replays. */
export class HttpDelivery implements SlackDelivery {
  readonly kind = 'http';
  private last: { headers: Record<string, string>; body: string } | undefined;

  constructor(
    private readonly url: string,
    private readonly signingSecret: string,
  ) {}

  async deliver(kind: DeliveryKind, payload: Record<string, unknown>, sign: SignOverrides = {}): Promise<DeliveryResult> {
    const raw =
      kind === 'interactive'
        ? new URLSearchParams({ payload: JSON.stringify(payload) }).toString()
        : kind === 'slash_commands'
          ? new URLSearchParams(Object.entries(payload).map(([k, v]): [string, string] => [k, String(v)])).toString()
          : JSON.stringify(payload);
    const headers: Record<string, string> = {
      // Exactly these, with no charset for forms: it is what Slack sends, and Bolt compares it verbatim.
      'content-type': kind === 'events_api' ? 'application/json' : 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...signSlackRequest(sign.signingSecret ?? this.signingSecret, raw, sign.timestampSec ?? Math.floor(Date.now() / 1000)),
      ...(sign.retryNum !== undefined ? { 'x-slack-retry-num': String(sign.retryNum) } : {}),
      ...(sign.retryReason !== undefined ? { 'x-slack-retry-reason': sign.retryReason } : {}),
    };
    this.last = { headers, body: raw };
    return this.post(headers, raw);
  }

  /** An interaction payload sent exactly as given (a malformed one), signed. */
  deliverRaw(payloadText: string, sign: SignOverrides = {}): Promise<DeliveryResult> {
    const raw = new URLSearchParams({ payload: payloadText }).toString();
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      ...signSlackRequest(sign.signingSecret ?? this.signingSecret, raw, sign.timestampSec ?? Math.floor(Date.now() / 1000)),
    };
    this.last = { headers, body: raw };
    return this.post(headers, raw);
  }

  /** The last request again, byte for byte: what an attacker who captured it would send. */
  replayLast(): Promise<DeliveryResult> {
    if (!this.last) throw new Error('the Slack fake has sent nothing to replay');
    return this.post(this.last.headers, this.last.body);
  }

  private async post(headers: Record<string, string>, body: string): Promise<DeliveryResult> {
    const res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Slack shows a plain-text answer as it is.
    }
    return { status: res.status, body: parsed };
  }
}
