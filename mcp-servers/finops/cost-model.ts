// The FinOps arithmetic: what a deployment costs per month at the tenant's per-pod price, what the
// tenant has spent this month, and where the month will end at today's run rate. Pure: no clock,
// no I/O. Months are calendar months in UTC (how cloud bills are cut). It must never invent spend:
// month-to-date is the billed figure from the tenant configuration plus only what was observed
// running since then.

export interface MonthBounds {
  startMs: number;
  endMs: number;
  /** "2026-11": the key accruals are kept under. */
  key: string;
}

export function monthOf(ms: number): MonthBounds {
  const d = new Date(ms);
  const startMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const endMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { startMs, endMs, key: `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}` };
}

/** Cost of `podMs` pod-milliseconds at a price per pod per month, in the month `month`. */
export function costOfPodTime(podMs: number, podMonthlyCostUsd: number, month: MonthBounds): number {
  return (podMs * podMonthlyCostUsd) / (month.endMs - month.startMs);
}

export interface BudgetForecastInput {
  nowMs: number;
  monthlyBudgetUsd: number;
  /** Billed spend of the month as the tenant configuration states it (a billing export). */
  configuredMonthToDateUsd: number;
  /** The month the configured figure belongs to: the month the server started in. */
  configuredMonthKey: string;
  /** Spend observed running since the configured figure was taken, this month. */
  observedSinceUsd: number;
  /** Cost per month of what runs now (desired replicas × per-pod price). */
  monthlyRunRateUsd: number;
}

export interface BudgetForecast {
  monthly_budget_usd: number;
  month_to_date_usd: number;
  month_to_date_basis: string;
  forecast_month_end_usd: number;
  forecast_pct_of_budget: number | null;
  forecast_over_budget: boolean;
  days_left_in_month: number;
}

export function forecastMonth(input: BudgetForecastInput): BudgetForecast {
  const month = monthOf(input.nowMs);
  // The configured figure belongs to the month it was taken in; in a later month only observation counts.
  const configured = month.key === input.configuredMonthKey ? input.configuredMonthToDateUsd : 0;
  const mtd = configured + input.observedSinceUsd;
  const remainingShare = (month.endMs - input.nowMs) / (month.endMs - month.startMs);
  const forecast = mtd + input.monthlyRunRateUsd * remainingShare;
  return {
    monthly_budget_usd: input.monthlyBudgetUsd,
    month_to_date_usd: round2(mtd),
    month_to_date_basis:
      configured > 0
        ? 'billed month-to-date from the tenant configuration plus pods observed running since this server started'
        : 'pods observed running this month since this server started',
    forecast_month_end_usd: round2(forecast),
    forecast_pct_of_budget: input.monthlyBudgetUsd > 0 ? Math.round((forecast / input.monthlyBudgetUsd) * 1000) / 10 : null,
    forecast_over_budget: forecast > input.monthlyBudgetUsd,
    days_left_in_month: Math.round(((month.endMs - input.nowMs) / 86_400_000) * 100) / 100,
  };
}

const round2 = (v: number): number => Math.round(v * 100) / 100;
