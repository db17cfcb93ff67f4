// The Done-when for PagerDuty: `governor demo --scenario jvm-heap-regression` with
// PAGERDUTY_ROUTING_KEY set and PAGERDUTY_EVENTS_HOST pointing at an HTTPS fake of the Events API.
// The demo runs as its own process (the command an operator runs: loadConfig from its environment,
// then runDemo), trusting the fake's throwaway CA through NODE_EXTRA_CA_CERTS exactly as a process
// trusts a private CA in production; the fake, in this process, records what arrived.
// Then PagerDuty down — answering 500, or hanging — and the demo still meets its outcome.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../../src/demo/run-demo.ts';
import { FAKE_ROUTING_KEY, startPagerDutyFake, type AcceptedEvent, type PagerDutyFake } from '../paging/pagerduty-fake.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/governor.mjs', import.meta.url).pathname;

let fake: PagerDutyFake;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  fake = await startPagerDutyFake();
  dir = await mkdtemp(join(tmpdir(), 'governor-pd-'));
  await writeFile(join(dir, 'pagerduty-ca.pem'), fake.caPem);
  env = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    GOVERNOR_DATA_DIR: dir,
    PAGERDUTY_ROUTING_KEY: FAKE_ROUTING_KEY,
    PAGERDUTY_EVENTS_HOST: fake.host,
    NODE_EXTRA_CA_CERTS: join(dir, 'pagerduty-ca.pem'),
  };
});

afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

/** `governor demo --scenario jvm-heap-regression --json`, with what PagerDuty received during it. */
async function demo(): Promise<{ summary: DemoSummary; accepted: AcceptedEvent[]; statuses: number[]; elapsedMs: number }> {
  const acceptedBefore = fake.accepted().length;
  const requestsBefore = fake.requests().length;
  const started = Date.now();
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, [BIN, 'demo', '--scenario', 'jvm-heap-regression', '--json'], { env, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 }));
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`governor demo exited ${e.code}:\n${e.stderr}\n${e.stdout?.slice(0, 4000)}`);
  }
  return {
    summary: JSON.parse(stdout) as DemoSummary,
    accepted: fake.accepted().slice(acceptedBefore),
    statuses: fake.requests().slice(requestsBefore).map((r) => r.status),
    elapsedMs: Date.now() - started,
  };
}

function withSummary(s: DemoSummary, check: () => void): void {
  try {
    check();
  } catch (err) {
    (err as Error).message += `\n\ndemo summary:\n${JSON.stringify({ outcome: s.outcome, actions: s.actions, timeline: s.timeline }, null, 2)}`;
    throw err;
  }
}

describe('PagerDuty on the seed incident', () => {
  it("pages the rollback once with the proposal as dedup key and resolves it once after the approval; the incident has its own trigger and resolve", async () => {
    const { summary: s, accepted, statuses } = await demo();
    withSummary(s, () => {
      expect(s.outcome).toEqual({ met: true, failures: [] });
      const rollback = s.actions.find((a) => a.action === 'rollback_deployment')!;
      expect(rollback).toMatchObject({ verdict: 'require_approval', approved_by: 'alice', executed: true });
      const incidentId = s.incidents[0]!.incident_id;
      expect(s.incidents).toHaveLength(1);

      const of = (key: string) => accepted.filter((e) => e.dedup_key === key);
      // The rollback: exactly one trigger, then exactly one resolve.
      expect(of(rollback.proposal_id).map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
      const trigger = of(rollback.proposal_id)[0]!;
      expect(trigger.payload).toMatchObject({
        summary: expect.stringMatching(/^Approval needed: elastik proposes rollback_deployment of Deployment acme-prod\/checkout for tenant acme \(enterprise/),
        source: 'acme-prod/checkout',
        severity: 'critical',
        custom_details: expect.objectContaining({ proposal_id: rollback.proposal_id, incident_id: incidentId, action: 'rollback_deployment' }),
      });
      expect(trigger.links?.[0]?.href).toMatch(/^https:\/\/slack\.com\/archives\/C0GOVAPPROV\/p\d+$/);
      // The critical observation: its own page under the incident id, resolved when the incident resolved.
      expect(of(incidentId).map((e) => [e.event_action, e.payload?.severity])).toEqual([['trigger', 'critical'], ['resolve', undefined]]);
      // Nothing else was paged (the scale-up was allowed: no human was asked), and nothing was refused.
      expect(accepted).toHaveLength(4);
      expect(statuses.every((x) => x === 202)).toBe(true);
      expect(fake.unexpected()).toEqual([]);
    });
  }, 180_000);

  it('PagerDuty answering 500 to everything: the demo still meets its outcome, the approval in Slack included', async () => {
    fake.fail({ status: 500 });
    try {
      const { summary: s, accepted, statuses } = await demo();
      withSummary(s, () => {
        expect(s.outcome).toEqual({ met: true, failures: [] });
        expect(s.actions.find((a) => a.action === 'rollback_deployment')).toMatchObject({ approved_by: 'alice', executed: true });
        expect(accepted).toEqual([]);
        // It tried (the incident and the rollback), and backed off rather than hammering.
        expect(statuses.length).toBeGreaterThanOrEqual(2);
        expect(statuses.length).toBeLessThan(20);
        expect(statuses.every((x) => x === 500)).toBe(true);
      });
    } finally {
      fake.fail(undefined);
    }
  }, 180_000);

  it('PagerDuty hanging: the demo still meets its outcome, and ends without waiting on it', async () => {
    fake.fail({ hang: true });
    try {
      const { summary: s, accepted, statuses, elapsedMs } = await demo();
      withSummary(s, () => {
        expect(s.outcome).toEqual({ met: true, failures: [] });
        expect(s.actions.find((a) => a.action === 'rollback_deployment')).toMatchObject({ approved_by: 'alice', executed: true });
        expect(accepted).toEqual([]);
        // It did reach the fake, which never answered.
        expect(statuses.length).toBeGreaterThanOrEqual(1);
        expect(statuses.every((x) => x === 0)).toBe(true);
        expect(elapsedMs).toBeLessThan(120_000);
      });
    } finally {
      fake.fail(undefined);
    }
  }, 180_000);
});
