// The PagerDuty REST API v2 reads the PagerDuty MCP server offers: who is on call (GET /oncalls) and
// the open incidents (GET /incidents), through pdjs's `api` — the same fetch as the Events API, so
// the same trust (NODE_EXTRA_CA_CERTS, or a CA given in process) and the same bounded call
// (src/paging/pagerduty-http.ts). Answers are parsed, not trusted: a shape it does not know is an
// upstream failure, never a half-read list. It reads only, never writes, and never logs the token.
import { api } from '@pagerduty/pdjs';
// Types only: pdjs does not re-export them from the package root.
import type { APIParameters, APIResponse } from '@pagerduty/pdjs/build/src/api.js';
import { z } from 'zod';
import { GovernorError } from '../../src/core/errors.ts';
import { PagerDutyEndpoint, pagerDutyFailure, type PagerDutyEndpointOptions } from '../../src/paging/pagerduty-http.ts';

export const DEFAULT_API_HOST = 'api.pagerduty.com';
/** The most one request returns; PagerDuty's own maximum page size. */
export const MAX_PAGE = 100;

const Reference = z.object({ id: z.string(), summary: z.string().nullish() });
const OnCallsBody = z.object({
  oncalls: z.array(
    z.object({
      user: Reference,
      escalation_policy: Reference,
      escalation_level: z.number().int(),
      schedule: Reference.nullish(),
      start: z.string().nullish(),
      end: z.string().nullish(),
    }),
  ),
  more: z.boolean().nullish(),
});
const IncidentsBody = z.object({
  incidents: z.array(
    z.object({
      id: z.string(),
      incident_number: z.number().int(),
      title: z.string(),
      status: z.enum(['triggered', 'acknowledged', 'resolved']),
      urgency: z.string().nullish(),
      created_at: z.string(),
      incident_key: z.string().nullish(),
      service: Reference.nullish(),
      html_url: z.string().nullish(),
    }),
  ),
  more: z.boolean().nullish(),
});

export interface OnCall {
  user: { id: string; name: string };
  escalation_policy: { id: string; name: string };
  escalation_level: number;
  schedule: { id: string; name: string } | null;
  start: string | null;
  end: string | null;
}

export interface OpenIncident {
  id: string;
  number: number;
  title: string;
  status: 'triggered' | 'acknowledged';
  urgency: string | null;
  created_at: string;
  /** The dedup key of the alert that opened it, when it has one. */
  incident_key: string | null;
  service: { id: string; name: string } | null;
  url: string | null;
}

/** What the read tools need from PagerDuty. */
export interface PagerDutyReads {
  onCall(q: { escalationPolicyIds?: readonly string[]; scheduleIds?: readonly string[] }): Promise<{ oncalls: OnCall[]; truncated: boolean }>;
  openIncidents(): Promise<{ incidents: OpenIncident[]; truncated: boolean }>;
}

export interface PagerDutyRestOptions extends PagerDutyEndpointOptions {
  /** A REST API token (read access is enough). */
  token: string;
}

export class PagerDutyRestClient implements PagerDutyReads {
  private readonly endpoint: PagerDutyEndpoint;

  constructor(private readonly opts: PagerDutyRestOptions) {
    this.endpoint = new PagerDutyEndpoint(opts, DEFAULT_API_HOST);
  }

  async onCall(q: { escalationPolicyIds?: readonly string[]; scheduleIds?: readonly string[] }) {
    const body = await this.get('oncalls', OnCallsBody, {
      earliest: 'true',
      limit: String(MAX_PAGE),
      ...(q.escalationPolicyIds?.length ? { 'escalation_policy_ids[]': [...q.escalationPolicyIds] } : {}),
      ...(q.scheduleIds?.length ? { 'schedule_ids[]': [...q.scheduleIds] } : {}),
    });
    const ref = (r: z.infer<typeof Reference>) => ({ id: r.id, name: r.summary ?? r.id });
    return {
      oncalls: body.oncalls.map((o) => ({
        user: ref(o.user),
        escalation_policy: ref(o.escalation_policy),
        escalation_level: o.escalation_level,
        schedule: o.schedule ? ref(o.schedule) : null,
        start: o.start ?? null,
        end: o.end ?? null,
      })),
      truncated: body.more === true,
    };
  }

  async openIncidents() {
    const body = await this.get('incidents', IncidentsBody, { 'statuses[]': ['triggered', 'acknowledged'], limit: String(MAX_PAGE), sort_by: 'created_at:desc' });
    return {
      incidents: body.incidents.flatMap((i): OpenIncident[] =>
        i.status === 'resolved'
          ? []
          : [{
              id: i.id,
              number: i.incident_number,
              title: i.title,
              status: i.status,
              urgency: i.urgency ?? null,
              created_at: i.created_at,
              incident_key: i.incident_key ?? null,
              service: i.service ? { id: i.service.id, name: i.service.summary ?? i.service.id } : null,
              url: i.html_url ?? null,
            }],
      ),
      truncated: body.more === true,
    };
  }

  private async get<T>(endpoint: string, schema: z.ZodType<T>, query: Record<string, string | string[]>): Promise<T> {
    const what = `PagerDuty GET /${endpoint}`;
    // The overload taking an endpoint, which answers with a response (not a partial call).
    const request = api as (p: APIParameters) => Promise<APIResponse>;
    const res = await this.endpoint.call(what, (options) =>
      request({ token: this.opts.token, server: this.endpoint.host, endpoint, method: 'GET', queryParameters: query, ...options }),
    );
    if (res.status !== 200) throw pagerDutyFailure(what, res.status, res.data);
    const parsed = schema.safeParse(res.data);
    if (!parsed.success) throw new GovernorError('upstream_unavailable', `${what}: PagerDuty answered in a shape this client does not know (${parsed.error.issues[0]?.message ?? 'invalid'})`, { retryable: false });
    return parsed.data;
  }
}
