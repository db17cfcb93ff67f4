// The HorizontalPodAutoscaler controller: every 15 s each HPA, in creation order, reads its target's
// pods and service metrics as metrics-server and the adapters would serve them, asks the upstream
// algorithm (hpa-algorithm.ts) what to do, and records its conditions, status and events. It scales
// its target only through `scale`, as the real one writes the scale subresource through the API; it
// must never touch a deployment's pods itself.
import { decide, type HpaPod } from '../hpa-algorithm.ts';
import type { Condition } from '../kube-objects.ts';
import { key, type TwinStore } from '../twin-store.ts';
import { iso, type DeploymentState, type HpaState, type PodState } from '../twin-state.ts';
import { hpaRef, recordEvent } from './events.ts';
import { podSample, serviceMetricsOf } from './metrics.ts';

/** Writes a new replica count for a target deployment (and lets the other controllers react at once). */
export type ScaleTarget = (d: DeploymentState, replicas: number) => void;

/** Every HPA, in creation order; a rescale reconciles its target before the next HPA looks. */
export function syncHpas(store: TwinStore, scale: ScaleTarget): void {
  for (const h of store.hpas.values()) syncHpa(store, h, scale);
}

function setCondition(store: TwinStore, h: HpaState, type: string, status: Condition['status'], reason: string, message: string): void {
  const prev = h.conditions.get(type);
  h.conditions.set(type, { status, reason, message, sinceMs: prev && prev.status === status ? prev.sinceMs : store.simMs });
}

function syncHpa(store: TwinStore, h: HpaState, scale: ScaleTarget): void {
  const ref = h.spec.scaleTargetRef;
  const d = ref.kind === 'Deployment' ? store.deployments.get(key(h.namespace, ref.name)) : undefined;
  const involved = hpaRef(h);
  if (!d) {
    const message = `the HPA controller was unable to get the target's current scale: ${ref.kind === 'Deployment' ? `deployments.apps "${ref.name}" not found` : `no matches for kind "${ref.kind}" in the cluster twin`}`;
    setCondition(store, h, 'AbleToScale', 'False', 'FailedGetScale', message);
    recordEvent(store, involved, 'Warning', 'FailedGetScale', message, { component: 'horizontal-pod-autoscaler' });
  } else {
    const decision = decide({
      spec: h.spec,
      specReplicas: d.replicas,
      statusReplicas: d.pods.size,
      pods: [...d.pods].map((p) => hpaPod(store, p)),
      objectMetric: (o, metric) => objectMetric(store, h.namespace, o, metric),
      nowMs: store.simMs,
      history: h.history,
    });
    h.history = decision.history;
    for (const c of decision.conditions) setCondition(store, h, c.type, c.status, c.reason, c.message);
    for (const w of decision.warnings) recordEvent(store, involved, 'Warning', w.reason, w.message, { component: 'horizontal-pod-autoscaler' });
    h.status = {
      observedGeneration: h.generation,
      ...(h.lastScaleMs !== undefined ? { lastScaleTime: iso(h.lastScaleMs) } : {}),
      currentReplicas: d.replicas,
      desiredReplicas: decision.desiredReplicas,
      ...(decision.currentMetrics.length > 0 ? { currentMetrics: decision.currentMetrics } : {}),
    };
    if (decision.rescale) {
      scale(d, decision.desiredReplicas);
      h.lastScaleMs = store.simMs;
      h.status.lastScaleTime = iso(store.simMs);
      recordEvent(store, involved, 'Normal', 'SuccessfulRescale', `New size: ${decision.desiredReplicas}; reason: ${decision.rescaleReason}`, {
        component: 'horizontal-pod-autoscaler',
      });
    }
  }
  const s = JSON.stringify([h.status, [...h.conditions]]);
  if (s !== h.statusJson) {
    h.statusJson = s;
    store.modified('horizontalpodautoscalers', h);
  }
}

/** A pod as the replica calculator sees it, with the values metrics-server and the adapters would serve. */
function hpaPod(store: TwinStore, p: PodState): HpaPod {
  const running = p.node !== undefined;
  const sample = podSample(store, p);
  return {
    name: p.name,
    phase: running ? 'Running' : 'Pending',
    ready: p.readySinceMs !== undefined,
    startTimeMs: p.scheduledMs,
    readyTransitionMs: p.readySinceMs ?? p.scheduledMs,
    metrics: running
      ? {
          cpu: sample.cpu_millicores,
          memory: sample.memory_bytes,
          jvm_gc_pause_ms_per_min: sample.gc_pause_ms_per_min,
          memory_utilisation_ratio: sample.memory_utilisation,
          http_requests_per_second: sample.rps,
        }
      : {},
    requests: {
      ...(p.facts.requestCpu > 0 ? { cpu: Math.round(p.facts.requestCpu * 1000) } : {}),
      ...(p.facts.requestMemory > 0 ? { memory: p.facts.requestMemory } : {}),
    },
  };
}

/** Object metrics: the service-level metrics of a Deployment (the custom metrics API serves the same). */
function objectMetric(store: TwinStore, namespace: string, o: { kind: string; name: string }, metric: string): number | undefined {
  if (o.kind !== 'Deployment') return undefined;
  const d = store.deployments.get(key(namespace, o.name));
  if (!d) return undefined;
  const s = serviceMetricsOf(d);
  switch (metric) {
    case 'http_request_duration_p99_ms':
      return s.p99_ms;
    case 'http_request_duration_p50_ms':
      return s.p50_ms;
    case 'http_requests_per_second':
      return s.rps;
    case 'http_error_ratio':
      return s.error_ratio;
    default:
      return undefined;
  }
}
