// The shapes Strategist reads from the FinOps MCP server's tools, validated on arrival: an agent
// never plans capacity on a response it did not understand.
import { z } from 'zod';

const Spread = z.object({ mean: z.number(), p95: z.number(), peak: z.number() });
export type Spread = z.infer<typeof Spread>;

export const CostDeployment = z
  .object({
    namespace: z.string(),
    name: z.string(),
    replicas: z.number().int(),
    ready_replicas: z.number().int(),
    cpu_request_millicores: z.number(),
    memory_request_bytes: z.number(),
    cpu_use_millicores: z.number(),
    cpu_utilisation: z.number().nullable(),
    monthly_cost_usd: z.number(),
    autoscaler: z.object({ name: z.string(), min_replicas: z.number().int(), max_replicas: z.number().int() }).nullable(),
  })
  .passthrough();
export type CostDeployment = z.infer<typeof CostDeployment>;

export const CostReport = z
  .object({
    tenant: z.string(),
    as_of: z.string(),
    environment: z.string(),
    pod_monthly_cost_usd: z.number(),
    deployments: z.array(CostDeployment),
    totals: z.object({ replicas: z.number().int(), monthly_run_rate_usd: z.number() }).passthrough(),
    budget: z
      .object({
        monthly_budget_usd: z.number(),
        month_to_date_usd: z.number(),
        forecast_month_end_usd: z.number(),
        forecast_pct_of_budget: z.number().nullable(),
        forecast_over_budget: z.boolean(),
      })
      .passthrough(),
  })
  .passthrough();
export type CostReport = z.infer<typeof CostReport>;

export const Utilisation = z
  .object({
    namespace: z.string(),
    deployment: z.string(),
    window_minutes: z.number(),
    samples: z.number().int(),
    sample_interval_s: z.number(),
    history_minutes: z.number(),
    newest_sample_age_s: z.number().nullable(),
    largest_gap_s: z.number().nullable(),
    replicas: z.number().int().nullable(),
    cpu_request_millicores: z.number().nullable(),
    cpu_millicores: Spread.nullable(),
    utilisation: Spread.nullable(),
  })
  .passthrough();
export type Utilisation = z.infer<typeof Utilisation>;
