// The hard limits of DESIGN §4, as pure decisions over facts read from the live cluster. The
// Kubernetes MCP server applies them to every scaling call whatever the grant says; no policy,
// approval or prompt can lift them. They must never take the caller's word for the current state.

export const MAX_SCALE_UP_FACTOR = 3;
export const MIN_PRODUCTION_REPLICAS = 2;
export const SCALE_COOLDOWN_MS = 300_000;

export const ENVIRONMENT_LABEL = 'governor.io/environment';
export const TENANT_LABEL = 'governor.io/tenant';

/** Rule names match the policy layer's (`violations[].rule` in DESIGN §5). */
export type GuardrailRule = 'max_scale_up_factor' | 'min_production_replicas' | 'scale_cooldown';

export interface GuardrailViolation {
  rule: GuardrailRule;
  message: string;
}

export interface ScaleFacts {
  namespace: string;
  deployment: string;
  /** spec.replicas as the cluster has it now. */
  currentReplicas: number;
  requestedReplicas: number;
  /** The namespace carries `governor.io/environment: production`. */
  production: boolean;
}

export function scaleLimitViolations(f: ScaleFacts): GuardrailViolation[] {
  const out: GuardrailViolation[] = [];
  // From zero replicas the factor is undefined; measuring from one keeps a scaled-to-zero
  // workload recoverable (to at most 3) without letting a single call jump arbitrarily far.
  const base = Math.max(f.currentReplicas, 1);
  if (f.requestedReplicas > base * MAX_SCALE_UP_FACTOR) {
    const factor = f.currentReplicas > 0 ? (f.requestedReplicas / f.currentReplicas).toFixed(1) : '∞';
    out.push({
      rule: 'max_scale_up_factor',
      message: `${f.namespace}/${f.deployment}: ${f.currentReplicas} → ${f.requestedReplicas} replicas is a ${factor}x scale-up; at most ${MAX_SCALE_UP_FACTOR}x (${base * MAX_SCALE_UP_FACTOR} replicas) per invocation`,
    });
  }
  if (f.production && f.requestedReplicas < MIN_PRODUCTION_REPLICAS) {
    out.push({
      rule: 'min_production_replicas',
      message: `${f.namespace}/${f.deployment}: ${f.requestedReplicas} replicas is below the production minimum of ${MIN_PRODUCTION_REPLICAS}`,
    });
  }
  return out;
}

export function cooldownViolation(target: string, heldSinceMs: number | null, nowMs: number): GuardrailViolation {
  const remaining = heldSinceMs === null ? null : Math.max(0, Math.ceil((heldSinceMs + SCALE_COOLDOWN_MS - nowMs) / 1000));
  return {
    rule: 'scale_cooldown',
    message:
      `${target}: scale cooldown of ${SCALE_COOLDOWN_MS / 1000} s since the previous scaling action` +
      (heldSinceMs === null ? '' : ` at ${new Date(heldSinceMs).toISOString()}; ${remaining} s remaining`),
  };
}

export const cooldownKey = (namespace: string, deployment: string): string => `cooldown:scale:${namespace}/${deployment}`;

/** The annotation cordon_node leaves on a node: which namespace's grant cordoned it, so that only that tenant's uncordon_node may undo it. */
export const CORDONED_BY_ANNOTATION = 'governor.io/cordoned-by';

export interface DrainCandidate {
  namespace: string;
  name: string;
  /** The deployment the pod belongs to; null when it is not a deployment's. */
  deployment: string | null;
  ready: boolean;
}

export interface DrainFacts {
  /** The session's pods on the node. */
  pods: readonly DrainCandidate[];
  /** Ready pods of each deployment, cluster-wide, keyed `namespace/deployment`. */
  readyReplicas: ReadonlyMap<string, number>;
  /** Namespaces labelled `governor.io/environment: production`. */
  production: ReadonlySet<string>;
}

export interface DrainPlan {
  evict: DrainCandidate[];
  keep: Array<DrainCandidate & { reason: string }>;
}

/**
 * Which of the session's pods a drain may evict: not-ready pods always (they serve nothing); a ready
 * pod of a production deployment only while the deployment keeps at least MIN_PRODUCTION_REPLICAS
 * ready pods elsewhere in the meantime — the same floor scale_deployment holds, applied to
 * disruption instead of spec.replicas, as a PodDisruptionBudget with minAvailable 2 would.
 */
export function drainPlan(f: DrainFacts): DrainPlan {
  const ready = new Map(f.readyReplicas);
  const evict: DrainCandidate[] = [];
  const keep: DrainPlan['keep'] = [];
  const ordered = [...f.pods].sort((a, b) => Number(a.ready) - Number(b.ready) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  for (const p of ordered) {
    if (!p.ready || p.deployment === null || !f.production.has(p.namespace)) {
      evict.push(p);
      continue;
    }
    const k = `${p.namespace}/${p.deployment}`;
    const left = (ready.get(k) ?? 0) - 1;
    if (left < MIN_PRODUCTION_REPLICAS) {
      keep.push({ ...p, reason: `min_production_replicas: evicting ${p.name} would leave ${k} with ${left} ready pods; at least ${MIN_PRODUCTION_REPLICAS} in production` });
      continue;
    }
    ready.set(k, left);
    evict.push(p);
  }
  return { evict, keep };
}
