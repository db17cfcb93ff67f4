// Strategist's right-sizing rule: from one deployment's cost row and its utilisation history, either
// a recommendation to run fewer replicas (with the money it saves) or the reason to hold. Pure: no
// clock, no I/O. It only ever recommends: the tool call it names is what a human would run, and the
// gateway never allows a level-1 agent to execute it. It must never recommend from too little or
// stale history, below the production floor of 2 replicas, or for a deployment an autoscaler owns.
import type { BlastRadius, Proposal, ToolCall } from '../../src/contracts/events.ts';
import type { CostDeployment, CostReport, Utilisation } from './finops-views.ts';

export interface RightSizingPolicy {
  /** Below this much history, utilisation is a guess. */
  minHistoryMinutes: number;
  /** A newest sample older than this means the server has lost sight of the deployment. */
  maxSampleAgeS: number;
  /** A hole in the history longer than this could hide the peak. */
  maxGapS: number;
  /** Over-provisioned: p95 of use below this share of requests. */
  lowP95: number;
  /** Size so that p95 use sits at this share of requests. */
  targetP95: number;
  /** ...and the observed peak at no more than this share of requests. */
  peakCeiling: number;
  productionMinReplicas: number;
  /** Window of utilisation the agent asks for. */
  windowMinutes: number;
}

export const DEFAULT_RIGHT_SIZING: RightSizingPolicy = {
  minHistoryMinutes: 30,
  maxSampleAgeS: 300,
  maxGapS: 300,
  lowP95: 0.4,
  targetP95: 0.65,
  peakCeiling: 0.9,
  productionMinReplicas: 2,
  windowMinutes: 60,
};

export interface RightSizingInput {
  tenant: string;
  environment: string;
  podMonthlyCostUsd: number;
  sloP99Ms: number;
  deployment: CostDeployment;
  /** Every deployment of the tenant in the same namespace (capacity for the blast radius). */
  namespaceDeployments: readonly CostDeployment[];
  utilisation: Utilisation;
  budget: CostReport['budget'];
  policy?: Partial<RightSizingPolicy>;
}

export interface PlannedRecommendation {
  action: 'recommendation';
  params: {
    deployment: string;
    from_replicas: number;
    to_replicas: number;
    monthly_saving_usd: number;
    utilisation: { mean: number; p95: number; peak: number; history_minutes: number; samples: number; p95_at_target: number };
  };
  blast_radius: BlastRadius;
  tool_call: ToolCall;
  compensating_action: ToolCall;
  verification: Proposal['verification'];
  reasoning: string[];
}

export type RightSizing = { kind: 'recommend'; recommendation: PlannedRecommendation } | { kind: 'hold'; reason: string };

/** Replicas that put `p95Millicores` at `target` of requests and the peak under the ceiling, never below `floor`. */
export function rightSizedReplicas(a: {
  p95Millicores: number;
  peakMillicores: number;
  requestPerPodMillicores: number;
  target: number;
  peakCeiling: number;
  floor: number;
}): number {
  const forP95 = Math.ceil(a.p95Millicores / (a.target * a.requestPerPodMillicores));
  const forPeak = Math.ceil(a.peakMillicores / (a.peakCeiling * a.requestPerPodMillicores));
  return Math.max(a.floor, forP95, forPeak, 1);
}

/** Signed capacity change (replicas × CPU requests) relative to the tenant's capacity in the namespace, in % (DESIGN §5). */
export function capacityChangePct(deployments: readonly CostDeployment[], name: string, from: number, to: number): number {
  const weight = (d: CostDeployment) => d.cpu_request_millicores || 1;
  const total = deployments.reduce((s, d) => s + d.replicas * weight(d), 0);
  const target = deployments.find((d) => d.name === name);
  if (!target || total <= 0) return -100; // unknown footprint: say the most it could be
  return Math.round((((to - from) * weight(target)) / total) * 1000) / 10;
}

export function rightSize(input: RightSizingInput): RightSizing {
  const policy = { ...DEFAULT_RIGHT_SIZING, ...input.policy };
  const d = input.deployment;
  const u = input.utilisation;
  const where = `${d.namespace}/${d.name}`;

  if (d.autoscaler) {
    return { kind: 'hold', reason: `${where}: replicas are set by HorizontalPodAutoscaler ${d.autoscaler.name} (min ${d.autoscaler.min_replicas}); its bounds are the lever, not the replica count` };
  }
  if (u.history_minutes < policy.minHistoryMinutes) {
    return { kind: 'hold', reason: `${where}: only ${u.history_minutes} min of utilisation history (${u.samples} samples); at least ${policy.minHistoryMinutes} min needed` };
  }
  if (u.newest_sample_age_s === null || u.newest_sample_age_s > policy.maxSampleAgeS) {
    return { kind: 'hold', reason: `${where}: newest utilisation sample is ${u.newest_sample_age_s ?? '∞'} s old; the data is stale` };
  }
  if (u.largest_gap_s !== null && u.largest_gap_s > policy.maxGapS) {
    return { kind: 'hold', reason: `${where}: a ${u.largest_gap_s} s gap in the utilisation history could hide the peak` };
  }
  const request = d.cpu_request_millicores;
  if (!u.utilisation || !u.cpu_millicores || request <= 0) {
    return { kind: 'hold', reason: `${where}: pods request no CPU, so utilisation against requests is undefined` };
  }
  if (u.replicas !== null && u.replicas !== d.replicas) {
    return { kind: 'hold', reason: `${where}: replicas are changing (${u.replicas} at the last sample, ${d.replicas} desired now)` };
  }
  if (u.utilisation.p95 >= policy.lowP95) {
    return { kind: 'hold', reason: `${where}: p95 CPU is ${pct(u.utilisation.p95)} of requests, not below ${pct(policy.lowP95)}` };
  }

  const from = d.replicas;
  const floor = input.environment === 'production' ? policy.productionMinReplicas : 1;
  const byDemand = rightSizedReplicas({
    p95Millicores: u.cpu_millicores.p95,
    peakMillicores: u.cpu_millicores.peak,
    requestPerPodMillicores: request,
    target: policy.targetP95,
    peakCeiling: policy.peakCeiling,
    floor: 1,
  });
  const to = Math.max(byDemand, floor);
  if (to >= from) {
    return { kind: 'hold', reason: `${where}: already at ${from} replicas, the least that keeps p95 at ${pct(policy.targetP95)} of requests${to === floor ? ` and the ${floor}-replica floor` : ''}` };
  }

  const saving = Math.round((from - to) * input.podMonthlyCostUsd * 100) / 100;
  const p95AtTarget = u.cpu_millicores.p95 / (to * request);
  const peakAtTarget = u.cpu_millicores.peak / (to * request);
  const change = capacityChangePct(input.namespaceDeployments, d.name, from, to);
  const args = { namespace: d.namespace, deployment: d.name };
  const b = input.budget;
  const reasoning = [
    `${d.name} in ${d.namespace} used ${pct(u.utilisation.p95)} of its CPU requests at p95 over the last ${u.history_minutes} min ` +
      `(mean ${pct(u.utilisation.mean)}, peak ${pct(u.utilisation.peak)}; ${u.samples} samples)`,
    `${from} × ${request}m requested against a p95 demand of ${Math.round(u.cpu_millicores.p95)}m: ${to} replicas put p95 at ` +
      `${pct(p95AtTarget)} of requests (target ${pct(policy.targetP95)}) and the observed peak at ${pct(peakAtTarget)}`,
    ...(to === floor && byDemand < floor
      ? [`demand alone would fit in ${byDemand}; ${floor} replicas is the floor for a ${input.environment} deployment, for availability`]
      : []),
    `saves ${from - to} pods × $${fmt(input.podMonthlyCostUsd)} = $${fmt(saving)} per month; ${input.tenant} forecasts ` +
      `$${fmt(b.forecast_month_end_usd)} against a $${fmt(b.monthly_budget_usd)} budget this month` +
      (b.forecast_pct_of_budget === null ? '' : ` (${b.forecast_pct_of_budget}%)`),
    `a ${change}% change of ${input.tenant}'s capacity in ${d.namespace}; after the change, watch p99 against the ${input.sloP99Ms} ms SLO for 30 min`,
    `advisory only: a human runs \`kubectl scale deployment/${d.name} -n ${d.namespace} --replicas=${to}\`; scaling back to ${from} undoes it`,
  ];
  return {
    kind: 'recommend',
    recommendation: {
      action: 'recommendation',
      params: {
        deployment: d.name,
        from_replicas: from,
        to_replicas: to,
        monthly_saving_usd: saving,
        utilisation: {
          mean: u.utilisation.mean,
          p95: u.utilisation.p95,
          peak: u.utilisation.peak,
          history_minutes: u.history_minutes,
          samples: u.samples,
          p95_at_target: Math.round(p95AtTarget * 1000) / 1000,
        },
      },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: change },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { ...args, replicas: to } },
      compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { ...args, replicas: from } },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: input.sloP99Ms, min_improvement_pct: 0, window_s: 1800 },
      reasoning,
    },
  };
}

const pct = (v: number): string => `${Math.round(v * 100)}%`;
const fmt = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 2 });
