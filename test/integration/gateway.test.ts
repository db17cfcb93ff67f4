// The gateway on real PostgreSQL and the real policy bundle: verdicts become grants, approvals,
// or nothing — exactly once, however often a message is delivered — and it fails closed.
import { recordOfEvent } from '../../src/audit/records.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyObject } from 'node:crypto';
import { EVENT_VERSION, type Grant } from '../../src/contracts/events.ts';
import type { ApprovalDesk } from '../../src/governance/approvals.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys, verifyGrant } from '../../src/governance/grants.ts';
import { GovernorError } from '../../src/core/errors.ts';
import type { PolicyEngine } from '../../src/policy/policy-engine.ts';
import {
  RecordingApprovals,
  RecordingNotifier,
  T0,
  approvalDesk,
  field,
  harness,
  proposal,
  publishedApprovals,
  recordExecution,
  recordProposal,
  rollbackProposal,
} from './harness.ts';

let h: Awaited<ReturnType<typeof harness>>;
let approvals: RecordingApprovals;
let notifier: RecordingNotifier;
let autonomy: AutonomyLevels;
let shared: MemorySharedState;
let desk: ApprovalDesk;
const keys = generateGrantKeys('test');
const pub = new Map<string, KeyObject>([['test', keys.publicKey]]);

function gateway(policy: PolicyEngine = h.policy, liveBurn?: number) {
  return new Gateway({
    audit: h.audit, recorder: h.recorder, policy, autonomy, tenants: h.tenants, keys, clock: h.clock, logger: h.logger, approvals, desk, notifier, sharedState: shared, conflictWaitMs: 300,
    ...(liveBurn !== undefined ? { liveBurn: { apply: (_t: string, spec: (typeof h.tenants)[string]) => ({ ...spec, burn_rate: liveBurn }) } } : {}),
  });
}

const kinds = async (proposalId: string) => (await h.audit.list({ proposal_id: proposalId })).map((r) => r.kind);

/** A human votes through the desk; the gateway hears of it as the bus would deliver it (twice: at least once). */
async function vote(g: Gateway, proposalId: string, user = 'U1', approved = true) {
  const result = await desk.vote({ proposal_id: proposalId, approved, by: { id: user, name: user.toLowerCase() }, source: 'slack' });
  for (const a of await publishedApprovals(h, proposalId)) {
    await g.onApproval(a);
    await g.onApproval(a);
  }
  return result;
}

beforeEach(async () => {
  h = await harness();
  approvals = new RecordingApprovals();
  notifier = new RecordingNotifier();
  autonomy = new AutonomyLevels('govern');
  shared = new MemorySharedState();
  desk = approvalDesk(h);
});
afterEach(async () => {
  await h.close();
});

const record = (p: ReturnType<typeof proposal>) => recordProposal(h, p);

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

  it('in phase Advise, a scale the level alone holds back is advice with the exact command; one a guardrail refuses is announced as refused', async () => {
    autonomy = new AutonomyLevels('advise');
    const g = gateway();
    const p = proposal();
    await record(p);
    expect((await g.onProposal(p)).verdict).toBe('deny');
    expect(await kinds(p.id)).toEqual(['proposal', 'decision']);
    expect(notifier.texts).toEqual([
      expect.stringMatching(/^Recommendation from elastik for checkout \(acme\), advisory — Governor executes nothing: p99 above SLO To carry it out yourself: `kubectl -n acme-prod scale deployment\/checkout --replicas=12`$/),
    ]);
    const big = proposal({ params: { from_replicas: 4, to_replicas: 16 }, tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 16 } } });
    await record(big);
    await g.onProposal(big);
    expect(notifier.texts[1]).toMatch(/^Denied scale_deployment of checkout \(acme\) proposed by elastik: .*level 1/);
    expect(notifier.texts[1]).not.toMatch(/kubectl/);
    expect(approvals.requests).toHaveLength(0);
  });

  it('in phase Observe, a proposal that slips through is refused and recorded, and nobody is told to act', async () => {
    autonomy = new AutonomyLevels('observe');
    const p = rollbackProposal();
    await record(p);
    const d = await gateway().onProposal(p);
    expect(d).toMatchObject({ verdict: 'deny', violations: [expect.objectContaining({ layer: 'autonomy', rule: 'phase_observe' })] });
    expect(await kinds(p.id)).toEqual(['proposal', 'decision']);
    expect(notifier.texts).toEqual([]);
    expect(approvals.requests).toHaveLength(0);
  });

  it('decides on the live burn rate, not the configured one: a scale-down of a fast-burning tenant is denied, of a tenant on track it is not', async () => {
    const down = () => proposal({
      params: { from_replicas: 12, to_replicas: 10 }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: -5 },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 10 } },
    });
    const rules = async (p: ReturnType<typeof proposal>) => {
      const [dec] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
      return { input: (dec!.payload as { policy_input: { context: { tenant: { burn_rate: number } } } }).policy_input.context.tenant.burn_rate, rules: (field(dec!, 'decision') as { violations: { rule: string }[] }).violations.map((v) => v.rule) };
    };
    const burning = down();
    await record(burning);
    await gateway(h.policy, 9.5).onProposal(burning);
    expect(await rules(burning)).toMatchObject({ input: 9.5, rules: expect.arrayContaining(['fast_burn_capacity_reduction']) });
    const onTrack = down();
    await record(onTrack);
    await gateway(h.policy, 0.4).onProposal(onTrack);
    const r = await rules(onTrack);
    expect(r.input).toBe(0.4);
    expect(r.rules).not.toContain('fast_burn_capacity_reduction');
  });

  it('allows a level-3 scale within the guardrails and issues one grant for the exact call, even when redelivered', async () => {
    const p = proposal();
    await record(p);
    const g = gateway();
    await g.onProposal(p);
    await g.onProposal(p);
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'grant']);
    const [grantRec] = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    const grant = grantRec!.kind === 'grant' ? grantRec!.payload.grant : undefined;
    expect(grant!.basis).toBe('policy');
    expect(verifyGrant(pub, grant!, { tool: 'scale_deployment', args: p.tool_call.args, nowMs: T0 + 1000 }).proposal_id).toBe(p.id);
    const [dec] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(dec!.payload).toMatchObject({ policy_version: h.policy.version, policy_input: { context: { agent_level: 3, environment: 'production' } } });
    // The decision and the grant were queued for the bus in the same transactions as their records.
    await h.relay.nudge();
    expect((await h.bus.read('governor:grants')).map((m) => m.event.id)).toEqual([grant!.id]);
  });

  it('asks a human for a supervised rollback once, and turns one approval into one grant', async () => {
    const p = rollbackProposal();
    await record(p);
    const g = gateway();
    await g.onProposal(p);
    await g.onProposal(p);
    expect(approvals.requests).toHaveLength(1);
    expect(approvals.requests[0]!.d.verdict).toBe('require_approval');
    expect(approvals.requests[0]!.requirement).toMatchObject({ approvers: ['U1', 'U2', 'U3'], required: 1, excluded: [] });
    // The request expires with the level's rollback budget (level 3 here: five minutes).
    expect(Date.parse(approvals.requests[0]!.requirement.expires_at) - T0).toBe(5 * 60_000);
    expect(await vote(g, p.id)).toMatchObject({ status: 'recorded', outcome: 'approved' });
    // The approval is honoured only after a re-evaluation against the state at approval time.
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'approval', 'decision', 'grant']);
    const decisions = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(decisions[1]!.payload).toMatchObject({ reevaluation: true, decision: { verdict: 'require_approval' } });
    const [grantRec] = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    expect(grantRec!.payload).toMatchObject({ grant: { basis: 'approval', tool: 'rollback_deployment' }, approvers: [{ id: 'U1' }] });
  });

  it('grants an approved proposal on a later delivery when the cluster was unreachable between the re-evaluation and the grant', async () => {
    const p = rollbackProposal();
    await record(p);
    // The Arbitrator's check reads the cluster before the grant: the first time, the cluster does not answer.
    let unreachable = 1;
    const arbitration = {
      judge: async () => {
        if (unreachable-- > 0) throw new GovernorError('upstream_unavailable', 'replicasets: fetch failed', { retryable: true });
        return { proceed: true, entries: [], notices: [] };
      },
    } as unknown as ConstructorParameters<typeof Gateway>[0]['arbitration'];
    const g = new Gateway({ audit: h.audit, recorder: h.recorder, policy: h.policy, autonomy, tenants: h.tenants, keys, clock: h.clock, logger: h.logger, approvals, desk, notifier, sharedState: shared, conflictWaitMs: 300, arbitration });
    await g.onProposal(p);
    await desk.vote({ proposal_id: p.id, approved: true, by: { id: 'U1', name: 'u1' }, source: 'slack' });
    const [a] = await publishedApprovals(h, p.id);
    await expect(g.onApproval(a!)).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'approval', 'decision']);
    // Delivered again: the re-evaluation it caused stands (not decided twice), and the grant follows it, once.
    await g.onApproval(a!);
    await g.onApproval(a!);
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'approval', 'decision', 'grant']);
  });

  it('takes two different people for a two-person rule, and never the same person twice', async () => {
    desk = approvalDesk(h, { rules: [{ name: 'rollbacks take two', actions: ['rollback_deployment'], required: 2 }] });
    const p = rollbackProposal();
    await record(p);
    const g = gateway();
    await g.onProposal(p);
    expect(approvals.requests[0]!.requirement).toMatchObject({ required: 2, rule: 'rollbacks take two' });
    expect(await vote(g, p.id, 'U1')).toMatchObject({ status: 'recorded', outcome: undefined, approvals: 1, required: 2 });
    expect(await vote(g, p.id, 'U1')).toMatchObject({ status: 'refused', code: 'already_voted' });
    expect(await kinds(p.id)).not.toContain('grant');
    expect(await vote(g, p.id, 'U2')).toMatchObject({ status: 'recorded', outcome: 'approved', approvals: 2 });
    const [grantRec] = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    expect(grantRec!.payload).toMatchObject({ approvers: [{ id: 'U1' }, { id: 'U2' }] });
    // A vote after the decision changes nothing, and is recorded as refused.
    expect(await vote(g, p.id, 'U3')).toMatchObject({ status: 'refused', code: 'already_decided' });
    expect((await kinds(p.id)).filter((k) => k === 'refusal')).toHaveLength(2);
  });

  it('grants nothing on a rejection, or on an approval that arrives after a pause', async () => {
    const p1 = rollbackProposal();
    await record(p1);
    const g = gateway();
    await g.onProposal(p1);
    expect(await vote(g, p1.id, 'U1', false)).toMatchObject({ status: 'recorded', outcome: 'rejected' });
    // A Reject is final: a later Approve is refused, and nothing is granted.
    expect(await vote(g, p1.id, 'U2', true)).toMatchObject({ status: 'refused', code: 'already_decided' });
    expect(await kinds(p1.id)).not.toContain('grant');

    const p2 = rollbackProposal();
    await record(p2);
    await g.onProposal(p2);
    autonomy.pause();
    await vote(g, p2.id);
    expect(await kinds(p2.id)).not.toContain('grant');
    expect(notifier.texts.join('\n')).toMatch(/not honoured/);
  });

  it('refuses a vote from someone who is not an approver, on an unknown proposal, and after expiry — each recorded', async () => {
    const g = gateway();
    const p = rollbackProposal();
    await record(p);
    await g.onProposal(p);
    expect(await vote(g, p.id, 'U9')).toMatchObject({ status: 'refused', code: 'not_approver' });
    expect(await vote(g, 'no-such-proposal', 'U1')).toMatchObject({ status: 'refused', code: 'unknown_proposal' });
    expect(await h.audit.list({ proposal_id: 'no-such-proposal' })).toEqual([expect.objectContaining({ kind: 'refusal', payload: expect.objectContaining({ code: 'unknown_proposal' }) })]);
    await h.clock.advance(5 * 60_000);
    expect(await vote(g, p.id, 'U1')).toMatchObject({ status: 'refused', code: 'expired' });
    expect(await vote(g, p.id, 'U2')).toMatchObject({ status: 'refused', code: 'expired' });
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'refusal', 'approval_expired', 'refusal', 'refusal']);
    // The expiry sweep finds nothing left to expire: the request was closed by the first late vote.
    expect(await desk.expireDue()).toEqual([]);
  });

  it('with no approvers configured, nobody can approve', async () => {
    desk = approvalDesk(h, { approvers: [] });
    const g = gateway();
    const p = rollbackProposal();
    await record(p);
    await g.onProposal(p);
    expect(approvals.requests[0]!.requirement.approvers).toEqual([]);
    expect(await vote(g, p.id, 'U1')).toMatchObject({ status: 'refused', code: 'no_approvers_configured' });
    expect(await kinds(p.id)).not.toContain('grant');
  });

  it('expires an unanswered request once, in the sweep', async () => {
    const g = gateway();
    const p = rollbackProposal();
    await record(p);
    await g.onProposal(p);
    expect(await desk.expireDue()).toEqual([]);
    await h.clock.advance(5 * 60_000);
    expect((await desk.expireDue()).map((l) => l.proposal.id)).toEqual([p.id]);
    expect(await desk.expireDue()).toEqual([]);
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'approval_expired']);
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
    expect(field(dec!, 'decision')).toMatchObject({ verdict: 'deny', violations: expect.arrayContaining([expect.objectContaining({ layer: 'safety', rule: 'max_scale_up_factor' })]) });
    expect(approvals.requests).toHaveLength(0);
  });

  it('reads the cooldown from the audit log: a second scale within 300 s is denied', async () => {
    const g = gateway();
    await recordExecution(h, {
      at: new Date(T0 - 100_000).toISOString(), proposal_id: 'earlier', grant_id: 'g0', tool: 'scale_deployment',
      args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 8 },
    });
    const p = proposal();
    await record(p);
    await g.onProposal(p);
    const [dec] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(field(dec!, 'decision')).toMatchObject({ verdict: 'deny', violations: expect.arrayContaining([expect.objectContaining({ rule: 'scale_cooldown' })]) });
    expect(field(dec!, 'policy_input')).toMatchObject({ context: { seconds_since_last_scale: 100 } });
  });

  it('fails closed: a policy engine that cannot answer is a recorded deny, and an unknown tenant too', async () => {
    const broken: PolicyEngine = { version: 'broken', evaluate: async () => { throw new GovernorError('policy_unavailable', 'wasm trap'); } };
    const p = proposal();
    await record(p);
    await gateway(broken).onProposal(p);
    const [dec] = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(field(dec!, 'decision')).toMatchObject({ verdict: 'deny', violations: [expect.objectContaining({ rule: 'policy_unavailable' })] });
    expect(await kinds(p.id)).not.toContain('grant');

    const stranger = proposal({ tenant: 'globex' });
    await record(stranger);
    await gateway().onProposal(stranger);
    const [dec2] = await h.audit.list({ proposal_id: stranger.id, kind: 'decision' });
    expect(field(dec2!, 'decision')).toMatchObject({ verdict: 'deny', violations: [expect.objectContaining({ rule: 'unknown_tenant' })] });
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
    // A rollback straight onto the bus, with no record of the verifier's behind it, is refused.
    await expect(g.onRollback(rb({ namespace: 'acme-prod', deployment: 'checkout', replicas: 8 }))).rejects.toThrow(/not the one the audit log holds \(none\)/);
    expect(await h.audit.list({ proposal_id: p.id, kind: 'grant' })).toHaveLength(0);
    const recorded = rb({ namespace: 'acme-prod', deployment: 'checkout', replicas: 8 });
    await h.recorder.record(recordOfEvent<'rollback'>(recorded, {}));
    // The recorded rollback's id with another action, or another id with the recorded action: refused.
    await expect(g.onRollback({ ...recorded, compensating_action: { ...recorded.compensating_action, args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 2 } } })).rejects.toThrow(/different action/);
    await expect(g.onRollback({ ...recorded, id: 'rb-forged' })).rejects.toThrow(/not the one the audit log holds/);
    await g.onRollback(recorded);
    await g.onRollback(recorded);
    const grants = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    expect(grants).toHaveLength(1);
    expect(field(grants[0]!, 'grant')).toMatchObject({ basis: 'compensation', args: { replicas: 8 } });
  });

  it('serialises conflicting proposals on one target: the second waits for the first to execute, then is decided against what it left', async () => {
    const g = gateway();
    const first = proposal();
    const second = proposal();
    await record(first);
    await record(second);
    await g.onProposal(first);
    const [grantRec] = await h.audit.list({ proposal_id: first.id, kind: 'grant' });
    const grant = (grantRec!.payload as { grant: Grant }).grant;
    const pending = g.onProposal(second);
    await new Promise((r) => setTimeout(r, 150));
    expect(await kinds(second.id)).toEqual(['proposal']);
    // The executor reports the first action: the target now has 12 replicas and a fresh cooldown.
    await recordExecution(h, { at: new Date(T0).toISOString(), proposal_id: first.id, grant_id: grant.id, tool: 'scale_deployment', args: first.tool_call.args });
    await pending;
    const [dec] = await h.audit.list({ proposal_id: second.id, kind: 'decision' });
    expect(field(dec!, 'decision')).toMatchObject({
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
    await recordExecution(h, {
      at: new Date(T0 + 1000).toISOString(), proposal_id: 'other', grant_id: 'gx', tool: 'scale_deployment',
      args: { namespace: 'acme-prod', deployment: 'checkout', replicas: 10 },
    });
    await vote(g, p.id);
    expect(await kinds(p.id)).toEqual(['proposal', 'decision', 'approval_requested', 'approval', 'decision']);
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
    expect(field(first!, 'decision')).toMatchObject({ verdict: 'deny', violations: expect.arrayContaining([expect.objectContaining({ rule: 'change_freeze' })]) });
    expect(await kinds(p.id)).not.toContain('grant');
    // The denial tells the channel how the freeze can be lifted for this one proposal.
    expect(notifier.texts.at(-1)).toContain(`/agents-override-freeze ${p.id} <reason>`);

    // Only those the tenants file allows may break a freeze; the refusal is recorded.
    expect(await desk.overrideFreeze({ proposal_id: p.id, reason: 'checkout outage, CHG-1', by: { id: 'U9' }, source: 'slack' })).toMatchObject({ status: 'refused', code: 'not_permitted' });
    expect(await desk.overrideFreeze({ proposal_id: p.id, reason: 'checkout outage, CHG-1', by: { id: 'U1', name: 'alice' }, source: 'slack' })).toMatchObject({ status: 'recorded' });
    for (const a of await publishedApprovals(h, p.id)) {
      await g.onApproval(a);
      await g.onApproval(a);
    }
    // Re-evaluated with the override (the decision says so), then put in front of another approver.
    const decisions = await h.audit.list({ proposal_id: p.id, kind: 'decision' });
    expect(decisions[1]!.payload).toMatchObject({ freeze_override: { by: 'U1', reason: 'checkout outage, CHG-1' }, decision: { verdict: 'require_approval' } });
    expect((decisions[1]!.payload as { decision: { violations: { rule: string }[] } }).decision.violations.map((v) => v.rule)).toContain('change_freeze_override');
    expect(approvals.requests.at(-1)!.requirement.excluded).toEqual(['U1']);
    expect(await h.audit.list({ proposal_id: p.id, kind: 'grant' })).toEqual([]);
    // The requester cannot approve their own override; a second override is refused too.
    expect(await vote(g, p.id, 'U1')).toMatchObject({ status: 'refused', code: 'self_approval' });
    expect(await desk.overrideFreeze({ proposal_id: p.id, reason: 'again, to be sure', by: { id: 'U2' }, source: 'slack' })).toMatchObject({ status: 'refused', code: 'already_decided' });
    expect(await vote(g, p.id, 'U2')).toMatchObject({ status: 'recorded', outcome: 'approved' });
    const grants = await h.audit.list({ proposal_id: p.id, kind: 'grant' });
    expect(grants).toHaveLength(1);
    expect(grants[0]!.payload).toMatchObject({ grant: { basis: 'approval' }, approvers: [{ id: 'U2' }] });
    expect(await kinds(p.id)).toEqual([
      'proposal', 'decision', 'refusal', 'approval', 'decision', 'approval_requested', 'refusal', 'refusal', 'approval', 'decision', 'grant',
    ]);

    // The override does not reach the safety layer: a 4x scale-up stays denied.
    const unsafe = scale(2, 8, 'worker');
    await record(unsafe);
    await g.onProposal(unsafe);
    expect(await desk.overrideFreeze({ proposal_id: unsafe.id, reason: 'please, it is urgent', by: { id: 'U1' }, source: 'slack' })).toMatchObject({
      status: 'refused', code: 'not_permitted', message: expect.stringMatching(/safety limit/),
    });
    expect(await h.audit.list({ proposal_id: unsafe.id, kind: 'grant' })).toEqual([]);
  });
});
