// Configurer end to end on the twin, through real MCP servers over HTTP: a bad config push slows
// `web`; on the observation Configurer reads web's config maps and their history through the
// ConfigMap server and proposes the revert (once per incident, with its tool calls recorded); the
// agent runtime's Executor runs the granted update_config through a client routed to the ConfigMap
// session (metrics from a read-only Kubernetes session), and the Verifier sees p99 restored.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_VERSION, type ExecutionResult, type Observation, type Proposal, type Verification } from '../../src/contracts/events.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { issueGrant } from '../../src/governance/grants.ts';
import { parseTenants } from '../../src/governance/tenants.ts';
import { connectMcp, type McpToolClient } from '../../src/mcp/mcp-client.ts';
import { WorkTracker } from '../../src/core/work-tracker.ts';
import { startKubernetesMcpHttp } from '../../mcp-servers/kubernetes/http.ts';
import { AuditRecorder } from '../../src/audit/recorder.ts';
import { recordOfEvent } from '../../src/audit/records.ts';
import { Executor } from '../../agents/runtime/executor.ts';
import { Verifier } from '../../agents/runtime/verifier.ts';
import { Configurer } from '../../agents/configurer/configurer.ts';
import { METRICS_TOOLS, routeTools } from '../../agents/runtime/tool-router.ts';
import { CONFIGMAP_TOOLS } from '../../agents/configurer/config-views.ts';
import { GOOD_DATA, NS, START, startConfigTwin, type ConfigTwin } from './config-twin.ts';
import { memoryAudit, type MemoryAudit } from './memory-audit.ts';

const SLO_MS = 250;
const tenants = parseTenants({
  tenants: {
    acme: {
      tier: 'enterprise', environment: 'production', namespaces: [NS], max_replicas: 40, monthly_budget_usd: 20000, month_to_date_usd: 9000,
      slo: { p99_latency_ms: SLO_MS }, burn_rate: 2, pod_monthly_cost_usd: 300,
    },
  },
});

let t: ConfigTwin;
let audit: MemoryAudit;
let kubernetes: { url: string; close(): Promise<void> };
let metricsSession: McpToolClient;
let configurer: Configurer;
const BAD = { ...GOOD_DATA, 'cache.enabled': 'false' };

beforeEach(async () => {
  t = await startConfigTwin();
  audit = memoryAudit();
  kubernetes = await startKubernetesMcpHttp({
    kube: t.kube, sharedState: t.shared, clock: t.clock, grantPublicKeys: new Map([['k', t.keys.publicKey]]),
    tokens: new Map([['configurer-k8s-token', { agent: 'configurer', namespaces: [NS] }]]),
  });
  metricsSession = await connectMcp({ url: kubernetes.url, token: 'configurer-k8s-token', name: 'configurer' });
  configurer = new Configurer({ tools: t.configurer, recorder: new AuditRecorder(audit, () => undefined), audit, clock: t.clock, logger: silentLogger(), tenants });
});
afterEach(async () => {
  await metricsSession.close();
  await kubernetes.close();
  await t.close();
});

async function badPush(): Promise<void> {
  const cm = t.twin.getConfigMap(NS, 'web-config')!;
  t.twin.replaceConfigMap(NS, 'web-config', { ...cm, data: BAD });
  await t.historyHas('web-config', 2);
}

function observe(id: string, incident = 'inc-1'): Observation {
  const p99 = t.twin.serviceMetrics(NS, 'web').p99_ms;
  return {
    id, v: EVENT_VERSION, ts: new Date(t.clock.now()).toISOString(), incident_id: incident, type: 'observation', agent: 'watchtower',
    tenant: 'acme', namespace: NS, severity: 'critical', summary: `p99 of web ${Math.round(p99)} ms`, target: { kind: 'Deployment', name: 'web' },
    signals: [{ metric: 'http_request_duration_p99_ms', target: 'web', value: p99, baseline: 160, change_pct: ((p99 - 160) / 160) * 100, unit: 'ms' }],
  };
}

/** Watchtower's record of the observation, as the incident's first entry. */
async function recordObservation(obs: Observation): Promise<void> {
  await audit.append(recordOfEvent<'observation'>(obs, { tool_calls: [] }));
}

const proposals = (): Proposal[] => audit.records.flatMap((r) => (r.kind === 'proposal' ? [r.payload.proposal] : []));

describe('Configurer', () => {
  it('proposes the revert of a push 12 minutes before the incident, once, with the tool calls it made', async () => {
    await t.clock.advance(3 * 60_000);
    await badPush();
    await t.clock.advance(12 * 60_000);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    // Redelivery, and a later observation of the same incident: nothing more.
    await configurer.onObservation(obs);
    await t.clock.advance(60_000);
    await configurer.onObservation(observe('obs-2'));

    expect(proposals()).toHaveLength(1);
    const [p] = proposals();
    const rv = t.twin.getConfigMap(NS, 'web-config')!.metadata.resourceVersion;
    expect(p).toMatchObject({
      agent: 'configurer', action: 'update_config', incident_id: 'inc-1', observation_id: 'obs-1', target: { kind: 'Deployment', name: 'web' },
      tool_call: { server: 'configmap', tool: 'update_config', args: { namespace: NS, name: 'web-config', data: GOOD_DATA, expected_resource_version: rv } },
      compensating_action: { server: 'configmap', tool: 'update_config', args: { data: BAD } },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
      params: { config_map: 'web-config', keys: [{ key: 'cache.enabled', current: 'false', restored: 'true' }], changed_at: new Date(START + 3 * 60_000).toISOString() },
    });
    expect(p!.reasoning.some((l) => l.includes('web-config changed 12 min before the incident'))).toBe(true);
    const rec = audit.records.find((r) => r.kind === 'proposal')!;
    expect((rec.payload['tool_calls'] as Array<{ tool: string }>).map((c) => c.tool)).toEqual(['list_configs', 'get_config', 'get_config_history']);
    expect(audit.published.map((m) => m.event.type)).toEqual(['proposal']);
  });

  it('proposes nothing when no config map of the deployment changed in the hour before', async () => {
    await badPush(); // 70 minutes before the observation: too old to be the cause
    await t.clock.advance(70 * 60_000);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    await configurer.onObservation({ ...observe('obs-3', 'inc-2'), target: { kind: 'Deployment', name: 'batch' } });
    expect(proposals()).toHaveLength(0);
  });

  it('its granted revert runs through the Executor and the Verifier sees p99 restored', async () => {
    await t.clock.advance(60_000);
    const healthy = t.twin.serviceMetrics(NS, 'web').p99_ms;
    await badPush();
    await t.clock.advance(10 * 60_000);
    const sick = t.twin.serviceMetrics(NS, 'web').p99_ms;
    expect(sick).toBeGreaterThan(SLO_MS);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    const [p] = proposals();

    const tools = routeTools([
      { client: t.configurer, tools: CONFIGMAP_TOOLS },
      { client: metricsSession, tools: METRICS_TOOLS },
    ]);
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
    expect(results[0]).toMatchObject({ status: 'succeeded', tool: 'update_config', response: { restarted: ['web'] } });
    expect(results[0]!.before!['p99_ms']).toBeGreaterThan(SLO_MS);
    expect(audit.records.filter((r) => r.kind === 'compensating_action')).toHaveLength(1);
    expect(t.twin.getConfigMap(NS, 'web-config')!.data).toEqual(GOOD_DATA);

    // Verification samples every 15 s of simulated time; the service heals as the restart rolls.
    let verification: Verification | undefined;
    for (let i = 0; i < 60 && !verification; i++) {
      await t.clock.advance(15_000);
      for (let w = 0; w < 500 && tracker.busy > 0; w++) await new Promise((r) => setTimeout(r, 5));
      verification = audit.records.find((r) => r.kind === 'verification')?.payload['verification'] as Verification | undefined;
    }
    expect(verification).toMatchObject({ outcome: 'restored', proposal_id: p!.id });
    expect(verification!.after).toBeLessThanOrEqual(SLO_MS);
    expect(t.twin.serviceMetrics(NS, 'web').p99_ms).toBeLessThan(healthy * 1.3);
    expect(notes[0]).toMatch(/Executed update_config on web/);
  });

  it('its compensating action re-applies the push only while the map holds what the revert wrote', async () => {
    await t.clock.advance(60_000);
    await badPush();
    await t.clock.advance(5 * 60_000);
    const obs = observe('obs-1');
    await recordObservation(obs);
    await configurer.onObservation(obs);
    const [p] = proposals();
    const call = async (c: { tool: string; args: Record<string, unknown> }) =>
      t.configurer.callTool(c.tool, {
        ...c.args,
        grant: issueGrant(t.keys, { proposal_id: p!.id, agent: 'configurer', tenant: 'acme', namespace: NS, server: 'configmap', tool: c.tool, args: c.args, basis: 'compensation', nowMs: t.clock.now(), ttlMs: 60_000 }),
      });
    expect(await call(p!.tool_call)).toMatchObject({ ok: true });
    expect(await call(p!.compensating_action!)).toMatchObject({ ok: true, data: { changes: [{ key: 'cache.enabled', before: 'true', after: 'false' }] } });
    expect(t.twin.getConfigMap(NS, 'web-config')!.data).toEqual(BAD);
    // Now the map no longer holds the reverted data: the same compensation is refused.
    expect(await call(p!.compensating_action!)).toMatchObject({ ok: false, code: 'conflict' });
  });
});
