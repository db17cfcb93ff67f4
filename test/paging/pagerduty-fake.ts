// A local PagerDuty for tests, over HTTPS with a certificate generated at start (a throwaway CA from
// src/twin/tls.ts, which clients trust in process through an agent or in a child through
// NODE_EXTRA_CA_CERTS). It speaks the two APIs Governor uses, in their wire formats:
//   - Events API v2: POST /v2/enqueue with routing_key, event_action, dedup_key, payload, links;
//     202 {status, message, dedup_key}, or 400 {status: 'invalid event', message, errors} for an
//     event the real one refuses; alerts kept per dedup key as PagerDuty keeps them;
//   - REST API v2: GET /oncalls and GET /incidents (the alerts above as incidents), with
//     `Authorization: Token token=…` and the v2 Accept header.
// It records every request, and can be told to fail (a status such as 500 or 429, or to hang).
// It fails loudly: an unknown route or routing key, a missing header, a malformed event is
// refused and kept in `unexpected()`, never answered with something plausible.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateTlsMaterial } from '../../src/twin/tls.ts';

export const FAKE_ROUTING_KEY = 'R0UTINGKEY0FAKE0PAGERDUTY0000001';
export const FAKE_API_TOKEN = 'fake-pagerduty-api-token';
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const ACTIONS = ['trigger', 'acknowledge', 'resolve'];

export interface FakeRequest {
  method: string;
  path: string;
  /** The parsed JSON body, when there was one. */
  body: unknown;
  /** What the fake answered; 0 when it hung. */
  status: number;
}

/** An event the Events API accepted (202). */
export interface AcceptedEvent {
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  payload?: { summary: string; source: string; severity: string; [k: string]: unknown };
  links?: { href: string; text?: string }[];
  /** The whole body as sent. */
  body: Record<string, unknown>;
}

export interface FakeOnCall {
  user: { id: string; name: string };
  escalation_policy: { id: string; name: string };
  escalation_level: number;
  schedule?: { id: string; name: string };
  start?: string;
  end?: string;
}

/** How to fail, for the next `times` requests (all of them when absent). */
export type FakeFailure = { status: number; times?: number } | { hang: true; times?: number };

interface Alert {
  id: string;
  number: number;
  dedup_key: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  title: string;
  severity: string;
  created_at: string;
}

export interface PagerDutyFake {
  /** host:port, for PAGERDUTY_EVENTS_HOST and PAGERDUTY_API_HOST. */
  host: string;
  /** The CA that signed the server's certificate (PEM). */
  caPem: string;
  /** Every request, in order of arrival. */
  requests(): FakeRequest[];
  /** Events accepted with 202, in order. */
  accepted(): AcceptedEvent[];
  /** Dedup keys of the alerts open now (triggered or acknowledged), oldest first. */
  openAlerts(): string[];
  /** Requests it refused because they did not look like the real API's (never a scripted failure). */
  unexpected(): FakeRequest[];
  /** Fails the next requests (both APIs) until `times` run out or `fail(undefined)`. */
  fail(failure: FakeFailure | undefined): void;
  setOnCall(oncalls: FakeOnCall[]): void;
  close(): Promise<void>;
}

export async function startPagerDutyFake(opts: { routingKey?: string; apiToken?: string } = {}): Promise<PagerDutyFake> {
  const routingKey = opts.routingKey ?? FAKE_ROUTING_KEY;
  const apiToken = opts.apiToken ?? FAKE_API_TOKEN;
  const tls = await generateTlsMaterial();
  const requests: FakeRequest[] = [];
  const unexpected: FakeRequest[] = [];
  const accepted: AcceptedEvent[] = [];
  const alerts: Alert[] = [];
  let oncalls: FakeOnCall[] = [];
  let failure: FakeFailure | undefined;

  const openAlert = (key: string) => alerts.find((a) => a.dedup_key === key && a.status !== 'resolved');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const record: FakeRequest = { method: req.method ?? '', path: url.pathname, body, status: 0 };
    requests.push(record);
    const send = (status: number, json: unknown) => {
      record.status = status;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const refuse = (status: number, json: unknown) => {
      unexpected.push(record);
      send(status, json);
    };

    if (failure) {
      const f = failure;
      if (f.times !== undefined && --f.times <= 0) failure = undefined;
      if ('hang' in f) return; // the socket stays open until the client gives up or the fake closes
      return send(f.status, f.status === 429 ? { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' } : { status: 'error', message: 'Internal Server Error' });
    }

    if (req.method === 'POST' && url.pathname === '/v2/enqueue') {
      const problems = eventProblems(body, routingKey);
      if (problems.length > 0) return refuse(400, { status: 'invalid event', message: 'Event object is invalid', errors: problems });
      const e = body as AcceptedEvent['body'] & { event_action: AcceptedEvent['event_action']; dedup_key?: string };
      const dedup = e.dedup_key ?? randomUUID();
      const ev: AcceptedEvent = { event_action: e.event_action, dedup_key: dedup, body: e, ...(e['payload'] ? { payload: e['payload'] as AcceptedEvent['payload'] } : {}), ...(e['links'] ? { links: e['links'] as AcceptedEvent['links'] } : {}) };
      accepted.push(ev);
      const open = openAlert(dedup);
      if (e.event_action === 'trigger' && !open) {
        const number = alerts.length + 1;
        alerts.push({ id: `PINC${String(number).padStart(4, '0')}`, number, dedup_key: dedup, status: 'triggered', title: ev.payload!.summary, severity: ev.payload!.severity, created_at: new Date().toISOString() });
      } else if (open && e.event_action === 'acknowledge') open.status = 'acknowledged';
      else if (open && e.event_action === 'resolve') open.status = 'resolved';
      return send(202, { status: 'success', message: 'Event processed', dedup_key: dedup });
    }

    if (req.method === 'GET' && (url.pathname === '/oncalls' || url.pathname === '/incidents')) {
      if (req.headers.authorization !== `Token token=${apiToken}`) return refuse(401, { error: { message: 'Authentication Required', code: 2006 } });
      if (req.headers.accept !== 'application/vnd.pagerduty+json;version=2') return refuse(406, { error: { message: 'the v2 Accept header is required', code: 2000 } });
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 25), 100);
      if (url.pathname === '/oncalls') {
        const policies = url.searchParams.getAll('escalation_policy_ids[]');
        const schedules = url.searchParams.getAll('schedule_ids[]');
        const rows = oncalls
          .filter((o) => policies.length === 0 || policies.includes(o.escalation_policy.id))
          .filter((o) => schedules.length === 0 || (o.schedule && schedules.includes(o.schedule.id)))
          .map((o) => ({
            escalation_policy: { id: o.escalation_policy.id, type: 'escalation_policy_reference', summary: o.escalation_policy.name },
            escalation_level: o.escalation_level,
            schedule: o.schedule ? { id: o.schedule.id, type: 'schedule_reference', summary: o.schedule.name } : null,
            user: { id: o.user.id, type: 'user_reference', summary: o.user.name },
            start: o.start ?? null,
            end: o.end ?? null,
          }));
        return send(200, { oncalls: rows.slice(0, limit), limit, offset: 0, more: rows.length > limit, total: null });
      }
      const statuses = url.searchParams.getAll('statuses[]');
      const rows = alerts
        .filter((a) => statuses.length === 0 || statuses.includes(a.status))
        .map((a) => ({
          id: a.id,
          type: 'incident',
          incident_number: a.number,
          title: a.title,
          summary: `[#${a.number}] ${a.title}`,
          status: a.status,
          urgency: a.severity === 'critical' || a.severity === 'error' ? 'high' : 'low',
          created_at: a.created_at,
          incident_key: a.dedup_key,
          service: { id: 'PSVC001', type: 'service_reference', summary: 'Governor' },
          html_url: `https://fake.pagerduty.com/incidents/${a.id}`,
        }));
      return send(200, { incidents: rows.slice(0, limit), limit, offset: 0, more: rows.length > limit, total: null });
    }

    refuse(404, { error: { message: 'Not Found', code: 2100 } });
  };

  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    host: `127.0.0.1:${port}`,
    caPem: tls.caPem,
    requests: () => [...requests],
    accepted: () => [...accepted],
    unexpected: () => [...unexpected],
    openAlerts: () => alerts.filter((a) => a.status !== 'resolved').map((a) => a.dedup_key),
    fail: (f) => {
      failure = f ? { ...f } : undefined;
    },
    setOnCall: (o) => {
      oncalls = [...o];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What the real Events API v2 refuses with 400, in its words where known. */
function eventProblems(body: unknown, routingKey: string): string[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return ['Event object is not a JSON object'];
  const e = body as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof e['routing_key'] !== 'string' || e['routing_key'].length !== 32) problems.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  else if (e['routing_key'] !== routingKey) problems.push("'routing_key' is not an integration key of this account (the fake knows one)");
  if (!ACTIONS.includes(e['event_action'] as string)) problems.push("'event_action' is invalid (must be one of trigger, acknowledge, resolve)");
  const dedup = e['dedup_key'];
  if (dedup !== undefined && (typeof dedup !== 'string' || dedup.length === 0 || dedup.length > 255)) problems.push("'dedup_key' must be a string of 1 to 255 characters");
  if ((e['event_action'] === 'acknowledge' || e['event_action'] === 'resolve') && dedup === undefined) problems.push("'dedup_key' is required for acknowledge and resolve");
  if (e['event_action'] === 'trigger') {
    const p = e['payload'] as Record<string, unknown> | undefined;
    if (!p || typeof p !== 'object') problems.push("'payload' is missing or not an object");
    else {
      if (typeof p['summary'] !== 'string' || p['summary'].trim().length === 0) problems.push("'payload.summary' is missing or blank");
      else if (p['summary'].length > 1024) problems.push("'payload.summary' is longer than 1024 characters");
      if (typeof p['source'] !== 'string' || p['source'].trim().length === 0) problems.push("'payload.source' is missing or blank");
      if (!SEVERITIES.includes(p['severity'] as string)) problems.push("'payload.severity' is invalid (must be one of critical, error, warning, info)");
      if (p['timestamp'] !== undefined && (typeof p['timestamp'] !== 'string' || Number.isNaN(Date.parse(p['timestamp'])))) problems.push("'payload.timestamp' is not a valid timestamp");
    }
    const links = e['links'];
    if (links !== undefined && (!Array.isArray(links) || links.some((l) => !l || typeof (l as { href?: unknown }).href !== 'string'))) problems.push("'links' must be a list of objects with an 'href'");
  }
  return problems;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
