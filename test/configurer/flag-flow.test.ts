// Configurer's feature-flag handler end to end on the twin, through real MCP servers over HTTP: a
// flag flip (dynamic-pricing off → on) slows `orders`; on the observation Configurer reads the flags
// orders reads and their history through the Feature Flag server and proposes setting the flag back
// (once per incident, with its tool calls recorded, and no whole-map update_config of the flag file);
// the agent runtime's Executor runs the granted set_flag through a client routed to the Feature Flag
// session (metrics from a read-only Kubernetes session), and the Verifier sees p99 restored.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_VERSION, type ExecutionResult, type Observation, type Proposal, type Verification } from '../../src/contracts/events.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { issueGrant } from '../../src/governance/grants.ts';
import { parseTenants } from '../../src/governance/tenants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { startConfigMapMcpHttp } from '../../mcp-servers/configmap/http.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { recordOfEvent } from '../../src/audit/records.ts';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import { Configurer } from '../../agents/configurer/configurer.ts';
import { METRICS_TOOLS, routeTools } from '../../agents/runtime/tool-router.ts';
import type { ToolClient } from '../../agents/runtime/tool-client.ts';
import { CONFIGMAP_TOOLS } from '../../agents/configurer/config-views.ts';
import { FEATURE_FLAG_TOOLS } from '../../agents/configurer/flag-views.ts';
import { NS, START, startFlagTwin, type FlagTwin } from './flag-twin.ts';
import { memoryAudit, type MemoryAudit } from './memory-audit.ts';

const SLO_MS = 500;
const tenants = parseTenants({
  tenants: {
    acme: {
      tier: 'enterprise', environment: 'production', namespaces: [NS], max_replicas: 40, monthly_budget_usd: 20000, month_to_date_usd: 9000,
      slo: { p99_latency_ms: SLO_MS }, burn_rate: 2, pod_monthly_cost_usd: 300,
    },
  },
});
const OFF = { state: 'ENABLED', default_variant: 'off' };
const ON = { state: 'ENABLED', default_variant: 'on' };

let t: FlagTwin;
let audit: MemoryAudit;
let servers: Array<{ url: string; close(): Promise<void> }>;
let sessions: McpToolClient[];
let tools: ToolClient;
let configurer: Configurer;

beforeEach(async () => {
  t = await startFlagTwin();
  audit = memoryAudit();
  const grantPublicKeys = new Map([['k', t.keys.publicKey]]);
  const kubernetes = await startKubernetesMcpHttp({ kube: t.kube, sharedState: t.shared, clock: t.clock, grantPublicKeys, tokens: new Map([['configurer-k8s-token', { agent: 'configurer', namespaces: [NS] }]]) });
  const configmap = await startConfigMapMcpHttp({ kube: t.kube, sharedState: t.shared, clock: t.clock, grantPublicKeys, tokens: new Map([['configurer-cm-token', { agent: 'configurer', namespaces: [NS] }]]), watchRetryMs: 50 });
  servers = [kubernetes, configmap];
  sessions = [
    await connectMcp({ url: kubernetes.url, token: 'configurer-k8s-token', name: 'configurer' }),
    await connectMcp({ url: configmap.url, token: 'configurer-cm-token', name: 'configurer' }),
  ];
  // As the composition root wires it: config maps and flags each through their own server, metrics through Kubernetes.
  tools = routeTools([
    { client: sessions[1]!, tools: CONFIGMAP_TOOLS },
    { client: t.flags, tools: FEATURE_FLAG_TOOLS },
    { client: sessions[0]!, tools: METRICS_TOOLS },
  ]);
  configurer = new Configurer({ tools, featureFlags: true, recorder: new AuditRecorder(audit, () => undefined), audit, clock: t.clock, logger: silentLogger(), tenants });
});
afterEach(async () => {
  for (const s of sessions) await s.close();
  for (const s of servers) await s.close();
  await t.close();
});

function observe(id: string, incident = 'inc-1'): Observation {
  const p99 = t.twin.serviceMetrics(NS, 'orders').p99_ms;
  return {
    id, v: EVENT_VERSION, ts: new Date(t.clock.now()).toISOString(), incident_id: incident, type: 'observation', agent: 'watchtower',
    tenant: 'acme', namespace: NS, severity: 'critical', summary: `p99 of orders ${Math.round(p99)} ms`, target: { kind: 'Deployment', name: 'orders' },
    signals: [{ metric: 'http_request_duration_p99_ms', target: 'orders', value: p99, baseline: 180, change_pct: ((p99 - 180) / 180) * 100, unit: 'ms' }],
  };
}

async function recordObservation(obs: Observation): Promise<void> {
  await audit.append(recordOfEvent<'observation'>(obs, { tool_calls: [] }));
}

const proposals = (): Proposal[] => audit.records.flatMap((r) => (r.kind === 'proposal' ? [r.payload.proposal] : []));

describe('Configurer and feature flags', () => {
  it('proposes setting back a flag flipped 4 minutes before the incident, once, with the tool calls it made', async () => {
    await t.clock.advance(3 * 60_000);
    await t.flip('dynamic-pricing', { default_variant: 'on' });
    await t.clock.advance(4 * 60_000);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    await configurer.onObservation(obs); // redelivered: nothing more
    await t.clock.advance(60_000);
    await configurer.onObservation(observe('obs-2'));

    expect(proposals()).toHaveLength(1);
    const [p] = proposals();
    expect(p).toMatchObject({
      agent: 'configurer', action: 'set_feature_flag', incident_id: 'inc-1', target: { kind: 'Deployment', name: 'orders' },
      tool_call: { server: 'feature-flags', tool: 'set_flag', args: { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing', default_variant: 'off', expected: ON } },
      compensating_action: { server: 'feature-flags', tool: 'set_flag', args: { namespace: NS, config_map: 'orders-flags', flag: 'dynamic-pricing', default_variant: 'on', expected: OFF } },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
      params: { config_map: 'orders-flags', flag: 'dynamic-pricing', from: ON, to: OFF, changed_at: new Date(START + 3 * 60_000).toISOString() },
    });
    expect(p!.tool_call.args).not.toHaveProperty('state');
    expect(p!.reasoning.some((l) => l.includes('feature flag dynamic-pricing (orders-flags) changed 4 min before the incident'))).toBe(true);
    const rec = audit.records.find((r) => r.kind === 'proposal')!;
    // Only the flag that changed has its history read; the flag file is not also judged as a config map.
    expect((rec.payload['tool_calls'] as Array<{ tool: string }>).map((c) => c.tool)).toEqual(['list_flags', 'get_flag_history', 'list_configs']);
  });

  it('proposes nothing when no flag changed in the hour before, or the flag was already put back', async () => {
    await t.flip('dynamic-pricing', { default_variant: 'on' });
    await t.clock.advance(70 * 60_000);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    expect(proposals()).toHaveLength(0);

    await t.flip('search-backend', { default_variant: 'opensearch' });
    await t.flip('search-backend', { default_variant: 'solr' });
    await t.clock.advance(60_000);
    const again = observe('obs-2', 'inc-2');
    await recordObservation(again);
    await configurer.onObservation(again);
    expect(proposals()).toHaveLength(0);
  });

  it('turns off a flag that was switched on, and its granted set_flag runs through the Executor; the Verifier sees p99 restored', async () => {
    // Off for long before (more than the hour the Configurer looks back), then switched on for everyone.
    await t.flip('dynamic-pricing', { state: 'DISABLED' });
    await t.clock.advance(70 * 60_000);
    const healthy = t.twin.serviceMetrics(NS, 'orders').p99_ms;
    await t.flip('dynamic-pricing', { state: 'ENABLED', default_variant: 'on' });
    await t.clock.advance(2 * 60_000);
    expect(t.twin.serviceMetrics(NS, 'orders').p99_ms).toBeGreaterThan(SLO_MS);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    const [p] = proposals();
    expect(p!.tool_call.args).toMatchObject({ state: 'DISABLED', default_variant: 'off', expected: ON });
    expect(p!.reasoning.some((l) => l.startsWith('turning it off'))).toBe(true);

    const tracker = new WorkTracker();
    const recorder = new AuditRecorder(audit, () => undefined);
    const verifier = new Verifier({ tools, recorder, audit, clock: t.clock, tracker, logger: silentLogger() });
    const notes: string[] = [];
    const executor = new Executor({
      agent: 'configurer', consumer: 'configurer-test', tools, audit, recorder, verifier, clock: t.clock, logger: silentLogger(),
      notifier: { notify: async (text) => void notes.push(text) },
    });
    const grant = issueGrant(t.keys, {
      proposal_id: p!.id, incident_id: p!.incident_id, agent: 'configurer', tenant: 'acme', namespace: NS,
      server: p!.tool_call.server, tool: p!.tool_call.tool, args: p!.tool_call.args, basis: 'approval', nowMs: t.clock.now(), ttlMs: 15 * 60_000,
    });
    await executor.onGrant(grant);
    await executor.onGrant(grant); // a redelivered grant executes nothing

    const results = audit.records.filter((r) => r.kind === 'execution_result').map((r) => r.payload['result'] as ExecutionResult);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ status: 'succeeded', tool: 'set_flag', response: { changed: true, current: { state: 'DISABLED' } } });
    expect(audit.records.filter((r) => r.kind === 'compensating_action')).toHaveLength(1);
    expect(t.file().flags['dynamic-pricing']).toMatchObject({ state: 'DISABLED', defaultVariant: 'off' });

    let verification: Verification | undefined;
    for (let i = 0; i < 40 && !verification; i++) {
      await t.clock.advance(15_000);
      for (let w = 0; w < 500 && tracker.busy > 0; w++) await new Promise((r) => setTimeout(r, 5));
      verification = audit.records.find((r) => r.kind === 'verification')?.payload['verification'] as Verification | undefined;
    }
    expect(verification).toMatchObject({ outcome: 'restored', proposal_id: p!.id });
    expect(t.twin.serviceMetrics(NS, 'orders').p99_ms).toBeLessThan(healthy * 1.3);
    expect(notes[0]).toMatch(/Executed set_flag on orders/);
  });

  it('its compensating action re-applies the flip only while the flag has the setting the revert wrote', async () => {
    await t.clock.advance(60_000);
    await t.flip('dynamic-pricing', { default_variant: 'on' });
    await t.clock.advance(3 * 60_000);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    const [p] = proposals();
    const call = async (c: { tool: string; args: Record<string, unknown> }) =>
      t.flags.callTool(c.tool, {
        ...c.args,
        grant: issueGrant(t.keys, { proposal_id: p!.id, agent: 'configurer', tenant: 'acme', namespace: NS, server: 'feature-flags', tool: c.tool, args: c.args, basis: 'compensation', nowMs: t.clock.now(), ttlMs: 60_000 }),
      });
    expect(await call(p!.tool_call)).toMatchObject({ ok: true, data: { previous: ON, current: OFF } });
    expect(await call(p!.compensating_action!)).toMatchObject({ ok: true, data: { previous: OFF, current: ON } });
    expect(t.file().flags['dynamic-pricing']!.defaultVariant).toBe('on');
    // The flag no longer has the setting the revert wrote: the same compensation is refused.
    expect(await call(p!.compensating_action!)).toMatchObject({ ok: false, code: 'conflict' });
  });
});
