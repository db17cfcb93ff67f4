// What a deployment's pods say about their limits, read off get_pod_metrics: how throttled they are
// at their CPU limit, how busy against it, how many were OOMKilled at their memory limit or run at its
// edge. Elastik tells a limit that binds from a load that does (elastik/vertical.ts) by it, and the
// verifier judges a change of limits by it. Pure: metrics in, numbers out.
// It must never invent a signal the server did not give: throttling not served is null, not 0.
import type { DeploymentMetrics } from './cluster-views.ts';

/**
 * Share of CFS periods throttled, on the median pod, from which the CPU limit is what binds (with
 * CPU to spare on average: see elastik/vertical.ts). Lower than the 25% a throttling alert pages on:
 * this is not an alert but the cause of an SLO breach already detected, and by the time the alert's
 * level is reached the first step should already have been the right one.
 */
export const THROTTLED_RATIO = 0.15;
/** Memory use over the limit from which a pod runs at the edge of being OOMKilled. */
export const MEMORY_EDGE = 0.9;

export interface LimitSignals {
  /** Median share of CFS periods throttled over the ready pods; null when the server does not serve it. */
  throttled: number | null;
  /** Mean CPU use over the CPU limit of the ready pods; null without limits. */
  saturation: number | null;
  /** Live pods whose container last ended OOMKilled. */
  oomKilled: number;
  /** Ready pods at MEMORY_EDGE or more of their memory limit. */
  atMemoryEdge: number;
  pods: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** What the pods say about their limits now: throttling, saturation, OOM kills, memory at the edge. */
export function limitSignals(m: DeploymentMetrics): LimitSignals {
  const ready = m.pods.filter((p) => p.ready);
  const throttles = ready.map((p) => p.cpu_throttled_ratio).filter((x): x is number => typeof x === 'number');
  const sat = ready.filter((p) => typeof p.cpu_limit_millicores === 'number' && p.cpu_limit_millicores > 0).map((p) => p.cpu_millicores / p.cpu_limit_millicores!);
  return {
    throttled: throttles.length > 0 ? median(throttles) : null,
    saturation: sat.length > 0 ? sat.reduce((a, b) => a + b, 0) / sat.length : null,
    oomKilled: m.pods.filter((p) => p.last_termination_reason === 'OOMKilled').length,
    atMemoryEdge: ready.filter((p) => (p.memory_utilisation ?? 0) >= MEMORY_EDGE).length,
    pods: m.pods.length,
  };
}

