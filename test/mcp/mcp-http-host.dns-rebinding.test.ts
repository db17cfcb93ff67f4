// The shared Streamable HTTP host on a loopback address answers only requests that name this machine:
// a page on another name that an attacker rebinds to 127.0.0.1 is refused before its token is looked at.
import { request } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHttpHost, type McpHttpHost } from '../../src/mcp/mcp-http-host.ts';

let host: McpHttpHost;
const TOKEN = 'a-token-of-at-least-sixteen-chars';
beforeAll(async () => {
  host = await startMcpHttpHost({
    name: 'test',
    tokens: new Map([[TOKEN, { agent: 'watchtower' }]]),
    createServer: () => new McpServer({ name: 'test', version: '0' }, { capabilities: { tools: {} } }),
  });
});
afterAll(async () => host?.close());

function post(headers: Record<string, string>): Promise<number> {
  const url = new URL(host.url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '0' } } }));
  });
}

describe('MCP HTTP host on 127.0.0.1', () => {
  it('refuses a Host or an Origin that is not this machine, with 403', async () => {
    expect(await post({ host: 'evil.example.com' })).toBe(403);
    expect(await post({ host: `127.0.0.1:${new URL(host.url).port}`, origin: 'http://evil.example.com' })).toBe(403);
    expect(await post({ host: `127.0.0.1:${new URL(host.url).port}`, origin: 'null' })).toBe(403);
  });

  it('serves localhost, 127.0.0.1 and [::1] names on any port, with or without an Origin', async () => {
    expect(await post({ host: `127.0.0.1:${new URL(host.url).port}` })).toBe(200);
    expect(await post({ host: 'localhost:1234', origin: 'http://localhost:5173' })).toBe(200);
    expect(await post({ host: '[::1]:80' })).toBe(200);
  });
});
