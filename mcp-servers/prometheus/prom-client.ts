// A small client of Prometheus's HTTP API (/api/v1/query, /api/v1/query_range): a real Prometheus at
// PROMETHEUS_URL, or the twin's Prometheus-compatible query API in the sandbox — the same code either
// way. Every answer is validated; an unreachable server, an HTTP error or a malformed body is
// upstream_unavailable (retryable), a query Prometheus refuses is invalid_argument with its message.
import { z } from 'zod';
import { GovernorError } from '../../src/core/errors.ts';

const Sample = z.tuple([z.number(), z.string()]);
const Series = z.object({ metric: z.record(z.string(), z.string()), value: Sample.optional(), values: z.array(Sample).optional() });
const Data = z.discriminatedUnion('resultType', [
  z.object({ resultType: z.literal('vector'), result: z.array(Series) }),
  z.object({ resultType: z.literal('matrix'), result: z.array(Series) }),
  z.object({ resultType: z.literal('scalar'), result: Sample }),
  z.object({ resultType: z.literal('string'), result: Sample }),
]);
const Envelope = z.union([
  z.object({ status: z.literal('success'), data: Data, warnings: z.array(z.string()).optional() }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);
export type QueryData = z.infer<typeof Data>;

export interface PromClientOptions {
  baseUrl: string;
  /** Per request (default 5 s). */
  timeoutMs?: number;
}

export class PromClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(opts: PromClientOptions) {
    this.base = opts.baseUrl.replace(/\/?$/, '/');
    this.timeoutMs = opts.timeoutMs ?? 5_000;
  }

  get url(): string {
    return this.base;
  }

  instant(query: string, timeS: number): Promise<QueryData> {
    return this.call('api/v1/query', { query, time: String(timeS) });
  }

  range(query: string, startS: number, endS: number, stepS: number): Promise<QueryData> {
    return this.call('api/v1/query_range', { query, start: String(startS), end: String(endS), step: String(stepS) });
  }

  private async call(path: string, params: Record<string, string>): Promise<QueryData> {
    const url = new URL(path, this.base);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new GovernorError('upstream_unavailable', `Prometheus at ${this.base} unreachable: ${(err as Error).message}`, { retryable: true, cause: err });
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new GovernorError('upstream_unavailable', `Prometheus answered HTTP ${res.status} without JSON`, { retryable: true, cause: err });
    }
    const parsed = Envelope.safeParse(body);
    if (!parsed.success) throw new GovernorError('upstream_unavailable', `Prometheus answered HTTP ${res.status} with a body that is not its API's: ${parsed.error.issues[0]?.message ?? ''}`, { retryable: true });
    if (parsed.data.status === 'error') {
      // bad_data is the query's fault; the rest (timeout, execution, unavailable) the server's.
      const ours = parsed.data.errorType === 'bad_data';
      throw new GovernorError(ours ? 'input_invalid' : 'upstream_unavailable', `Prometheus refused the query (${parsed.data.errorType}): ${parsed.data.error}`, { retryable: !ours });
    }
    return parsed.data.data;
  }
}
