// The Arbitrator: tenant fairness. On a warning or critical observation about a tenant's service it
// asks the Billing MCP server who shares that service's nodes, and when a co-tenant bursting far
// beyond its requests is slowing it down on a contended node, proposes to throttle that co-tenant
// (arbiter.ts decides; this module reads, records and publishes). At most one proposal per incident,
// idempotent on redelivery. It never executes anything itself and never proposes against the tenant
// it is protecting.
import { proposalOf, recordProposal } from '../runtime/propose.ts';
import type { Observation, Proposal } from '../../src/contracts/events.ts';
import type { BusMessage } from '../../src/bus/event-bus.ts';
import { readTool } from '../runtime/cluster-views.ts';
import type { ObservationAgentDeps } from '../runtime/agent-deps.ts';
import { findNoisyNeighbour, planThrottle } from './arbiter.ts';
import { NodeTenancy, TenantUsage } from './billing-views.ts';

export const ARBITRATOR = 'arbitrator' as const;

/** The session is the Arbitrator's own; see agents/runtime/agent-deps.ts. */
export type ArbitratorDeps = ObservationAgentDeps;

export class Arbitrator {
  constructor(private readonly deps: ArbitratorDeps) {}

  async onMessage(msg: BusMessage): Promise<void> {
    if (msg.event.type !== 'observation') return;
    await this.onObservation(msg.event);
  }

  /** Resolves to the proposal published (or already on record for the incident), or null when there is nothing to arbitrate. */
  async onObservation(obs: Observation): Promise<Proposal | null> {
    const log = this.deps.logger.child({ agent: ARBITRATOR, tenant: obs.tenant, incident_id: obs.incident_id ?? obs.id });
    if (obs.severity === 'info') return null;
    const victim = this.deps.tenants[obs.tenant];
    if (!victim) {
      log.warn('observation for an unknown tenant; nothing to arbitrate');
      return null;
    }
    const incident = obs.incident_id ?? obs.id;
    const mine = await this.existing(incident);
    if (mine) return mine;

    const tenancyArgs = { namespace: obs.namespace, deployment: obs.target.name };
    const tenancy = await readTool(this.deps.tools, 'get_node_tenancy', tenancyArgs, NodeTenancy);
    const finding = findNoisyNeighbour(obs, tenancy);
    if (!finding.found) {
      log.info({ notes: finding.notes }, `no noisy neighbour behind ${obs.namespace}/${obs.target.name}`);
      return null;
    }
    const n = finding.neighbour;
    const usageArgs = { tenant: n.tenant };
    const usage = await readTool(this.deps.tools, 'get_tenant_usage', usageArgs, TenantUsage);
    const plan = planThrottle({ observation: obs, neighbour: n, neighbourUsage: usage, victimSloP99Ms: victim.slo.p99_latency_ms, notes: finding.notes });

    const proposal = proposalOf(plan, {
      agent: ARBITRATOR, tenant: plan.tenant, namespace: plan.namespace, target: plan.target, nowMs: this.deps.clock.now(),
      incident_id: incident, observation_id: obs.id,
    });
    // Re-check right before writing: a redelivery racing this one may have proposed meanwhile.
    const raced = await this.existing(incident);
    if (raced) return raced;
    await recordProposal(this.deps.recorder, proposal, {
      victim_tenant: obs.tenant,
      tool_calls: [
        { server: 'billing', tool: 'get_node_tenancy', args: tenancyArgs, response: tenancy },
        { server: 'billing', tool: 'get_tenant_usage', args: usageArgs, response: usage },
      ],
    });
    log.info({ proposal_id: proposal.id, throttled_tenant: n.tenant }, `proposed throttle_tenant on ${n.namespace}/${n.deployment} (${plan.params['from_cpu_limit']} → ${plan.params['to_cpu_limit']})`);
    return proposal;
  }

  /** The Arbitrator's proposal already on record for this incident, if any: one per incident. */
  private async existing(incident: string): Promise<Proposal | null> {
    const records = await this.deps.audit.list({ incident_id: incident, kind: 'proposal' });
    for (const r of records) {
      const p = (r.payload as { proposal?: Proposal }).proposal;
      if (p?.agent === ARBITRATOR) return p;
    }
    return null;
  }
}
