// What the twin's telemetry reports: a deployment's service metrics as a load balancer in front of it
// would measure them, each pod's as the kubelet and the JVM exporter would, each node's as
// metrics-server would. Read-only views of the model's current numbers (performance.ts); they must
// never change state, so reading metrics never moves the story.
import { mixtureQuantile } from '../performance-model.ts';
import type { TwinStore } from '../twin-store.ts';
import { NODE_SYSTEM, nodeMemoryUsed, type DeploymentState, type NodeState, type PodState } from '../twin-state.ts';
import { podMemory } from './performance.ts';

export interface ServiceMetrics {
  p50_ms: number;
  p99_ms: number;
  rps: number;
  error_ratio: number;
  ready_pods: number;
}

export interface PodMetricsSample {
  pod: string;
  revision: number | null;
  ready: boolean;
  memory_bytes: number;
  memory_limit_bytes: number;
  memory_utilisation: number;
  cpu_millicores: number;
  gc_pause_ms_per_min: number;
  /** Share of CFS periods in which the container was throttled at its CPU limit (cAdvisor's nr_throttled / nr_periods). */
  cpu_throttled_ratio: number;
  /** Requests per second routed to the pod (0 unless ready). */
  rps: number;
}

export interface NodeMetricsSample {
  node: string;
  cpu_millicores: number;
  memory_bytes: number;
  allocatable_cpu_millicores: number;
  allocatable_memory_bytes: number;
  /** Sum of the requests of the pods bound to it. */
  requested_cpu_millicores: number;
  requested_memory_bytes: number;
  pods: number;
  unschedulable: boolean;
  /** The kubelet's MemoryPressure condition. */
  memory_pressure: boolean;
  /** Of that memory, what a leaking system daemon holds. */
  system_leak_bytes: number;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function serviceMetricsOf(d: DeploymentState): ServiceMetrics {
  const ready = [...d.pods].filter((p) => p.readySinceMs !== undefined && p.perf);
  if (ready.length === 0) return { p50_ms: 30_000, p99_ms: 30_000, rps: d.currentRps, error_ratio: d.currentRps > 0 ? 1 : 0, ready_pods: 0 };
  // Traffic is spread evenly; a pod's share of the latency distribution is its share of the traffic.
  const mix = ready.map((p) => ({ weight: 1, perf: p.perf! }));
  const errors = ready.reduce((s, p) => s + p.perf!.errorRatio, 0) / ready.length;
  return {
    p50_ms: round1(mixtureQuantile(mix, 0.5)),
    p99_ms: round1(mixtureQuantile(mix, 0.99)),
    rps: round1(d.currentRps),
    error_ratio: Math.round(errors * 10_000) / 10_000,
    ready_pods: ready.length,
  };
}

export function podSample(store: TwinStore, p: PodState): PodMetricsSample {
  const ready = p.readySinceMs !== undefined;
  const limit = p.facts.memoryLimitBytes;
  const memory = podMemory(store, p);
  return {
    pod: p.name,
    revision: p.rs.revision,
    ready,
    memory_bytes: Math.round(memory),
    memory_limit_bytes: limit,
    memory_utilisation: Math.round((memory / limit) * 1000) / 1000,
    cpu_millicores: Math.round(p.perf?.cpuMillicores ?? 0),
    gc_pause_ms_per_min: ready && p.perf ? Math.round(p.perf.gcPauseMsPerMin) : 0,
    cpu_throttled_ratio: ready && p.perf ? Math.round(p.perf.throttledRatio * 1000) / 1000 : 0,
    rps: ready && p.perf ? Math.round(p.perf.rps * 10) / 10 : 0,
  };
}

/** A node's use: its pods' plus the node's own daemons. */
export function nodeSample(n: NodeState): NodeMetricsSample {
  return {
    node: n.name,
    cpu_millicores: Math.round(n.cpuUsedMillicores + NODE_SYSTEM.cpuMillicores),
    memory_bytes: Math.round(nodeMemoryUsed(n)),
    allocatable_cpu_millicores: Math.round(n.allocatable.cpu * 1000),
    allocatable_memory_bytes: n.allocatable.memory,
    requested_cpu_millicores: Math.round(n.requested.cpu * 1000),
    requested_memory_bytes: n.requested.memory,
    pods: n.pods.size,
    unschedulable: n.unschedulable,
    memory_pressure: n.memoryPressure,
    system_leak_bytes: Math.round(n.systemLeakedBytes),
  };
}
