// The App Home through the wire: opening the Home tab delivers app_home_opened (signed, over HTTP),
// the app answers with views.publish, and the fake keeps the view the person sees.
import { afterEach, describe, expect, it } from 'vitest';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { AuditHome } from '../../src/slack/app-home.ts';
import { ALICE, approvalWorld, waitFor } from './slack-harness.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('App Home', () => {
  it('publishes agents, waiting approvals, tenants and the phase checks when the Home tab opens', async () => {
    const w = await approvalWorld();
    cleanups.push(() => w.close());
    const levels = new AutonomyLevels('assist');
    const home = new AuditHome({
      audit: w.h.audit, tenants: w.h.tenants, clock: w.h.clock,
      autonomy: { phase: 'assist', statuses: () => levels.statuses() },
      coverage: async () => ({ watched: ['acme-prod/checkout'], reporting: ['acme-prod/checkout'] }),
      // acme's SLIs are readable and burning; the other tenants' are not, so their configured figure shows.
      liveBurn: { of: (t) => (t === 'acme' ? { burn_rate: 7.25 } : undefined) },
    });
    const app = await w.instance({ home });
    w.fake.setInteractionsUrl(app.url);
    const { p } = await w.requestOne();
    expect((await w.fake.openAppHome(ALICE)).status).toBe(200);
    const view = await waitFor(() => w.fake.homeView(ALICE), 'the published home view');
    const json = JSON.stringify(view);
    expect(json).toContain('Phase: assist');
    expect(json).toContain('Exit checks of assist');
    expect(json).toContain('*Elastik* — level 2 supervised (max 3)');
    expect(json).toContain('Waiting for approval* (1)');
    expect(json).toContain(`${p.action} ${p.target.name}`);
    expect(json).toMatch(/\*acme\* \(enterprise\) — burn rate 🔥 7\.3x \(live\)/);
    expect(json).toMatch(/burn rate [^ ]+ \d+\.\dx \(configured\)/);
    expect(w.fake.apiCalls().filter((c) => c.method === 'views.publish').map((c) => c.args['user_id'])).toEqual([ALICE]);
  });
});
