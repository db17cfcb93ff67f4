// The SLIs of a namespace's deployments from Prometheus (PROMETHEUS_URL, or the twin's query API):
// p50 and p99 latency from the request-duration summary, request and error rates from the counters,
// joined per deployment and timestamp, each read with the signals file's `sli` templates. Every query
// names the namespace (the signals file is checked for that at load).
import { PromClient, type QueryData } from '../../mcp-servers/prometheus/prom-client.ts';
import type { SliSample, SliSource } from '../governance/live-burn.ts';
import type { ReplicaTimeSource } from '../governance/live-spend.ts';
import { DEFAULT_SIGNALS, fillSignal, type SignalQueries } from '../../mcp-servers/prometheus/signals.ts';

export class PrometheusSliSource implements SliSource {
  private readonly prom: PromClient;

  constructor(baseUrl: string, private readonly signals: SignalQueries = DEFAULT_SIGNALS, timeoutMs = 5_000) {
    this.prom = new PromClient({ baseUrl, timeoutMs });
  }

  async samples(namespace: string, startS: number, endS: number, stepS: number): Promise<SliSample[][]> {
    const q = (t: string) => fillSignal(t, { namespace });
    const sli = this.signals.sli;
    const [p50, p99, rps, errors] = await Promise.all([
      this.prom.range(q(sli.p50_ms), startS, endS, stepS),
      this.prom.range(q(sli.p99_ms), startS, endS, stepS),
      this.prom.range(q(sli.rps), startS, endS, stepS),
      this.prom.range(q(sli.errors_rps), startS, endS, stepS),
    ]);
    const byDeployment = new Map<string, Map<number, Partial<SliSample>>>();
    const put = (data: QueryData, field: 'p50_ms' | 'p99_ms' | 'rps' | 'errors') => {
      if (data.resultType !== 'matrix') return;
      for (const s of data.result) {
        const d = s.metric['deployment'];
        if (!d) continue;
        const points = byDeployment.get(d) ?? new Map<number, Partial<SliSample> & { errors?: number }>();
        byDeployment.set(d, points);
        for (const [t, v] of s.values ?? []) {
          const x = Number(v);
          if (!Number.isFinite(x)) continue;
          const p = (points.get(t) ?? { t }) as Partial<SliSample> & { errors?: number };
          p[field] = x;
          points.set(t, p);
        }
      }
    };
    put(p50, 'p50_ms');
    put(p99, 'p99_ms');
    put(rps, 'rps');
    put(errors, 'errors');
    return [...byDeployment.values()].map((points) =>
      [...points.values()].flatMap((p) => {
        const q = p as Partial<SliSample> & { errors?: number };
        if (q.t === undefined || q.p50_ms === undefined || q.p99_ms === undefined || q.rps === undefined) return [];
        return [{ t: q.t, p50_ms: q.p50_ms, p99_ms: q.p99_ms, rps: q.rps, error_ratio: q.rps > 0 ? (q.errors ?? 0) / q.rps : 0 }];
      }),
    );
  }
}

/**
 * A namespace's replica-time from Prometheus: the signals file's `capacity.replicas` over a range,
 * each point counted for one step (a step without a sample counts nothing).
 */
export class PrometheusReplicaTime implements ReplicaTimeSource {
  private readonly prom: PromClient;

  constructor(baseUrl: string, private readonly signals: SignalQueries = DEFAULT_SIGNALS, timeoutMs = 10_000) {
    this.prom = new PromClient({ baseUrl, timeoutMs });
  }

  async replicaSeconds(namespace: string, startS: number, endS: number): Promise<{ seconds: number; firstS: number | undefined; stepS: number }> {
    // At most 10,000 points (Prometheus allows 11,000), never finer than a minute.
    const stepS = Math.max(60, Math.ceil((endS - startS) / 10_000));
    const data = await this.prom.range(fillSignal(this.signals.capacity.replicas, { namespace }), startS, endS, stepS);
    if (data.resultType !== 'matrix') return { seconds: 0, firstS: undefined, stepS };
    let seconds = 0;
    let firstS: number | undefined;
    for (const s of data.result) {
      for (const [t, v] of s.values ?? []) {
        const x = Number(v);
        if (!Number.isFinite(x)) continue;
        seconds += x * stepS;
        firstS = firstS === undefined ? t : Math.min(firstS, t);
      }
    }
    return { seconds, firstS, stepS };
  }
}
