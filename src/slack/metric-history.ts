// Where the cockpit reads a service's key metric over time, for the incident chart and for the App
// Home's metric coverage: Prometheus's HTTP query API (`/api/v1/query_range`), at PROMETHEUS_URL on a
// real cluster, or the twin's own Prometheus-compatible API (src/twin/metrics/query-api.ts) in the
// sandbox and the demo — one client, pointed at one or the other.
// It must never invent a point: a series Prometheus does not have is empty, and a failed query is an
// error the caller sees (the chart is then left out, and says why in the log).
import { GovernorError } from '../core/errors.ts';

export interface Service {
  namespace: string;
  deployment: string;
}

export interface Point {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

export interface MetricHistory {
  /** The service's p99 latency in ms over [fromMs, toMs], one point per `stepMs`. */
  p99(service: Service, fromMs: number, toMs: number, stepMs: number): Promise<Point[]>;
}

/** The PromQL of a service's p99 in ms, as the exporters people run name it (DESIGN §8). */
export const p99Query = (s: Service): string =>
  `http_request_duration_seconds{namespace="${promLabel(s.namespace)}",deployment="${promLabel(s.deployment)}",quantile="0.99"} * 1000`;

/** A label value inside double quotes: backslash and quote escaped, as PromQL strings are. */
const promLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class PrometheusMetricHistory implements MetricHistory {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async p99(service: Service, fromMs: number, toMs: number, stepMs: number): Promise<Point[]> {
    const url = new URL('api/v1/query_range', this.baseUrl.replace(/\/?$/, '/'));
    const body = new URLSearchParams({
      query: p99Query(service),
      start: (fromMs / 1000).toFixed(3),
      end: (toMs / 1000).toFixed(3),
      step: `${Math.max(1, Math.round(stepMs / 1000))}s`,
    });
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new GovernorError('upstream_unavailable', `Prometheus at ${this.baseUrl} unreachable: ${(err as Error).message}`, { retryable: true, cause: err });
    }
    const json = (await res.json().catch(() => undefined)) as
      | { status?: string; error?: string; data?: { resultType?: string; result?: Array<{ values?: Array<[number, string]> }> } }
      | undefined;
    if (!res.ok || json?.status !== 'success') {
      throw new GovernorError('upstream_unavailable', `Prometheus query_range failed (HTTP ${res.status}): ${json?.error ?? 'no answer'}`, { retryable: res.status >= 500 });
    }
    const series = json.data?.result ?? [];
    // One deployment, one p99 series; several (a relabelled duplicate) are read as the first.
    return (series[0]?.values ?? []).flatMap(([t, v]) => {
      const n = Number(v);
      return Number.isFinite(n) ? [{ t: Math.round(t * 1000), v: n }] : [];
    });
  }
}
