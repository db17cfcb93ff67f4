// Proposal / decision fixtures shaped like the seed incident's rollback (level 2 → needs a human).
import { Decision, Proposal } from '../../src/contracts/events.ts';

export function proposalFixture(over: Partial<Proposal> = {}): Proposal {
  return Proposal.parse({
    id: 'prop-7d0c1',
    v: 1,
    ts: '2026-11-24T10:00:00.000Z',
    incident_id: 'inc-42',
    type: 'proposal',
    agent: 'elastik',
    tenant: 'acme',
    namespace: 'acme-prod',
    action: 'rollback_deployment',
    target: { kind: 'Deployment', name: 'checkout' },
    params: { from_revision: 14, to_revision: 13 },
    blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
    tool_call: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: 'acme-prod', name: 'checkout', to_revision: 13 } },
    compensating_action: { server: 'kubernetes', tool: 'rollback_deployment', args: { namespace: 'acme-prod', name: 'checkout', to_revision: 14 } },
    verification: { metric: 'p99_latency_ms', slo_threshold: 300, min_improvement_pct: 30, window_s: 300 },
    reasoning: [
      'p99 latency 1,240 ms vs 180 ms baseline',
      'GC pause +340% on 3 of 8 pods; memory 71% → 94% on the same pods',
      'deployment revision 14 changed JVM heap settings 47 minutes earlier',
    ],
    llm: 'unavailable',
    ...over,
  });
}

export function decisionFixture(p: Proposal, over: Partial<Decision> = {}): Decision {
  return Decision.parse({
    id: `dec-${p.id}`,
    v: 1,
    ts: '2026-11-24T10:00:01.000Z',
    type: 'decision',
    proposal_id: p.id,
    agent: p.agent,
    tenant: p.tenant,
    action: p.action,
    verdict: 'require_approval',
    violations: [{ layer: 'autonomy', rule: 'supervised_action', message: 'rollback_deployment is always supervised' }],
    policy_version: 'sha256:0123456789abcdef',
    agent_level: 2,
    ...over,
  });
}
