// The executor on real PostgreSQL: acts once per grant whatever the deliveries, records the
// compensating action before acting, and reports what the MCP server said.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import type { ToolClient, ToolOutcome } from '../../agents/runtime/tool-client.ts';
import { ScriptedTools } from '../fixtures/scripted-tools.ts';
import { recordOfEvent } from '../../src/audit/records.ts';
import { generateGrantKeys, issueGrant } from '../../src/governance/grants.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { RecordingNotifier, T0, field, harness, proposal } from './harness.ts';

const metrics = { pods: [], service: { p50_ms: 80, p99_ms: 1200, rps: 900, error_ratio: 0 }, deployment: { replicas: 8, revision: 2 } };
const keys = generateGrantKeys('test');

let h: Awaited<ReturnType<typeof harness>>;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

function executor(tools: ToolClient, consumer: string) {
  const tracker = new WorkTracker();
  const verifier = new Verifier({ tools, recorder: h.recorder, audit: h.audit, clock: h.clock, tracker, logger: h.logger });
  return new Executor({ agent: 'elastik', consumer, tools, audit: h.audit, recorder: h.recorder, verifier, notifier: new RecordingNotifier(), clock: h.clock, logger: h.logger });
}

/**
 * The server's side of a grant, as mcp-servers/shared/grant-ledger.ts keeps it: the first call with a
 * grant carries it out; a later call with the same grant is answered with that outcome and does
 * nothing (`carriedOut` counts what reached the cluster). `inFlight` holds a grant whose first call
 * has not finished: a second call then finds it used, with no outcome yet.
 */
function serverLedger(outcome: ToolOutcome<unknown>) {
  const kept = new Map<string, ToolOutcome<unknown>>();
  const ledger = { carriedOut: 0, inFlight: new Set<string>() };
  const call = (args: Record<string, unknown>): ToolOutcome<unknown> => {
    const id = (args['grant'] as { id: string }).id;
    if (ledger.inFlight.has(id)) return { ok: false, code: 'grant_used', message: `grant ${id} was already used`, raw: {} };
    if (!kept.has(id)) {
      ledger.carriedOut++;
      kept.set(id, outcome);
    }
    return kept.get(id)!;
  };
  return { ledger, call };
}

async function setup(outcome: ToolOutcome<unknown>) {
  const p = proposal();
  await h.recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
  const grant = issueGrant(keys, {
    proposal_id: p.id, agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
    tool: 'scale_deployment', args: p.tool_call.args, basis: 'policy', nowMs: T0, ttlMs: 120_000,
  });
  const server = serverLedger(outcome);
  const tools = new ScriptedTools({ get_pod_metrics: () => ({ ok: true, data: metrics, raw: {} }), scale_deployment: server.call });
  return { p, grant, tools, ledger: server.ledger };
}

describe('executor', () => {
  it('executes a grant exactly once when two consumers get it at the same time', async () => {
    const { p, grant, tools, ledger } = await setup({ ok: true, data: { from_replicas: 8, to_replicas: 12 }, raw: {} });
    await Promise.all([executor(tools, 'a').onGrant(grant), executor(tools, 'b').onGrant(grant), executor(tools, 'a').onGrant(grant)]);
    // The first consumer carries it out; the others find it claimed and recorded, or ask the server,
    // which answers from its ledger: the cluster sees one call, the log one result.
    expect(ledger.carriedOut).toBe(1);
    for (const m of tools.calls.filter((c) => c.tool === 'scale_deployment')) expect(m.args).toMatchObject({ ...p.tool_call.args, grant: { id: grant.id } });
    const kinds = (await h.audit.list({ proposal_id: p.id })).map((r) => r.kind);
    // The compensating action is on record before the action's result.
    expect(kinds).toEqual(['proposal', 'compensating_action', 'execution_result']);
    const [res] = await h.audit.list({ proposal_id: p.id, kind: 'execution_result' });
    expect(field(res!, 'result')).toMatchObject({ status: 'succeeded', before: { p99_ms: 1200, replicas: 8 } });
  });

  it('records the outcome of a grant whose consumer died after the call: the server answers from its ledger, nothing runs again', async () => {
    const { p, grant, tools, ledger } = await setup({ ok: true, data: { from_replicas: 8, to_replicas: 12 }, raw: {} });
    // Consumer 'dead' claimed the grant and its call reached the server; then it was killed, before recording.
    expect(await h.audit.claimExecution({ grant_id: grant.id, proposal_id: p.id, consumer: 'dead', at: new Date(T0).toISOString() })).toBe(true);
    await tools.callTool('scale_deployment', { ...p.tool_call.args, grant });
    expect(ledger.carriedOut).toBe(1);
    await executor(tools, 'b').onGrant(grant);
    expect(ledger.carriedOut).toBe(1);
    const results = await h.audit.list({ proposal_id: p.id, kind: 'execution_result' });
    expect(results).toHaveLength(1);
    expect(field(results[0]!, 'result')).toMatchObject({ status: 'succeeded', grant_id: grant.id });
    expect((results[0]!.payload as { recovered?: string }).recovered).toMatch(/died before recording, or its call got no answer/);
    // Its verification starts, as for any executed action.
    expect(h.clock.nextTimerAt()).toBeDefined();
    // Delivered once more: recorded already, nothing asked.
    const asked = tools.calls.length;
    await executor(tools, 'c').onGrant(grant);
    expect(tools.calls.length).toBe(asked);
    expect(await h.audit.list({ proposal_id: p.id, kind: 'execution_result' })).toHaveLength(1);
  });

  it('asks again later while the first call of a claimed grant is still under way, and records nothing meanwhile', async () => {
    const { p, grant, tools, ledger } = await setup({ ok: true, data: {}, raw: {} });
    expect(await h.audit.claimExecution({ grant_id: grant.id, proposal_id: p.id, consumer: 'slow', at: new Date(T0).toISOString() })).toBe(true);
    ledger.inFlight.add(grant.id);
    await expect(executor(tools, 'b').onGrant(grant)).rejects.toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect(await h.audit.list({ proposal_id: p.id, kind: 'execution_result' })).toHaveLength(0);
    expect(ledger.carriedOut).toBe(0);
  });

  it('records nothing for a call that got no answer (server unreachable, timeout): the grant is asked about again, and carried out once', async () => {
    const { p, grant, tools, ledger } = await setup({ ok: true, data: { from_replicas: 8, to_replicas: 12 }, raw: {} });
    // The first call is lost on the way: the MCP client's own failure, with no answer from the server.
    let lose = true;
    const reach = tools.script['scale_deployment']!;
    tools.script['scale_deployment'] = (args) => {
      if (!lose) return reach(args);
      lose = false;
      return { ok: false, code: 'timeout', message: 'Request timed out', raw: { request: { method: 'tools/call', params: { name: 'scale_deployment', arguments: args } }, response: { error: { code: 'timeout', message: 'Request timed out' } } }, unanswered: true };
    };
    await expect(executor(tools, 'a').onGrant(grant)).rejects.toMatchObject({ code: 'upstream_unavailable', retryable: true });
    expect(await h.audit.list({ proposal_id: p.id, kind: 'execution_result' })).toHaveLength(0);
    // Delivered again: the grant is claimed, so the server is asked again with it, and its answer recorded once.
    await executor(tools, 'a').onGrant(grant);
    expect(ledger.carriedOut).toBe(1);
    const results = await h.audit.list({ proposal_id: p.id, kind: 'execution_result' });
    expect(results).toHaveLength(1);
    expect(field(results[0]!, 'result')).toMatchObject({ status: 'succeeded', grant_id: grant.id });
  });

  it('records an answer the server gave about its upstream as failed (the server answered: nothing is in doubt)', async () => {
    const { p, grant, tools } = await setup({ ok: false, code: 'upstream_unavailable', message: 'deployment acme-prod/checkout: fetch failed', raw: { response: { isError: true, content: [] } } });
    await executor(tools, 'a').onGrant(grant);
    const [res] = await h.audit.list({ proposal_id: p.id, kind: 'execution_result' });
    expect(field(res!, 'result')).toMatchObject({ status: 'failed', error: 'upstream_unavailable: deployment acme-prod/checkout: fetch failed' });
  });

  it('records a refusal by the MCP server as refused and starts no verification', async () => {
    const { p, grant, tools } = await setup({ ok: false, code: 'safety_violation', message: 'cooldown', raw: {} });
    await executor(tools, 'a').onGrant(grant);
    const [res] = await h.audit.list({ proposal_id: p.id, kind: 'execution_result' });
    expect(field(res!, 'result')).toMatchObject({ status: 'refused', error: 'safety_violation: cooldown' });
    expect(h.clock.nextTimerAt()).toBeUndefined();
  });

  it('ignores grants addressed to another agent', async () => {
    const { grant, tools } = await setup({ ok: true, data: {}, raw: {} });
    await executor(tools, 'a').onMessage({ id: '1-0', stream: 's', deliveries: 1, event: { ...grant, agent: 'configurer' } });
    expect(tools.calls).toEqual([]);
  });
});
