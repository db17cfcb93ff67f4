// The shapes the Arbitrator reads from the Billing MCP server's read-only tools, validated on
// arrival (agents/runtime/cluster-views.ts does the same for the Kubernetes server): the Arbitrator
// never reasons over a response it did not understand. Only the fields it uses are required.
import { z } from 'zod';

export const WorkloadOnNode = z
  .object({
    namespace: z.string(),
    deployment: z.string().nullable(),
    pods: z.number().int(),
    containers_per_pod: z.number().int(),
    pod_cpu_request_millicores: z.number(),
    pod_cpu_limit_millicores: z.number().nullable(),
    cpu_request_millicores: z.number(),
    cpu_usage_millicores: z.number(),
  })
  .passthrough();
export type WorkloadOnNode = z.infer<typeof WorkloadOnNode>;

export const TenantOnNode = z
  .object({
    tenant: z.string(),
    in_session: z.boolean(),
    pods: z.number().int(),
    cpu_request_millicores: z.number(),
    cpu_usage_millicores: z.number(),
    workloads: z.array(WorkloadOnNode),
  })
  .passthrough();
export type TenantOnNode = z.infer<typeof TenantOnNode>;

export const NodeTenancy = z
  .object({
    namespace: z.string(),
    deployment: z.string(),
    tenant: z.string(),
    nodes: z.array(
      z
        .object({
          node: z.string(),
          allocatable_cpu_millicores: z.number(),
          cpu_usage_millicores: z.number(),
          cpu_utilisation: z.number(),
          deployment_pods: z.number().int(),
          tenants: z.array(TenantOnNode),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type NodeTenancy = z.infer<typeof NodeTenancy>;

export const TenantUsage = z
  .object({
    tenant: z.string(),
    deployments: z.array(
      z
        .object({
          namespace: z.string(),
          name: z.string(),
          replicas: z.number().int(),
          pod_cpu_request_millicores: z.number(),
          pod_cpu_limit_millicores: z.number().nullable(),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type TenantUsage = z.infer<typeof TenantUsage>;

/** The Billing server's tools, for routing (agents/runtime/tool-router.ts). */
export const BILLING_TOOLS = ['get_tenant_usage', 'get_node_tenancy', 'throttle_tenant', 'restore_tenant_limit'] as const;
