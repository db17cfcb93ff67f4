// Elastik working an incident to its end, on real PostgreSQL with a scripted cluster: the first step
// at once within level 3, nothing new while a step is unsettled, the next step only after its
// verification and the cooldown, a wait (not an escalation) for a cooldown denial, and one
// escalation — with what was tried, what blocks it and the options — when no agent can go further.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IncidentWork } from '../../agents/elastik/incident-work.ts';
import type { ToolOutcome } from '../../agents/runtime/tool-client.ts';
import { recordOfEvent } from '../../src/audit/records.ts';
import { EVENT_VERSION, type Decision, type Observation, type Proposal, type Violation } from '../../src/contracts/events.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import type { Tenants } from '../../src/governance/tenants.ts';
import { ScriptedTools } from '../fixtures/scripted-tools.ts';
import { grantInput } from '../fixtures/records.ts';
import { RecordingNotifier, harness, recordExecution } from './harness.ts';

let h: Awaited<ReturnType<typeof harness>>;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const INCIDENT = 'inc-launch';
const ok = <T>(data: T): ToolOutcome<T> => ({ ok: true, data, raw: {} });

/** A 3-pod signup at its CPU limit, shedding what it cannot serve (600 requests/s a pod). */
function cluster(state: { replicas: number; offered: number; p99: number }, hpa?: { name: string; min_replicas: number; max_replicas: number; current_replicas: number }) {
  const served = () => Math.min(state.offered, state.replicas * 600);
  return new ScriptedTools({
    ...(hpa ? { get_hpa_status: () => ok({ namespace: 'acme-prod', deployment: 'signup', hpa }) } : {}),
    get_pod_metrics: () =>
      ok({
        pods: Array.from({ length: state.replicas }, (_, i) => ({ pod: `signup-${i}`, ready: true, memory_bytes: 1, cpu_millicores: (1000 * served()) / state.replicas / 600, cpu_limit_millicores: 1000 })),
        service: { p50_ms: 300, p99_ms: state.p99, rps: state.offered, error_ratio: 1 - served() / state.offered },
        deployment: { replicas: state.replicas },
      }),
    get_namespace_capacity: () =>
      ok({
        namespace: 'acme-prod',
        total_pods: state.replicas + 4,
        deployments: [
          { name: 'signup', replicas: state.replicas, cpu_request_millicores: 500, memory_request_bytes: 1 },
          { name: 'profile', replicas: 4, cpu_request_millicores: 500, memory_request_bytes: 1 },
        ],
      }),
  });
}

function work(tools: ScriptedTools, tenants: Tenants = h.tenants) {
  const notifier = new RecordingNotifier();
  const w = new IncidentWork({ tools, recorder: h.recorder, audit: h.audit, clock: h.clock, logger: h.logger, tenants, tracker: new WorkTracker(), notifier });
  const obs: Observation = {
    id: randomUUID(), v: EVENT_VERSION, ts: new Date(h.clock.now()).toISOString(), incident_id: INCIDENT, type: 'observation', agent: 'watchtower',
    tenant: 'acme', namespace: 'acme-prod', severity: 'critical', summary: 'signup: p99 1500 ms', target: { kind: 'Deployment', name: 'signup' },
    signals: [{ metric: 'http_request_duration_p99_ms', target: 'signup', value: 1500, baseline: 200, change_pct: 650 }],
  };
  w.onObservation(obs);
  return { w, notifier, obs };
}

const proposals = async (): Promise<Proposal[]> =>
  (await h.audit.list({ incident_id: INCIDENT, kind: 'proposal' })).flatMap((r) => (r.kind === 'proposal' ? [r.payload.proposal] : []));

/** The gateway's decision on a proposal, as it records it. */
async function decide(p: Proposal, verdict: Decision['verdict'], violations: Violation[] = []) {
  const d: Decision = {
    id: randomUUID(), v: EVENT_VERSION, ts: new Date(h.clock.now()).toISOString(), incident_id: INCIDENT, type: 'decision', proposal_id: p.id,
    agent: p.agent, tenant: p.tenant, action: p.action, verdict, violations, policy_version: 'test', agent_level: 3,
  };
  await h.recorder.record(recordOfEvent<'decision'>(d, { policy_input: null, policy_version: 'test' }));
}

/** The step granted, executed and judged: what the gateway, the executor and the verifier record. */
async function executedAndJudged(p: Proposal, outcome: 'partially_helped' | 'restored' | 'improved') {
  const at = new Date(h.clock.now()).toISOString();
  const grant = randomUUID();
  await h.recorder.record({ ...grantInput({ id: grant, target: 'acme-prod/Deployment/signup', at, tenant: 'acme', proposal_id: p.id }), incident_id: INCIDENT });
  await recordExecution(h, { at, proposal_id: p.id, grant_id: grant, tool: 'scale_deployment', args: p.tool_call.args, incident_id: INCIDENT });
  const v = {
    id: randomUUID(), v: EVENT_VERSION, ts: at, incident_id: INCIDENT, type: 'verification' as const, proposal_id: p.id, agent: 'elastik' as const,
    tenant: 'acme', outcome, metric: 'p99', before: 1500, after: 1200, slo_threshold: 400,
  };
  await h.recorder.record(recordOfEvent<'verification'>(v, {}));
}

describe('Elastik works an incident to its end', () => {
  it('takes the first step at once within level 3, then nothing while it is unsettled', async () => {
    const state = { replicas: 3, offered: 2700, p99: 1500 };
    const { w } = work(cluster(state));
    await w.stepNow(INCIDENT);
    const [first] = await proposals();
    // 3 → 5: +2 of 7 pods, 28.6% of the tenant's capacity: within the level-3 blast radius.
    expect(first).toMatchObject({ action: 'scale_deployment', params: { from_replicas: 3, to_replicas: 5 }, verification: { capacity: true } });
    expect(first!.reasoning.join(' ')).toMatch(/2700 requests\/s offered, 1800 served \(33% shed\)/);
    await w.stepNow(INCIDENT);
    expect(await proposals()).toHaveLength(1);
  });

  it('with an HPA owning the deployment: the step moves the HPA\'s minReplicas (never scale_deployment), undone by restoring its bounds; its cooldown counts', async () => {
    const state = { replicas: 3, offered: 2700, p99: 1500 };
    const hpa = { name: 'signup', min_replicas: 3, max_replicas: 4, current_replicas: 3 };
    const tools = cluster(state, hpa);
    const { w } = work(tools);
    await w.stepNow(INCIDENT);
    const [first] = await proposals();
    expect(first).toMatchObject({
      action: 'scale_deployment',
      params: { from_replicas: 3, to_replicas: 5, hpa: 'signup', from_bounds: [3, 4], to_bounds: [5, 5] },
      tool_call: { tool: 'set_hpa_bounds', args: { namespace: 'acme-prod', hpa: 'signup', deployment: 'signup', min_replicas: 5, max_replicas: 5 } },
      compensating_action: { tool: 'set_hpa_bounds', args: { namespace: 'acme-prod', hpa: 'signup', deployment: 'signup', min_replicas: 3, max_replicas: 4 } },
    });
    expect(first!.reasoning.join(' ')).toMatch(/HorizontalPodAutoscaler signup owns signup's replica count \(3-4\)/);
    expect(tools.calls.map((c) => c.tool)).not.toContain('scale_deployment');
    // Executed through the HPA: the next step waits out the cooldown from that execution, as from a scale.
    await decide(first!, 'allow');
    const at = new Date(h.clock.now()).toISOString();
    const grant = randomUUID();
    await h.recorder.record({ ...grantInput({ id: grant, target: 'acme-prod/Deployment/signup', at, tenant: 'acme', proposal_id: first!.id }), incident_id: INCIDENT });
    await recordExecution(h, { at, proposal_id: first!.id, grant_id: grant, tool: 'set_hpa_bounds', args: first!.tool_call.args, incident_id: INCIDENT });
    await h.recorder.record(recordOfEvent<'verification'>({
      id: randomUUID(), v: EVENT_VERSION, ts: at, incident_id: INCIDENT, type: 'verification', proposal_id: first!.id, agent: 'elastik', tenant: 'acme',
      outcome: 'partially_helped', metric: 'p99', before: 1500, after: 1200, slo_threshold: 400,
    }, {}));
    state.replicas = 5;
    hpa.min_replicas = 5;
    hpa.max_replicas = 5;
    await h.clock.advance(120_000);
    await w.stepNow(INCIDENT);
    expect(await proposals()).toHaveLength(1);
  });

  it('after a step that partially helped, the next step only once the cooldown has passed: the bigger one, for a human', async () => {
    const state = { replicas: 3, offered: 2700, p99: 1500 };
    const { w } = work(cluster(state));
    await w.stepNow(INCIDENT);
    const [first] = await proposals();
    await decide(first!, 'allow');
    await executedAndJudged(first!, 'partially_helped');
    state.replicas = 5;
    await h.clock.advance(120_000);
    await w.stepNow(INCIDENT);
    expect(await proposals()).toHaveLength(1); // the cooldown: five minutes after the last scale
    await h.clock.advance(181_000);
    await w.stepNow(INCIDENT);
    const [, second] = await proposals();
    // What the demand needs (2700 at ~360 a pod within the SLO: 8) is beyond level 3 (+2 of 9 is 22%, +3 is 33%):
    // the bigger step, within level 2, for a human.
    expect(second).toMatchObject({ params: { from_replicas: 5, to_replicas: 8 } });
    expect(second!.reasoning.join(' ')).toMatch(/after the step 3 → 5 \(partially_helped\)/);
    expect(second!.reasoning.join(' ')).toMatch(/a human approves the bigger step/);
  });

  it('a supervised step nobody approved in time is replaced by the step level 3 allows', async () => {
    const state = { replicas: 3, offered: 2700, p99: 1500 };
    const { w } = work(cluster(state));
    await w.stepNow(INCIDENT);
    const [first] = await proposals();
    await decide(first!, 'allow');
    await executedAndJudged(first!, 'partially_helped');
    state.replicas = 5;
    await h.clock.advance(301_000);
    await w.stepNow(INCIDENT);
    const [, second] = await proposals();
    await decide(second!, 'require_approval');
    const at = new Date(h.clock.now()).toISOString();
    const base = { actor: 'gateway', at, incident_id: INCIDENT, proposal_id: second!.id, tenant: 'acme' };
    await h.recorder.record({ ...base, kind: 'approval_requested', payload: { violations: [], policy_version: 'test', requirement: { approvers: ['U1'], required: 1, excluded: [], expires_at: at, rule: 'default approvers' } } });
    await h.recorder.record({ ...base, kind: 'approval_expired', payload: { expires_at: at, approvals: 0, required: 1 } });
    await w.stepNow(INCIDENT);
    const [, , third] = await proposals();
    expect(third).toMatchObject({ params: { from_replicas: 5, to_replicas: 7 } });
    expect(third!.reasoning.join(' ')).toMatch(/the next step after the 300 s cooldown/);
  });

  it('waits out a cooldown denial instead of escalating it', async () => {
    const state = { replicas: 3, offered: 2700, p99: 1500 };
    const { w, notifier } = work(cluster(state));
    await w.stepNow(INCIDENT);
    const [first] = await proposals();
    await decide(first!, 'deny', [{ layer: 'safety', rule: 'scale_cooldown', message: 'scaled 120 s ago' }]);
    await w.stepNow(INCIDENT);
    expect(await h.audit.list({ incident_id: INCIDENT, kind: 'escalation' })).toEqual([]);
    expect(notifier.texts).toEqual([]);
    expect(await proposals()).toHaveLength(2);
  });

  it('escalates once, with what was tried, what blocks it and the options, when the entitlement is reached', async () => {
    const state = { replicas: 6, offered: 9000, p99: 2500 };
    const tenants = { ...h.tenants, acme: { ...h.tenants['acme']!, max_replicas: 6 } };
    const { w, notifier } = work(cluster(state), tenants);
    await w.stepNow(INCIDENT);
    await w.stepNow(INCIDENT);
    expect(await proposals()).toEqual([]);
    const escalations = await h.audit.list({ incident_id: INCIDENT, kind: 'escalation' });
    expect(escalations).toHaveLength(1);
    expect(escalations[0]!.payload).toMatchObject({
      target: { namespace: 'acme-prod', deployment: 'signup' },
      blocked: [{ reason: 'entitlement', detail: expect.stringMatching(/runs 6 replicas, its entitlement \(max_replicas 6\); the demand needs 25/) }],
      options: [expect.stringMatching(/raise the tenant's entitlement \(max_replicas 6\) to at least 25/), expect.any(String)],
    });
    expect(notifier.texts).toEqual([expect.stringMatching(/^:rotating_light: Incident inc-launch \(acme, acme-prod\/signup\) needs a human/)]);
  });

  it('escalates a denial it cannot size around (a budget), and does not retry it', async () => {
    const state = { replicas: 3, offered: 2700, p99: 1500 };
    const { w } = work(cluster(state));
    await w.stepNow(INCIDENT);
    const [first] = await proposals();
    await decide(first!, 'deny', [{ layer: 'cost', rule: 'budget_hard_ceiling', message: 'month-to-date spend would exceed the budget' }]);
    await w.stepNow(INCIDENT);
    await w.stepNow(INCIDENT);
    expect(await proposals()).toHaveLength(1);
    const [e] = await h.audit.list({ incident_id: INCIDENT, kind: 'escalation' });
    expect(e!.payload).toMatchObject({ blocked: [{ reason: 'cost', detail: 'month-to-date spend would exceed the budget' }], tried: [expect.stringMatching(/scale_deployment .*: denied/)] });
  });

  it('stops once Watchtower says the SLO holds again', async () => {
    const state = { replicas: 3, offered: 2700, p99: 1500 };
    const { w, obs } = work(cluster(state));
    w.onObservation({ ...obs, id: randomUUID(), severity: 'info', summary: 'back under the SLO' });
    expect(w.working).toEqual([]);
    await w.stepNow(INCIDENT);
    expect(await proposals()).toEqual([]);
  });
});

