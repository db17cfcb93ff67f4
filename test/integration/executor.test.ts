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

async function setup(outcome: ToolOutcome<unknown>) {
  const p = proposal();
  await h.recorder.record(recordOfEvent<'proposal'>(p, { reasoning_mode: 'rule-based', tool_calls: [] }));
  const grant = issueGrant(keys, {
    proposal_id: p.id, agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
    tool: 'scale_deployment', args: p.tool_call.args, basis: 'policy', nowMs: T0, ttlMs: 120_000,
  });
  const tools = new ScriptedTools({ get_pod_metrics: () => ({ ok: true, data: metrics, raw: {} }), scale_deployment: () => outcome });
  return { p, grant, tools };
}

describe('executor', () => {
  it('executes a grant exactly once when two consumers get it at the same time', async () => {
    const { p, grant, tools } = await setup({ ok: true, data: { from_replicas: 8, to_replicas: 12 }, raw: {} });
    await Promise.all([executor(tools, 'a').onGrant(grant), executor(tools, 'b').onGrant(grant), executor(tools, 'a').onGrant(grant)]);
    const mutating = tools.calls.filter((c) => c.tool === 'scale_deployment');
    expect(mutating).toHaveLength(1);
    expect(mutating[0]!.args).toMatchObject({ ...p.tool_call.args, grant: { id: grant.id } });
    const kinds = (await h.audit.list({ proposal_id: p.id })).map((r) => r.kind);
    // The compensating action is on record before the action's result.
    expect(kinds).toEqual(['proposal', 'compensating_action', 'execution_result']);
    const [res] = await h.audit.list({ proposal_id: p.id, kind: 'execution_result' });
    expect(field(res!, 'result')).toMatchObject({ status: 'succeeded', before: { p99_ms: 1200, replicas: 8 } });
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
