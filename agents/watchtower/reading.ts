// Watchtower's reading of an incident by a language model: from what the rule-based detector found
// (signals, the correlated rollout), and what the model reads itself through Watchtower's own
// read-only Kubernetes tools, it ranks hypotheses and writes a short narrative. The tools are pinned
// to the incident's namespace — the model names a deployment, never a namespace — so it reads no
// more than the incident's tenant, within what Watchtower's session already allows; write tools are
// never offered. What the model returns is text on the observation: the detector's finding (severity,
// signals, correlated change), which the other agents plan from, is the rules' and stays unchanged.
import { z } from 'zod';
import { Hypothesis, type Observation } from '../../src/contracts/events.ts';
import type { Reasoned, Reasoner, ReasonerTool } from '../../src/llm/reasoner.ts';
import type { ToolClient } from '../runtime/tool-client.ts';

/**
 * Watchtower's Prometheus MCP session for the incident's tenant (bound to that tenant alone, so the
 * server refuses any selector beyond it), and the time now (seconds) that range queries end at.
 */
export interface MetricsReach {
  tools: ToolClient;
  nowS: () => number;
}

/** The Kubernetes tools Watchtower's model may call: the read-only ones, and no other. */
export const READ_ONLY_TOOLS = ['get_pod_metrics', 'get_rollout_history', 'get_namespace_capacity', 'get_node_status'] as const;

export const Reading = z.strictObject({
  hypotheses: z.array(Hypothesis.extend({ evidence: z.array(z.string().max(300)).max(6).optional() })).min(1).max(5)
    .describe('Candidate explanations, most likely first, each with a confidence in [0, 1] and the evidence it rests on'),
  narrative: z.string().min(1).max(1500).describe('What is happening, in a few sentences an on-call engineer reads in Slack'),
});
export type Reading = z.infer<typeof Reading>;

const deploymentArg = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(253).describe('A deployment in the incident\'s namespace');

/** The model's tools over Watchtower's sessions, each bound to `namespace`. */
export function readingTools(tools: ToolClient, namespace: string, metrics?: MetricsReach): ReasonerTool[] {
  const prometheus: ReasonerTool[] = metrics
    ? [
        {
          name: 'query_range',
          description:
            `PromQL over the last minutes, from Prometheus. Every series selector must carry namespace="${namespace}" (the incident's ` +
            "namespace) or the incident tenant's tenant label; the server refuses anything wider. " +
            'Useful: http_request_duration_seconds{quantile="0.99"} (latency), http_requests_total and ' +
            'http_request_errors_total (rate()), container_memory_working_set_bytes, jvm_gc_pause_seconds_total. Read-only.',
          input: z.object({ query: z.string().min(1).max(2000), minutes: z.number().int().min(1).max(360).default(60) }),
          run: async (a) => {
            const query = String(a['query']);
            const minutes = Number(a['minutes'] ?? 60);
            const end = metrics.nowS();
            const out = await metrics.tools.callTool<unknown>('query_range', { query, start: end - minutes * 60, end, step: Math.max(15, Math.ceil((minutes * 60) / 120)) });
            if (!out.ok) throw new Error(`${out.code}: ${out.message}`);
            return out.data;
          },
        },
      ]
    : [];
  const call = async (tool: string, args: Record<string, unknown>) => {
    const out = await tools.callTool<unknown>(tool, args);
    if (!out.ok) throw new Error(`${out.code}: ${out.message}`);
    return out.data;
  };
  return [
    ...prometheus,
    {
      name: 'get_pod_metrics',
      description: 'Current metrics of a deployment of the incident\'s namespace: per pod readiness, memory, CPU, GC pauses; the service\'s latency, rate and errors; pod-template annotations. Read-only.',
      input: z.object({ deployment: deploymentArg }),
      run: (a) => call('get_pod_metrics', { namespace, deployment: a['deployment'] }),
    },
    {
      name: 'get_rollout_history',
      description: 'Revisions of a deployment of the incident\'s namespace, oldest first, with creation time and change-cause. Read-only.',
      input: z.object({ deployment: deploymentArg }),
      run: (a) => call('get_rollout_history', { namespace, deployment: a['deployment'] }),
    },
    {
      name: 'get_namespace_capacity',
      description: 'Live pods of the incident\'s namespace and, per deployment, replicas and per-pod requests. Read-only.',
      input: z.object({}),
      run: () => call('get_namespace_capacity', { namespace }),
    },
    {
      name: 'get_node_status',
      description: 'Health of the nodes a deployment of the incident\'s namespace runs on: conditions, memory, cordon state. Read-only.',
      input: z.object({ deployment: deploymentArg }),
      run: (a) => call('get_node_status', { namespace, deployment: a['deployment'] }),
    },
  ];
}

/** Asks the model for its reading of an opening observation. */
export function readIncident(reasoner: Reasoner, tools: ToolClient, draft: Observation, metrics?: MetricsReach): Promise<Reasoned<Reading>> {
  return reasoner.ask({
    purpose: 'watchtower_hypotheses',
    task: [
      `Watchtower's rule-based detector opened an incident on deployment ${draft.target.name} (tenant ${draft.tenant}).`,
      'Rank the hypotheses that explain it, most likely first, and write a short narrative. Use the read-only tools to check what you need.',
      'Do not recommend actions: other agents propose them under the guardrails.',
    ].join(' '),
    data: {
      finding: { severity: draft.severity, summary: draft.summary, signals: draft.signals, correlated_change: draft.correlated_change ?? null },
    },
    tools: readingTools(tools, draft.namespace, metrics),
    output: Reading,
  });
}
