// The PagerDuty MCP server: Watchtower's escalation tools, and the only way an agent reaches
// PagerDuty. trigger_incident, acknowledge_incident and resolve_incident go through the paging seam
// (src/paging/: PagerDuty's Events API v2, or memory in the sandbox); who_is_on_call and
// open_incidents read PagerDuty's REST API (rest-client.ts).
//
// No grant gate: paging changes nothing Governor governs — no workload, quota or configuration —
// it asks a human to look, which is what an agent blocked by governance must always be able to do
// (Watchtower is read-only plus escalation, DESIGN §2). Requiring an approval to ask for a human
// would make escalation wait for the human it is trying to reach.
//
// Tenant isolation holds all the same: every incident an agent raises is keyed in PagerDuty by
// namespace (`<namespace>:<key>`) and must be in the session's namespaces, so a session can only
// acknowledge, resolve or list the incidents of its own namespaces. The incidents Governor's pager
// raises for proposals and incidents (src/paging/pager.ts) are not the agents' to acknowledge or
// resolve: they end when the proposal is decided or the incident resolves. Who is on call is the
// organisation's, not a tenant's, and is shown as PagerDuty has it. It must never offer a generic
// PagerDuty call, accept a link that is not https, or let an agent's details pass for Governor's.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { GovernorError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { tenantOfNamespace, type Tenants } from '../../src/governance/tenants.ts';
import { MAX_SUMMARY_CHARS, PAGE_SEVERITIES, type PageReceipt, type PagingService } from '../../src/paging/paging-service.ts';
import { sessionScope } from '../shared/session-scope.ts';
import { namespaceArg as namespaceArgFor, objectNameArg } from '../shared/tool-args.ts';
import type { PagerDutyReads } from './rest-client.ts';

/** The name tool calls of this server carry in `server`. */
export const PAGERDUTY_SERVER_NAME = 'pagerduty';

export interface PagerDutySession {
  agent: string;
  namespaces: readonly string[];
}

export interface PagerDutyMcpDeps {
  /** Where trigger, acknowledge and resolve go. */
  paging: PagingService;
  /** The REST API reads; undefined when no API token is configured (the read tools then refuse). */
  reads: PagerDutyReads | undefined;
  session: PagerDutySession;
  /** To name a namespace's tenant in the incident. */
  tenants: Tenants;
  logger?: Logger;
}

const namespaceArg = namespaceArgFor('affected service');
const keyArg = z
  .string()
  .min(1)
  .max(180)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, and . _ : - (not first)')
  .describe(
    "Names the incident within the namespace, e.g. Governor's incident id: triggering again with the same key adds to the open incident instead of opening another. " +
      'PagerDuty sees `<namespace>:<key>` as the dedup key.',
  );
const pagerDutyIdArg = z.string().regex(/^[A-Z0-9]{2,20}$/, "a PagerDuty object id such as 'PABC123'");

const receiptOut = z.object({
  namespace: z.string(),
  key: z.string(),
  dedup_key: z.string().describe('The dedup key PagerDuty holds the incident under: `<namespace>:<key>`.'),
  status: z.enum(['triggered', 'acknowledged', 'resolved']).describe('What was asked of PagerDuty (it processes events asynchronously).'),
  message: z.string().describe("PagerDuty's answer."),
});

const refOut = z.object({ id: z.string(), name: z.string() });
const onCallOut = z.object({
  oncalls: z.array(
    z.object({
      user: refOut.describe('The person on call.'),
      escalation_policy: refOut,
      escalation_level: z.number().int().describe('1 is paged first; higher levels when the lower ones do not acknowledge.'),
      schedule: refOut.nullable().describe('The schedule that puts them on call; null when the policy names them directly.'),
      start: z.string().nullable().describe('When this on-call shift began (ISO 8601); null when permanent.'),
      end: z.string().nullable().describe('When it ends (ISO 8601); null when permanent.'),
    }),
  ),
  truncated: z.boolean().describe('True when PagerDuty has more on-call entries than the 100 shown.'),
});

const incidentsOut = z.object({
  incidents: z.array(
    z.object({
      id: z.string(),
      number: z.number().int(),
      title: z.string(),
      status: z.enum(['triggered', 'acknowledged']),
      urgency: z.string().nullable(),
      created_at: z.string(),
      namespace: z.string(),
      key: z.string().describe('The key it was triggered with (without the namespace).'),
      service: refOut.nullable().describe('The PagerDuty service it is on.'),
      url: z.string().nullable().describe('The incident in PagerDuty.'),
    }),
  ),
  truncated: z.boolean().describe("True when PagerDuty had more open incidents than the 100 looked at; some of this session's may be missing."),
});

export function createPagerDutyMcpServer(deps: PagerDutyMcpDeps): McpServer {
  const { session, paging } = deps;
  const log = (deps.logger ?? silentLogger()).child({ agent: session.agent, server: PAGERDUTY_SERVER_NAME });
  const { assertNamespace, respond } = sessionScope(session, log);
  const dedupKey = (namespace: string, key: string) => `${namespace}:${key}`;
  const reads = (): PagerDutyReads => {
    if (!deps.reads) throw new GovernorError('upstream_unavailable', "PagerDuty's REST API is not configured here: set PAGERDUTY_API_TOKEN (and PAGERDUTY_API_HOST if not PagerDuty's own)");
    return deps.reads;
  };
  const receipt = (namespace: string, key: string, status: z.infer<typeof receiptOut>['status'], r: PageReceipt) => ({ namespace, key, dedup_key: r.dedup_key, status, message: r.message });

  const server = new McpServer(
    { name: 'governor-pagerduty', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Escalation to the humans on call through PagerDuty: trigger, acknowledge and resolve an incident about a namespace of this session, ' +
        'see who is on call, and list the open incidents of this session\'s namespaces. An incident is named by namespace and key; triggering ' +
        'the same key again adds to the open incident. Page when a human must look now (an incident no agent can move further), not to report ' +
        'progress: Slack carries that. Failures are isError results whose text starts with a code (tenant_forbidden, input_invalid, ' +
        'unauthenticated, upstream_unavailable, timeout).',
    },
  );

  server.registerTool(
    'trigger_incident',
    {
      title: 'Page the on-call',
      description:
        'Opens a PagerDuty incident about a namespace of this session (or adds to the open one with the same key), which notifies whoever is on call. ' +
        "The incident's source is `<namespace>/<service>`; its details carry this session's agent and the namespace's tenant, with the given details beside them. " +
        'Use it when a human must act now. PagerDuty accepts events asynchronously: success means accepted, not yet seen by a person.',
      inputSchema: {
        namespace: namespaceArg,
        key: keyArg,
        summary: z.string().trim().min(1).max(MAX_SUMMARY_CHARS).describe('The incident title: what is wrong and where, in one line (at most 1024 characters).'),
        severity: z.enum(PAGE_SEVERITIES).describe('critical and error page with high urgency; warning and info with low urgency (PagerDuty dynamic notifications).'),
        service: objectNameArg('The affected Deployment in the namespace, if one.').optional(),
        links: z
          .array(z.object({ href: z.string().url().startsWith('https://', 'an https:// URL'), text: z.string().max(200).optional() }))
          .max(5)
          .optional()
          .describe('Up to five https links for the responder (a dashboard, the Slack thread).'),
        details: z.record(z.string(), z.unknown()).optional().describe('Free-form facts for the responder (signals, what was tried); shown under `details`.'),
      },
      outputSchema: receiptOut,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ namespace, key, summary, severity, service, links, details }) =>
      respond('trigger_incident', { namespace, key }, async () => {
        assertNamespace(namespace);
        const tenant = tenantOfNamespace(deps.tenants, namespace)?.[0] ?? null;
        const r = await paging.trigger({
          dedup_key: dedupKey(namespace, key),
          summary,
          severity,
          source: service ? `${namespace}/${service}` : namespace,
          ...(service ? { component: service } : {}),
          ...(tenant ? { group: tenant } : {}),
          class: 'escalation',
          ...(links?.length ? { links: links.map((l) => ({ href: l.href, ...(l.text ? { text: l.text } : {}) })) } : {}),
          // What Governor vouches for, apart from what the agent says.
          custom_details: { governor: { escalated_by: session.agent, namespace, tenant, key }, ...(details ? { details } : {}) },
        });
        log.info({ tool: 'trigger_incident', namespace, key, tenant, severity }, `paged the on-call about ${namespace}: ${summary}`);
        return receipt(namespace, key, 'triggered', r);
      }),
  );

  server.registerTool(
    'acknowledge_incident',
    {
      title: 'Acknowledge an incident',
      description:
        "Marks the open incident with this namespace and key as being worked on: PagerDuty stops notifying while it stays acknowledged. " +
        'Accepted even when no incident is open under the key (PagerDuty then drops it).',
      inputSchema: { namespace: namespaceArg, key: keyArg },
      outputSchema: receiptOut,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ namespace, key }) =>
      respond('acknowledge_incident', { namespace, key }, async () => {
        assertNamespace(namespace);
        return receipt(namespace, key, 'acknowledged', await paging.acknowledge(dedupKey(namespace, key)));
      }),
  );

  server.registerTool(
    'resolve_incident',
    {
      title: 'Resolve an incident',
      description:
        'Resolves the open incident with this namespace and key: its notifications stop for good, and a later trigger with the same key opens a new incident. ' +
        'Resolve only what is fixed. Accepted even when no incident is open under the key.',
      inputSchema: { namespace: namespaceArg, key: keyArg },
      outputSchema: receiptOut,
      // Destructive: a resolved incident cannot be reopened, and nobody is notified about it again.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ namespace, key }) =>
      respond('resolve_incident', { namespace, key }, async () => {
        assertNamespace(namespace);
        const r = await paging.resolve(dedupKey(namespace, key));
        log.info({ tool: 'resolve_incident', namespace, key }, `resolved ${dedupKey(namespace, key)}`);
        return receipt(namespace, key, 'resolved', r);
      }),
  );

  server.registerTool(
    'who_is_on_call',
    {
      title: 'Who is on call',
      description:
        "The people on call now, per escalation policy and level, from PagerDuty's REST API (the earliest shift of each person, policy and level). " +
        'Optionally only some escalation policies or schedules. Read-only.',
      inputSchema: {
        escalation_policy_ids: z.array(pagerDutyIdArg).max(20).optional().describe('Only these escalation policies.'),
        schedule_ids: z.array(pagerDutyIdArg).max(20).optional().describe('Only these schedules.'),
      },
      outputSchema: onCallOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ escalation_policy_ids, schedule_ids }) =>
      respond('who_is_on_call', {}, () =>
        reads().onCall({ ...(escalation_policy_ids ? { escalationPolicyIds: escalation_policy_ids } : {}), ...(schedule_ids ? { scheduleIds: schedule_ids } : {}) }),
      ),
  );

  server.registerTool(
    'open_incidents',
    {
      title: "Open incidents of this session's namespaces",
      description:
        "Incidents still triggered or acknowledged in PagerDuty that were raised about this session's namespaces (by trigger_incident), newest first. " +
        'Other incidents in the PagerDuty account are not shown. Read-only.',
      inputSchema: { namespace: namespaceArgFor('incidents').optional().describe("Only this namespace (one of this session's); all of them when absent.") },
      outputSchema: incidentsOut,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ namespace }) =>
      respond('open_incidents', { namespace }, async () => {
        if (namespace !== undefined) assertNamespace(namespace);
        const wanted = new Set(namespace !== undefined ? [namespace] : session.namespaces);
        const { incidents, truncated } = await reads().openIncidents();
        return {
          incidents: incidents.flatMap((i) => {
            const at = i.incident_key?.indexOf(':') ?? -1;
            const ns = at > 0 ? i.incident_key!.slice(0, at) : undefined;
            if (ns === undefined || !wanted.has(ns)) return [];
            const { incident_key, ...rest } = i;
            return [{ ...rest, namespace: ns, key: incident_key!.slice(at + 1) }];
          }),
          truncated,
        };
      }),
  );

  return server;
}
