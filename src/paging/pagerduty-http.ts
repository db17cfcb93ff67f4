// How Governor calls PagerDuty through pdjs (Events API and REST API alike): the request options
// that make a call bounded, and the one translation of what came back into coded errors.
//
// pdjs's own snags, and what is done about each:
//   - it resolves with HTTP errors instead of rejecting: every caller checks the status through
//     `pagerDutyFailure`, so a 400 or a 500 is never mistaken for an accepted event;
//   - its `requestTimeout` aborts nothing (it sets a timer that does nothing and keeps the process
//     alive for 30 s): it is set to 0 and the call is bounded by an AbortSignal instead, covering the
//     whole call including pdjs's 429 waits;
//   - it retries a 429 exactly three times after `retryTimeout` (20 s by default; `retryCount` is
//     ignored): the wait is set explicitly, and the timeout above bounds the total;
//   - `server` is host[:port] and always HTTPS: a private CA is trusted through NODE_EXTRA_CA_CERTS
//     (read by Node itself), or, in process, through an https.Agent given the CA (pdjs passes its
//     options to node-fetch, which takes `agent`).
// It must never log or put in an error message a routing key or an API token.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { GovernorError } from '../core/errors.ts';

export interface PagerDutyCallLimits {
  /** Real milliseconds one call may take, 429 waits included. */
  timeoutMs: number;
  /** Real milliseconds pdjs waits before each of its three retries of a 429. */
  retryAfter429Ms: number;
}

export const DEFAULT_CALL_LIMITS: PagerDutyCallLimits = { timeoutMs: 10_000, retryAfter429Ms: 1_000 };

/** An agent that trusts the public roots and `caPem` as well: for a client pointed at a local fake. */
function agentTrusting(caPem: string): Agent {
  return new Agent({ ca: [...rootCertificates, caPem] });
}

/** Where and how a client reaches one PagerDuty API. */
export interface PagerDutyEndpointOptions {
  /** host[:port]; default PagerDuty's own. */
  host?: string;
  /** Time limits of one call (default: 10 s in all, 1 s before each retry of a 429). */
  limits?: Partial<PagerDutyCallLimits>;
  /**
   * A CA to trust besides the public roots, for a client in the same process as a local fake.
   * Processes trust a private CA through NODE_EXTRA_CA_CERTS instead.
   */
  caPem?: string;
}

/** The options spread into a pdjs call to bound it. */
export interface BoundedOptions {
  requestTimeout: 0;
  retryTimeout: number;
  signal: AbortSignal;
  agent?: Agent;
}

/** One PagerDuty API as a client reaches it: its host, its time limits, the CA it trusts. */
export class PagerDutyEndpoint {
  readonly host: string;
  private readonly limits: PagerDutyCallLimits;
  private readonly agent: Agent | undefined;

  constructor(opts: PagerDutyEndpointOptions, defaultHost: string) {
    this.host = opts.host ?? defaultHost;
    this.limits = { ...DEFAULT_CALL_LIMITS, ...opts.limits };
    this.agent = opts.caPem ? agentTrusting(opts.caPem) : undefined;
  }

  /**
   * Runs one pdjs call within the time limits (and until `signal`, the caller stopping), turning
   * anything but an HTTP answer into a coded error. The status of the answer is the caller's to check.
   */
  async call<R>(what: string, fn: (options: BoundedOptions) => Promise<R>, signal?: AbortSignal): Promise<R> {
    const timeout = AbortSignal.timeout(this.limits.timeoutMs);
    const options: BoundedOptions = {
      requestTimeout: 0,
      retryTimeout: this.limits.retryAfter429Ms,
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      ...(this.agent ? { agent: this.agent } : {}),
    };
    try {
      return await fn(options);
    } catch (err) {
      throw transportFailure(what, err, timeout.aborted, this.limits);
    }
  }
}

/** The coded error for an HTTP answer that is not the success expected. */
export function pagerDutyFailure(what: string, status: number, body: unknown): GovernorError {
  const said = describeBody(body);
  const details = { status };
  if (status === 400) return new GovernorError('input_invalid', `${what} was refused as invalid (HTTP 400)${said}`, { details });
  if (status === 401 || status === 403) {
    return new GovernorError('unauthenticated', `${what} was refused (HTTP ${status}): check the routing key or API token${said}`, { details });
  }
  if (status === 404) return new GovernorError('not_found', `${what}: not found (HTTP 404)${said}`, { details });
  if (status === 429) return new GovernorError('upstream_unavailable', `${what} was throttled by PagerDuty (HTTP 429, after pdjs's retries)`, { retryable: true, details });
  return new GovernorError('upstream_unavailable', `${what} failed: PagerDuty answered HTTP ${status}${said}`, { retryable: status >= 500 || status === 408, details });
}

/** The coded error for a call that got no usable answer (network, TLS, timeout, a body that is not JSON). */
function transportFailure(what: string, err: unknown, timedOut: boolean, limits: PagerDutyCallLimits): GovernorError {
  if (err instanceof GovernorError) return err;
  const e = err as { name?: string; code?: string; type?: string; message?: string; status?: unknown } | undefined;
  // pdjs's `api` rejects with the response itself when its body is not JSON.
  if (typeof e?.status === 'number' && !(err instanceof Error)) {
    return e.status >= 200 && e.status < 300
      ? new GovernorError('upstream_unavailable', `${what}: PagerDuty answered with a body that is not JSON`, { retryable: true, details: { status: e.status } })
      : pagerDutyFailure(what, e.status, undefined);
  }
  if (e?.name === 'AbortError' || e?.type === 'aborted') {
    return timedOut
      ? new GovernorError('timeout', `${what}: PagerDuty did not answer within ${limits.timeoutMs} ms`, { retryable: true, cause: err })
      : new GovernorError('upstream_unavailable', `${what} was abandoned: its caller stopped`, { retryable: true, cause: err });
  }
  const code = e?.code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) {
    // Not retryable: the trust store is read at start, so only a restart with the CA can help.
    return new GovernorError('upstream_unavailable', `${what}: the server's TLS certificate is not trusted (${code}); a private CA goes in NODE_EXTRA_CA_CERTS`, { cause: err });
  }
  if (e?.type === 'invalid-json') return new GovernorError('upstream_unavailable', `${what}: PagerDuty answered with a body that is not JSON`, { retryable: true, cause: err });
  return new GovernorError('upstream_unavailable', `${what}: PagerDuty is unreachable (${code || e?.message || String(err)})`, { retryable: true, cause: err });
}

function describeBody(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const b = body as { message?: unknown; errors?: unknown; error?: { message?: unknown; errors?: unknown } };
  const message = typeof b.message === 'string' ? b.message : typeof b.error?.message === 'string' ? b.error.message : undefined;
  const errors = Array.isArray(b.errors) ? b.errors : Array.isArray(b.error?.errors) ? b.error.errors : [];
  const parts = [message, ...errors.filter((x): x is string => typeof x === 'string')].filter(Boolean);
  return parts.length > 0 ? `: ${parts.join('; ')}` : '';
}
