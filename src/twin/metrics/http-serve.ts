// The small HTTP server the twin's metrics endpoints run on when they are not mounted into another
// server: a list of handlers, each answering the requests it recognises (returning true) and passing
// on the rest, then 404. Loopback only by default; no TLS, no auth — it serves a simulation.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers the request and returns true, or returns false without touching `res`. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface ServeOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

export interface RunningServer {
  /** http://host:port, without a trailing slash. */
  baseUrl: string;
  port: number;
  close(): Promise<void>;
}

export async function serveHandlers(handlers: readonly RequestHandler[], opts: ServeOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    try {
      for (const h of handlers) if (h(req, res)) return;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${(err as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
