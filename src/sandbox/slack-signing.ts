// Signs a request body the way Slack signs what it sends to an app (signature version v0), so the
// sandbox can push interactions through an app's real signature check instead of around it.
// Never used to verify anything: verification is Bolt's job, and a second implementation here could
// only drift from it.
import { createHmac } from 'node:crypto';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/**
 * `v0=` + hex HMAC-SHA256 over `v0:<timestamp>:<raw body>`, keyed with the app's signing secret.
 * `rawBody` must be the exact bytes that go on the wire: re-encoding the body after signing breaks it.
 */
export function signSlackRequest(signingSecret: string, rawBody: string | Buffer, timestampSec: number): SlackSignatureHeaders {
  if (!Number.isInteger(timestampSec)) throw new TypeError('timestampSec must be whole seconds since the epoch');
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestampSec}:`);
  hmac.update(rawBody);
  return {
    'x-slack-signature': `v0=${hmac.digest('hex')}`,
    'x-slack-request-timestamp': String(timestampSec),
  };
}
