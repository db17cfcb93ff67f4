// The HorizontalPodAutoscaler's arithmetic, as kube-controller-manager does it
// (pkg/controller/podautoscaler: replica_calculator.go and horizontal.go, Kubernetes 1.31): the
// replica count each metric asks for, the 10% tolerance, the treatment of pending, unready and
// metric-less pods, the stabilisation windows and the scaling policies. Pure functions of their
// inputs — the twin's controller (cluster-twin.ts) owns the objects, the clock and the history —
// so the baseline every benchmark compares against can be tested case by case. It must never read
// a clock or touch twin state.
//
// Where the twin simplifies, on purpose:
// - Metrics are the twin's instantaneous values (metrics-server would give a 15 s average).
// - Readiness (CPU only, as upstream): a pod is "unready" if it is not Ready, or if it started less
//   than 5 min ago (cpuInitializationPeriod) and became Ready less than one metric window (15 s)
//   ago. Twin pods never lose readiness once they have it, so upstream's "never been ready" test
//   after the initialisation period reduces to "not Ready".
// - An HPA without spec.behavior is run with the documented default behaviour (scale up: the larger
//   of 4 pods or 100% per 15 s, no window; scale down: 100% per 15 s after a 300 s window). The
//   upstream controller's legacy path for that case allows max(2 x current, 4) per sync, which is
//   the same limit except below 4 replicas.
// - Only Deployments are scale targets; External and ContainerResource metrics are reported as
//   not supported (ScalingActive False), like a cluster without an external-metrics adapter.
import type { Condition, HorizontalPodAutoscalerSpec, HpaScalingRules, MetricSpec, MetricStatus, MetricTarget } from './kube-objects.ts';
import { formatMetricValue, parseQuantity } from './quantity.ts';

export const HPA_DEFAULTS = {
  syncPeriodMs: 15_000,
  tolerance: 0.1,
  cpuInitializationPeriodMs: 5 * 60_000,
  /** metrics-server's window: how long after becoming Ready a CPU sample still counts as start-up. */
  metricWindowMs: 15_000,
  minReplicas: 1,
  /** targetCPUUtilizationPercentage when an HPA names no metric. */
  cpuUtilization: 80,
} as const;

export type ScalingRules = Required<HpaScalingRules>;

export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};

export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** Fills what an HPA leaves out the way the API server's defaulting does (GenerateHPAScale{Up,Down}Rules). */
export function behaviourOf(spec: HorizontalPodAutoscalerSpec): { scaleUp: ScalingRules; scaleDown: ScalingRules } {
  const fill = (r: HpaScalingRules | undefined, d: ScalingRules): ScalingRules => ({
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: r?.selectPolicy ?? d.selectPolicy,
    policies: r?.policies && r.policies.length > 0 ? r.policies : d.policies,
  });
  return { scaleUp: fill(spec.behavior?.scaleUp, DEFAULT_SCALE_UP), scaleDown: fill(spec.behavior?.scaleDown, DEFAULT_SCALE_DOWN) };
}

/** The metrics an HPA evaluates: its own, or CPU at 80% when it names none. */
export function metricsOf(spec: HorizontalPodAutoscalerSpec): MetricSpec[] {
  if (spec.metrics && spec.metrics.length > 0) return spec.metrics;
  return [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: HPA_DEFAULTS.cpuUtilization } } }];
}

/** One pod of the scale target as the replica calculator sees it. */
export interface HpaPod {
  name: string;
  phase: 'Pending' | 'Running';
  ready: boolean;
  startTimeMs: number | undefined;
  /** When the Ready condition last changed. */
  readyTransitionMs: number | undefined;
  /** Metric values by name: `cpu` in millicores, `memory` in bytes, pod custom metrics in their units. Absent: no sample. */
  metrics: Readonly<Record<string, number>>;
  /** Requests by resource, in the same units; absent when no container requests it. */
  requests: Readonly<Record<string, number>>;
}

export interface HpaHistory {
  /** Unstabilised recommendations, for the stabilisation windows. */
  recommendations: { atMs: number; replicas: number }[];
  scaleUpEvents: { atMs: number; change: number }[];
  scaleDownEvents: { atMs: number; change: number }[];
}

export const emptyHistory = (): HpaHistory => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

export interface HpaInputs {
  spec: HorizontalPodAutoscalerSpec;
  /** The target's spec.replicas and status.replicas. */
  specReplicas: number;
  statusReplicas: number;
  pods: readonly HpaPod[];
  /** An Object metric's value for the described object, undefined when there is none. */
  objectMetric: (describedObject: { kind: string; name: string }, metric: string) => number | undefined;
  nowMs: number;
  history: HpaHistory;
}

export interface HpaCondition {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
  status: Condition['status'];
  reason: string;
  message: string;
}

export interface HpaDecision {
  desiredReplicas: number;
  /** Whether the controller changes the target's replicas. */
  rescale: boolean;
  /** The reason in the SuccessfulRescale event ("cpu resource utilization (percentage of request) above target"). */
  rescaleReason: string;
  currentMetrics: MetricStatus[];
  conditions: HpaCondition[];
  /** Warning events the controller would record (FailedGetResourceMetric, ...). */
  warnings: { reason: string; message: string }[];
  history: HpaHistory;
}

class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const cpuLike = (resource: string) => resource === 'cpu';

/** replica_calculator.go groupPods. */
export function groupPods(pods: readonly HpaPod[], metric: string, resource: string | undefined, nowMs: number) {
  const ready: HpaPod[] = [];
  const unready: HpaPod[] = [];
  const missing: HpaPod[] = [];
  const ignored: HpaPod[] = [];
  for (const p of pods) {
    if (p.phase === 'Pending') {
      ignored.push(p);
      continue;
    }
    if (p.metrics[metric] === undefined) {
      missing.push(p);
      continue;
    }
    if (resource !== undefined && cpuLike(resource)) {
      let isUnready: boolean;
      if (p.startTimeMs === undefined || p.readyTransitionMs === undefined) isUnready = true;
      else if (p.startTimeMs + HPA_DEFAULTS.cpuInitializationPeriodMs > nowMs) {
        isUnready = !p.ready || nowMs < p.readyTransitionMs + HPA_DEFAULTS.metricWindowMs;
      } else isUnready = !p.ready;
      if (isUnready) {
        unready.push(p);
        continue;
      }
    }
    ready.push(p);
  }
  return { ready, unready, missing, ignored };
}

const tolerated = (ratio: number) => Math.abs(1 - ratio) <= HPA_DEFAULTS.tolerance;

/**
 * The replica count for a utilisation target (percent of request) or an average value, with the
 * upstream treatment of missing and unready pods. Returns the usage as the status reports it.
 */
export function podMetricReplicas(
  currentReplicas: number,
  pods: readonly HpaPod[],
  metric: string,
  target: { utilization: number } | { averageValue: number },
  resource: string | undefined,
  nowMs: number,
): { replicas: number; utilization?: number; average: number } {
  const { ready, unready, missing } = groupPods(pods, metric, resource, nowMs);
  if (ready.length === 0) throw new MetricError('FailedGetResourceMetric', 'did not receive metrics for targeted pods (pods might be unready)');
  const values = new Map<HpaPod, number>(ready.map((p) => [p, p.metrics[metric]!]));
  const utilisation = (m: Map<HpaPod, number>) => {
    let total = 0;
    let requests = 0;
    for (const [p, v] of m) {
      const r = p.requests[metric];
      if (r === undefined || r <= 0) throw new MetricError('FailedGetResourceMetric', `missing request for ${metric} in pod ${p.name}`);
      total += v;
      requests += r;
    }
    // Integer percent, as upstream: int32((metricsTotal * 100) / requestsTotal).
    return Math.trunc((total * 100) / requests);
  };
  const average = (m: Map<HpaPod, number>) => [...m.values()].reduce((s, v) => s + v, 0) / m.size;
  const ratioOf = (m: Map<HpaPod, number>) =>
    'utilization' in target ? utilisation(m) / target.utilization : average(m) / target.averageValue;

  const usageRatio = ratioOf(values);
  const reported = { average: average(values), ...('utilization' in target ? { utilization: utilisation(values) } : {}) };
  const scaleUpWithUnready = unready.length > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && missing.length === 0) {
    if (tolerated(usageRatio)) return { replicas: currentReplicas, ...reported };
    return { replicas: Math.ceil(usageRatio * ready.length), ...reported };
  }
  if (missing.length > 0) {
    for (const p of missing) {
      if (usageRatio < 1) {
        // On a scale-down a pod without metrics counts as using its whole request (or the target, if higher).
        const fallback = 'utilization' in target ? ((p.requests[metric] ?? 0) * Math.max(100, target.utilization)) / 100 : target.averageValue;
        values.set(p, fallback);
      } else if (usageRatio > 1) values.set(p, 0);
    }
  }
  if (scaleUpWithUnready) for (const p of unready) values.set(p, 0);
  const newRatio = ratioOf(values);
  if (tolerated(newRatio) || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1)) {
    return { replicas: currentReplicas, ...reported };
  }
  const replicas = Math.ceil(newRatio * values.size);
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas)) return { replicas: currentReplicas, ...reported };
  return { replicas, ...reported };
}

/** An Object metric: Value compares the value with the target, AverageValue divides it by the replicas. */
export function objectMetricReplicas(
  specReplicas: number,
  statusReplicas: number,
  readyPods: number,
  value: number,
  target: MetricTarget,
): { replicas: number; current: { value?: number; averageValue?: number } } {
  if (target.type === 'AverageValue') {
    const t = parseQuantity(target.averageValue ?? '0');
    let replicas = statusReplicas;
    const ratio = value / (t * replicas);
    if (!tolerated(ratio)) replicas = Math.ceil(value / t);
    return { replicas, current: { averageValue: statusReplicas > 0 ? value / statusReplicas : value } };
  }
  const ratio = value / parseQuantity(target.value ?? '0');
  if (specReplicas === 0) return { replicas: Math.ceil(ratio), current: { value } };
  if (tolerated(ratio)) return { replicas: specReplicas, current: { value } };
  return { replicas: Math.ceil(ratio * readyPods), current: { value } };
}

const targetValue = (t: MetricTarget): number => parseQuantity(t.averageValue ?? t.value ?? '0');

/** The proposal and status of one metric; throws MetricError when the metric cannot be evaluated. */
function evaluateMetric(m: MetricSpec, inputs: HpaInputs): { replicas: number; name: string; status: MetricStatus } {
  const { specReplicas, statusReplicas, pods, nowMs } = inputs;
  switch (m.type) {
    case 'Resource': {
      const r = m.resource!;
      if (r.target.type === 'Utilization') {
        const out = podMetricReplicas(specReplicas, pods, r.name, { utilization: r.target.averageUtilization ?? HPA_DEFAULTS.cpuUtilization }, r.name, nowMs);
        return {
          replicas: out.replicas,
          name: `${r.name} resource utilization (percentage of request)`,
          status: { type: 'Resource', resource: { name: r.name, current: { averageUtilization: out.utilization!, averageValue: quantityOf(r.name, out.average) } } },
        };
      }
      const out = podMetricReplicas(specReplicas, pods, r.name, { averageValue: resourceUnits(r.name, targetValue(r.target)) }, r.name, nowMs);
      return { replicas: out.replicas, name: `${r.name} resource`, status: { type: 'Resource', resource: { name: r.name, current: { averageValue: quantityOf(r.name, out.average) } } } };
    }
    case 'Pods': {
      const p = m.pods!;
      const out = podMetricReplicas(specReplicas, pods, p.metric.name, { averageValue: targetValue(p.target) }, undefined, nowMs);
      return { replicas: out.replicas, name: `pods metric ${p.metric.name}`, status: { type: 'Pods', pods: { metric: { name: p.metric.name }, current: { averageValue: formatMetricValue(out.average) } } } };
    }
    case 'Object': {
      const o = m.object!;
      const value = inputs.objectMetric(o.describedObject, o.metric.name);
      if (value === undefined) {
        throw new MetricError('FailedGetObjectMetric', `unable to get metric ${o.metric.name}: ${o.describedObject.kind} on ${o.describedObject.name}/object metrics are not available`);
      }
      const readyPods = pods.filter((p) => p.phase === 'Running' && p.ready).length;
      const out = objectMetricReplicas(specReplicas, statusReplicas, readyPods, value, o.target);
      const current = out.current.averageValue !== undefined ? { averageValue: formatMetricValue(out.current.averageValue) } : { value: formatMetricValue(out.current.value!) };
      return {
        replicas: out.replicas,
        name: `${o.describedObject.kind} metric ${o.metric.name}`,
        status: { type: 'Object', object: { describedObject: o.describedObject, metric: { name: o.metric.name }, current } },
      };
    }
    default:
      throw new MetricError(`FailedGet${m.type}Metric`, `${m.type} metrics are not served by the cluster twin`);
  }
}

/** CPU travels in millicores inside the controller; a quantity target ("500m") is in cores. */
const resourceUnits = (resource: string, v: number) => (cpuLike(resource) ? v * 1000 : v);
const quantityOf = (resource: string, v: number) => (cpuLike(resource) ? `${Math.round(v)}m` : formatMetricValue(Math.round(v)));

/** horizontal.go stabilizeRecommendationWithBehaviors. */
export function stabilise(
  history: HpaHistory,
  current: number,
  desired: number,
  rules: { scaleUp: ScalingRules; scaleDown: ScalingRules },
  nowMs: number,
): { replicas: number; reason: string; message: string; recommendations: HpaHistory['recommendations'] } {
  const upCutoff = nowMs - rules.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = nowMs - rules.scaleDown.stabilizationWindowSeconds * 1000;
  let up = desired;
  let down = desired;
  let oldIndex = -1;
  history.recommendations.forEach((r, i) => {
    if (r.atMs > upCutoff) up = Math.min(up, r.replicas);
    if (r.atMs > downCutoff) down = Math.max(down, r.replicas);
    if (r.atMs < upCutoff && r.atMs < downCutoff) oldIndex = i;
  });
  let replicas = current;
  if (replicas < up) replicas = up;
  if (replicas > down) replicas = down;
  const recommendations = [...history.recommendations];
  if (oldIndex >= 0) recommendations[oldIndex] = { atMs: nowMs, replicas: desired };
  else recommendations.push({ atMs: nowMs, replicas: desired });
  return desired >= current
    ? { replicas, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation', recommendations }
    : { replicas, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation', recommendations };
}

function changeInPeriod(periodSeconds: number, events: HpaHistory['scaleUpEvents'], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.filter((e) => e.atMs > cutoff).reduce((s, e) => s + e.change, 0);
}

/** calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(current: number, history: HpaHistory, rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, history.scaleUpEvents, nowMs) + changeInPeriod(p.periodSeconds, history.scaleDownEvents, nowMs);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, history: HpaHistory, rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies) {
    const start = current - changeInPeriod(p.periodSeconds, history.scaleUpEvents, nowMs) + changeInPeriod(p.periodSeconds, history.scaleDownEvents, nowMs);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = rules.selectPolicy === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** convertDesiredReplicasWithBehaviorRate: the policies and min/max bounds. */
export function applyRateLimits(
  current: number,
  desired: number,
  min: number,
  max: number,
  history: HpaHistory,
  rules: { scaleUp: ScalingRules; scaleDown: ScalingRules },
  nowMs: number,
): { replicas: number; reason: string; message: string } {
  if (desired > current) {
    const limit = Math.max(current, scaleUpLimit(current, history, rules.scaleUp, nowMs));
    const bounded = max > limit;
    const allowed = bounded ? limit : max;
    if (desired > allowed) {
      return bounded
        ? { replicas: allowed, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
        : { replicas: allowed, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    }
  } else if (desired < current) {
    const limit = Math.min(current, scaleDownLimit(current, history, rules.scaleDown, nowMs));
    const bounded = min < limit;
    const allowed = bounded ? limit : min;
    if (desired < allowed) {
      return bounded
        ? { replicas: allowed, reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }
        : { replicas: allowed, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
    }
  }
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

/** One sync of one HPA: horizontal.go reconcileAutoscaler, minus the API calls. */
export function decide(inputs: HpaInputs): HpaDecision {
  const { spec, specReplicas: current, nowMs } = inputs;
  const min = spec.minReplicas ?? HPA_DEFAULTS.minReplicas;
  const max = spec.maxReplicas;
  const rules = behaviourOf(spec);
  const conditions: HpaCondition[] = [];
  const warnings: HpaDecision['warnings'] = [];
  const set = (c: HpaCondition) => {
    const i = conditions.findIndex((x) => x.type === c.type);
    if (i >= 0) conditions[i] = c;
    else conditions.push(c);
  };
  set({ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'the HPA controller was able to get the target\'s current scale' });
  let history = inputs.history;
  // maybeInitScaleDownStabilizationWindow: a new HPA remembers the current size as a recommendation,
  // so it does not scale down before one window has passed.
  if (history.recommendations.length === 0 && rules.scaleDown.stabilizationWindowSeconds > 0) {
    history = { ...history, recommendations: [{ atMs: nowMs, replicas: current }] };
  }
  let desired = 0;
  let rescaleReason = '';
  let currentMetrics: MetricStatus[] = [];

  if (current === 0 && min !== 0) {
    set({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
    return { desiredReplicas: 0, rescale: false, rescaleReason, currentMetrics, conditions, warnings, history };
  }
  if (current > max) {
    rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
    desired = max;
  } else if (current < min) {
    rescaleReason = 'Current number of replicas below Spec.MinReplicas';
    desired = min;
  } else {
    let best = -1;
    let bestName = '';
    let invalid: MetricError | undefined;
    let invalidCount = 0;
    const metrics = metricsOf(spec);
    for (const m of metrics) {
      try {
        const r = evaluateMetric(m, inputs);
        currentMetrics.push(r.status);
        if (r.replicas > best) {
          best = r.replicas;
          bestName = r.name;
        }
      } catch (err) {
        if (!(err instanceof MetricError)) throw err;
        invalidCount++;
        invalid ??= err;
        currentMetrics.push({ type: m.type });
        warnings.push({ reason: err.reason, message: err.message });
      }
    }
    currentMetrics = currentMetrics.filter((s) => s.resource || s.pods || s.object);
    // All metrics invalid, or some invalid and the valid ones would scale down: no change (upstream).
    if (invalid && (invalidCount >= metrics.length || best < current)) {
      warnings.push({ reason: 'FailedComputeMetricsReplicas', message: `invalid metrics (${invalidCount} invalid out of ${metrics.length}), first error is: ${invalid.message}` });
      set({ type: 'ScalingActive', status: 'False', reason: invalid.reason, message: `the HPA was unable to compute the replica count: ${invalid.message}` });
      return { desiredReplicas: current, rescale: false, rescaleReason, currentMetrics, conditions, warnings, history };
    }
    set({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${bestName}` });
    desired = Math.max(desired, best);
    if (desired > current) rescaleReason = `${bestName} above target`;
    if (desired < current) rescaleReason = 'All metrics below target';

    const stable = stabilise(history, current, desired, rules, nowMs);
    history = { ...history, recommendations: stable.recommendations };
    set(
      stable.replicas !== desired
        ? { type: 'AbleToScale', status: 'True', reason: stable.reason, message: stable.message }
        : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
    );
    const limited = applyRateLimits(current, stable.replicas, min, max, history, rules, nowMs);
    set({ type: 'ScalingLimited', status: limited.replicas === stable.replicas ? 'False' : 'True', reason: limited.reason, message: limited.message });
    desired = limited.replicas;
  }

  const rescale = desired !== current;
  if (rescale) {
    // storeScaleEvent, dropping events older than the longest policy period.
    const longest = (r: ScalingRules) => Math.max(0, ...r.policies.map((p) => p.periodSeconds)) * 1000;
    const keepUp = history.scaleUpEvents.filter((e) => e.atMs > nowMs - longest(rules.scaleUp));
    const keepDown = history.scaleDownEvents.filter((e) => e.atMs > nowMs - longest(rules.scaleDown));
    history =
      desired > current
        ? { ...history, scaleUpEvents: [...keepUp, { atMs: nowMs, change: desired - current }], scaleDownEvents: keepDown }
        : { ...history, scaleUpEvents: keepUp, scaleDownEvents: [...keepDown, { atMs: nowMs, change: current - desired }] };
    set({ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` });
  }
  if (!conditions.some((c) => c.type === 'ScalingLimited')) {
    set(
      rescaleReason.startsWith('Current number')
        ? { type: 'ScalingLimited', status: 'True', reason: current > max ? 'TooManyReplicas' : 'TooFewReplicas', message: current > max ? 'the desired replica count is more than the maximum replica count' : 'the desired replica count is less than the minimum replica count' }
        : { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' },
    );
  }
  if (!conditions.some((c) => c.type === 'ScalingActive')) {
    set({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count' });
  }
  return { desiredReplicas: desired, rescale, rescaleReason, currentMetrics, conditions, warnings, history };
}

const KNOWN_RESOURCES = ['cpu', 'memory'];

/** Refuses an HPA spec the API server would refuse (422), naming every problem. */
export function validateHpaSpec(spec: unknown): { field: string; message: string; reason: string }[] {
  const causes: { field: string; message: string; reason: string }[] = [];
  const bad = (field: string, message: string, reason = 'FieldValueInvalid') => causes.push({ field, message, reason });
  const s = spec as Partial<HorizontalPodAutoscalerSpec> | undefined;
  if (!s || typeof s !== 'object') {
    bad('spec', 'Required value', 'FieldValueRequired');
    return causes;
  }
  if (!s.scaleTargetRef?.kind) bad('spec.scaleTargetRef.kind', 'Required value', 'FieldValueRequired');
  if (!s.scaleTargetRef?.name) bad('spec.scaleTargetRef.name', 'Required value', 'FieldValueRequired');
  const min = s.minReplicas ?? 1;
  if (!Number.isInteger(min) || min < 1) bad('spec.minReplicas', `Invalid value: ${JSON.stringify(s.minReplicas)}: must be greater than or equal to 1`);
  if (!Number.isInteger(s.maxReplicas) || (s.maxReplicas as number) < 1) bad('spec.maxReplicas', `Invalid value: ${JSON.stringify(s.maxReplicas)}: must be greater than 0`);
  else if ((s.maxReplicas as number) < min) bad('spec.maxReplicas', `Invalid value: ${s.maxReplicas}: must be greater than or equal to \`minReplicas\``);
  const checkTarget = (field: string, t: MetricTarget | undefined, utilisationAllowed: boolean) => {
    if (!t) return bad(`${field}.target`, 'Required value', 'FieldValueRequired');
    if (!['Utilization', 'Value', 'AverageValue'].includes(t.type)) return bad(`${field}.target.type`, `Unsupported value: "${t.type}"`, 'FieldValueNotSupported');
    if (t.type === 'Utilization') {
      if (!utilisationAllowed) bad(`${field}.target.type`, 'Invalid value: "Utilization": must be either "Value" or "AverageValue"');
      else if (!Number.isInteger(t.averageUtilization) || (t.averageUtilization as number) <= 0) bad(`${field}.target.averageUtilization`, `Invalid value: ${JSON.stringify(t.averageUtilization)}: must be greater than 0`);
    }
    const q = t.type === 'Value' ? t.value : t.type === 'AverageValue' ? t.averageValue : undefined;
    if (t.type !== 'Utilization') {
      try {
        if (q === undefined || parseQuantity(q) <= 0) throw new Error();
      } catch {
        bad(`${field}.target.${t.type === 'Value' ? 'value' : 'averageValue'}`, `Invalid value: ${JSON.stringify(q)}: must be positive`);
      }
    }
  };
  (s.metrics ?? []).forEach((m, i) => {
    const f = `spec.metrics[${i}]`;
    switch (m?.type) {
      case 'Resource':
        if (!m.resource) bad(`${f}.resource`, 'Required value: must populate information for the given metric source', 'FieldValueRequired');
        else {
          if (!KNOWN_RESOURCES.includes(m.resource.name)) bad(`${f}.resource.name`, `Unsupported value: "${m.resource.name}"`, 'FieldValueNotSupported');
          checkTarget(`${f}.resource`, m.resource.target, true);
        }
        break;
      case 'Pods':
        if (!m.pods?.metric?.name) bad(`${f}.pods.metric.name`, 'Required value: must specify a metric name', 'FieldValueRequired');
        else checkTarget(`${f}.pods`, m.pods.target, false);
        if (m.pods?.target?.type === 'Value') bad(`${f}.pods.target.type`, 'Unsupported value: "Value": must be "AverageValue"', 'FieldValueNotSupported');
        break;
      case 'Object':
        if (!m.object?.metric?.name) bad(`${f}.object.metric.name`, 'Required value: must specify a metric name', 'FieldValueRequired');
        else if (!m.object.describedObject?.kind || !m.object.describedObject.name) bad(`${f}.object.describedObject`, 'Required value', 'FieldValueRequired');
        else checkTarget(`${f}.object`, m.object.target, false);
        break;
      case 'External':
      case 'ContainerResource':
        break;
      default:
        bad(`${f}.type`, `Unsupported value: ${JSON.stringify(m?.type)}: supported values: "ContainerResource", "External", "Object", "Pods", "Resource"`, 'FieldValueNotSupported');
    }
  });
  for (const dir of ['scaleUp', 'scaleDown'] as const) {
    const r = s.behavior?.[dir];
    if (!r) continue;
    const f = `spec.behavior.${dir}`;
    if (r.stabilizationWindowSeconds !== undefined && (!Number.isInteger(r.stabilizationWindowSeconds) || r.stabilizationWindowSeconds < 0 || r.stabilizationWindowSeconds > 3600)) {
      bad(`${f}.stabilizationWindowSeconds`, `Invalid value: ${r.stabilizationWindowSeconds}: must be between 0 and 3600`);
    }
    if (r.selectPolicy !== undefined && !['Max', 'Min', 'Disabled'].includes(r.selectPolicy)) bad(`${f}.selectPolicy`, `Unsupported value: "${r.selectPolicy}"`, 'FieldValueNotSupported');
    (r.policies ?? []).forEach((p, i) => {
      if (p.type !== 'Pods' && p.type !== 'Percent') bad(`${f}.policies[${i}].type`, `Unsupported value: "${p.type}"`, 'FieldValueNotSupported');
      if (!Number.isInteger(p.value) || p.value <= 0) bad(`${f}.policies[${i}].value`, `Invalid value: ${p.value}: must be greater than zero`);
      if (!Number.isInteger(p.periodSeconds) || p.periodSeconds <= 0 || p.periodSeconds > 1800) bad(`${f}.policies[${i}].periodSeconds`, `Invalid value: ${p.periodSeconds}: must be between 1 and 1800`);
    });
  }
  return causes;
}
