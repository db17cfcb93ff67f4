// The approval queue on the App Home in the Arbitrator's order: work for a tenant whose priority is
// raised goes first (a throttle counts for the tenant it protects), marked as such; the rest oldest
// first; a lowered priority no longer reorders anything.
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/records.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import { AuditHome } from '../../src/slack/app-home.ts';
import { T0, proposal } from '../integration/harness.ts';

let seq = 0;
const rec = (kind: string, payload: Record<string, unknown>, over: Partial<AuditRecord> = {}) =>
  ({ seq: ++seq, id: `r${seq}`, kind, actor: 'x', at: new Date(T0 + seq * 1000).toISOString(), prev_hash: '', hash: '', payload, ...over }) as unknown as AuditRecord;

function awaiting(p: ReturnType<typeof proposal>): AuditRecord[] {
  const decision = { id: `d-${p.id}`, v: 1, ts: p.ts, type: 'decision', proposal_id: p.id, agent: p.agent, tenant: p.tenant, action: p.action, verdict: 'require_approval', violations: [], policy_version: 'v', agent_level: 2 };
  const requirement = { approvers: ['U1'], required: 1, excluded: [], expires_at: new Date(T0 + 3_600_000).toISOString(), rule: 'default' };
  return [
    rec('proposal', { proposal: p, reasoning_mode: 'rule-based', tool_calls: [] }, { proposal_id: p.id, tenant: p.tenant }),
    rec('decision', { decision, policy_input: null, policy_version: 'v' }, { proposal_id: p.id, tenant: p.tenant }),
    rec('approval_requested', { violations: [], policy_version: 'v', requirement }, { proposal_id: p.id, tenant: p.tenant }),
  ];
}

function home(records: AuditRecord[]) {
  const levels = new AutonomyLevels('assist');
  return new AuditHome({
    audit: { list: async () => records }, tenants: loadTenants(), clock: new VirtualClock(T0 + 3_600_000),
    autonomy: { phase: 'assist', statuses: () => levels.statuses() },
    coverage: async () => ({ watched: [], reporting: [] }),
  });
}

describe('the approval queue in priority order', () => {
  const older = proposal({ tenant: 'initech', namespace: 'initech-prod', target: { kind: 'Deployment', name: 'web' }, action: 'rollback_deployment' });
  const throttle = proposal({ agent: 'arbitrator', tenant: 'initech', namespace: 'initech-prod', action: 'throttle_tenant', target: { kind: 'Deployment', name: 'batch' }, params: { victim: { tenant: 'acme' } } });

  it('puts work for the tenant with raised priority first, marked, and the rest oldest first', async () => {
    const raised = rec('priority_raised', { burn_rate: 3.4 }, { tenant: 'acme' });
    const h = home([...awaiting(older), raised, ...awaiting(throttle)]);
    const facts = await h.facts();
    expect(facts.pending.map((l) => l.proposal.id)).toEqual([throttle.id, older.id]);
    expect(facts.priorities).toMatchObject([{ tenant: 'acme', burn_rate: 3.4 }]);
    const json = JSON.stringify(await h.view());
    expect(json).toMatch(/⏫ \*first: acme has priority \(burn 3\.4x\)\* `throttle_tenant batch`.*`rollback_deployment web`/);
    expect(json).toMatch(/\*acme\* \(enterprise\) — burn rate [^—]+— [^•]*⏫ priority raised/);
  });

  it('keeps the oldest first once the priority is lowered', async () => {
    const raised = rec('priority_raised', { burn_rate: 3.4 }, { tenant: 'acme' });
    const lowered = rec('priority_lowered', { raised_id: raised.id }, { tenant: 'acme' });
    const facts = await home([...awaiting(older), raised, ...awaiting(throttle), lowered]).facts();
    expect(facts.pending.map((l) => l.proposal.id)).toEqual([older.id, throttle.id]);
    expect(facts.priorities).toEqual([]);
  });
});
