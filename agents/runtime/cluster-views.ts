// The shapes agents read from the Kubernetes MCP server's read-only tools, validated on arrival:
// an agent never reasons over a response it did not understand.
import { z } from 'zod';
import { GovernorError } from '../../src/core/errors.ts';
import type { ToolClient } from './tool-client.ts';

export const PodMetrics = z
  .object({
    pod: z.string(),
    revision: z.number().int().nullable().optional(),
    ready: z.boolean(),
    memory_bytes: z.number(),
    memory_limit_bytes: z.number().nullable().optional(),
    memory_utilisation: z.number().nullable().optional(),
    cpu_millicores: z.number(),
    cpu_limit_millicores: z.number().nullable().optional(),
    gc_pause_ms_per_min: z.number().nullable().optional(),
    cpu_throttled_ratio: z.number().nullable().optional(),
    restart_count: z.number().int().optional(),
    last_termination_reason: z.string().nullable().optional(),
  })
  .passthrough();
export type PodMetrics = z.infer<typeof PodMetrics>;

/** A container of the pod template with its requests and limits as written (null: not set). */
export const ContainerResources = z
  .object({
    name: z.string(),
    requests: z.object({ cpu: z.string().nullable(), memory: z.string().nullable() }).passthrough(),
    limits: z.object({ cpu: z.string().nullable(), memory: z.string().nullable() }).passthrough(),
  })
  .passthrough();
export type ContainerResources = z.infer<typeof ContainerResources>;

export const DeploymentMetrics = z
  .object({
    pods: z.array(PodMetrics),
    service: z
      .object({ p50_ms: z.number(), p99_ms: z.number(), rps: z.number(), error_ratio: z.number() })
      .passthrough(),
    deployment: z
      .object({
        replicas: z.number().int(),
        revision: z.number().int().nullable().optional(),
        containers: z.array(ContainerResources).optional(),
      })
      .passthrough(),
  })
  .passthrough();
export type DeploymentMetrics = z.infer<typeof DeploymentMetrics>;

export const RolloutHistory = z
  .object({
    revisions: z.array(
      z
        .object({
          revision: z.number().int(),
          created_at: z.string().nullable().optional(),
          change_cause: z.string().nullable().optional(),
        })
        .passthrough(),
    ),
    current_revision: z.number().int().nullable().optional(),
  })
  .passthrough();
export type RolloutHistory = z.infer<typeof RolloutHistory>;

export const NamespaceCapacity = z
  .object({
    namespace: z.string(),
    total_pods: z.number().int(),
    deployments: z.array(
      z
        .object({
          name: z.string(),
          replicas: z.number().int(),
          cpu_request_millicores: z.number(),
          memory_request_bytes: z.number(),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type NamespaceCapacity = z.infer<typeof NamespaceCapacity>;

export const NodeStatus = z
  .object({
    name: z.string(),
    unschedulable: z.boolean(),
    memory_pressure: z.boolean(),
    memory: z
      .object({ capacity_bytes: z.number(), used_bytes: z.number().nullable(), available_bytes: z.number().nullable(), used_ratio: z.number().nullable() })
      .passthrough(),
    pods: z.array(z.object({ namespace: z.string(), pod: z.string(), deployment: z.string().nullable(), ready: z.boolean() }).passthrough()),
    other_tenants_pods: z.number().int(),
    other_tenants: z.number().int().optional(),
    other_services: z.number().int().optional(),
  })
  .passthrough();
export type NodeStatus = z.infer<typeof NodeStatus>;

export const NodesStatus = z.object({ nodes: z.array(NodeStatus) }).passthrough();
export type NodesStatus = z.infer<typeof NodesStatus>;

/** Calls a read tool and validates its structured output; throws a retryable error when the call fails. */
export async function readTool<S extends z.ZodTypeAny>(
  tools: ToolClient,
  tool: string,
  args: Record<string, unknown>,
  schema: S,
): Promise<z.infer<S>> {
  const out = await tools.callTool<unknown>(tool, args);
  if (!out.ok) {
    throw new GovernorError('upstream_unavailable', `${tool} failed: ${out.code}: ${out.message}`, {
      retryable: out.code !== 'tenant_forbidden',
    });
  }
  const parsed = schema.safeParse(out.data);
  if (!parsed.success) {
    throw new GovernorError('upstream_unavailable', `${tool} returned an unexpected shape: ${parsed.error.message}`);
  }
  return parsed.data;
}

export const HpaStatus = z
  .object({
    hpa: z
      .object({ name: z.string(), min_replicas: z.number().int(), max_replicas: z.number().int(), current_replicas: z.number().int().nullable() })
      .passthrough()
      .nullable(),
  })
  .passthrough();
export type HpaStatus = z.infer<typeof HpaStatus>;
