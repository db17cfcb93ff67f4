// The three ways of sizing one service that `governor bench autoscale` compares on the same trace:
// - the Kubernetes HPA: the controller's own arithmetic (src/twin/hpa-algorithm.ts, the same code
//   the twin's HPA controller runs: desired = ceil(current x utilisation / target), 10% tolerance,
//   unready and starting pods as upstream treats them, 5-minute scale-down stabilisation, scale-up
//   by the larger of 100% or 4 pods per 15 s), synced every 15 s, CPU target 80% of requests (the
//   HPA's default target) unless told otherwise;
// - static peak provisioning: the replicas the trace's peak needs at that same target, all the time;
// - Governor: governor-policy.ts.
// Each is a controller: every `periodMs` it looks at the service and may set its replicas.
import { decide, emptyHistory, type HpaPod } from '../../twin/hpa-algorithm.ts';
import type { HorizontalPodAutoscalerSpec } from '../../twin/kube-objects.ts';
import { DEFAULT_WORKLOAD } from '../../twin/performance-model.ts';
import { BENCH_SERVICE, type ServiceModel, type ServiceSample } from './service-model.ts';

export interface AutoscalePolicy {
  name: string;
  /** How often the controller looks. */
  periodMs: number;
  /** Replicas to run when the trace starts, for the load it opens with. */
  initialReplicas(openingRps: number): number;
  /** The replicas to set now, or undefined to leave them. */
  decide(sample: ServiceSample, service: ServiceModel, nowMs: number): number | undefined;
}

/** Requests per second a pod serves at a CPU utilisation target (percent of its request). */
export const rpsAtCpuTarget = (targetPct: number): number => (DEFAULT_WORKLOAD.rpsPerCore * BENCH_SERVICE.cpuRequestMillicores * targetPct) / 100 / 1000;

export const HPA_DEFAULT_CPU_TARGET = 80;

export function hpaPolicy(opts: { minReplicas: number; maxReplicas: number; cpuTargetPct?: number }): AutoscalePolicy {
  const target = opts.cpuTargetPct ?? HPA_DEFAULT_CPU_TARGET;
  const spec: HorizontalPodAutoscalerSpec = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'bench' },
    minReplicas: opts.minReplicas,
    maxReplicas: opts.maxReplicas,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
  };
  let history = emptyHistory();
  return {
    name: 'hpa',
    periodMs: 15_000,
    initialReplicas: (rps) => Math.min(opts.maxReplicas, Math.max(opts.minReplicas, Math.ceil(rps / rpsAtCpuTarget(target)))),
    decide(_sample, service, nowMs) {
      const pods: HpaPod[] = service.podViews(nowMs).map((p, i) => ({
        name: `bench-${i}`,
        phase: 'Running',
        ready: p.ready,
        startTimeMs: p.startTimeMs,
        readyTransitionMs: p.readyTransitionMs,
        metrics: { cpu: p.cpuMillicores },
        requests: { cpu: BENCH_SERVICE.cpuRequestMillicores },
      }));
      const d = decide({ spec, specReplicas: service.replicas, statusReplicas: service.replicas, pods, objectMetric: () => undefined, nowMs, history });
      history = d.history;
      return d.rescale ? d.desiredReplicas : undefined;
    },
  };
}

export function staticPolicy(opts: { peakRps: number; minReplicas: number; cpuTargetPct?: number }): AutoscalePolicy {
  const replicas = Math.max(opts.minReplicas, Math.ceil(opts.peakRps / rpsAtCpuTarget(opts.cpuTargetPct ?? HPA_DEFAULT_CPU_TARGET)));
  return { name: 'static', periodMs: 3_600_000, initialReplicas: () => replicas, decide: () => undefined };
}
