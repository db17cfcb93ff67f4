// Coded errors: every failure that crosses a seam says what it is (`code`) and whether trying again
// can help (`retryable`). A retryable failure leaves a bus message pending; a terminal one is
// acknowledged and dead-lettered with its reason.

export type ErrorCode =
  | 'config_invalid'
  | 'event_invalid'
  | 'policy_unavailable'
  | 'policy_invalid'
  | 'input_invalid'
  | 'audit_unavailable'
  | 'audit_chain_broken'
  | 'grant_invalid'
  | 'grant_expired'
  | 'grant_mismatch'
  | 'grant_used'
  | 'safety_violation'
  | 'tenant_forbidden'
  | 'unauthenticated'
  | 'not_found'
  | 'conflict'
  | 'upstream_unavailable'
  | 'timeout'
  | 'internal';

export class GovernorError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GovernorError';
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.details = opts.details;
  }
}

export function isRetryable(err: unknown): boolean {
  if (err instanceof GovernorError) return err.retryable;
  // Unknown failures (network resets, driver errors) are retried: the redelivery limit of the bus
  // turns a persistent one into a dead letter instead of a loop.
  return true;
}

export function describeError(err: unknown): string {
  if (err instanceof GovernorError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
