// The gateway on real PostgreSQL and the real policy bundle: verdicts become grants, approvals,
// or nothing — exactly once, however often a message is delivered — and it fails closed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyObject } from 'node:crypto';
import { EVENT_VERSION, type Approval, type Grant } from '../../src/contracts/events.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys, verifyGrant } from '../../src/governance/grants.ts';
import { GovernorError } from '../../src/core/errors.ts';
import type { PolicyEngine } from '../../src/policy/policy-engine.ts';
import { RecordingApprovals, RecordingNotifier, T0, harness, proposal, rollbackProposal } from './harness.ts';

let h: Awaited<ReturnType<typeof harness>>;
let approvals: RecordingApprovals;
let notifier: RecordingNotifier;
let autonomy: AutonomyLevels;
let shared: MemorySharedState;
const keys = generateGrantKeys('test');
const pub = new Map<string, KeyObject>([['test', keys.publicKey]]);

function gateway(policy: PolicyEngine = h.policy) {
  return new Gateway({ audit: h.audit, recorder: h.recorder, policy, autonomy, tenants: h.tenants, keys, clock: h.clock, logger: h.logger, approvals, notifier, sharedState: shared, conflictWaitMs: 300 });
}

const kinds = async (proposalId: string) => (await h.audit.list({ proposal_id: proposalId })).map((r) => r.kind);
const approval = (proposalId: string, approved = true): Approval => ({
  id: `a-${proposalId}-${approved}`, v: EVENT_VERSION, ts: new Date(T0).toISOString(), type: 'approval',
  proposal_id: proposalId, approved, approver: { id: 'U1', name: 'alice', source: 'slack' },
});

beforeEach(async () => {
  h = await harness();
  approvals = new RecordingApprovals();
  notifier = new RecordingNotifier();
  autonomy = new AutonomyLevels('govern');
  shared = new MemorySharedState();
});
afterEach(async () => {
  await h.close();
});

async function record(p: ReturnType<typeof proposal>) {
  await h.recorder.record({ kind: 'proposal', actor: p.agent, at: p.ts, proposal_id: p.id, incident_id: p.incident_id, tenant: p.tenant, payload: { proposal: p } });
}

describe('gateway', () => {
  it('puts a level-1 recommendation in front of humans as advice: denied by the autonomy layer, never granted, not announced as a refusal', async () => {
    const p = proposal({
      agent: 'strategist', action: 'recommendation', params: { from_replicas: 12, to_replicas: 4, monthly_saving_usd: 2400 },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: -20 },
      reasoning: ['checkout runs at 18% of its CPU requests (p95 over 60 min)', '4 replicas would run at 65% and save $2,400 a month'],
    });
    await record(p);
    const d = await gateway().onProposal(p);
    expect(d.verdict).toBe('deny');
    expect(d.violations.map((v) => v.layer)).toContain('autonomy');
    expect(await kinds(p.id)).toEqual(['proposal', 'decision']);
    expect(notifier.texts).toEqual([expect.stringMatching(/^Recommendation from strategist for .*advisory — Governor executes nothing: checkout runs at 18%/)]);
  });

  it('allows a level-3 scale within the guardrails and issues one grant for the exact call, even when redelivered', async () => {
    const p = proposal();
    await record(p);
    const g = gateway();
    await g.onProposal(p);
    await g.onProposal(p);
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'grant']);
    const [grantRec] = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    const grant = grantRec!.payload['grant'] as Grant;
    expect(grant.basis).toBe('policy');
    expect(verifyGrant(pub, grant, { tool: 'scale_deployment', args: p.tool_call.args, nowMs: T0 + 1000 }).proposal_id).toBe(p.id);
    const [dec] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(dec!.payload['policy_version']).toBe(h.policy.version);
    expect(dec!.payload['policy_input']).toMatchObject({ context: { agent_level: 3, environment: 'production' } });
    // The decision and the grant were queued for the bus in the same transactions as their records.
    await h.relay.nudge();
    expect((await h.bus.read('governor:grants')).map((m) => m.event.id)).toEqual([grant.id]);
  });

  it('asks a human for a supervised rollback once, and turns one approval into one grant', async () => {
    const p = rollbackProposal();
    await record(p);
    const g = gateway();
    await g.onProposal(p);
    await g.onProposal(p);
    expect(approvals.requests).toHaveLength(1);
    expect(approvals.requests[0]!.d.verdict).toBe('require_approval');
    await g.onApproval(approval(p.id));
    await g.onApproval(approval(p.id));
    // The approval is honoured only after a re-evaluation against the state at approval time.
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'decision', 'grant']);
    const decisions = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(decisions[1]!.payload).toMatchObject({ reevaluation: true, decision: { verdict: 'require_approval' } });
    const [grantRec] = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    expect(grantRec!.payload).toMatchObject({ grant: { basis: 'approval', tool: 'rollback_deployment' }, approver: { id: 'U1' } });
  });

  it('grants nothing on a rejection, or on an approval that arrives after a pause', async () => {
    const p1 = rollbackProposal();
    await record(p1);
    const g = gateway();
    await g.onProposal(p1);
    await g.onApproval(approval(p1.id, false));
    expect(await kinds(p1.id)).not.toContain('grant');

    const p2 = rollbackProposal();
    await record(p2);
    await g.onProposal(p2);
    autonomy.pause();
    await g.onApproval(approval(p2.id));
    expect(await kinds(p2.id)).not.toContain('grant');
    expect(notifier.texts.join('\n')).toMatch(/not honoured/);
  });

  it('denies a 4x scale-up and a blast radius beyond level 2, with no grant and no approval request', async () => {
    const g = gateway();
    const big = proposal({ params: { from_replicas: 4, to_replicas: 16 }, tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 16 } } });
    const wide = proposal({ blast_radius: { tenants: 1, services: 1, capacity_change_pct: 60 } });
    for (const p of [big, wide]) {
      await record(p);
      await g.onProposal(p);
      expect(await kinds(p.id)).toEqual(['proposal', 'decision']);
    }
    const [dec] = await h.audit.list({ proposal_id: big.id, kind: 'decision' });
    expect(dec!.payload['decision']).toMatchObject({ verdict: 'deny', violations: expect.arrayContaining([expect.objectContaining({ layer: 'safety', rule: 'max_scale_up_factor' })]) });
    expect(approvals.requests).toHaveLength(0);
  });

  it('reads the cooldown from the audit log: a second scale within 300 s is denied', async () => {
    const g = gateway();
    await h.recorder.record({
      kind: 'execution_result', actor: 'elastik', at: new Date(T0 - 100_000).toISOString(), proposal_id: 'earlier', tenant: 'acme',
      payload: { result: { tool: 'scale_deployment', status: 'succeeded', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 8 } }, grant_id: 'g0' },
    });
    const p = proposal();
    await record(p);
    await g.onProposal(p);
    const [dec] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(dec!.payload['decision']).toMatchObject({ verdict: 'deny', violations: expect.arrayContaining([expect.objectContaining({ rule: 'scale_cooldown' })]) });
    expect(dec!.payload['policy_input']).toMatchObject({ context: { seconds_since_last_scale: 100 } });
  });

  it('fails closed: a policy engine that cannot answer is a recorded deny, and an unknown tenant too', async () => {
    const broken: PolicyEngine = { version: 'broken', evaluate: async () => { throw new GovernorError('policy_unavailable', 'wasm trap'); } };
    const p = proposal();
    await record(p);
    await gateway(broken).onProposal(p);
    const [dec] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(dec!.payload['decision']).toMatchObject({ verdict: 'deny', violations: [expect.objectContaining({ rule: 'policy_unavailable' })] });
    expect(await kinds(p.id)).not.toContain('grant');

    const stranger = proposal({ tenant: 'globex' });
    await record(stranger);
    await gateway().onProposal(stranger);
    const [dec2] = await h.audit.list({ proposal_id: stranger.id, kind: 'decision' });
    expect(dec2!.payload['decision']).toMatchObject({ verdict: 'deny', violations: [expect.objectContaining({ rule: 'unknown_tenant' })] });
  });

  it('grants only the compensating action recorded before execution, once', async () => {
    const p = proposal();
    await record(p);
    const g = gateway();
    const rb = (args: Record<string, unknown>) => ({
      id: `rb-${JSON.stringify(args)}`, v: EVENT_VERSION, ts: new Date(T0).toISOString(), type: 'rollback' as const,
      proposal_id: p.id, agent: 'elastik' as const, tenant: 'acme', reason: 'not helped',
      compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args },
    });
    await expect(g.onRollback(rb({ namespace: 'acme-prod', deployment: 'checkout', replicas: 2 }))).rejects.toThrow(/different action/);
    await g.onRollback(rb({ namespace: 'acme-prod', deployment: 'checkout', replicas: 8 }));
    await g.onRollback(rb({ namespace: 'acme-prod', deployment: 'checkout', replicas: 8 }));
    const grants = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    expect(grants).toHaveLength(1);
    expect(grants[0]!.payload['grant']).toMatchObject({ basis: 'compensation', args: { replicas: 8 } });
  });

  it('serialises conflicting proposals on one target: the second waits for the first to execute, then is decided against what it left', async () => {
    const g = gateway();
    const first = proposal();
    const second = proposal();
    await record(first);
    await record(second);
    await g.onProposal(first);
    const [grantRec] = await h.audit.list({ proposal_id: first.id, kind: 'grant' });
    const grant = grantRec!.payload['grant'] as Grant;
    const pending = g.onProposal(second);
    await new Promise((r) => setTimeout(r, 150));
    expect(await kinds(second.id)).toEqual(['proposal']);
    // The executor reports the first action: the target now has 12 replicas and a fresh cooldown.
    await h.recorder.record({
      kind: 'execution_result', actor: 'elastik', at: new Date(T0).toISOString(), proposal_id: first.id, tenant: 'acme',
      payload: { result: { tool: 'scale_deployment', status: 'succeeded', args: first.tool_call.args }, grant_id: grant.id },
    });
    await pending;
    const [dec] = await h.audit.list({ proposal_id: second.id, kind: 'decision' });
    expect(dec!.payload['decision']).toMatchObject({
      verdict: 'deny',
      violations: [expect.objectContaining({ layer: 'operational', rule: 'stale_proposal' })],
    });
    expect(await kinds(second.id)).not.toContain('grant');
  });

  it('retries later, without deciding, when the target stays busy', async () => {
    const g = gateway();
    const first = proposal();
    const second = proposal();
    await record(first);
    await record(second);
    await g.onProposal(first);
    await expect(g.onProposal(second)).rejects.toMatchObject({ code: 'conflict', retryable: true });
    expect(await kinds(second.id)).toEqual(['proposal']);
  });

  it('re-evaluates an approval against the state at approval time: a stale proposal is not granted', async () => {
    autonomy.setLevel('elastik', 2);
    const g = gateway();
    const p = proposal();
    await record(p);
    await g.onProposal(p);
    expect(approvals.requests).toHaveLength(1);
    // While the human looked away, another action rescaled the target.
    await h.recorder.record({
      kind: 'execution_result', actor: 'elastik', at: new Date(T0 + 1000).toISOString(), proposal_id: 'other', tenant: 'acme',
      payload: { result: { tool: 'scale_deployment', status: 'succeeded', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 10 } }, grant_id: 'gx' },
    });
    await g.onApproval(approval(p.id));
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'decision']);
    expect(notifier.texts.join('\n')).toMatch(/re-evaluation denies it/);
  });

  it('a change freeze denies; only an audited human override with a reason breaks it, and safety still applies', async () => {
    await h.clock.advance(4 * 24 * 3600_000); // Saturday 28 Nov 2026, inside initech's weekend freeze
    const g = gateway();
    const at = new Date(h.clock.now()).toISOString();
    const args = (replicas: number, deployment: string) => ({ namespace: 'initech-prod', deployment, replicas });
    const scale = (from: number, to: number, name: string) =>
      proposal({
        ts: at, tenant: 'initech', namespace: 'initech-prod', target: { kind: 'Deployment', name },
        params: { from_replicas: from, to_replicas: to }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 5 },
        tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: args(to, name) },
        compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: args(from, name) },
      });
    const p = scale(4, 5, 'api');
    await record(p);
    await g.onProposal(p);
    const [first] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(first!.payload['decision']).toMatchObject({ verdict: 'deny', violations: expect.arrayContaining([expect.objectContaining({ rule: 'change_freeze' })]) });
    expect(await kinds(p.id)).not.toContain('grant');
    // The denial tells the channel how the freeze can be lifted for this one proposal.
    expect(notifier.texts.at(-1)).toContain(`/agents-override-freeze ${p.id} <reason>`);

    await expect(g.overrideFreeze(p.id, { id: 'U1', name: 'alice' }, '  ')).rejects.toThrow(/needs a reason/);
    const d = await g.overrideFreeze(p.id, { id: 'U1', name: 'alice' }, 'checkout outage, CHG-1');
    expect(d.verdict).toBe('require_approval');
    expect(d.violations.map((v) => v.rule)).toContain('change_freeze_override');
    const grants = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    expect(grants).toHaveLength(1);
    expect(grants[0]!.payload).toMatchObject({ grant: { basis: 'approval' }, approver: { id: 'U1' } });
    const overrides = await h.audit.list({ proposal_id: p.id, kind: 'approval' });
    expect(overrides[0]!.payload).toMatchObject({ freeze_override: { by: 'U1', reason: 'checkout outage, CHG-1' } });

    // An override arriving as an event on the bus (Slack, CLI) takes the same path, once.
    const viaBus = scale(4, 5, 'web');
    await record(viaBus);
    await g.onProposal(viaBus);
    const overrideEvent = { ...approval(viaBus.id), id: 'ov-1', override: 'change_freeze' as const, reason: 'incident INC-7' };
    // As the Slack bridge does for approvals, the override is on record before the gateway sees it.
    await h.recorder.record({ kind: 'approval', actor: 'U1', at, proposal_id: viaBus.id, tenant: 'initech', payload: { approval: overrideEvent } });
    await g.onApproval(overrideEvent);
    await g.onApproval(overrideEvent);
    expect(await kinds(viaBus.id)).toEqual(['proposal', 'decision', 'approval', 'decision', 'grant']);

    // The override does not reach the safety layer: a 4x scale-up stays denied.
    const unsafe = scale(2, 8, 'worker');
    await record(unsafe);
    await g.onProposal(unsafe);
    const again = await g.overrideFreeze(unsafe.id, { id: 'U1' }, 'please');
    expect(again.verdict).toBe('deny');
    expect(again.violations.map((v) => v.rule)).toContain('max_scale_up_factor');
    expect(await h.audit.list({ proposal_id: unsafe.id, kind: 'grant' })).toEqual([]);
  });
});
