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
