// Prometheus as the metrics source (DESIGN §8): when the deployment's tenant has a Prometheus MCP
// session, what an agent reads as `get_pod_metrics` — Watchtower detecting, Elastik sizing, the
// executor's before-picture, the verifier's samples — takes the service's latency, traffic and errors
// and each pod's memory, CPU and GC from Prometheus (the `service_signals` tool, each signal read with
// its configured PromQL), and from Kubernetes only what Kubernetes alone knows: which pods exist, their
// revision, readiness, restarts and limits. The Kubernetes read then skips the custom metrics API, so a
// cluster without a metrics adapter works. The response says where its signals came from
// (`signals_source`, with the queries), and the audit records it with the rest of the tool call.
//
// Nothing is guessed: if Prometheus holds no p99 for the deployment, the read fails as an
// upstream failure, as a missing custom metric does, rather than handing the detector a zero.
import { z } from 'zod';
import type { ToolClient, ToolOutcome } from './tool-client.ts';
import { isTenantTools, type TenantTools } from './tenant-sessions.ts';

const ServiceSignals = z.object({
  at: z.number(),
  service: z.object({ p50_ms: z.number().nullable(), p99_ms: z.number().nullable(), rps: z.number().nullable(), error_ratio: z.number().nullable() }),
  pods: z.array(
    z.object({
      pod: z.string(),
      memory_bytes: z.number().nullable(),
      memory_limit_bytes: z.number().nullable(),
      cpu_millicores: z.number().nullable(),
      gc_pause_ms_per_min: z.number().nullable(),
      // Optional: a server from before the signal existed does not send it.
      cpu_throttled_ratio: z.number().nullable().optional(),
    }),
  ),
  queries: z.record(z.string(), z.string()),
});
type ServiceSignals = z.infer<typeof ServiceSignals>;

type PodRow = Record<string, unknown> & { pod: string };

/**
 * `kube` with `get_pod_metrics` answered from Prometheus for the namespaces `prometheusFor` has a
 * session for (the namespace's tenant's session, bound to that tenant alone); every other call, and
 * every namespace without a session, goes to `kube` unchanged.
 */
export function withPrometheusSignals(kube: ToolClient, prometheusFor: (namespace: string) => ToolClient | undefined): ToolClient | TenantTools {
  const client: ToolClient = {
    async callTool<T>(tool: string, args: Record<string, unknown>): Promise<ToolOutcome<T>> {
      const namespace = typeof args['namespace'] === 'string' ? args['namespace'] : undefined;
      const prom = tool === 'get_pod_metrics' && namespace ? prometheusFor(namespace) : undefined;
      if (!prom) return kube.callTool<T>(tool, args);
      const [k8s, signals] = await Promise.all([
        kube.callTool<Record<string, unknown>>(tool, { ...args, service_metrics: false }),
        prom.callTool<unknown>('service_signals', { namespace, deployment: args['deployment'] }),
      ]);
      if (!k8s.ok) return k8s;
      if (!signals.ok) return { ...signals, message: `Prometheus (service_signals): ${signals.message}` };
      const parsed = ServiceSignals.safeParse(signals.data);
      if (!parsed.success) {
        return { ok: false, code: 'upstream_unavailable', message: `service_signals returned an unexpected shape: ${parsed.error.message}`, raw: signals.raw };
      }
      const merged = mergeSignals(k8s.data, parsed.data);
      if ('missing' in merged) {
        return {
          ok: false,
          code: 'upstream_unavailable',
          message: `Prometheus holds no ${merged.missing} for ${namespace}/${String(args['deployment'])} (${parsed.data.queries[merged.missing] ?? 'no query'})`,
          raw: { kubernetes: k8s.raw, prometheus: signals.raw },
        };
      }
      return { ok: true, data: merged.data as T, raw: { kubernetes: k8s.raw, prometheus: signals.raw } };
    },
    async close(): Promise<void> {
      await kube.close();
    },
  };
  return isTenantTools(kube) ? { ...client, forTenant: (t: string) => withPrometheusSignals(kube.forTenant(t), prometheusFor) } : client;
}

/** Kubernetes' picture of the deployment with Prometheus's numbers in it. */
export function mergeSignals(k8s: Record<string, unknown>, s: ServiceSignals): { data: Record<string, unknown> } | { missing: string } {
  const p99 = s.service.p99_ms;
  if (p99 === null) return { missing: 'p99_ms' };
  // No sample of the rate means no requests in the window; no error sample with traffic means none failed.
  const rps = s.service.rps ?? 0;
  const service = { p50_ms: s.service.p50_ms ?? p99, p99_ms: p99, rps, error_ratio: rps > 0 ? (s.service.error_ratio ?? 0) : 0 };
  const byPod = new Map(s.pods.map((p) => [p.pod, p]));
  const pods = (Array.isArray(k8s['pods']) ? (k8s['pods'] as PodRow[]) : []).map((row) => {
    const p = byPod.get(row.pod);
    if (!p) return row;
    const memory = p.memory_bytes ?? (row['memory_bytes'] as number | undefined);
    const limit = p.memory_limit_bytes ?? (row['memory_limit_bytes'] as number | null | undefined) ?? null;
    return {
      ...row,
      ...(memory !== undefined ? { memory_bytes: memory } : {}),
      ...(limit !== null ? { memory_limit_bytes: limit } : {}),
      ...(memory !== undefined && limit ? { memory_utilisation: Math.round((memory / limit) * 10_000) / 10_000 } : {}),
      ...(p.cpu_millicores !== null ? { cpu_millicores: p.cpu_millicores } : {}),
      ...(p.gc_pause_ms_per_min !== null ? { gc_pause_ms_per_min: p.gc_pause_ms_per_min } : {}),
      ...(p.cpu_throttled_ratio !== null && p.cpu_throttled_ratio !== undefined ? { cpu_throttled_ratio: p.cpu_throttled_ratio } : {}),
    };
  });
  return {
    data: {
      ...k8s,
      pods,
      service,
      signals_source: { server: 'prometheus', tool: 'service_signals', at: s.at, queries: s.queries },
    },
  };
}
