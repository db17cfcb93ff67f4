// Elastik's vertical changes: when a container's limit, not the number of pods, is what hurts the
// service, a proposal to raise that limit by one bounded step (patch_resource_limits), with the
// evidence that tells the case apart and what undoes it. Two cases:
// - CPU: the pods are throttled at their CPU limit (a large share of CFS periods) while they are not
//   busy on average — their work bursts past the quota within each period, so latency rises with
//   the limit, not with the load per pod. More pods would spread a load that is not the problem.
// - Memory: pods are OOMKilled at their limit, or run at its edge, with no release to blame (a release
//   that lines up is rolled back instead — DESIGN §6: a bigger heap would only hide a bad revision).
// Everything else (pods busy at their limit, shedding load) is load per pod: replicas, sizing.ts.
// Pure: metrics in, a proposal out; no clock, no I/O. It proposes; the gateway decides, and the MCP
// server holds the step to its own hard limits whatever was granted.
import type { DeploymentMetrics } from '../runtime/cluster-views.ts';
import { MEMORY_EDGE, THROTTLED_RATIO, limitSignals } from '../runtime/limit-signals.ts';
import type { PlannedAction } from '../runtime/planned-action.ts';

export { THROTTLED_RATIO } from '../runtime/limit-signals.ts';

/** Mean CPU use over the limit at or above which the pods are simply busy: the load per pod binds. */
export const BUSY_SATURATION = 0.8;
/**
 * One step: CPU doubles (what the MCP server allows per call), memory grows by half. The server's
 * ceilings per container, mirrored so a proposal is sized to pass (mcp-servers/kubernetes/guardrails.ts).
 */
export const VERTICAL_STEP = { cpuFactor: 2, memoryFactor: 1.5, maxCpuCores: 16, maxMemoryBytes: 64 * 2 ** 30 } as const;

export type VerticalCause = 'cpu_throttling' | 'memory_limit';

export interface VerticalInput {
  namespace: string;
  deployment: string;
  metrics: DeploymentMetrics;
  sloP99Ms: number;
  /** The tenant's entitlement, in pods of today's size: replicas × the step's factor stays within it. */
  maxReplicas: number;
  /** A release lines up with the incident: memory trouble is the release's, not the limit's. */
  correlatedChange: boolean;
}

export type VerticalDecision =
  | { kind: 'limits'; cause: VerticalCause; action: PlannedAction<'patch_resource_limits'> }
  | { kind: 'none'; why: string };

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const UNITS: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: MiB, Gi: GiB, Ti: 2 ** 40 };

/** A Kubernetes quantity in base units (cores, bytes); undefined when absent or unreadable. */
export function quantity(q: string | null | undefined): number | undefined {
  const m = q ? /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim()) : null;
  return m ? Number(m[1]) * UNITS[m[2] ?? '']! : undefined;
}

const cpuText = (cores: number) => `${Math.round(cores * 1000)}m`;
const memText = (bytes: number) => `${Math.ceil(bytes / MiB)}Mi`;
const pct = (x: number) => `${Math.round(x * 100)}%`;
export function verticalStep(i: VerticalInput): VerticalDecision {
  const s = limitSignals(i.metrics);
  const p99 = Math.round(i.metrics.service.p99_ms);
  if (p99 <= i.sloP99Ms) return { kind: 'none', why: `p99 ${p99} ms is within the ${i.sloP99Ms} ms SLO` };
  const containers = i.metrics.deployment.containers ?? [];
  const replicas = i.metrics.deployment.replicas;

  const cpuBound = s.throttled !== null && s.throttled >= THROTTLED_RATIO && (s.saturation === null || s.saturation < BUSY_SATURATION);
  if (cpuBound) {
    const c = containers.find((x) => quantity(x.limits.cpu) !== undefined);
    const from = c ? quantity(c.limits.cpu)! : undefined;
    if (!c || from === undefined) return { kind: 'none', why: 'the pods are throttled, but no container of the template states a CPU limit to raise' };
    const to = Math.min(from * VERTICAL_STEP.cpuFactor, VERTICAL_STEP.maxCpuCores);
    const blocked = bounds(from, to, replicas, i.maxReplicas, 'CPU');
    if (blocked) return { kind: 'none', why: blocked };
    return {
      kind: 'limits',
      cause: 'cpu_throttling',
      action: limitsAction(i, c.name, 'cpu', cpuText(from), cpuText(to), [
        `p99 latency of ${i.deployment} is ${p99} ms against a ${i.sloP99Ms} ms SLO`,
        `its pods are throttled at their CPU limit (${c.name}: ${cpuText(from)}) in ${pct(s.throttled!)} of CFS periods (median pod), ` +
          `while they use ${s.saturation === null ? 'an unknown share' : pct(s.saturation)} of that limit on average: their requests burst past the quota within each 100 ms period and wait out the rest of it`,
        `the limit binds, not the load per pod: more replicas spread a load that is not the problem and leave each request as throttled; a higher limit removes the freezes`,
        `raising limits.cpu ${cpuText(from)} → ${cpuText(to)} (${VERTICAL_STEP.cpuFactor}x, the most one call may change it); requests unchanged, so the tenant's capacity and bill stay as they are`,
        `judged by p99 back under ${i.sloP99Ms} ms with throttling below ${pct(THROTTLED_RATIO)}; undone by restoring limits.cpu ${cpuText(from)}`,
      ], s),
    };
  }

  const memoryBound = s.oomKilled > 0 || (s.pods > 0 && s.atMemoryEdge * 2 >= s.pods);
  if (memoryBound) {
    if (i.correlatedChange) return { kind: 'none', why: 'memory trouble lines up with a release: the release is rolled back, not given more memory' };
    const c = containers.find((x) => quantity(x.limits.memory) !== undefined);
    const from = c ? quantity(c.limits.memory)! : undefined;
    if (!c || from === undefined) return { kind: 'none', why: 'pods are short of memory, but no container of the template states a memory limit to raise' };
    const to = Math.min(Math.ceil((from * VERTICAL_STEP.memoryFactor) / MiB) * MiB, VERTICAL_STEP.maxMemoryBytes);
    const blocked = bounds(from, to, replicas, i.maxReplicas, 'memory');
    if (blocked) return { kind: 'none', why: blocked };
    return {
      kind: 'limits',
      cause: 'memory_limit',
      action: limitsAction(i, c.name, 'memory', memText(from), memText(to), [
        `p99 latency of ${i.deployment} is ${p99} ms against a ${i.sloP99Ms} ms SLO`,
        s.oomKilled > 0
          ? `${s.oomKilled} of ${s.pods} pods were OOMKilled at their memory limit (${c.name}: ${memText(from)}): each restart takes a pod's capacity away and its load onto the others`
          : `${s.atMemoryEdge} of ${s.pods} pods run at ${pct(MEMORY_EDGE)} or more of their memory limit (${c.name}: ${memText(from)}): the next spike kills them`,
        'no release lines up with the incident: the working set has outgrown the limit, and more replicas of the same size would be killed the same way',
        `raising limits.memory ${memText(from)} → ${memText(to)} (${VERTICAL_STEP.memoryFactor}x); requests unchanged`,
        `judged by p99 back under ${i.sloP99Ms} ms with no pod OOMKilled since; undone by restoring limits.memory ${memText(from)}`,
      ], s),
    };
  }
  return { kind: 'none', why: 'neither throttling at the CPU limit nor OOM kills: the load per pod decides (replicas)' };
}

/** The tenant's entitlement and the server's ceilings for one step; a reason when the step breaks them. */
function bounds(from: number, to: number, replicas: number, maxReplicas: number, what: string): string | undefined {
  if (to <= from) return `the ${what} limit is already at the ceiling one container may have`;
  // Entitled to maxReplicas pods of today's size: the larger pods must fit in that.
  if (replicas * (to / from) > maxReplicas) {
    return `${replicas} pods with ${(to / from).toFixed(1)}x the ${what} are more than the ${maxReplicas} pods of today's size the tenant is entitled to`;
  }
  return undefined;
}

function limitsAction(
  i: VerticalInput,
  container: string,
  resource: 'cpu' | 'memory',
  from: string,
  to: string,
  reasoning: string[],
  s: ReturnType<typeof limitSignals>,
): PlannedAction<'patch_resource_limits'> {
  const args = (value: string) => ({ namespace: i.namespace, deployment: i.deployment, container, limits: { [resource]: value } });
  return {
    action: 'patch_resource_limits',
    params: {
      container,
      resource,
      from_limit: from,
      to_limit: to,
      cause: resource === 'cpu' ? 'cpu_throttling' : 'memory_limit',
      evidence: { throttled_ratio: s.throttled, cpu_saturation: s.saturation === null ? null : Math.round(s.saturation * 1000) / 1000, oom_killed_pods: s.oomKilled, pods_at_memory_edge: s.atMemoryEdge, pods: s.pods },
    },
    // Limits, not requests: the tenant's capacity (replicas × requests) does not change (DESIGN §5).
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
    tool_call: { server: 'kubernetes', tool: 'patch_resource_limits', args: args(to) },
    compensating_action: { server: 'kubernetes', tool: 'patch_resource_limits', args: args(from) },
    verification: {
      metric: 'http_request_duration_p99_ms',
      slo_threshold: i.sloP99Ms,
      min_improvement_pct: 30,
      window_s: 180,
      limits: resource === 'cpu' ? { cause: 'cpu_throttling', max_throttled_ratio: THROTTLED_RATIO } : { cause: 'memory_limit' },
    },
    reasoning,
  };
}
