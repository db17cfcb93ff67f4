// The sandbox console in a real browser (Debian's chromium driven by playwright-core; never a
// downloaded browser): the whole system in sandbox mode runs the seed incident (jvm-heap-regression)
// on a virtual clock that moves only while the pipeline is idle, so every run sees the same story.
// A person opens the incident's thread (the observation, its chart, the scale that ran at level 3,
// the rollback asking for approval), approves the rollback by clicking, lets the story finish, types
// `/incident explain latest why did you roll back?` in the message box, and opens the App Home. Every
// step goes through the real Bolt app as signed requests. Screenshots go to docs/screenshots/.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { startSystem, type System } from '../../src/runtime/system.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = new URL('../../docs/screenshots/', import.meta.url).pathname;
const PG_URL = process.env['TEST_DATABASE_URL'];
const T0 = Date.parse('2026-11-24T10:00:00Z');
const STEP_MS = 5_000;

let sys: System;
let clock: VirtualClock;
let context: BrowserContext;
let page: Page;
let profile: string;
const schema = `browser_${randomUUID().slice(0, 8)}`;

/** Waits until nothing is in flight anywhere (bus, outbox, timers' work), as the demo does. */
async function settle(): Promise<void> {
  let quiet = 0;
  const deadline = Date.now() + 60_000;
  while (quiet < 3) {
    await new Promise((r) => setTimeout(r, 5));
    quiet = (await sys.idle()) ? quiet + 1 : 0;
    if (Date.now() > deadline) throw new Error('the pipeline did not become idle');
  }
}

/** Moves simulated time in steps until `done` holds (checked while idle), at most `maxS` simulated seconds. */
async function runUntil(done: () => boolean | Promise<boolean>, what: string, maxS = 1800): Promise<void> {
  for (let t = 0; t <= maxS * 1000; t += STEP_MS) {
    await settle();
    if (await done()) return;
    await clock.advance(STEP_MS);
  }
  throw new Error(`simulated ${maxS} s without ${what}`);
}

const records = async (kind: string) => (await sys.audit.list()).filter((r) => r.kind === kind);

beforeAll(async () => {
  clock = new VirtualClock(T0);
  const config = { ...loadConfig({ LOG_LEVEL: 'silent', ...(PG_URL ? { DATABASE_URL: PG_URL } : {}) }), consolePort: 0 };
  sys = await startSystem({ config, clock, logger: silentLogger(), scenario: 'jvm-heap-regression', auditSchema: schema, runId: `browser-${randomUUID()}` });
  profile = await mkdtemp(join(tmpdir(), 'governor-chromium-'));
  // A fresh profile; no network beyond the loopback the sandbox listens on.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1600, height: 1000 },
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await sys?.stop();
  if (PG_URL) {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  }
});

describe('the sandbox console in a browser', () => {
  it('shows the incident thread, approves the rollback by a click, answers /incident explain, and shows the App Home', async () => {
    const fake = sys.slackFake!;
    // The story up to the rollback's approval card: Watchtower observes, Elastik scales at level 3
    // and asks to roll back the heap change.
    await runUntil(() => fake.messages().some((m) => JSON.stringify(m.blocks).includes('proposal_approve')), 'the rollback asking for approval');

    await page.goto(fake.consoleUrl);
    await page.selectOption('#who', 'U0ONCALL01');
    const parent = page.locator('#feed .msg', { hasText: 'Incident on acme-prod/checkout' }).first();
    await expect.poll(() => parent.count(), { timeout: 10_000 }).toBe(1);
    await parent.locator('button.replies').click();
    const thread = page.locator('#thread');
    await expect.poll(() => thread.locator('img').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => thread.locator('button.btn.primary', { hasText: 'Approve' }).count(), { timeout: 10_000 }).toBe(1);
    await thread.locator('button.btn.primary', { hasText: 'Approve' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}sandbox-incident-thread.png` });

    // Alice approves the rollback: a signed block_actions request to the app.
    await thread.locator('button.btn.primary', { hasText: 'Approve' }).click();
    await expect.poll(async () => (await records('approval')).length, { timeout: 10_000 }).toBe(1);
    const [approval] = await records('approval');
    expect(approval!.kind === 'approval' && approval!.payload.approval.approver).toMatchObject({ id: 'U0ONCALL01', name: 'alice', source: 'slack' });

    // The rollback runs and is verified; Watchtower sees the SLO hold again.
    await runUntil(async () => (await sys.audit.list()).some((r) => r.kind === 'observation' && r.payload.observation.severity === 'info'), 'the resolution');
    await settle();
    await expect.poll(() => thread.textContent(), { timeout: 10_000 }).toMatch(/Verified: SLO restored/);
    await expect.poll(() => parent.textContent(), { timeout: 10_000 }).toMatch(/Resolved/);
    await page.screenshot({ path: `${SHOTS}sandbox-incident-resolved.png` });

    // The question, typed as a person types a slash command.
    await page.fill('#cmd', '/incident explain latest why did you roll back?');
    await page.press('#cmd', 'Enter');
    const answer = page.locator('#feed .msg.eph', { hasText: 'why did you roll back?' });
    await expect.poll(() => answer.count(), { timeout: 15_000 }).toBe(1);
    const text = (await answer.textContent()) ?? '';
    expect(text).toMatch(/revision 2/);
    expect(text).toMatch(/Source: rules over the records/);
    expect(text).toMatch(/Cites: #\d+/);
    await answer.scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}sandbox-incident-explain.png` });

    // The App Home: agents, approvals waiting, tenants, the phase and its checks.
    await page.click('#home-link');
    const home = page.locator('#home');
    await expect.poll(() => home.textContent(), { timeout: 10_000 }).toMatch(/Phase: govern/);
    expect(await home.textContent()).toMatch(/Exit checks of govern/);
    expect(await home.textContent()).toMatch(/MTTR/);
    await page.screenshot({ path: `${SHOTS}sandbox-app-home.png` });
  }, 240_000);
});
