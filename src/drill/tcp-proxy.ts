// A TCP proxy the drills put between Governor and a dependency (PostgreSQL, the Kubernetes API), to
// break the network the way networks break:
//   - `down`: every connection is cut, and new ones are refused (reset) until it is back up;
//   - `stall`: connections stay open but nothing moves either way (new ones too) until it resumes;
//     what was sent meanwhile is delivered then, as TCP would after a partition heals.
// It forwards bytes and knows nothing of the protocol: TLS to the Kubernetes API passes through.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'up' | 'down' | 'stall';

export interface TcpProxy {
  port: number;
  mode(): ProxyMode;
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'up';
  type Pair = { client: Socket; upstream: Socket; held: [Socket, Buffer][] };
  const pairs = new Set<Pair>();
  const flush = (p: Pair) => {
    for (const [to, chunk] of p.held.splice(0)) to.write(chunk);
  };
  const server: Server = createServer((client) => {
    if (mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection(target);
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    // Forwarded by hand, not piped: a stall holds every byte until it ends, whatever the buffers do.
    const forward = (to: Socket) => (chunk: Buffer) => (mode === 'stall' || pair.held.length > 0 ? pair.held.push([to, chunk]) : to.write(chunk));
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    mode: () => mode,
    setMode(next) {
      mode = next;
      for (const p of [...pairs]) {
        if (next === 'down') {
          p.client.resetAndDestroy();
          p.upstream.destroy();
          pairs.delete(p);
        } else if (next === 'up') {
          flush(p);
        }
      }
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
