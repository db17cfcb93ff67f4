// The errors of the twin's PromQL engine and query API, in Prometheus's own vocabulary: the
// `errorType` a Prometheus server puts in its JSON error body, and the HTTP status that goes with it.
// Only the query API turns them into responses; everything below it just throws.

export type PromErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'unavailable' | 'not_found';

/** The status code Prometheus's HTTP API answers each error type with. */
export const HTTP_STATUS_OF: Record<PromErrorType, number> = {
  bad_data: 400,
  execution: 422,
  canceled: 499,
  timeout: 503,
  internal: 500,
  unavailable: 503,
  not_found: 404,
};

export class PromQLError extends Error {
  constructor(
    readonly errorType: PromErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'PromQLError';
  }
}

/** The one list the "not supported" errors and the README agree on. */
export const SUPPORTED_SUBSET =
  'instant and range vector selectors with =, !=, =~, !~ matchers and offset; ' +
  'rate, irate, increase, delta, avg_over_time, min_over_time, max_over_time, sum_over_time, count_over_time, last_over_time; ' +
  'sum, avg, min, max, count with by (...) or without (...); ' +
  'arithmetic (+ - * / % ^), comparisons (== != > < >= <=, with or without bool) and and/or/unless ' +
  'between vectors (one-to-one, on/ignoring) and numbers; unary minus; parentheses';

export function unsupported(construct: string): PromQLError {
  return new PromQLError('bad_data', `not supported by the twin's query API: ${construct}; supported: ${SUPPORTED_SUBSET}`);
}
