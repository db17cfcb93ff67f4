// The whole system with ANTHROPIC_API_KEY and the fake Messages API: `start`'s report says which
// model is in charge; when the model fails three times in a row the breaker opens and the Slack
// channel is told once "LLM unavailable, rules in charge" (through the Notifier, as every notice),
// nothing more while it stays away; when a probe succeeds the recovery is told once. Without a key
// the report says the rules are in charge.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import pg from 'pg';
import { loadConfig } from '../../src/config.ts';
import { RealClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { startSystem, type System } from '../../src/runtime/system.ts';
import { FAKE_ANTHROPIC_KEY, FakeMessagesApi, answer, overloaded } from './fake-messages-api.ts';

const PG = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
let api: FakeMessagesApi;
let dir: string;
const schema = `llmsys_${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  api = await FakeMessagesApi.start();
  dir = await mkdtemp(join(tmpdir(), 'gov-llm-sys-'));
});
afterAll(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

async function waitFor<T>(check: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ask = (sys: System) => sys.llm.ask({ purpose: 'test', task: 'Say ok.', data: {}, output: z.object({ ok: z.boolean() }) });

describe('the system with a model', () => {
  it('says who is in charge, announces the outage once and the recovery once in the channel', async () => {
    const config = loadConfig({
      DATABASE_URL: PG, GOVERNOR_DATA_DIR: dir, GOVERNOR_CONSOLE_PORT: '0', LOG_LEVEL: 'silent',
      ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: api.url, GOVERNOR_LLM_MODEL: 'claude-fake', GOVERNOR_LLM_TIMEOUT_MS: '1000',
    });
    const sys = await startSystem({ config, clock: new RealClock(), logger: silentLogger(), scenario: 'jvm-heap-regression', auditSchema: schema, runId: `llm-${Date.now()}`, llmCooldownMs: 300, pollMs: 3_600_000 });
    try {
      expect(sys.report).toContain(`llm: claude-fake at ${api.url} reasons (timeout 1000 ms); on any failure the rules answer at once`);
      const said = (what: RegExp) => sys.slackFake!.messages().filter((m) => what.test(m.text));
      api.respondWith(() => overloaded);
      for (let i = 0; i < 3; i++) expect(await ask(sys)).toMatchObject({ source: 'rules', reason: 'overloaded' });
      await waitFor(() => said(/LLM unavailable, rules in charge/)[0], 'the outage notice');
      const asked = api.requests.length;
      expect(await ask(sys)).toMatchObject({ source: 'rules', reason: 'breaker_open' });
      expect(api.requests.length).toBe(asked);
      // The probe fails: still away, and nothing more is said.
      await new Promise((r) => setTimeout(r, 350));
      expect(await ask(sys)).toMatchObject({ reason: 'overloaded' });
      await new Promise((r) => setTimeout(r, 350));
      api.respondWith(() => answer({ ok: true }));
      expect(await ask(sys)).toMatchObject({ source: 'llm', value: { ok: true } });
      await waitFor(() => said(/LLM available again/)[0], 'the recovery notice');
      await new Promise((r) => setTimeout(r, 200));
      expect(said(/LLM unavailable, rules in charge/)).toHaveLength(1);
      expect(said(/LLM available again/)).toHaveLength(1);
    } finally {
      await sys.stop();
    }
  }, 60_000);

  it('without a key: rules in charge, said so, and the model is never asked', async () => {
    const config = loadConfig({ DATABASE_URL: PG, GOVERNOR_DATA_DIR: dir, GOVERNOR_CONSOLE_PORT: '0', LOG_LEVEL: 'silent', ANTHROPIC_BASE_URL: api.url });
    const sys = await startSystem({ config, clock: new RealClock(), logger: silentLogger(), scenario: 'jvm-heap-regression', auditSchema: schema, runId: `llm-${Date.now()}`, pollMs: 3_600_000 });
    try {
      expect(sys.report).toContain('llm: ANTHROPIC_API_KEY unset: rules in charge');
      const asked = api.requests.length;
      expect(await ask(sys)).toMatchObject({ source: 'rules', reason: 'no_model', exchange: undefined });
      expect(api.requests.length).toBe(asked);
    } finally {
      await sys.stop();
    }
  }, 60_000);
});
