// Slack's Socket Mode server, as far as an app can tell, for tests: a `ws` WebSocket server that the
// Web API fake's `apps.connections.open` points at (a URL with a one-time ticket), which greets a
// connection with `hello`, sends what people do as envelopes — `interactive`, `slash_commands`,
// `events_api`, each with its `envelope_id` and `accepts_response_payload` — and waits for the
// app's acknowledgement `{ envelope_id, payload? }`. It plugs into the Web API fake as its delivery,
// so a click or a command in a test travels exactly as it would from Slack.
// It fails loudly: an envelope not acknowledged in Slack's 3 s, an acknowledgement for an unknown
// envelope, a malformed frame, or a connection without a valid ticket is an error the test sees,
// never a silent success.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DeliveryKind, DeliveryResult, SlackDelivery } from '../../src/sandbox/slack-fake-delivery.ts';
import type { SlackFake } from '../../src/sandbox/slack-web-api-fake.ts';

/** Slack's own limit for acknowledging an envelope. */
const ACK_TIMEOUT_MS = 3_000;

export interface SocketModeFake extends SlackDelivery {
  /** Every frame the app sent (acknowledgements), parsed, in order. */
  frames(): unknown[];
  /** Problems the fake saw (unknown envelope ids, malformed frames, refused connections). */
  problems(): string[];
  /** Connections opened so far (a reconnect opens another). */
  connections(): number;
  /** Sends `{ type: 'disconnect', reason }`, as Slack does before it recycles a connection. */
  disconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  /** Sends an envelope again with `retry_attempt` raised, as Slack does when an ack did not arrive. */
  redeliver(kind: DeliveryKind, payload: Record<string, unknown>, retryAttempt: number): Promise<DeliveryResult>;
  close(): Promise<void>;
}

export async function startSocketModeFake(fake: SlackFake, opts: { appId?: string } = {}): Promise<SocketModeFake> {
  const tickets = new Set<string>();
  const frames: unknown[] = [];
  const problems: string[] = [];
  const waiting = new Map<string, { resolve: (r: DeliveryResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let socket: WebSocket | undefined;
  let opened = 0;
  let connectedNow: (() => void) | undefined;
  let connected = new Promise<void>((r) => (connectedNow = r));

  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;

  wss.on('connection', (ws, req) => {
    const ticket = new URL(req.url ?? '/', 'ws://x').searchParams.get('ticket');
    if (!ticket || !tickets.delete(ticket)) {
      problems.push(`connection without a valid ticket: ${req.url}`);
      ws.close(1008, 'invalid ticket');
      return;
    }
    opened++;
    socket = ws;
    ws.on('message', (data) => {
      let frame: { envelope_id?: unknown; payload?: unknown };
      try {
        frame = JSON.parse(String(data));
      } catch {
        problems.push(`malformed frame: ${String(data).slice(0, 200)}`);
        return;
      }
      frames.push(frame);
      const id = typeof frame.envelope_id === 'string' ? frame.envelope_id : undefined;
      const w = id ? waiting.get(id) : undefined;
      if (!w) {
        problems.push(`acknowledgement for an unknown envelope: ${JSON.stringify(frame).slice(0, 200)}`);
        return;
      }
      waiting.delete(id!);
      clearTimeout(w.timer);
      w.resolve({ status: 200, body: frame.payload });
    });
    ws.on('close', () => {
      if (socket === ws) {
        socket = undefined;
        connected = new Promise<void>((r) => (connectedNow = r));
      }
    });
    // What Slack sends first on every connection; the client resolves its start() on it.
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18060 }, connection_info: { app_id: opts.appId ?? 'A0GOVERNOR' } }));
    connectedNow?.();
  });

  fake.setSocketModeUrl(() => {
    const ticket = randomUUID();
    tickets.add(ticket);
    return `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=${opts.appId ?? 'A0GOVERNOR'}`;
  });

  async function send(kind: DeliveryKind, payload: Record<string, unknown>, retryAttempt: number): Promise<DeliveryResult> {
    // A delivery waits for the app to be connected, as Slack queues for a reconnecting app.
    await Promise.race([connected, new Promise((_, reject) => setTimeout(() => reject(new Error('no Socket Mode connection within 5 s')), 5_000))]);
    const ws = socket!;
    const envelope_id = randomUUID();
    const result = new Promise<DeliveryResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(envelope_id);
        reject(new Error(`envelope ${envelope_id} (${kind}) was not acknowledged within ${ACK_TIMEOUT_MS} ms`));
      }, ACK_TIMEOUT_MS);
      waiting.set(envelope_id, { resolve, reject, timer });
    });
    ws.send(
      JSON.stringify({
        envelope_id,
        payload,
        type: kind,
        // Slack lets commands and interactions answer in the acknowledgement; events cannot.
        accepts_response_payload: kind !== 'events_api',
        ...(kind === 'events_api' ? { retry_attempt: retryAttempt, retry_reason: retryAttempt > 0 ? 'timeout' : '' } : {}),
      }),
    );
    return result;
  }

  const delivery: SocketModeFake = {
    kind: 'socket',
    deliver: (kind, payload) => send(kind, payload, 0),
    redeliver: (kind, payload, retryAttempt) => send(kind, payload, retryAttempt),
    frames: () => [...frames],
    problems: () => [...problems],
    connections: () => opened,
    disconnect(reason = 'refresh_requested') {
      socket?.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake' } }));
    },
    async close() {
      for (const w of waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error('Socket Mode fake closed'));
      }
      waiting.clear();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  fake.useDelivery(delivery);
  return delivery;
}
