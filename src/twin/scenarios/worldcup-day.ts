// A day of real traffic on a realistic cluster: three tenants on ten nodes, seven JVM services, each
// behind a HorizontalPodAutoscaler (CPU at 70% of requests), all driven by the 1998 World Cup web
// site's requests on its busiest match day (1998-06-30, Argentina v England: 20x between night and
// the evening surge), scaled to each service and shifted by each tenant's time zone. The baseline
// the benchmarks compare Governor against, and the cluster bench.ts times. It only builds state; the
// day unfolds in the twin's model.
import type { Clock } from '../../core/clock.ts';
import { ClusterTwin, type NodeSetup } from '../cluster-twin.ts';
import { traceLoad, type Trace } from '../load-shapes.ts';
import { loadTrace } from '../traces.ts';
import { serviceTemplate } from './service-template.ts';

export const WORLDCUP_DAY = {
  /** The trace day that plays from the scenario's start (UTC midnight). */
  traceDayMs: Date.parse('1998-06-30T00:00:00Z'),
  nodes: 10,
  /** Per-pod load at 70% CPU of a 500m request (600 requests/s per core). */
  targetCpuUtilisation: 70,
} as const;

const HOUR = 3_600_000;
const JVM = '-XX:+UseG1GC -XX:MaxRAMPercentage=70 -XX:NewRatio=2 -XX:+ExitOnOutOfMemoryError';

interface ServicePlan {
  tenant: string;
  namespace: string;
  name: string;
  /** The service's share of the trace's peak, in requests per second. */
  peakRps: number;
  /** Plays the trace this much later: the tenant's users live elsewhere. */
  shiftMs: number;
  maxReplicas: number;
}

export const WORLDCUP_SERVICES: readonly ServicePlan[] = [
  { tenant: 'acme', namespace: 'acme-prod', name: 'storefront', peakRps: 3_200, shiftMs: 0, maxReplicas: 30 },
  { tenant: 'acme', namespace: 'acme-prod', name: 'checkout', peakRps: 1_400, shiftMs: 0, maxReplicas: 16 },
  { tenant: 'acme', namespace: 'acme-prod', name: 'search', peakRps: 2_000, shiftMs: 0, maxReplicas: 20 },
  { tenant: 'globex', namespace: 'globex-prod', name: 'web', peakRps: 2_400, shiftMs: 3 * HOUR, maxReplicas: 24 },
  { tenant: 'globex', namespace: 'globex-prod', name: 'api', peakRps: 1_600, shiftMs: 3 * HOUR, maxReplicas: 16 },
  { tenant: 'initech', namespace: 'initech-prod', name: 'portal', peakRps: 1_200, shiftMs: -6 * HOUR, maxReplicas: 12 },
  { tenant: 'initech', namespace: 'initech-prod', name: 'reports', peakRps: 600, shiftMs: -6 * HOUR, maxReplicas: 8 },
];

export interface WorldCupDay {
  twin: ClusterTwin;
  services: readonly ServicePlan[];
  trace: Trace;
}

/** Builds the cluster at the clock's time; `trace` defaults to the WorldCup trace read from the shared data. */
export function buildWorldCupDay(clock: Clock, opts: { seed?: number; gridMs?: number; trace?: Trace; tracesDir?: string } = {}): WorldCupDay {
  const trace = opts.trace ?? loadTrace('worldcup98', opts.tracesDir);
  const start = clock.now();
  const nodes: NodeSetup[] = Array.from({ length: WORLDCUP_DAY.nodes }, (_, i) => ({
    name: `pool-a-${String(i + 1).padStart(2, '0')}`,
    cpu: 8,
    memory: '32Gi',
    allocatable: { cpu: '7910m', memory: '30Gi' },
    labels: { 'node.kubernetes.io/instance-type': 'm6i.2xlarge', 'topology.kubernetes.io/zone': `eu-west-1${'abc'[i % 3]}` },
  }));
  const twin = new ClusterTwin(clock, { seed: opts.seed ?? 19980630, nodes, ...(opts.gridMs ? { gridMs: opts.gridMs } : {}) });
  for (const ns of new Set(WORLDCUP_SERVICES.map((s) => s.namespace))) {
    const tenant = WORLDCUP_SERVICES.find((s) => s.namespace === ns)!.tenant;
    twin.addNamespace(ns, { 'governor.io/tenant': tenant, 'governor.io/environment': 'production' }, start - 300 * 86_400_000);
  }
  for (const s of WORLDCUP_SERVICES) {
    const load = traceLoad(trace, { anchorMs: start, fromMs: WORLDCUP_DAY.traceDayMs, shiftMs: s.shiftMs, scale: { peakRps: s.peakRps } });
    // Start where the HPA would have left the deployment: enough pods for the opening load.
    const perPod = (600 * 0.5 * WORLDCUP_DAY.targetCpuUtilisation) / 100;
    const replicas = Math.min(s.maxReplicas, Math.max(2, Math.ceil((typeof load === 'number' ? load : load(start)) / perPod)));
    const template = serviceTemplate({ tenant: s.tenant, name: s.name, image: `registry.${s.tenant}.example/${s.name}:2.3.0`, jvmOptions: JVM });
    twin.addDeployment({
      namespace: s.namespace,
      name: s.name,
      replicas,
      rps: load,
      labels: { 'governor.io/tenant': s.tenant },
      revisions: [{ template, changeCause: 'release 2.3.0', createdAtMs: start - 5 * 86_400_000 }],
    });
    twin.createHpa({
      metadata: { name: s.name, namespace: s.namespace },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name },
        minReplicas: 2,
        maxReplicas: s.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: WORLDCUP_DAY.targetCpuUtilisation } } }],
      },
    });
  }
  return { twin, services: WORLDCUP_SERVICES, trace };
}
