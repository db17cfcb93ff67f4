// The Arbitrator's priority and preemption on the noisy-neighbour twin, through the real gateway, the
// real policy bundle, the real audit store and the real Billing MCP server: initech's batch job bursts
// next to acme's checkout on node-a; acme's burn rate (read from the twin's SLIs, fast window pair)
// passes 1.5x and its priority is raised; a scale-up of the batch job that would take more of node-a
// is preempted (deferred, recorded, said in the thread) while the throttle that protects acme passes
// the pre-execution check and runs; once acme's burn falls below 1.2x its priority is lowered and the
// preempted scale-up resumes, re-evaluated and checked. The hash chain verifies throughout.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Arbitrator } from '../../agents/arbitrator/arbitrator.ts';
import { PriorityWatch } from '../../agents/arbitrator/priority-watch.ts';
import { MemorySharedState } from '../../src/bus/memory-shared-state.ts';
import { EVENT_VERSION, type Grant, type Observation } from '../../src/contracts/events.ts';
import { recordOfEvent, type AuditRecord } from '../../src/audit/records.ts';
import { KubeTenancyFacts } from '../../src/runtime/tenancy-facts.ts';
import { ArbitrationGate } from '../../src/governance/arbitration-gate.ts';
import { AutonomyLevels } from '../../src/governance/autonomy.ts';
import { Gateway } from '../../src/governance/gateway.ts';
import { generateGrantKeys } from '../../src/governance/grants.ts';
import { LiveBurnRates } from '../../src/governance/live-burn.ts';
import { describeRecord } from '../../src/governance/record-text.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { PrometheusSliSource } from '../../src/runtime/prometheus-sli.ts';
import { startQueryApiServer } from '../../src/twin/metrics/query-api.ts';
import { startSampler } from '../../src/twin/metrics/sampler.ts';
import { startBillingMcpHttp } from '../../mcp-servers/billing/http.ts';
import { approvalDesk, harness, proposal, publishedApprovals, recordProposal, RecordingApprovals } from '../integration/harness.ts';
import { noisyCluster, type NoisyCluster } from './noisy-neighbour.ts';

const keys = generateGrantKeys('k');
let h: Awaited<ReturnType<typeof harness>>;
let cluster: NoisyCluster;
let closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  h = await harness();
  cluster = await noisyCluster();
  closers = [];
});

afterEach(async () => {
  for (const c of closers.reverse()) await c();
  await cluster?.close();
  await h?.close();
});

class ThreadNotifier {
  said: { text: string; incident_id: string | undefined }[] = [];
  async notify(text: string, about?: { incident_id?: string | undefined }) {
    this.said.push({ text, incident_id: about?.incident_id });
  }
}

async function world() {
  const clock = cluster.clock;
  // acme's checkout under a 300 ms p99 objective: the slowdown the batch job causes (to ~350 ms) burns its budget.
  const tenants = { ...h.tenants, acme: { ...h.tenants['acme']!, slo: { p99_latency_ms: 300 } } };
  const billing = await startBillingMcpHttp({
    kube: cluster.kube, sharedState: new MemorySharedState(), clock, grantPublicKeys: new Map([['k', keys.publicKey]]), tenants: tenants,
    tokens: new Map([['arbitrator-token', { agent: 'arbitrator', namespaces: ['acme-prod', 'initech-prod'] }]]),
  });
  const tools: McpToolClient = await connectMcp({ url: billing.url, token: 'arbitrator-token', name: 'arbitrator' });
  const sampler = startSampler(cluster.twin);
  const prom = await startQueryApiServer(sampler.store, { now: () => clock.now() });
  closers.push(() => billing.close(), () => tools.close(), async () => sampler.stop(), () => prom.close());
  const notifier = new ThreadNotifier();
  const burns = new LiveBurnRates({ source: new PrometheusSliSource(prom.url), tenants: tenants, clock, logger: h.logger });
  const watch = new PriorityWatch({ burns, tenants: tenants, recorder: h.recorder, clock, logger: h.logger, notifier });
  const desk = approvalDesk({ ...h, clock });
  const gateway = new Gateway({
    audit: h.audit, recorder: h.recorder, policy: h.policy, autonomy: new AutonomyLevels('govern'), tenants: tenants, keys, clock, logger: h.logger,
    approvals: new RecordingApprovals(), desk, notifier, sharedState: new MemorySharedState(), conflictWaitMs: 300,
    arbitration: new ArbitrationGate({ audit: h.audit, tenants: tenants, facts: new KubeTenancyFacts(cluster.kube, tenants), clock, logger: h.logger }),
  });
  const arbitrator = new Arbitrator({ tools, recorder: h.recorder, audit: h.audit, clock, logger: h.logger, tenants });
  return { clock, tools, notifier, burns, watch, desk, gateway, arbitrator };
}

const kinds = async (proposalId: string) => (await h.audit.list({ proposal_id: proposalId })).map((r) => r.kind);

function observation(at: number, value: number, baseline: number): Observation {
  return {
    id: 'obs-nn-1', v: EVENT_VERSION, ts: new Date(at).toISOString(), incident_id: 'inc-nn-1', type: 'observation', agent: 'watchtower',
    tenant: 'acme', namespace: 'acme-prod', severity: 'critical', summary: `p99 latency of checkout ${Math.round(value)} ms, baseline ${Math.round(baseline)} ms`,
    target: { kind: 'Deployment', name: 'checkout' },
    signals: [{ metric: 'http_request_duration_p99_ms', target: 'checkout', value, baseline, change_pct: Math.round(((value - baseline) / baseline) * 100) }],
  };
}

describe('priority and preemption on the noisy-neighbour twin', () => {
  it("raises the victim's priority, preempts the burster's scale-up, checks the throttle before it runs, then lowers the priority and resumes the preempted work", async () => {
    const w = await world();
    const p99 = () => cluster.twin.serviceMetrics('acme-prod', 'checkout').p99_ms;
    await w.clock.advance(2 * 60_000);
    const healthy = p99();
    await w.burns.refresh();
    expect(await w.watch.tick()).toEqual([]);

    // The batch job bursts next to checkout; Watchtower opens the incident.
    cluster.startBatch();
    await w.clock.advance(6 * 60_000);
    const sick = p99();
    expect(sick).toBeGreaterThan(300);
    const obs = observation(w.clock.now(), sick, healthy);
    await h.recorder.record(recordOfEvent<'observation'>(obs, { tool_calls: [] }));

    await w.burns.refresh();
    const acmeBurn = w.burns.of('acme')!;
    expect(acmeBurn.long).toBeGreaterThan(1.5);
    expect(acmeBurn.short).toBeGreaterThan(1.5);
    expect(await w.watch.tick()).toMatchObject([{ kind: 'raise', tenant: 'acme' }]);
    expect(await w.watch.tick()).toEqual([]); // idempotent
    const [raised] = await h.audit.list({ kind: 'priority_raised' });
    expect(raised).toMatchObject({ actor: 'arbitrator', tenant: 'acme', incident_id: 'inc-nn-1', payload: { threshold: 1.5, lower_below: 1.2, windows: { long_s: 3600, short_s: 300 } } });

    // initech's own work competes for node-a: a scale-up of the batch job. Allowed by policy, preempted.
    const batchScale = proposal({
      ts: new Date(w.clock.now()).toISOString(), incident_id: 'inc-batch-1', tenant: 'initech', namespace: 'initech-prod', target: { kind: 'Deployment', name: 'batch' },
      params: { from_replicas: 1, to_replicas: 2 }, blast_radius: { tenants: 1, services: 1, capacity_change_pct: 20 },
      tool_call: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'initech-prod', deployment: 'batch', replicas: 2 } },
      compensating_action: { server: 'kubernetes', tool: 'scale_deployment', args: { namespace: 'initech-prod', deployment: 'batch', replicas: 1 } },
    });
    await recordProposal(h, batchScale);
    expect(await w.gateway.onProposal(batchScale)).toMatchObject({ verdict: 'allow' });
    await w.gateway.onProposal(batchScale); // redelivered: nothing more
    expect(await kinds(batchScale.id)).toEqual(['proposal', 'decision', 'preempted']);
    const [preempted] = await h.audit.list({ proposal_id: batchScale.id, kind: 'preempted' });
    expect(preempted).toMatchObject({ actor: 'arbitrator', tenant: 'initech', payload: { by: { tenant: 'acme', raised_id: raised!.id }, nodes: ['node-a'], basis: 'policy' } });
    expect(w.notifier.said.some((s) => s.incident_id === 'inc-batch-1' && /^Preempted: .*acme runs with raised priority/.test(s.text))).toBe(true);
    expect(w.notifier.said.some((s) => s.incident_id === 'inc-nn-1' && /^For acme's priority, initech's scale_deployment of batch is held back on node-a/.test(s.text))).toBe(true);
    // Still held while acme's priority lasts.
    await w.gateway.resumePreempted();
    expect(await kinds(batchScale.id)).toEqual(['proposal', 'decision', 'preempted']);

    // The Arbitrator's throttle for acme: approved, checked before its grant, executed.
    const throttle = (await w.arbitrator.onObservation(obs))!;
    expect(throttle).toMatchObject({ tenant: 'initech', action: 'throttle_tenant', params: { victim: { tenant: 'acme' } } });
    expect(await w.gateway.onProposal(throttle)).toMatchObject({ verdict: 'require_approval' });
    await w.desk.vote({ proposal_id: throttle.id, approved: true, by: { id: 'U1', name: 'u1' }, source: 'slack' });
    for (const a of await publishedApprovals(h, throttle.id)) await w.gateway.onApproval(a);
    const [check] = await h.audit.list({ proposal_id: throttle.id, kind: 'arbitration_check' });
    expect(check).toMatchObject({ actor: 'arbitrator', incident_id: 'inc-nn-1', payload: { passed: true, beneficiary: 'acme', basis: 'approval' } });
    const [grantRec] = await h.audit.list({ proposal_id: throttle.id, kind: 'grant' });
    expect(grantRec!.seq).toBeGreaterThan(check!.seq);
    expect(w.notifier.said.some((s) => s.incident_id === 'inc-nn-1' && /^Arbitrator check before throttle_tenant of batch \(initech\): passed — entitlement ok: .*500m.*; starvation ok/.test(s.text))).toBe(true);
    const grant = (grantRec!.payload as { grant: Grant }).grant;
    expect(await w.tools.callTool(grant.tool, { ...grant.args, grant })).toMatchObject({ ok: true });

    // acme recovers; its short window falls below 1.2x and the priority is lowered.
    await w.clock.advance(8 * 60_000);
    expect(p99()).toBeLessThan(sick * 0.8);
    await w.burns.refresh();
    expect(w.burns.of('acme')!.burn_rate).toBeLessThan(1.2);
    expect(await w.watch.tick()).toMatchObject([{ kind: 'lower', tenant: 'acme' }]);
    const [lowered] = await h.audit.list({ kind: 'priority_lowered' });
    expect(lowered).toMatchObject({ tenant: 'acme', payload: { raised_id: raised!.id } });

    // The preempted scale-up resumes: re-evaluated, checked, granted (once, whatever the sweeps).
    await w.gateway.resumePreempted();
    await w.gateway.resumePreempted();
    expect(await kinds(batchScale.id)).toEqual(['proposal', 'decision', 'preempted', 'decision', 'preemption_ended', 'arbitration_check', 'grant']);
    const [ended] = await h.audit.list({ proposal_id: batchScale.id, kind: 'preemption_ended' });
    expect(ended).toMatchObject({ payload: { outcome: 'resumed', preempted_id: preempted!.id } });

    const verify = await h.audit.verify();
    expect(verify.valid).toBe(true);
    // What an operator reads in the incident's timeline.
    const lines = (await h.audit.list()).map((r: AuditRecord) => describeRecord(r)).filter(Boolean);
    expect(lines.join('\n')).toMatch(/priority raised for acme: burn .*x over 1 h, .*x over 5 min \(≥ 1\.5x\)[\s\S]*preempted by acme's priority[\s\S]*arbitrator check passed[\s\S]*priority lowered for acme[\s\S]*preemption ended: resumed/);
  }, 60_000);
});
