// The FinOps server's memory: metrics.k8s.io only says what pods use now, so the server samples it
// itself, on the injected Clock, and keeps a bounded window per deployment (utilisation over time),
// plus the pod-time each deployment ran this month (spend since the server started). One sampler per
// server process, shared by every session; sessions only ever read the namespaces they are bound to.
// It must never overlap two samples (a slow cluster would pile requests up), never grow without
// bound, and never stop sampling because one namespace failed.
import type { Clock } from '../../src/core/clock.ts';
import { describeError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import type { ClusterUsageReader, DeploymentUsage } from './cluster-usage.ts';
import { monthOf } from './cost-model.ts';
import type { UsageSample } from './usage-stats.ts';

export const DEFAULT_SAMPLE_INTERVAL_MS = 30_000;
export const DEFAULT_RETENTION_MS = 24 * 60 * 60_000;
/** A gap longer than this many intervals is not billed: the sampler did not see what ran then. */
const MAX_BILLED_GAP_INTERVALS = 4;

/** Counts background work, so that a virtual-time driver waits for a sample in flight (src/core/work-tracker.ts). */
export interface WorkCounter {
  run<T>(fn: () => Promise<T>): Promise<T>;
}

export interface UsageSamplerOptions {
  reader: Pick<ClusterUsageReader, 'namespaceUsage'>;
  clock: Clock;
  namespaces: readonly string[];
  intervalMs?: number;
  retentionMs?: number;
  logger?: Logger;
  tracker?: WorkCounter;
}

interface Series {
  samples: UsageSample[];
  /** Pod-milliseconds observed running, per month key. */
  podMsByMonth: Map<string, number>;
  last: DeploymentUsage | undefined;
}

export class UsageSampler {
  readonly intervalMs: number;
  readonly retentionMs: number;
  /** When sampling began: spend before it is only known from the tenant configuration. */
  readonly startedAtMs: number;
  private readonly series = new Map<string, Series>();
  private readonly namespaces: readonly string[];
  private readonly log: Logger;
  private cancel: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = true;
  private skipped = 0;

  constructor(private readonly opts: UsageSamplerOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS;
    this.retentionMs = opts.retentionMs ?? DEFAULT_RETENTION_MS;
    this.namespaces = [...new Set(opts.namespaces)].sort();
    this.log = (opts.logger ?? silentLogger()).child({ component: 'finops-sampler' });
    this.startedAtMs = opts.clock.now();
  }

  /** Samples at once, then every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Resolves when the sample in flight (if any) has landed. */
  async idle(): Promise<void> {
    await this.inFlight;
  }

  /** Samples skipped because the previous one was still running. */
  get skippedSamples(): number {
    return this.skipped;
  }

  /** Samples of one deployment, oldest first. */
  samplesOf(namespace: string, deployment: string): readonly UsageSample[] {
    return this.series.get(key(namespace, deployment))?.samples ?? [];
  }

  /** The deployment as the latest sample saw it. */
  latestOf(namespace: string, deployment: string): DeploymentUsage | undefined {
    return this.series.get(key(namespace, deployment))?.last;
  }

  /** Pod-milliseconds the deployment was seen running in the month `monthKey`. */
  podMsIn(namespace: string, deployment: string, monthKey: string): number {
    return this.series.get(key(namespace, deployment))?.podMsByMonth.get(monthKey) ?? 0;
  }

  samples(namespace: string): boolean {
    return this.namespaces.includes(namespace);
  }

  /** Takes one sample of every namespace now; a sample already in flight is awaited instead. */
  sampleNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    const atMs = this.opts.clock.now();
    const work = async () => {
      for (const ns of this.namespaces) {
        try {
          const usage = await this.opts.reader.namespaceUsage(ns);
          this.ingest(atMs, ns, usage.deployments);
        } catch (err) {
          this.log.warn({ namespace: ns, err: describeError(err) }, 'usage sample failed; the window keeps a gap');
        }
      }
    };
    const p = (this.opts.tracker ? this.opts.tracker.run(work) : work()).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  private tick(): void {
    if (this.stopped) return;
    if (this.inFlight) this.skipped++;
    else void this.sampleNow();
    this.cancel = this.opts.clock.setTimer(this.intervalMs, () => this.tick());
  }

  private ingest(atMs: number, namespace: string, deployments: readonly DeploymentUsage[]): void {
    const month = monthOf(atMs).key;
    for (const d of deployments) {
      const k = key(d.namespace, d.name);
      let s = this.series.get(k);
      if (!s) {
        s = { samples: [], podMsByMonth: new Map(), last: undefined };
        this.series.set(k, s);
      }
      const prev = s.samples.at(-1);
      if (prev && atMs <= prev.atMs) continue; // a late answer to an older request: never reorder the window
      if (prev && atMs - prev.atMs <= MAX_BILLED_GAP_INTERVALS * this.intervalMs && monthOf(prev.atMs).key === month) {
        // The pods seen now ran since the previous look (a step function: what was seen is what ran).
        s.podMsByMonth.set(month, (s.podMsByMonth.get(month) ?? 0) + d.pods_measured * (atMs - prev.atMs));
      }
      s.samples.push({
        atMs,
        replicas: d.replicas,
        pods: d.pods_measured,
        cpu_millicores: d.cpu_millicores,
        cpu_request_millicores: d.cpu_request_measured_millicores,
        memory_bytes: d.memory_bytes,
      });
      s.last = d;
      const horizon = atMs - this.retentionMs;
      let drop = 0;
      while (drop < s.samples.length && s.samples[drop]!.atMs < horizon) drop++;
      if (drop > 0) s.samples.splice(0, drop);
      // Month-to-date is all that is asked of pod-time; earlier months are billed already.
      for (const m of [...s.podMsByMonth.keys()]) if (m !== month) s.podMsByMonth.delete(m);
    }
    // A deployment gone from its namespace is forgotten once its last sample leaves the window.
    const seen = new Set(deployments.map((d) => key(d.namespace, d.name)));
    for (const [k, s] of this.series) {
      if (k.startsWith(`${namespace}/`) && !seen.has(k) && (s.samples.at(-1)?.atMs ?? 0) < atMs - this.retentionMs) this.series.delete(k);
    }
  }
}

const key = (namespace: string, deployment: string): string => `${namespace}/${deployment}`;
