// The gateway computes each proposal's blast radius from its target — on real PostgreSQL, the real
// policy bundle, and the cluster twin read through @kubernetes/client-node — and the policy decides
// on that figure: an agent that understates it is corrected, the decision record says by how much.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { KubeBlastRadiusFacts } from '../../src/cluster/cluster-facts.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import type { BlastRadiusFacts } from '../../src/governance/blast-radius.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys } from '../../src/governance/grants.ts';
import { startKubeApiServer, type KubeApiServer } from '../../src/twin/kube-api-server.ts';
import { loadKubeconfig } from '../../src/twin/kubeconfig.ts';
import { buildScenario, type Scenario } from '../../src/twin/scenarios/index.ts';
import { RecordingApprovals, RecordingNotifier, approvalDesk, harness, proposal, recordProposal } from './harness.ts';

let h: Awaited<ReturnType<typeof harness>>;
let scenario: Scenario;
let api: KubeApiServer;
let facts: BlastRadiusFacts;

beforeEach(async () => {
  h = await harness();
  scenario = buildScenario('jvm-heap-regression', new VirtualClock(Date.parse('2026-11-24T10:00:00Z')));
  scenario.twin.start();
  api = await startKubeApiServer(scenario.twin, {});
  facts = new KubeBlastRadiusFacts(loadKubeconfig(api.kubeconfig()));
});
afterEach(async () => {
  scenario.twin.stop();
  await api.close();
  await h.close();
});

/** The gateway reading `blastRadius` (the twin by default); null: one that takes the agent's figure. */
const gateway = (blastRadius: BlastRadiusFacts | null = facts) =>
  new Gateway({
    audit: h.audit, recorder: h.recorder, policy: h.policy, autonomy: new AutonomyLevels('govern'), tenants: h.tenants, keys: generateGrantKeys('k'), clock: h.clock,
    logger: h.logger, approvals: new RecordingApprovals(), desk: approvalDesk(h), notifier: new RecordingNotifier(), sharedState: new MemorySharedState(), conflictWaitMs: 300,
    ...(blastRadius ? { blastRadius } : {}),
  });

const scaleTo = (replicas: number, declaredPct: number) =>
  proposal({
    params: { from_replicas: 8, to_replicas: replicas },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: declaredPct },
    tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'checkout', replicas } },
  });

async function decisionRecord(id: string) {
  const [r] = await h.audit.list({ proposal_id: id, kind: 'decision' });
  return r as unknown as { payload: { policy_input: { proposal: { blast_radius: unknown } }; blast_radius?: { declared: unknown; computed: unknown; used: unknown; basis: string; understated: string[] } } };
}

describe('the gateway computes the blast radius from the target', () => {
  it('an honest figure stands: 8 → 12 of 40 pods is 10%, within level 3: allowed', async () => {
    const p = scaleTo(12, 10);
    await recordProposal(h, p);
    expect((await gateway().onProposal(p)).verdict).toBe('allow');
    const r = await decisionRecord(p.id);
    expect(r.payload.blast_radius).toMatchObject({ computed: { capacity_change_pct: 10 }, used: { capacity_change_pct: 10 }, understated: [] });
    expect(r.payload.blast_radius!.basis).toMatch(/acme-prod\/checkout: 8 → 12 replicas at 500m each, against 20000m requested by the namespace's 5 deployment\(s\)/);
  });

  it('a lying figure is corrected: 8 → 24 declared as 10% is 40%, beyond level 3: a human must approve', async () => {
    const p = scaleTo(24, 10);
    await recordProposal(h, p);
    const d = await gateway().onProposal(p);
    expect(d.verdict).toBe('require_approval');
    expect(d.violations.map((v) => v.layer)).toContain('blast_radius');
    const r = await decisionRecord(p.id);
    expect(r.payload.policy_input.proposal.blast_radius).toEqual({ tenants: 1, services: 1, capacity_change_pct: 40 });
    expect(r.payload.blast_radius).toMatchObject({ declared: { capacity_change_pct: 10 }, used: { capacity_change_pct: 40 }, understated: ['capacity change 10% declared, 40% computed'] });
    // Without the cluster read the lie would have been allowed: the figure is what made the difference.
    const trusted = scaleTo(24, 10);
    await recordProposal(h, trusted);
    expect((await gateway(null).onProposal(trusted)).verdict).toBe('allow');
  });

  it('a node action touching more tenants than declared is denied beyond level 2 (at most 3 tenants)', async () => {
    const crowded: BlastRadiusFacts = {
      workloads: () => Promise.resolve([]),
      podsOnNode: () => Promise.resolve(['acme', 'globex', 'initech', 'umbrella'].map((tenant) => ({ tenant, namespace: `${tenant}-prod`, workload: 'web' }))),
    };
    const p = proposal({
      action: 'cordon_node', target: { kind: 'Node', name: 'n1' }, params: { node: 'n1', drain: true },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
      tool_call: { server: 'kubernetes', tool: 'cordon_node', args: { node: 'n1', drain: true } },
      compensating_action: { server: 'kubernetes', tool: 'uncordon_node', args: { node: 'n1' } },
    });
    await recordProposal(h, p);
    const d = await gateway(crowded).onProposal(p);
    expect(d.verdict).toBe('deny');
    expect(d.violations.find((v) => v.layer === 'blast_radius')?.message).toMatch(/4/);
  });

  it('a target the cluster does not know is the worst case (denied); a read that may succeed later is retried, nothing decided', async () => {
    const ghost = proposal({ blast_radius: { tenants: 1, services: 1, capacity_change_pct: 5 }, tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'acme-prod', deployment: 'ghost', replicas: 3 } } });
    await recordProposal(h, ghost);
    expect((await gateway().onProposal(ghost)).verdict).toBe('deny');

    const down: BlastRadiusFacts = {
      workloads: () => Promise.reject(new GovernorError('upstream_unavailable', 'cluster down', { retryable: true })),
      podsOnNode: () => Promise.reject(new Error('unused')),
    };
    const p = scaleTo(12, 10);
    await recordProposal(h, p);
    await expect(gateway(down).onProposal(p)).rejects.toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect((await h.audit.list({ proposal_id: p.id })).map((r) => r.kind)).toEqual(['proposal']);

    const broken: BlastRadiusFacts = { workloads: () => Promise.reject(new GovernorError('not_found', 'namespace gone')), podsOnNode: () => Promise.resolve([]) };
    const q = scaleTo(12, 10);
    await recordProposal(h, q);
    const d = await gateway(broken).onProposal(q);
    expect(d).toMatchObject({ verdict: 'deny', violations: [{ layer: 'blast_radius', rule: 'blast_radius_unverified' }] });
  });
});

describe('a node group: shared capacity, every tenant on its nodes', () => {
  it("noisy-neighbor's shared pool runs two tenants: adding a node is beyond level 3, read from the cluster whatever the agent declared", async () => {
    const shared = buildScenario('noisy-neighbor', new VirtualClock(Date.parse('2026-11-24T10:00:00Z')));
    shared.twin.start();
    const sharedApi = await startKubeApiServer(shared.twin, {});
    try {
      const kubeFacts = new KubeBlastRadiusFacts(loadKubeconfig(sharedApi.kubeconfig()));
      const g = await kubeFacts.nodeGroup('shared');
      expect(g.nodes.sort()).toEqual(['shared-01', 'shared-02']);
      expect(new Set(g.pods.map((p) => p.tenant)).size).toBe(2);
      const p = proposal({
        action: 'scale_node_group',
        target: { kind: 'NodeGroup', name: 'shared' },
        params: { node_group: 'shared', from_nodes: 2, to_nodes: 3, monthly_cost_delta_usd: 280.32 },
        blast_radius: { tenants: 1, services: 1, capacity_change_pct: 5 },
        tool_call: { server: 'cloud', tool: 'scale_node_group', args: { node_group: 'shared', from_nodes: 2, to_nodes: 3 } },
      });
      await recordProposal(h, p);
      const d = await gateway(kubeFacts).onProposal(p);
      expect(d.verdict).toBe('require_approval');
      const r = await decisionRecord(p.id);
      expect(r.payload.blast_radius).toMatchObject({ computed: { tenants: 2 }, understated: expect.arrayContaining(['tenants 1 declared, 2 touched']) });
      expect(r.payload.blast_radius!.basis).toMatch(/^node group shared: 2 → 3 nodes of \d+ in the cluster/);
      // A gateway that cannot read node groups does not guess: the figure is unverified, a deny.
      const blind: BlastRadiusFacts = { workloads: (ns) => kubeFacts.workloads(ns), podsOnNode: (n) => kubeFacts.podsOnNode(n) };
      const q = { ...p, id: `${p.id}-blind` };
      await recordProposal(h, q);
      expect((await gateway(blind).onProposal(q)).verdict).toBe('deny');
    } finally {
      shared.twin.stop();
      await sharedApi.close();
    }
  });
});
