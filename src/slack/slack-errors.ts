// Turns what the Slack Web API client throws into a coded GovernorError, so callers decide on `code`
// and `retryable` instead of on Slack's error classes. A bad token or a missing channel is terminal
// (retrying only repeats it); a network failure, a 5xx or a rate limit is worth trying again.
// Never copies request arguments or headers into the error: they carry the bot token.
import { webApi } from '@slack/bolt';
import { GovernorError } from '../core/errors.ts';

const AUTH_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'ekm_access_denied',
]);
const NOT_FOUND_ERRORS = new Set(['channel_not_found', 'message_not_found', 'user_not_found', 'not_in_channel']);
const RETRYABLE_PLATFORM_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

/** The Slack error string (`invalid_auth`, `channel_not_found`, …) if the API answered `ok: false`. */
export function slackErrorCode(err: unknown): string | undefined {
  if (err instanceof Error && (err as { code?: unknown }).code === webApi.ErrorCode.PlatformError) {
    const e = (err as { data?: { error?: unknown } }).data?.error;
    return typeof e === 'string' ? e : undefined;
  }
  return undefined;
}

export function toGovernorError(method: string, err: unknown): GovernorError {
  if (err instanceof GovernorError) return err;
  const code = (err as { code?: unknown } | undefined)?.code;
  const platform = slackErrorCode(err);
  if (platform !== undefined) {
    if (AUTH_ERRORS.has(platform)) {
      return new GovernorError(
        'unauthenticated',
        `Slack refused ${method}: ${platform} (check SLACK_BOT_TOKEN and the app's scopes)`,
        { retryable: false, details: { method, slack_error: platform }, cause: err },
      );
    }
    if (NOT_FOUND_ERRORS.has(platform)) {
      return new GovernorError('not_found', `Slack ${method}: ${platform}`, {
        retryable: false,
        details: { method, slack_error: platform },
        cause: err,
      });
    }
    return new GovernorError('upstream_unavailable', `Slack ${method}: ${platform}`, {
      retryable: RETRYABLE_PLATFORM_ERRORS.has(platform),
      details: { method, slack_error: platform },
      cause: err,
    });
  }
  if (code === webApi.ErrorCode.RateLimitedError) {
    return new GovernorError('upstream_unavailable', `Slack ${method}: rate limited`, {
      retryable: true,
      details: { method, retry_after_s: (err as { retryAfter?: number }).retryAfter },
      cause: err,
    });
  }
  if (code === webApi.ErrorCode.HTTPError) {
    const status = (err as { statusCode?: number }).statusCode;
    return new GovernorError('upstream_unavailable', `Slack ${method}: HTTP ${status}`, {
      retryable: status === undefined || status >= 500,
      details: { method, status },
      cause: err,
    });
  }
  if (code === webApi.ErrorCode.RequestError) {
    const original = (err as { original?: unknown }).original;
    const timedOut = original instanceof Error && (original.name === 'TimeoutError' || original.name === 'AbortError');
    return new GovernorError(
      timedOut ? 'timeout' : 'upstream_unavailable',
      `Slack ${method}: ${timedOut ? 'no answer in time' : 'unreachable'} (${original instanceof Error ? original.message : String(original)})`,
      { retryable: true, details: { method }, cause: err },
    );
  }
  return new GovernorError('internal', `Slack ${method}: ${err instanceof Error ? err.message : String(err)}`, {
    retryable: false,
    details: { method },
    cause: err,
  });
}
