// How far Elastik scales in one step: what the demand needs (capacity.ts), within what one call may
// do — at most 3x, never beyond the tenant's entitlement, within the level-3 blast radius when that
// reaches the need (executes at once), else the bigger step the level-2 blast radius allows as a
// supervised proposal (a human approves it), and when that option was declined, the level-3 step
// now and the next after the cooldown. When no step is possible it says why, for the escalation.
// Pure: numbers in, a decision out. It proposes sizes; whether a size is allowed is the gateway's word.
import type { NamespaceCapacity } from '../runtime/cluster-views.ts';

/** DESIGN §4, mirrored so a proposal is sized to pass: the gateway still decides. */
export const STEP_LIMITS = { level3CapacityPct: 30, level2CapacityPct: 50, maxFactor: 3 } as const;

export interface StepInput {
  deployment: string;
  current: number;
  /** Replicas the demand needs; undefined when capacity could not be estimated (the +50% rule then). */
  needed: number | undefined;
  /** The tenant's entitlement per deployment. */
  maxReplicas: number;
  capacity: NamespaceCapacity;
  /** False once a supervised step for this incident expired, was rejected or denied: level-3 steps only. */
  supervisedAllowed: boolean;
  /**
   * The incident's first step: relief at once, within what executes without a human, whenever that
   * moves at all; a bigger supervised step comes after, when the first did not suffice.
   */
  first?: boolean;
}

export type StepDecision =
  | { kind: 'scale'; to: number; needed: number; supervised: boolean; reasons: string[] }
  | { kind: 'blocked'; reason: 'entitlement' | 'blast_radius'; needed: number; detail: string }
  | { kind: 'enough'; needed: number };

/** Signed capacity change of the workload, relative to the tenant's capacity in the namespace (DESIGN §5). */
export function capacityChangePct(capacity: NamespaceCapacity, deployment: string, from: number, to: number): number {
  const cost = (d: NamespaceCapacity['deployments'][number]) => d.cpu_request_millicores || 1;
  const total = capacity.deployments.reduce((sum, d) => sum + d.replicas * cost(d), 0);
  const target = capacity.deployments.find((d) => d.name === deployment);
  if (!target || total <= 0) return 100; // unknown footprint: assume the worst, the gateway limits it
  return Math.round((((to - from) * cost(target)) / total) * 1000) / 10;
}

/** The largest size in (current, upTo] whose capacity change stays within `pct`; current when none. */
function largestWithin(i: StepInput, upTo: number, pct: number): number {
  let best = i.current;
  for (let to = i.current + 1; to <= upTo; to++) {
    if (capacityChangePct(i.capacity, i.deployment, i.current, to) <= pct) best = to;
    else break;
  }
  return best;
}

export function nextStep(i: StepInput): StepDecision {
  // Without a capacity estimate, the rule an SRE would apply: half as many again.
  const needed = i.needed ?? Math.ceil(i.current * 1.5);
  if (needed <= i.current) return { kind: 'enough', needed };
  const ceiling = Math.min(needed, i.current * STEP_LIMITS.maxFactor, i.maxReplicas);
  if (ceiling <= i.current) {
    return {
      kind: 'blocked',
      reason: 'entitlement',
      needed,
      detail: `${i.deployment} runs ${i.current} replicas, its entitlement (max_replicas ${i.maxReplicas}); the demand needs ${needed}`,
    };
  }
  const auto = largestWithin(i, ceiling, STEP_LIMITS.level3CapacityPct);
  const why = (to: number) => [
    `${to} replicas instead of ${i.current}: ${to >= needed ? `what the demand needs (${needed})` : `a step towards the ${needed} the demand needs`}` +
      (ceiling < needed ? ` — at most ${ceiling} in one call (${ceiling === i.maxReplicas ? `entitlement ${i.maxReplicas}` : `3x per call`})` : ''),
    `+${to - i.current} pods is a ${capacityChangePct(i.capacity, i.deployment, i.current, to)}% capacity change for the tenant in its namespace`,
  ];
  if (auto >= ceiling) return { kind: 'scale', to: auto, needed, supervised: false, reasons: why(auto) };
  if (i.first && auto > i.current && auto < ceiling) {
    return { kind: 'scale', to: auto, needed, supervised: false, reasons: [...why(auto), 'relief at once within the level-3 blast radius; the rest after this step is verified'] };
  }
  const supervised = i.supervisedAllowed ? largestWithin(i, ceiling, STEP_LIMITS.level2CapacityPct) : auto;
  if (supervised > auto) {
    return {
      kind: 'scale',
      to: supervised,
      needed,
      supervised: true,
      reasons: [
        ...why(supervised),
        `beyond the level-3 blast radius (${STEP_LIMITS.level3CapacityPct}%) but within level 2 (${STEP_LIMITS.level2CapacityPct}%): a human approves the bigger step rather than wait a cooldown for each small one`,
      ],
    };
  }
  if (auto > i.current) {
    return { kind: 'scale', to: auto, needed, supervised: false, reasons: [...why(auto), `within the level-3 blast radius now; the next step after the ${300} s cooldown`] };
  }
  return {
    kind: 'blocked',
    reason: 'blast_radius',
    needed,
    detail: `even one more pod of ${i.deployment} changes the tenant's capacity by ${capacityChangePct(i.capacity, i.deployment, i.current, i.current + 1)}%, beyond the blast radius an agent may take`,
  };
}
