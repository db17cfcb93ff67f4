// Pure arithmetic of the Billing MCP server: who uses what on which node, what a tenant's workloads
// request, use and cost, and whether a CPU-limit change is a throttle or a restore. Inputs are plain
// facts read from the cluster by billing-client.ts; nothing here reads the cluster, the clock or the
// session. Isolation lives here too: the tenancy view carries per-workload detail only for namespaces
// the caller may see, and never any pod name.

/** One pod as the billing server needs it: where it runs, what it asks for, what it uses. */
export interface PodFacts {
  namespace: string;
  /** The owning deployment (through its ReplicaSet); null for pods no deployment owns. */
  deployment: string | null;
  node: string | null;
  containers: number;
  /** Sum over containers, millicores / bytes. */
  cpu_request_millicores: number;
  /** Sum over containers; null when any container has no CPU limit. */
  cpu_limit_millicores: number | null;
  memory_request_bytes: number;
  memory_limit_bytes: number | null;
  /** From metrics.k8s.io; null when metrics-server has no sample for the pod (yet). */
  cpu_usage_millicores: number | null;
  memory_usage_bytes: number | null;
}

export interface NodeFacts {
  name: string;
  allocatable_cpu_millicores: number;
  /** metrics.k8s.io node usage (its pods plus the node's own daemons); null without a sample. */
  cpu_usage_millicores: number | null;
}

export interface WorkloadOnNode {
  namespace: string;
  deployment: string | null;
  pods: number;
  containers_per_pod: number;
  pod_cpu_request_millicores: number;
  pod_cpu_limit_millicores: number | null;
  cpu_request_millicores: number;
  cpu_usage_millicores: number;
}

export interface TenantOnNode {
  tenant: string;
  /** False: the session does not cover this tenant's namespaces on the node, so only totals are shown. */
  in_session: boolean;
  pods: number;
  cpu_request_millicores: number;
  cpu_usage_millicores: number;
  /** Per deployment, only for namespaces of the session. */
  workloads: WorkloadOnNode[];
}

export interface NodeTenancy {
  node: string;
  allocatable_cpu_millicores: number;
  cpu_usage_millicores: number;
  /** Node CPU use / allocatable: above ~0.5 neighbours start to slow each other down. */
  cpu_utilisation: number;
  cpu_requested_millicores: number;
  /** Pods of the asked-about deployment on this node. */
  deployment_pods: number;
  tenants: TenantOnNode[];
}

/** The tenant that owns an unlabelled namespace no tenant configuration claims (kube-system…). */
export const UNASSIGNED_TENANT = '(unassigned)';

/**
 * For each node running the deployment's pods, the tenants sharing it. `tenantOf` names a namespace's
 * tenant; `visible` says whether the session may see inside a namespace.
 */
export function nodeTenancy(input: {
  namespace: string;
  deployment: string;
  nodes: readonly NodeFacts[];
  pods: readonly PodFacts[];
  tenantOf: (namespace: string) => string;
  visible: (namespace: string) => boolean;
}): NodeTenancy[] {
  const own = input.pods.filter((p) => p.namespace === input.namespace && p.deployment === input.deployment && p.node !== null);
  const nodeNames = [...new Set(own.map((p) => p.node!))].sort();
  const out: NodeTenancy[] = [];
  for (const name of nodeNames) {
    const node = input.nodes.find((n) => n.name === name);
    const onNode = input.pods.filter((p) => p.node === name);
    const byTenant = new Map<string, TenantOnNode>();
    const byWorkload = new Map<string, WorkloadOnNode>();
    for (const p of onNode) {
      const tenant = input.tenantOf(p.namespace);
      let t = byTenant.get(tenant);
      if (!t) byTenant.set(tenant, (t = { tenant, in_session: true, pods: 0, cpu_request_millicores: 0, cpu_usage_millicores: 0, workloads: [] }));
      const use = p.cpu_usage_millicores ?? 0;
      t.pods++;
      t.cpu_request_millicores += p.cpu_request_millicores;
      t.cpu_usage_millicores += use;
      if (!input.visible(p.namespace)) {
        // One namespace out of sight hides the whole tenant's breakdown: a partial list would mislead.
        t.in_session = false;
        continue;
      }
      const key = `${p.namespace}/${p.deployment ?? ''}`;
      let w = byWorkload.get(key);
      if (!w) {
        w = {
          namespace: p.namespace,
          deployment: p.deployment,
          pods: 0,
          containers_per_pod: p.containers,
          pod_cpu_request_millicores: p.cpu_request_millicores,
          pod_cpu_limit_millicores: p.cpu_limit_millicores,
          cpu_request_millicores: 0,
          cpu_usage_millicores: 0,
        };
        byWorkload.set(key, w);
        t.workloads.push(w);
      }
      w.pods++;
      w.cpu_request_millicores += p.cpu_request_millicores;
      w.cpu_usage_millicores += use;
    }
    const tenants = [...byTenant.values()]
      .map((t) => ({
        ...t,
        cpu_request_millicores: round(t.cpu_request_millicores),
        cpu_usage_millicores: round(t.cpu_usage_millicores),
        workloads: t.in_session
          ? t.workloads
              .map((w) => ({ ...w, cpu_request_millicores: round(w.cpu_request_millicores), cpu_usage_millicores: round(w.cpu_usage_millicores) }))
              .sort((a, b) => b.cpu_usage_millicores - a.cpu_usage_millicores)
          : [],
      }))
      .sort((a, b) => b.cpu_usage_millicores - a.cpu_usage_millicores || a.tenant.localeCompare(b.tenant));
    const allocatable = node?.allocatable_cpu_millicores ?? 0;
    // Without a node sample, the pods' own use is the best lower bound.
    const usage = node?.cpu_usage_millicores ?? onNode.reduce((s, p) => s + (p.cpu_usage_millicores ?? 0), 0);
    out.push({
      node: name,
      allocatable_cpu_millicores: round(allocatable),
      cpu_usage_millicores: round(usage),
      cpu_utilisation: allocatable > 0 ? Math.round((usage / allocatable) * 1000) / 1000 : 0,
      cpu_requested_millicores: round(onNode.reduce((s, p) => s + p.cpu_request_millicores, 0)),
      deployment_pods: own.filter((p) => p.node === name).length,
      tenants,
    });
  }
  return out;
}

export interface DeploymentFacts {
  namespace: string;
  name: string;
  replicas: number;
  containers: number;
  pod_cpu_request_millicores: number;
  pod_cpu_limit_millicores: number | null;
  pod_memory_request_bytes: number;
  pod_memory_limit_bytes: number | null;
}

export interface DeploymentUsage extends DeploymentFacts {
  running_pods: number;
  cpu_usage_millicores: number;
  memory_usage_bytes: number;
  monthly_cost_usd: number;
}

/** Requests, limits, current use and cost of each deployment; cost is replicas × the tenant's pod price. */
export function deploymentUsage(deployments: readonly DeploymentFacts[], pods: readonly PodFacts[], podMonthlyCostUsd: number): DeploymentUsage[] {
  return deployments
    .map((d) => {
      const mine = pods.filter((p) => p.namespace === d.namespace && p.deployment === d.name);
      return {
        ...d,
        running_pods: mine.filter((p) => p.cpu_usage_millicores !== null).length,
        cpu_usage_millicores: round(mine.reduce((s, p) => s + (p.cpu_usage_millicores ?? 0), 0)),
        memory_usage_bytes: Math.round(mine.reduce((s, p) => s + (p.memory_usage_bytes ?? 0), 0)),
        monthly_cost_usd: round(d.replicas * podMonthlyCostUsd),
      };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

// ---- CPU-limit changes ----------------------------------------------------------------------

/** Deployment annotation holding the CPU limit a throttle replaced, so that only that value can come back. */
export const THROTTLED_FROM_ANNOTATION = 'governor.io/throttled-from';

export interface ContainerCpu {
  name: string;
  request_millicores: number | null;
  limit_millicores: number | null;
}

export type LimitChange =
  | { ok: true; from_millicores: number; to_millicores: number; changed: boolean }
  | { ok: false; code: 'safety_violation' | 'conflict'; message: string };

/** The one CPU limit all containers share; a refusal when they differ or one has none. */
function sharedLimit(target: string, containers: readonly ContainerCpu[]): { ok: true; limit: number } | { ok: false; code: 'conflict'; message: string } {
  if (containers.length === 0) return { ok: false, code: 'conflict', message: `${target} has no containers` };
  const unlimited = containers.filter((c) => c.limit_millicores === null).map((c) => c.name);
  if (unlimited.length > 0) {
    // Adding a limit where there was none cannot be undone through restore_tenant_limit: not a throttle this tool makes.
    return { ok: false, code: 'conflict', message: `${target}: container(s) ${unlimited.join(', ')} have no CPU limit; set one through a reviewed deployment change first` };
  }
  const limits = new Set(containers.map((c) => c.limit_millicores!));
  if (limits.size > 1) return { ok: false, code: 'conflict', message: `${target}: containers have different CPU limits; a per-container throttle is not supported` };
  return { ok: true, limit: containers[0]!.limit_millicores! };
}

/**
 * A throttle lowers the limit, never below any container's request (that would starve the
 * workload of what it was promised, and the scheduler's accounting would lie), and never raises it.
 */
export function planThrottle(target: string, containers: readonly ContainerCpu[], toMillicores: number): LimitChange {
  const shared = sharedLimit(target, containers);
  if (!shared.ok) return shared;
  const below = containers.filter((c) => c.request_millicores !== null && toMillicores < c.request_millicores);
  if (below.length > 0) {
    const c = below[0]!;
    return { ok: false, code: 'safety_violation', message: `throttle_below_request: ${formatMillicores(toMillicores)} is below the CPU request ${formatMillicores(c.request_millicores!)} of container ${c.name} in ${target}` };
  }
  if (toMillicores > shared.limit) {
    return { ok: false, code: 'safety_violation', message: `throttle_raises_limit: ${formatMillicores(toMillicores)} is above the current CPU limit ${formatMillicores(shared.limit)} of ${target}; raising a limit is not a throttle (use restore_tenant_limit)` };
  }
  return { ok: true, from_millicores: shared.limit, to_millicores: toMillicores, changed: toMillicores !== shared.limit };
}

/** A restore only brings back the limit a throttle recorded, and only upwards. */
export function planRestore(target: string, containers: readonly ContainerCpu[], recorded: string | undefined, toMillicores: number, parse: (q: string) => number): LimitChange {
  if (recorded === undefined) {
    return { ok: false, code: 'conflict', message: `${target} has no ${THROTTLED_FROM_ANNOTATION} annotation: it was not throttled by Governor, nothing to restore` };
  }
  let previous: number;
  try {
    previous = parse(recorded) * 1000;
  } catch {
    return { ok: false, code: 'conflict', message: `${target}: ${THROTTLED_FROM_ANNOTATION} holds '${recorded}', not a CPU quantity` };
  }
  if (Math.abs(previous - toMillicores) > 0.5) {
    return { ok: false, code: 'safety_violation', message: `restore_mismatch: ${target} was throttled from ${recorded}; only that value can be restored, not ${formatMillicores(toMillicores)}` };
  }
  const shared = sharedLimit(target, containers);
  if (!shared.ok) return shared;
  if (toMillicores < shared.limit) {
    return { ok: false, code: 'safety_violation', message: `restore_lowers_limit: ${formatMillicores(toMillicores)} is below the current CPU limit ${formatMillicores(shared.limit)} of ${target}` };
  }
  return { ok: true, from_millicores: shared.limit, to_millicores: toMillicores, changed: toMillicores !== shared.limit };
}

/** Millicores as a Kubernetes CPU quantity: whole cores as "2", anything else as "500m". */
export function formatMillicores(m: number): string {
  const r = Math.round(m);
  return r % 1000 === 0 ? String(r / 1000) : `${r}m`;
}

const round = (v: number): number => Math.round(v * 10) / 10;
