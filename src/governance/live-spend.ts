// Live month-to-date spend for the policy input (DESIGN §5 `context.tenant.month_to_date_usd`),
// metered from Prometheus instead of the number typed into the tenants file: the replica-time of the
// tenant's namespaces since the month began (the signals file's `capacity.replicas`, integrated over a
// range query), priced by the FinOps cost model (mcp-servers/finops/cost-model.ts: the tenant's
// per-pod monthly price, calendar months in UTC).
//
// Prometheus rarely holds a whole month (15 days of retention by default; the sandbox's twin starts
// mid-month). When the samples begin after the month did, the metered figure misses the head of the
// month, and an undercount would let the cost layer wave through spend it should hold: then the
// figure is the larger of the metered spend and the billed one in the tenants file (a billing
// export), and its basis says so. Only a month Prometheus covers from its start is metered alone.
// Like the burn rates, an unreadable tenant keeps the configured figure, never zero.
import { costOfPodTime, monthOf } from '../../mcp-servers/finops/cost-model.ts';
import type { Clock } from '../core/clock.ts';
import { describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { startSweeps, type Sweeps } from '../core/sweeps.ts';
import type { Tenants, TenantSpec } from './tenants.ts';

/** Replica-seconds of a namespace over [startS, endS], and when its first sample in that span is. */
export interface ReplicaTimeSource {
  replicaSeconds(namespace: string, startS: number, endS: number): Promise<{ seconds: number; firstS: number | undefined; stepS: number }>;
}

export interface LiveSpendFigure {
  month_to_date_usd: number;
  metered_usd: number;
  /** Unix seconds of the first sample this month; undefined when Prometheus holds none. */
  metered_from_s: number | undefined;
  basis: string;
  at_ms: number;
}

/** A refresh older than this no longer speaks for now. */
const STALE_MS = 15 * 60_000;

export class LiveSpend {
  private readonly live = new Map<string, LiveSpendFigure>();
  private sweeps: Sweeps | undefined;
  private failing = false;

  constructor(
    private readonly deps: {
      source: ReplicaTimeSource;
      tenants: Tenants;
      clock: Clock;
      logger: Logger;
      intervalMs?: number;
      spawn?: (fn: () => Promise<void>, onError: (err: unknown) => void) => void;
    },
  ) {}

  start(): void {
    const spawn = this.deps.spawn ?? ((fn, onError) => void fn().catch(onError));
    const onError = (err: unknown) => this.deps.logger.warn({ err: describeError(err) }, 'live month-to-date spend not refreshed');
    spawn(() => this.refresh(), onError);
    this.sweeps = startSweeps({ clock: this.deps.clock, everyMs: this.deps.intervalMs ?? 5 * 60_000, spawn, sweep: () => this.refresh(), onError });
  }

  stop(): void {
    this.sweeps?.stop();
  }

  async refresh(): Promise<void> {
    const nowMs = this.deps.clock.now();
    const month = monthOf(nowMs);
    for (const [name, t] of Object.entries(this.deps.tenants)) {
      try {
        const parts = await Promise.all(t.namespaces.map((ns) => this.deps.source.replicaSeconds(ns, month.startMs / 1000, nowMs / 1000)));
        const seconds = parts.reduce((a, p) => a + p.seconds, 0);
        const firsts = parts.flatMap((p) => (p.firstS === undefined ? [] : [p.firstS]));
        const firstS = firsts.length ? Math.min(...firsts) : undefined;
        const stepS = Math.max(...parts.map((p) => p.stepS), 0);
        const metered = round2(costOfPodTime(seconds * 1000, t.pod_monthly_cost_usd, month));
        // Whole month: the first sample is within two steps of its start.
        const whole = firstS !== undefined && firstS <= month.startMs / 1000 + 2 * stepS;
        const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');
        const figure: LiveSpendFigure = whole
          ? { month_to_date_usd: metered, metered_usd: metered, metered_from_s: firstS, basis: `metered: replica-time in Prometheus since the month began × ${usd(t.pod_monthly_cost_usd)} per pod-month`, at_ms: nowMs }
          : {
              month_to_date_usd: Math.max(metered, t.month_to_date_usd),
              metered_usd: metered,
              metered_from_s: firstS,
              basis:
                `Prometheus holds ${firstS === undefined ? 'no sample' : `samples only from ${day(firstS)} UTC`} this month: ` +
                `the larger of the metered ${usd(metered)} and the billed ${usd(t.month_to_date_usd)} (tenants file)`,
              at_ms: nowMs,
            };
        this.live.set(name, figure);
        if (this.failing) this.deps.logger.info('live month-to-date spend readable again');
        this.failing = false;
      } catch (err) {
        this.live.delete(name);
        if (!this.failing) this.deps.logger.warn({ tenant: name, err: describeError(err) }, 'month-to-date spend unreadable; the configured figure stands');
        this.failing = true;
      }
    }
  }

  of(tenant: string): LiveSpendFigure | undefined {
    const l = this.live.get(tenant);
    return l && this.deps.clock.now() - l.at_ms <= STALE_MS ? l : undefined;
  }

  /** The tenant as the cost layer should see it. */
  apply(tenant: string, spec: TenantSpec): TenantSpec {
    const l = this.of(tenant);
    return l ? { ...spec, month_to_date_usd: l.month_to_date_usd } : spec;
  }
}

const round2 = (v: number): number => Math.round(v * 100) / 100;
const usd = (v: number): string => `$${v.toLocaleString('en-US', { maximumFractionDigits: 2 })}`;
