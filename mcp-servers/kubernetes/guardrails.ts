// The hard limits of DESIGN §4, as pure decisions over facts read from the live cluster. The
// Kubernetes MCP server applies them to every scaling call whatever the grant says; no policy,
// approval or prompt can lift them. They must never take the caller's word for the current state.

export const MAX_SCALE_UP_FACTOR = 3;
export const MIN_PRODUCTION_REPLICAS = 2;
export const SCALE_COOLDOWN_MS = 300_000;

export const ENVIRONMENT_LABEL = 'governor.io/environment';
export const TENANT_LABEL = 'governor.io/tenant';

/** Rule names match the policy layer's (`violations[].rule` in DESIGN §5). */
export type GuardrailRule =
  | 'max_scale_up_factor'
  | 'min_production_replicas'
  | 'scale_cooldown'
  | 'hpa_bounds_order'
  | 'max_resource_change_factor'
  | 'max_container_resources'
  | 'requests_within_limits'
  | 'memory_limit_below_usage'
  | 'resources_cooldown';

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

// ---- an HPA's bounds (set_hpa_bounds) ----------------------------------------------------------
// Raising an HPA's minReplicas scales the deployment as surely as scale_deployment does, so the same
// limits hold, measured on the deployment's live replicas; its maxReplicas may rise no further than
// the same 3x, so that no single call opens the ceiling wide.

export interface HpaBoundsFacts {
  namespace: string;
  hpa: string;
  /** The deployment's spec.replicas now. */
  currentReplicas: number;
  currentMax: number;
  min: number;
  max: number;
  production: boolean;
}

export function hpaBoundsViolations(f: HpaBoundsFacts): GuardrailViolation[] {
  const out = scaleLimitViolations({ namespace: f.namespace, deployment: `${f.hpa} (minReplicas)`, currentReplicas: f.currentReplicas, requestedReplicas: f.min, production: f.production });
  if (f.max < f.min) out.push({ rule: 'hpa_bounds_order', message: `${f.namespace}/${f.hpa}: maxReplicas ${f.max} is below minReplicas ${f.min}` });
  const ceiling = Math.max(f.currentMax, Math.max(f.currentReplicas, 1) * MAX_SCALE_UP_FACTOR);
  if (f.max > ceiling) {
    out.push({
      rule: 'max_scale_up_factor',
      message: `${f.namespace}/${f.hpa}: maxReplicas ${f.currentMax} → ${f.max} opens the ceiling past ${MAX_SCALE_UP_FACTOR}x the ${f.currentReplicas} running replicas (at most ${ceiling})`,
    });
  }
  return out;
}

// ---- a container's resources (patch_resource_limits) --------------------------------------------
// A change of requests or limits rolls every pod of the deployment, so it is held to steps: each value
// at most doubles or halves per call; no container above 16 cores or 64 GiB; requests never above
// limits; a memory limit never below what a live pod of the deployment already uses (that pod would
// be OOM-killed at once); and 300 s between two such changes of one deployment.

export const MAX_RESOURCE_CHANGE_FACTOR = 2;
export const MAX_CONTAINER_CPU_CORES = 16;
export const MAX_CONTAINER_MEMORY_BYTES = 64 * 2 ** 30;
/** Headroom a memory limit keeps above the largest live working set. */
export const MEMORY_USAGE_HEADROOM = 1.1;
export const RESOURCES_COOLDOWN_MS = 300_000;

export interface ResourceValues {
  requests: { cpu: number | null; memory: number | null };
  limits: { cpu: number | null; memory: number | null };
}

export interface ResourceFacts {
  target: string;
  current: ResourceValues;
  next: ResourceValues;
  /** The largest working set (bytes) of a live pod of the deployment; null without metrics. */
  maxPodMemoryBytes: number | null;
}

const unit = (r: 'cpu' | 'memory', v: number) => (r === 'cpu' ? `${Math.round(v * 1000)}m` : `${Math.round(v / 2 ** 20)}Mi`);

export function resourceViolations(f: ResourceFacts): GuardrailViolation[] {
  const out: GuardrailViolation[] = [];
  for (const kind of ['requests', 'limits'] as const) {
    for (const r of ['cpu', 'memory'] as const) {
      const was = f.current[kind][r];
      const now = f.next[kind][r];
      if (now === null || now === was) continue;
      if (was === null || was <= 0) {
        // Setting a value where none was is not a step from anything: held to the absolute ceiling only.
        continue;
      }
      const factor = now / was;
      if (factor > MAX_RESOURCE_CHANGE_FACTOR || factor < 1 / MAX_RESOURCE_CHANGE_FACTOR) {
        out.push({
          rule: 'max_resource_change_factor',
          message: `${f.target}: ${kind}.${r} ${unit(r, was)} → ${unit(r, now)} is a ${factor.toFixed(2)}x change; at most ${MAX_RESOURCE_CHANGE_FACTOR}x up or down per call`,
        });
      }
    }
  }
  for (const kind of ['requests', 'limits'] as const) {
    const cpu = f.next[kind].cpu;
    const mem = f.next[kind].memory;
    if (cpu !== null && cpu > MAX_CONTAINER_CPU_CORES) out.push({ rule: 'max_container_resources', message: `${f.target}: ${kind}.cpu ${unit('cpu', cpu)} is above the ${MAX_CONTAINER_CPU_CORES}-core ceiling per container` });
    if (mem !== null && mem > MAX_CONTAINER_MEMORY_BYTES) out.push({ rule: 'max_container_resources', message: `${f.target}: ${kind}.memory ${unit('memory', mem)} is above the ${MAX_CONTAINER_MEMORY_BYTES / 2 ** 30} GiB ceiling per container` });
  }
  for (const r of ['cpu', 'memory'] as const) {
    const req = f.next.requests[r];
    const lim = f.next.limits[r];
    if (req !== null && lim !== null && req > lim) out.push({ rule: 'requests_within_limits', message: `${f.target}: requests.${r} ${unit(r, req)} is above limits.${r} ${unit(r, lim)}` });
  }
  const memLimit = f.next.limits.memory;
  if (memLimit !== null && memLimit !== f.current.limits.memory && f.maxPodMemoryBytes !== null && memLimit < f.maxPodMemoryBytes * MEMORY_USAGE_HEADROOM) {
    out.push({
      rule: 'memory_limit_below_usage',
      message: `${f.target}: limits.memory ${unit('memory', memLimit)} is below what a live pod uses now (${unit('memory', f.maxPodMemoryBytes)}) plus ${Math.round((MEMORY_USAGE_HEADROOM - 1) * 100)}%: that pod would be OOM-killed`,
    });
  }
  return out;
}

export const resourcesCooldownKey = (namespace: string, deployment: string): string => `cooldown:resources:${namespace}/${deployment}`;
