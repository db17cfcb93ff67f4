// Live error-budget burn rates for the policy input (DESIGN §5 `context.tenant.burn_rate`), computed
// from the tenant's own SLIs instead of the number typed into the tenants file. A request is good when
// it succeeds within the tenant's p99 latency objective; "p99 ≤ X" allows 1% of requests to be slower,
// so the error budget is 1% of requests, and the burn rate is the bad share over that budget
// (1 = on track to use the budget up exactly; the SRE workbook's alerting chapter). The slow share of
// each sample comes from the latency distribution through its p50 and p99 (log-normal, as the twin and
// most services are), weighted by the requests it served; failed requests are bad whatever their
// latency. Like the workbook's multi-window alerts, a tenant burns only when both the long (1 h) and the
// short (5 min) window do: the reported rate is the smaller of the two, so a burn that has stopped
// stops counting within minutes, and a momentary spike does not count at all.
//
// Fails open to the configured figure, never to zero: when the SLIs cannot be read (no Prometheus, no
// traffic, a stale refresh) the tenants file's burn_rate stands, and the source says which it was.
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { startSweeps, type Sweeps } from '../core/sweeps.ts';
import type { Tenants, TenantSpec } from './tenants.ts';

/** One SLI sample of one deployment: latency quantiles (ms), requests/s, and the failed share. */
export interface SliSample {
  t: number;
  p50_ms: number;
  p99_ms: number;
  rps: number;
  error_ratio: number;
}

/** Reads a namespace's SLI samples over [startS, endS] (Prometheus, through PROMETHEUS_URL or the twin's API). */
export interface SliSource {
  samples(namespace: string, startS: number, endS: number, stepS: number): Promise<SliSample[][]>;
}

export const LONG_WINDOW_S = 3600;
export const SHORT_WINDOW_S = 300;
const STEP_S = 30;
/** A refresh older than this no longer speaks for now: the configured figure stands again. */
const STALE_MS = 5 * 60_000;
/** The budget of a p99 objective: 1% of requests may be slower. */
export const LATENCY_BUDGET = 0.01;

/** P(latency > x) for a log-normal through p50 and p99. */
export function slowShare(p50: number, p99: number, x: number): number {
  if (!(p50 > 0) || !(p99 > 0)) return 0;
  if (p99 <= p50) return x < p50 ? 1 : 0;
  const sigma = (Math.log(p99) - Math.log(p50)) / 2.326348;
  const z = (Math.log(x) - Math.log(p50)) / sigma;
  return 1 - normalCdf(z);
}

function normalCdf(z: number): number {
  // Abramowitz and Stegun 7.1.26 (|error| < 1.5e-7).
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(z * z) / 2);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The burn rate of a set of samples against a p99 objective; undefined without traffic. */
export function burnOf(series: readonly SliSample[][], objectiveMs: number, sinceS: number): number | undefined {
  let total = 0;
  let bad = 0;
  for (const s of series) {
    for (const x of s) {
      if (x.t < sinceS || !(x.rps > 0)) continue;
      const err = Math.min(1, Math.max(0, x.error_ratio));
      total += x.rps;
      bad += x.rps * err + x.rps * (1 - err) * slowShare(x.p50_ms, x.p99_ms, objectiveMs);
    }
  }
  return total > 0 ? bad / total / LATENCY_BUDGET : undefined;
}

export interface LiveBurn {
  burn_rate: number;
  long: number;
  short: number;
  at_ms: number;
}

export class LiveBurnRates {
  private readonly live = new Map<string, LiveBurn>();
  private sweeps: Sweeps | undefined;
  private failing = false;

  constructor(
    private readonly deps: {
      source: SliSource;
      tenants: Tenants;
      clock: Clock;
      logger: Logger;
      intervalMs?: number;
      /** Runs a refresh as tracked work (a virtual-time driver waits for it). */
      spawn?: (fn: () => Promise<void>, onError: (err: unknown) => void) => void;
      /** Runs after every refresh, on the figures just read (the Arbitrator's priority watch). */
      afterRefresh?: () => Promise<void>;
    },
  ) {}

  start(): void {
    const spawn = this.deps.spawn ?? ((fn, onError) => void fn().catch(onError));
    const onError = (err: unknown) => this.deps.logger.warn({ err: describeError(err) }, 'live burn rates not refreshed');
    const after = this.deps.afterRefresh;
    const run = async () => {
      await this.refresh();
      if (after) await after().catch((err: unknown) => this.deps.logger.warn({ err: describeError(err) }, 'after the burn rates were refreshed: failed'));
    };
    spawn(run, onError);
    this.sweeps = startSweeps({ clock: this.deps.clock, everyMs: this.deps.intervalMs ?? 60_000, spawn, sweep: run, onError });
  }

  stop(): void {
    this.sweeps?.stop();
  }

  /** Reads every tenant's SLIs once. A tenant that cannot be read keeps no live figure. */
  async refresh(): Promise<void> {
    const endS = this.deps.clock.now() / 1000;
    for (const [name, t] of Object.entries(this.deps.tenants)) {
      try {
        const series = (await Promise.all(t.namespaces.map((ns) => this.deps.source.samples(ns, endS - LONG_WINDOW_S, endS, STEP_S)))).flat();
        const long = burnOf(series, t.slo.p99_latency_ms, endS - LONG_WINDOW_S);
        const short = burnOf(series, t.slo.p99_latency_ms, endS - SHORT_WINDOW_S);
        if (long === undefined || short === undefined) {
          this.live.delete(name);
          continue;
        }
        this.live.set(name, { burn_rate: round(Math.min(long, short)), long: round(long), short: round(short), at_ms: this.deps.clock.now() });
        if (this.failing) this.deps.logger.info('live burn rates readable again');
        this.failing = false;
      } catch (err) {
        this.live.delete(name);
        if (!this.failing) this.deps.logger.warn({ tenant: name, err: describeError(err) }, 'live burn rate unreadable; the configured figure stands');
        this.failing = true;
      }
    }
  }

  /** The tenant's live burn, if a fresh one was read. */
  of(tenant: string): LiveBurn | undefined {
    const l = this.live.get(tenant);
    return l && this.deps.clock.now() - l.at_ms <= STALE_MS ? l : undefined;
  }

  /** The tenant as the policy should see it: the live burn rate in place of the configured one. */
  apply(tenant: string, spec: TenantSpec): TenantSpec {
    const l = this.of(tenant);
    return l ? { ...spec, burn_rate: l.burn_rate } : spec;
  }
}

const round = (v: number): number => Math.round(v * 100) / 100;
