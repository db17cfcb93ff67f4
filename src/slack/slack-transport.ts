// How the Slack app meets Slack, as one seam in bolt-js's own shape: a Bolt `Receiver` (what Bolt
// pushes requests through) together with its start and stop. Two implementations, chosen by the
// composition root and injected into the app, so both share every listener, middleware and the one
// error funnel (`app.error`):
//  - HTTP: Slack POSTs signed requests to SLACK_HOST:SLACK_PORT/slack/events; Bolt's HTTPReceiver
//    checks the signature and the five-minute staleness; the app refuses replays and future-dated
//    requests on top (slack-app.ts). Needs a public endpoint.
//  - Socket Mode: the app opens a WebSocket itself (`apps.connections.open` with the app-level
//    `xapp-` token) and Slack sends every request down it as an envelope that the app acknowledges
//    with its `envelope_id`. No public endpoint; nothing is signed, because the connection the app
//    opened over TLS to Slack with its own token is the proof of origin.
// It must never start listening before the app's token was checked (the app's start does that), and
// never log the Socket Mode URL's ticket, which is a credential for the connection.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, SocketModeReceiver, type Receiver } from '@slack/bolt';
import { GovernorError, describeError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { boltLogger } from './bolt-logger.ts';

export const INTERACTIONS_PATH = '/slack/events';

export interface SlackTransport {
  /** `http`: signed requests to our endpoint; `socket`: envelopes over a WebSocket we opened. */
  readonly kind: 'http' | 'socket';
  /** Handed to Bolt's App: the only way requests reach the listeners. */
  readonly receiver: Receiver;
  /** Starts receiving; `url` says where Slack reaches the app (the endpoint, or the socket's host). */
  start(): Promise<{ url: string }>;
  /** Stops receiving new requests; resolves once the transport is closed. */
  stop(): Promise<void>;
}

export interface HttpTransportOptions {
  signingSecret: string;
  /** 0 picks a free port. */
  port: number;
  /** 127.0.0.1 when omitted (0.0.0.0 to be reachable from outside). */
  host?: string;
  /** Longest wait for one incoming request to arrive. */
  requestTimeoutMs?: number;
  logger: Logger;
}

/** Signed HTTP requests on one endpoint, verified by Bolt's HTTPReceiver. */
export function httpTransport(opts: HttpTransportOptions): SlackTransport {
  if (!opts.signingSecret) throw new GovernorError('config_invalid', 'Slack HTTP mode needs the signing secret (SLACK_SIGNING_SECRET)');
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const receiver = new HTTPReceiver({
    signingSecret: opts.signingSecret,
    signatureVerification: true,
    endpoints: INTERACTIONS_PATH,
    // The listener acks before it does any work, so Slack gets its 200 within its 3 s limit.
    processBeforeResponse: false,
    logger: boltLogger(opts.logger),
    // Runs after Bolt verified the signature: what the replay guard needs, handed to the middleware.
    customPropertiesExtractor: (req) => ({
      slack_signature: String(req.headers['x-slack-signature'] ?? ''),
      slack_request_ts: Number(req.headers['x-slack-request-timestamp'] ?? NaN),
    }),
    customRoutes: [
      {
        path: '/healthz',
        method: ['GET'],
        handler: (_req, res) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        },
      },
    ],
  });
  let server: Server | undefined;
  return {
    kind: 'http',
    receiver,
    async start() {
      try {
        server = (await receiver.start({ port: opts.port, host }, { headersTimeout: timeoutMs, requestTimeout: timeoutMs })) as Server;
      } catch (err) {
        throw new GovernorError('config_invalid', `Slack interactions endpoint cannot listen on ${host}:${opts.port}: ${describeError(err)}`, { cause: err });
      }
      const addr = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      return { url: `http://${shownHost}:${addr.port}${INTERACTIONS_PATH}` };
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      const closing = receiver.stop();
      s.closeIdleConnections();
      // A keep-alive connection in the middle of nothing must not hold shutdown forever.
      const force = setTimeout(() => s.closeAllConnections(), 2_000);
      force.unref();
      try {
        await closing;
      } finally {
        clearTimeout(force);
      }
    },
  };
}

export interface SocketModeTransportOptions {
  /** The app-level token (`xapp-…`, scope connections:write). */
  appToken: string;
  /** Base URL of the Web API that `apps.connections.open` is called on; Slack's own when omitted. */
  slackApiUrl?: string;
  logger: Logger;
}

/** Envelopes over a WebSocket the app opens itself (`apps.connections.open`), acknowledged by envelope id. */
export function socketModeTransport(opts: SocketModeTransportOptions): SlackTransport {
  if (!opts.appToken.startsWith('xapp-')) {
    throw new GovernorError('config_invalid', "Slack Socket Mode needs an app-level token starting with 'xapp-' (SLACK_APP_TOKEN)");
  }
  const receiver = new SocketModeReceiver({
    appToken: opts.appToken,
    logger: boltLogger(opts.logger),
    // Slack recycles connections (a `disconnect` envelope, a lost pong); the client opens a new one.
    autoReconnectEnabled: true,
    // The only way to point the Socket Mode client's own Web API calls somewhere: a local fake in tests.
    ...(opts.slackApiUrl ? { installerOptions: { clientOptions: { slackApiUrl: opts.slackApiUrl } } } : {}),
  });
  let started = false;
  return {
    kind: 'socket',
    receiver,
    async start() {
      let opened: { url?: string };
      try {
        opened = (await receiver.start()) as { url?: string };
      } catch (err) {
        throw new GovernorError('unauthenticated', `Slack Socket Mode could not connect: ${describeError(err)} (check SLACK_APP_TOKEN and that Socket Mode is enabled for the app)`, { cause: err });
      }
      started = true;
      // The query string carries the connection's ticket: never shown.
      const shown = opened.url ? opened.url.replace(/\?.*$/, '') : 'wss (Socket Mode)';
      return { url: shown };
    },
    async stop() {
      if (!started) return;
      started = false;
      await receiver.stop();
    },
  };
}
