// Test fixture: the one fake Kubernetes API, kept for what the cluster twin cannot produce. It is a
// proxy in front of a real API server (the twin's): every request is passed through and answered by
// the twin, unless a test has asked for a failure on the next matching request — an error status
// with a Status body (a 503 from an overloaded API server), a 200 whose body is not JSON, or a
// connection cut before any answer — or for someone else's change to land just before it is served.
// It holds no cluster state of its own and must never answer a normal request itself: normal
// behaviour is the twin's.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderKubeconfig } from '../../src/twin/kubeconfig.ts';

type Fault = { kind: 'status'; status: number } | { kind: 'malformed' } | { kind: 'drop' } | { kind: 'drop-answer' };

interface Armed<T> {
  method: string;
  path: RegExp;
  what: T;
}

export interface FaultyKubeApi {
  url: string;
  /** Every request that reached the proxy, as `METHOD path?query`. */
  requests: string[];
  /** A kubeconfig for the proxy (any token: the API server behind it decides). */
  kubeconfig(): string;
  /** The next request matching method and path answers `status` with a Status body, and never reaches the API server. */
  failNext(method: string, path: RegExp, status: number): void;
  /** The next matching request gets 200 with a body that is not JSON (a proxy in the way, a truncated answer). */
  malformedNext(method: string, path: RegExp): void;
  /** The next matching request's connection is cut before any answer. */
  dropNext(method: string, path: RegExp): void;
  /** Forwards the next matching request, then drops the connection instead of answering: done, and nobody told. */
  dropAnswerNext(method: string, path: RegExp): void;
  /** Runs `fn` just before the next matching request is passed on: someone else acting between a read and a write. */
  beforeNext(method: string, path: RegExp, fn: () => void): void;
  close(): Promise<void>;
}

function take<T>(list: Armed<T>[], method: string, path: string): T | undefined {
  const i = list.findIndex((a) => a.method === method && a.path.test(path));
  return i < 0 ? undefined : list.splice(i, 1)[0]!.what;
}

export async function startFaultyKubeApi(upstream: string): Promise<FaultyKubeApi> {
  const target = new URL(upstream);
  const faults: Armed<Fault>[] = [];
  const hooks: Armed<() => void>[] = [];
  const requests: string[] = [];

  const pass = (req: IncomingMessage, res: ServerResponse) => {
    const out = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://proxy');
    requests.push(`${method} ${url.pathname}${url.search}`);
    take(hooks, method, url.pathname)?.();
    const fault = take(faults, method, url.pathname);
    if (!fault) return pass(req, res);
    if (fault.kind === 'drop-answer') {
      const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
        answer.resume();
        answer.on('end', () => req.socket.destroy());
      });
      out.on('error', () => req.socket.destroy());
      return req.pipe(out);
    }
    req.resume();
    if (fault.kind === 'drop') return req.socket.destroy();
    if (fault.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"na');
    }
    res.writeHead(fault.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'injected failure', code: fault.status }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    kubeconfig: () => renderKubeconfig({ server: url, token: 'faulty-proxy' }),
    failNext: (method, path, status) => faults.push({ method, path, what: { kind: 'status', status } }),
    malformedNext: (method, path) => faults.push({ method, path, what: { kind: 'malformed' } }),
    dropNext: (method, path) => faults.push({ method, path, what: { kind: 'drop' } }),
    dropAnswerNext: (method, path) => faults.push({ method, path, what: { kind: 'drop-answer' } }),
    beforeNext: (method, path, fn) => hooks.push({ method, path, what: fn }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
