// The seed incident with a model, end to end: `governor demo --json` with ANTHROPIC_API_KEY and
// ANTHROPIC_BASE_URL pointing at the fake Messages API reports `llm: "used"` (Watchtower's reading
// went through a tool-use exchange) with the scenario's outcome met, says who is in charge, and
// `governor incident explain` then answers from the records with `source: "llm"`, the exchange
// audited. With the model overloaded or hanging, the same scenario's outcome is met by the rules,
// every fallback on the record with its reason (past three in a row, the breaker's).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { runDemo } from '../../src/demo/run-demo.ts';
import { PgAuditStore } from '../../src/audit/pg-audit-store.ts';
import type { AuditRecord } from '../../src/audit/records.ts';
import { FAKE_ANTHROPIC_KEY, FakeMessagesApi, answer, toolUse, type FakeStep, type MessagesRequest } from './fake-messages-api.ts';

const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const BIN = join(import.meta.dirname, '../../bin/governor.mjs');
const run = promisify(execFile);

/** A model that answers from what it is asked, as the real one would (deterministically). */
function model(req: MessagesRequest): FakeStep {
  const first = req.messages[0]!.content;
  const task = typeof first === 'string' ? first : first.map((b) => (b.type === 'text' ? b.text : '')).join('');
  const all = JSON.stringify(req.messages);
  if (task.includes("Watchtower's rule-based detector")) {
    const deployment = /on deployment ([a-z0-9-]+)/.exec(task)![1]!;
    // Metric history through the Prometheus MCP server (its tenant's session), an attempt beyond the
    // tenant that the server refuses, then the rollout history.
    if (req.messages.length === 1) return toolUse('query_range', { query: `http_request_duration_seconds{namespace="acme-prod",deployment="${deployment}",quantile="0.99"}`, minutes: 30 });
    if (req.messages.length === 3) return toolUse('query_range', { query: 'http_requests_total{namespace="globex-prod"}', minutes: 30 });
    if (req.messages.length === 5) return toolUse('get_rollout_history', { deployment });
    return answer({
      hypotheses: [{ text: `the latest rollout of ${deployment} changed the JVM heap`, confidence: 0.8 }, { text: 'more traffic', confidence: 0.1 }],
      narrative: `${deployment} slowed after its latest rollout; GC and memory point at the heap settings.`,
    });
  }
  if (task.includes('candidate actions')) {
    const n = [...all.matchAll(/\\"index\\": ?(\d+)/g)].length;
    return answer({ chosen: Array.from({ length: n }, (_, i) => i), why: 'each candidate addresses part of the incident' });
  }
  if (task.includes('An operator asks about incident')) {
    const seqs = [...all.matchAll(/\\"seq\\": ?(\d+)/g)].map((m) => Number(m[1]));
    return answer({ answer: 'Revision 2 changed the JVM heap; Elastik scaled out, then the rollback alice approved restored the SLO.', cites: seqs.slice(0, 6), records_hold_answer: true });
  }
  throw new Error(`unscripted request: ${task.slice(0, 200)}`);
}

let api: FakeMessagesApi;
let dataDir: string;
const schemas: string[] = [];
beforeAll(async () => {
  api = await FakeMessagesApi.start();
  dataDir = await mkdtemp(join(tmpdir(), 'gov-llm-'));
});
afterAll(async () => {
  await api.close();
  await rm(dataDir, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await c.end();
});

const exchangesIn = async (schema: string) => {
  const store = new PgAuditStore({ connectionString: PG, schema, poolSize: 1 });
  try {
    return (await store.list({ kind: 'llm_exchange' })) as AuditRecord<'llm_exchange'>[];
  } finally {
    await store.close();
  }
};

describe('the seed incident with a model', () => {
  it('governor demo --json reports llm used, the outcome met; incident explain answers by the model, audited', async () => {
    api.respondWith(model);
    const schema = `llm_${randomUUID().slice(0, 8)}`;
    schemas.push(schema);
    const env = { PATH: process.env['PATH'], HOME: process.env['HOME'], DATABASE_URL: PG, GOVERNOR_DATA_DIR: dataDir, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: api.url, GOVERNOR_LLM_TIMEOUT_MS: '3000' };
    // The demo's schema is fixed (governor_demo); run it in-process for a schema of our own, as `demo` does.
    const s = await runDemo({ scenario: 'jvm-heap-regression', config: loadConfig(env), logger: silentLogger(), auditSchema: schema });
    expect(s.outcome).toEqual({ met: true, failures: [] });
    expect(s.llm).toBe('used');
    const ex = await exchangesIn(schema);
    const reading = ex.find((r) => r.payload.purpose === 'watchtower_hypotheses')!;
    expect(reading.payload).toMatchObject({ source: 'llm', tool_calls: [{ tool: 'query_range' }, { tool: 'query_range', is_error: true }, { tool: 'get_rollout_history', args: { deployment: 'checkout' } }] });
    // The tenant's own latency came back from Prometheus (the twin's query API); the other tenant's was refused by the server.
    const [own, other] = reading.payload.tool_calls;
    expect(JSON.stringify(own!.response)).toMatch(/"quantile":"0.99"/);
    expect(own!.is_error).toBeFalsy();
    expect(JSON.stringify(other!.response)).toMatch(/tenant_forbidden/);
    expect(reading.incident_id).toBeTruthy();
    expect(api.unexpected).toEqual([]);

    const { stdout } = await run(process.execPath, [BIN, 'incident', 'explain', 'latest', 'why did you roll back?', '--schema', schema, '--json'], { env, timeout: 120_000 });
    const a = JSON.parse(stdout) as { source: string; llm: string; answer: string; cites: { seq: number }[] };
    expect(a).toMatchObject({ source: 'llm', llm: 'used' });
    expect(a.answer).toMatch(/alice approved/);
    expect(a.cites.length).toBeGreaterThan(0);
    const after = await exchangesIn(schema);
    expect(after.filter((r) => r.payload.purpose === 'incident_explain')).toEqual([expect.objectContaining({ incident_id: reading.incident_id, payload: expect.objectContaining({ source: 'llm' }) })]);
  }, 240_000);

  it('governor demo says who is in charge: the rules without a key', async () => {
    const r = await run(process.execPath, [BIN, 'demo', '--scenario', 'jvm-heap-regression', '--json'], { env: { PATH: process.env['PATH'], HOME: process.env['HOME'], GOVERNOR_DATA_DIR: dataDir, DATABASE_URL: PG }, timeout: 200_000 });
    expect(r.stderr).toContain('demo: llm: ANTHROPIC_API_KEY unset: rules in charge');
    expect(JSON.parse(r.stdout)).toMatchObject({ llm: 'unavailable', outcome: { met: true } });
  }, 240_000);

  for (const [outage, step, reason] of [
    ['overloaded (529)', { error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } }, 'overloaded'],
    ['hanging past the timeout', { hang: true }, 'timeout'],
  ] as const) {
    it(`with the model ${outage}, the rules meet the scenario's outcome, each fallback recorded with its reason within the timeout`, async () => {
      api.respondWith(() => step as FakeStep);
      const schema = `llm_${randomUUID().slice(0, 8)}`;
      schemas.push(schema);
      const config = loadConfig({ DATABASE_URL: PG, GOVERNOR_DATA_DIR: dataDir, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: api.url, GOVERNOR_LLM_TIMEOUT_MS: '1000' });
      const s = await runDemo({ scenario: 'jvm-heap-regression', config, logger: silentLogger(), auditSchema: schema });
      expect(s.outcome).toEqual({ met: true, failures: [] });
      expect(s.llm).toBe('unavailable');
      const ex = await exchangesIn(schema);
      expect(ex.length).toBeGreaterThan(0);
      expect(ex.every((r) => r.payload.source === 'rules')).toBe(true);
      expect(ex[0]!.payload.fallback).toMatchObject({ reason });
      expect(ex[0]!.payload.latency_ms).toBeLessThan(1000 + 300);
      const reasons = ex.map((r) => r.payload.fallback!.reason);
      // eslint-disable-next-line no-console
      console.log(`demo with the model ${outage}: ${ex.map((r) => `${r.payload.purpose} ${r.payload.fallback!.reason} ${r.payload.latency_ms} ms`).join('; ')}`);
      expect(reasons.slice(0, 3)).toEqual(reasons.slice(0, 3).map(() => reason));
      expect(reasons.slice(3).every((x) => x === 'breaker_open')).toBe(true);
    }, 240_000);
  }
});
