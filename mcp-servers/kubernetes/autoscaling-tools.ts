// The Kubernetes MCP server's tools beside scaling a deployment: the HPA that may own its replica
// count (get_hpa_status; set_hpa_bounds, so an agent moves an HPA's bounds instead of fighting it),
// the namespace's events (get_events), and a container's requests and limits (patch_resource_limits,
// a vertical change). Same rules as every tool of the server: a namespace of the session only, a
// grant for the exact call before any write, and the hard limits of guardrails.ts whatever the grant.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { Clock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { GrantGate } from '../shared/grant-gate.ts';
import type { SessionScope } from '../shared/session-scope.ts';
import { deploymentArg, objectNameArg } from '../shared/tool-args.ts';
import {
  ENVIRONMENT_LABEL,
  RESOURCES_COOLDOWN_MS,
  SCALE_COOLDOWN_MS,
  cooldownKey,
  cooldownViolation,
  hpaBoundsViolations,
  resourceViolations,
  resourcesCooldownKey,
  type GuardrailViolation,
  type ResourceValues,
} from './guardrails.ts';
import { KubeAutoscaling, containerResources } from './kube-autoscaling.ts';
import type { KubeClient } from './kube-client.ts';
import { parseQuantity } from './quantity.ts';

export interface AutoscalingToolsDeps {
  kube: KubeClient;
  autoscaling: KubeAutoscaling;
  gate: GrantGate;
  scope: SessionScope;
  clock: Clock;
  log: Logger;
  namespaceArg: z.ZodString;
  grantArg: z.ZodType<Record<string, unknown>>;
}

const hpaOut = z.object({
  name: z.string(),
  min_replicas: z.number().int(),
  max_replicas: z.number().int(),
  current_replicas: z.number().int().nullable(),
  desired_replicas: z.number().int().nullable(),
  last_scale_time: z.string().nullable(),
  at_max: z.boolean().describe('The HPA runs as many replicas as its maxReplicas allows: it cannot add more.'),
  metrics: z.array(z.object({ type: z.string(), name: z.string(), target: z.string(), current: z.string().nullable() })),
  conditions: z.array(z.object({ type: z.string(), status: z.string(), reason: z.string().nullable(), message: z.string().nullable() })).describe('AbleToScale, ScalingActive, ScalingLimited.'),
  resource_version: z.string().nullable(),
});

const getHpaStatusOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  hpa: hpaOut.nullable().describe('The HorizontalPodAutoscaler whose scaleTargetRef is the deployment; null when none owns its replica count.'),
});

const eventOut = z.object({
  type: z.string().describe('Normal or Warning.'),
  reason: z.string(),
  message: z.string(),
  object: z.object({ kind: z.string(), name: z.string() }),
  count: z.number().int(),
  first_seen: z.string().nullable(),
  last_seen: z.string().nullable(),
  source: z.string().nullable().describe('The component that reported it (kubelet, deployment-controller, …).'),
});

const getEventsOut = z.object({ namespace: z.string(), events: z.array(eventOut).describe('Newest first.'), truncated: z.boolean() });

const setHpaBoundsOut = z.object({
  namespace: z.string(),
  hpa: z.string(),
  deployment: z.string(),
  from: z.object({ min_replicas: z.number().int(), max_replicas: z.number().int() }),
  to: z.object({ min_replicas: z.number().int(), max_replicas: z.number().int() }),
});

const resourceValuesOut = z.object({
  requests: z.object({ cpu: z.string().nullable(), memory: z.string().nullable() }),
  limits: z.object({ cpu: z.string().nullable(), memory: z.string().nullable() }),
});

const patchResourcesOut = z.object({
  namespace: z.string(),
  deployment: z.string(),
  container: z.string(),
  from: resourceValuesOut,
  to: resourceValuesOut,
  changed: z.boolean().describe('False when the container already had these values (nothing was written, no rollout).'),
});

const quantityArg = (what: string) =>
  z
    .string()
    .regex(/^(\d+(\.\d+)?|\.\d+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'a Kubernetes quantity such as 500m, 2, 512Mi or 2Gi')
    .describe(what);

const resourcesArg = z
  .object({ cpu: quantityArg('CPU, e.g. 500m or 2 (cores).').optional(), memory: quantityArg('Memory, e.g. 512Mi or 2Gi.').optional() })
  .strict();

const cpuText = (v: number | null) => (v === null ? null : `${Math.round(v * 1000)}m`);
const memText = (v: number | null) => (v === null ? null : `${Math.round(v / 2 ** 20)}Mi`);
const asText = (r: ResourceValues) => ({
  requests: { cpu: cpuText(r.requests.cpu), memory: memText(r.requests.memory) },
  limits: { cpu: cpuText(r.limits.cpu), memory: memText(r.limits.memory) },
});

function safetyViolation(violations: GuardrailViolation[]): GovernorError {
  return new GovernorError('safety_violation', violations.map((v) => `${v.rule}: ${v.message}`).join('; '), { details: { violations } });
}

export function registerAutoscalingTools(server: McpServer, deps: AutoscalingToolsDeps): void {
  const { kube, autoscaling, gate, scope, clock, log, namespaceArg, grantArg } = deps;
  const { assertNamespace, respond } = scope;

  server.registerTool(
    'get_hpa_status',
    {
      title: 'HorizontalPodAutoscaler of a deployment',
      description:
        'The HorizontalPodAutoscaler (autoscaling/v2) whose scaleTargetRef is the deployment, if any: its min and max replicas, current and desired ' +
        'replicas, metrics with targets and current values, and conditions. When one exists, it owns the replica count: scale it with set_hpa_bounds, ' +
        'not scale_deployment (which is refused for such a deployment). Read-only.',
      inputSchema: { namespace: namespaceArg, deployment: deploymentArg },
      outputSchema: getHpaStatusOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment }) =>
      respond('get_hpa_status', { namespace, deployment }, async () => {
        assertNamespace(namespace);
        await kube.readDeployment(namespace, deployment);
        return { namespace, deployment, hpa: await autoscaling.hpaOf(namespace, deployment) };
      }),
  );

  server.registerTool(
    'get_events',
    {
      title: 'Events of a namespace',
      description:
        'Kubernetes events (core/v1) of one namespace of this session, newest first: scaling, scheduling failures, OOM kills, probes, evictions. ' +
        'Optionally only those about one object (kind and name), only Warnings, only those seen in the last N minutes. Read-only.',
      inputSchema: {
        namespace: namespaceArg,
        kind: z.string().regex(/^[A-Z][A-Za-z]*$/, 'a Kubernetes kind such as Pod or Deployment').optional().describe('Only events about objects of this kind (Pod, Deployment, ReplicaSet, HorizontalPodAutoscaler).'),
        name: objectNameArg('Only events about the object of this name.').optional(),
        type: z.enum(['Normal', 'Warning']).optional().describe('Only events of this type.'),
        since_minutes: z.number().int().min(1).max(10_080).optional().describe('Only events last seen within this many minutes.'),
        limit: z.number().int().min(1).max(500).default(50).describe('At most this many events (default 50).'),
      },
      outputSchema: getEventsOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, kind, name, type, since_minutes, limit }) =>
      respond('get_events', { namespace }, async () => {
        assertNamespace(namespace);
        const sinceIso = since_minutes === undefined ? undefined : new Date(clock.now() - since_minutes * 60_000).toISOString();
        const all = (await autoscaling.events(namespace, { ...(kind ? { kind } : {}), ...(name ? { name } : {}) }))
          .filter((e) => type === undefined || e.type === type)
          .filter((e) => sinceIso === undefined || (e.last_seen ?? '') >= sinceIso);
        return { namespace, events: all.slice(0, limit), truncated: all.length > limit };
      }),
  );

  server.registerTool(
    'set_hpa_bounds',
    {
      title: "Set an HPA's min and max replicas",
      description:
        'Sets minReplicas and maxReplicas of a HorizontalPodAutoscaler, so that scaling works with the HPA that owns a deployment instead of fighting it: ' +
        'raising minReplicas makes the HPA run at least that many pods. Requires a grant for exactly this call. Refused, whatever the grant, when the ' +
        'HPA does not target a Deployment, minReplicas is more than 3x the deployment\'s current replicas or below 2 in a production namespace, ' +
        'maxReplicas is below minReplicas or opens the ceiling past 3x the current replicas, or within 300 s of the previous scaling action on the ' +
        'deployment (the cooldown scale_deployment shares).',
      inputSchema: {
        namespace: namespaceArg,
        hpa: objectNameArg('Name of the autoscaling/v2 HorizontalPodAutoscaler.'),
        deployment: objectNameArg("Name of the Deployment the HPA scales (its scaleTargetRef): checked, so that the call says what it scales."),
        min_replicas: z.number().int().min(1).max(100_000).describe('New spec.minReplicas.'),
        max_replicas: z.number().int().min(1).max(100_000).describe('New spec.maxReplicas (at least min_replicas).'),
        grant: grantArg,
      },
      outputSchema: setHpaBoundsOut,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, hpa, deployment, min_replicas, max_replicas, grant }) =>
      respond('set_hpa_bounds', { namespace, hpa }, async () => {
        assertNamespace(namespace);
        const g = await gate.check('set_hpa_bounds', { namespace, hpa, deployment, min_replicas, max_replicas }, grant);
        const [{ view, target, basis }, labels] = await Promise.all([autoscaling.readHpa(namespace, hpa), kube.readNamespaceLabels(namespace)]);
        gate.checkTenant(g, namespace, labels);
        if (target.kind !== 'Deployment' || target.name !== deployment) {
          throw new GovernorError('conflict', `HorizontalPodAutoscaler ${namespace}/${hpa} scales ${target.kind || 'nothing'} ${target.name}, not Deployment ${deployment}`);
        }
        const live = await kube.readDeployment(namespace, target.name);
        const current = live.spec?.replicas ?? 0;
        const violations = hpaBoundsViolations({
          namespace, hpa, currentReplicas: current, currentMax: view.max_replicas, min: min_replicas, max: max_replicas, production: labels[ENVIRONMENT_LABEL] === 'production',
        });
        if (violations.length > 0) throw safetyViolation(violations);
        const from = { min_replicas: view.min_replicas, max_replicas: view.max_replicas };
        const to = { min_replicas, max_replicas };
        if (from.min_replicas === min_replicas && from.max_replicas === max_replicas) {
          await gate.consume(g);
          return { namespace, hpa, deployment: target.name, from, to };
        }
        // The same cooldown as scale_deployment: moving the bounds scales the deployment too.
        await gate.applyInCooldown(
          g,
          {
            key: cooldownKey(namespace, target.name),
            windowMs: SCALE_COOLDOWN_MS,
            refused: (since, now) => safetyViolation([cooldownViolation(`${namespace}/${target.name}`, since, now)]),
          },
          () => autoscaling.setHpaBounds(namespace, hpa, min_replicas, max_replicas, basis),
        );
        log.info({ tool: 'set_hpa_bounds', namespace, hpa, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, `HPA ${namespace}/${hpa} bounds ${from.min_replicas}-${from.max_replicas} → ${min_replicas}-${max_replicas}`);
        return { namespace, hpa, deployment: target.name, from, to };
      }),
  );

  server.registerTool(
    'patch_resource_limits',
    {
      title: "Change a container's requests and limits",
      description:
        'Sets CPU and memory requests and limits of one container of a deployment (a vertical change; the deployment rolls its pods). Values not given ' +
        'stay as they are. Requires a grant for exactly this call. Refused, whatever the grant, when a value more than doubles or halves in one call, a ' +
        'container would get more than 16 cores or 64 GiB, a request would exceed its limit, a memory limit would fall below what a live pod of the ' +
        'deployment uses now plus 10% (it would be OOM-killed), or within 300 s of the previous such change of the deployment.',
      inputSchema: {
        namespace: namespaceArg,
        deployment: deploymentArg,
        container: objectNameArg('Name of the container in the pod template.'),
        requests: resourcesArg.optional().describe('New requests; omitted values are kept.'),
        limits: resourcesArg.optional().describe('New limits; omitted values are kept.'),
        grant: grantArg,
      },
      outputSchema: patchResourcesOut,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ namespace, deployment, container, requests, limits, grant }) =>
      respond('patch_resource_limits', { namespace, deployment, container }, async () => {
        assertNamespace(namespace);
        if (!requests?.cpu && !requests?.memory && !limits?.cpu && !limits?.memory) {
          throw new GovernorError('input_invalid', 'patch_resource_limits needs at least one of requests.cpu, requests.memory, limits.cpu, limits.memory');
        }
        const args = { namespace, deployment, container, ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
        const g = await gate.check('patch_resource_limits', args, grant);
        const [live, labels] = await Promise.all([autoscaling.readDeployment(namespace, deployment), kube.readNamespaceLabels(namespace)]);
        gate.checkTenant(g, namespace, labels);
        const { index, current } = containerResources(live, container);
        const value = (v: string | undefined, was: number | null) => (v === undefined ? was : parseQuantity(v));
        const next: ResourceValues = {
          requests: { cpu: value(requests?.cpu, current.requests.cpu), memory: value(requests?.memory, current.requests.memory) },
          limits: { cpu: value(limits?.cpu, current.limits.cpu), memory: value(limits?.memory, current.limits.memory) },
        };
        const metrics = await kube.deploymentMetrics(namespace, deployment).catch(() => undefined);
        // The pod's whole working set stands for the container's: never less than it uses (fail closed).
        const usage = metrics && metrics.pods.length > 0 ? Math.max(...metrics.pods.map((p) => p.memory_bytes)) : null;
        const violations = resourceViolations({ target: `${namespace}/${deployment}/${container}`, current, next, maxPodMemoryBytes: usage });
        if (violations.length > 0) throw safetyViolation(violations);
        const from = asText(current);
        const to = asText(next);
        const changed = JSON.stringify(current.requests) !== JSON.stringify(next.requests) || JSON.stringify(current.limits) !== JSON.stringify(next.limits);
        if (!changed) {
          await gate.consume(g);
          return { namespace, deployment, container, from, to, changed };
        }
        // Quantities as the client wrote them where given, the current ones otherwise.
        const spec = live.spec!.template!.spec!.containers[index]!.resources ?? {};
        const body = {
          requests: { ...spec.requests, ...(requests?.cpu ? { cpu: requests.cpu } : {}), ...(requests?.memory ? { memory: requests.memory } : {}) } as Record<string, string>,
          limits: { ...spec.limits, ...(limits?.cpu ? { cpu: limits.cpu } : {}), ...(limits?.memory ? { memory: limits.memory } : {}) } as Record<string, string>,
        };
        await gate.applyInCooldown(
          g,
          {
            key: resourcesCooldownKey(namespace, deployment),
            windowMs: RESOURCES_COOLDOWN_MS,
            refused: (since) =>
              safetyViolation([{ rule: 'resources_cooldown', message: `${namespace}/${deployment}: ${RESOURCES_COOLDOWN_MS / 1000} s between resource changes; the last at ${since === null ? 'an unknown time' : new Date(since).toISOString()}` }]),
          },
          () => autoscaling.patchContainerResources(namespace, live, index, body),
        );
        log.info({ tool: 'patch_resource_limits', namespace, deployment, grant_id: g.id, proposal_id: g.proposal_id, tenant: g.tenant }, `resources of ${namespace}/${deployment}/${container} changed`);
        return { namespace, deployment, container, from, to, changed };
      }),
  );
}
