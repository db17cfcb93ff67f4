// The ConfigMap MCP server against the cluster twin served as a Kubernetes API, over real
// Streamable HTTP with the real MCP client and client-node underneath: references, the history it
// keeps from its watch, the grant checks of update_config, its concurrency precondition, tenant
// isolation, the non-destructive rule, and the rolling restart of the deployments that read a change.
// Cluster state is checked on the twin itself, never through the server under test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectMcp } from '../../src/mcp/mcp-client.ts';
import { RESTARTED_AT_ANNOTATION } from '../../mcp-servers/configmap/config-client.ts';
import { configDataHash } from '../../mcp-servers/configmap/server.ts';
import { GLOBEX_TOKEN, GOOD_DATA, NS, OTHER_NS, START, startConfigTwin, type ConfigTwin } from '../configurer/config-twin.ts';
import { REPLAYED_META_KEY } from '../../mcp-servers/shared/grant-ledger.ts';

let t: ConfigTwin;
beforeEach(async () => {
  t = await startConfigTwin();
});
afterEach(async () => {
  await t.close();
});

const restartedAt = (name: string) => t.twin.getDeployment(NS, name)!.spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION];
const rvOf = (name = 'web-config') => t.twin.getConfigMap(NS, name)!.metadata.resourceVersion!;

async function push(data: Record<string, string>): Promise<string> {
  const cm = t.twin.getConfigMap(NS, 'web-config')!;
  const n = t.mcp.history.history(NS, 'web-config').length;
  const next = t.twin.replaceConfigMap(NS, 'web-config', { ...cm, data });
  await t.historyHas('web-config', n + 1);
  return next.metadata.resourceVersion!;
}

describe('reads', () => {
  it('get_config returns the data, resourceVersion and the deployments that read the map, with how', async () => {
    const out = await t.configurer.callTool<Record<string, unknown>>('get_config', { namespace: NS, name: 'web-config' });
    expect(out).toMatchObject({
      ok: true,
      data: {
        namespace: NS,
        name: 'web-config',
        data: GOOD_DATA,
        resource_version: rvOf(),
        data_sha256: configDataHash(GOOD_DATA),
        referenced_by: [
          { deployment: 'api', wholesale: false, keys: ['pool.size'], via: ['env:POOL_SIZE'] },
          { deployment: 'web', wholesale: true, keys: [], via: ['envFrom'] },
        ],
      },
    });
    const list = await t.configurer.callTool<{ config_maps: Array<{ name: string }> }>('list_configs', { namespace: NS, deployment: 'batch' });
    expect(list).toMatchObject({ ok: true, data: { config_maps: [] } });
    expect(await t.configurer.callTool('get_config', { namespace: NS, name: 'nope' })).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('get_config_history: the initial version, then each change with its time and keys before → after, newest first', async () => {
    const first = await t.configurer.callTool<{ tracking_since: string; versions: Array<Record<string, unknown>> }>('get_config_history', { namespace: NS, name: 'web-config' });
    if (!first.ok) throw new Error(first.message);
    expect(first.data.tracking_since).toBe(new Date(START).toISOString());
    expect(first.data.versions).toHaveLength(1);
    expect(first.data.versions[0]).toMatchObject({ kind: 'initial', data: GOOD_DATA, resource_version: rvOf() });

    await t.clock.advance(5 * 60_000);
    const pushedRv = await push({ ...GOOD_DATA, 'cache.enabled': 'false', 'feature.x': 'on' });
    await t.clock.advance(60_000);
    await push({ ...GOOD_DATA, 'cache.enabled': 'false', 'feature.x': 'on', 'log.level': 'debug' });

    const out = await t.configurer.callTool<{ versions: Array<Record<string, unknown>> }>('get_config_history', { namespace: NS, name: 'web-config' });
    if (!out.ok) throw new Error(out.message);
    const [newest, pushed, initial] = out.data.versions;
    expect(out.data.versions).toHaveLength(3);
    expect(newest).toMatchObject({ kind: 'changed', observed_at: new Date(START + 6 * 60_000).toISOString(), changes: [{ key: 'log.level', before: 'info', after: 'debug' }] });
    expect(pushed).toMatchObject({
      kind: 'changed',
      resource_version: pushedRv,
      observed_at: new Date(START + 5 * 60_000).toISOString(),
      changes: [
        { key: 'cache.enabled', before: 'true', after: 'false' },
        { key: 'feature.x', before: null, after: 'on' },
      ],
    });
    expect(initial).toMatchObject({ kind: 'initial' });
    const list = await t.configurer.callTool<{ config_maps: Array<{ name: string; last_changed_at: string | null }> }>('list_configs', { namespace: NS, deployment: 'web' });
    expect(list).toMatchObject({ ok: true, data: { config_maps: [{ name: 'web-config', last_changed_at: new Date(START + 6 * 60_000).toISOString() }] } });
  });
});

describe('update_config', () => {
  const args = (over: Record<string, unknown> = {}) => ({
    namespace: NS,
    name: 'web-config',
    data: { ...GOOD_DATA, 'pool.size': '32' },
    expected_resource_version: rvOf(),
    ...over,
  });

  it('refuses a call without a grant, with a grant for other arguments, another tool or server, and a reused grant', async () => {
    const a = args();
    expect(await t.configurer.callTool('update_config', a)).toMatchObject({ ok: false, code: 'invalid_arguments' });
    const other = t.grant({ ...a, data: { ...GOOD_DATA, 'pool.size': '8' } });
    expect(await t.configurer.callTool('update_config', { ...a, grant: other })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.configurer.callTool('update_config', { ...a, grant: t.grant(a, { server: 'kubernetes' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.configurer.callTool('update_config', { ...a, grant: t.grant(a, { tool: 'scale_deployment' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.configurer.callTool('update_config', { ...a, grant: t.grant(a, { agent: 'elastik' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.configurer.callTool('update_config', { ...a, grant: t.grant(a, { tenant: 'globex' }) })).toMatchObject({ ok: false, code: 'grant_mismatch' });
    expect(await t.configurer.callTool('update_config', { ...a, grant: t.grant(a, { ttlMs: -1 }) })).toMatchObject({ ok: false, code: 'grant_expired' });
    expect(t.twin.getConfigMap(NS, 'web-config')!.data).toEqual(GOOD_DATA);

    // A replay: the data-hash precondition holds again once someone puts the old data back.
    const h = { namespace: NS, name: 'web-config', data: a.data, expected_data_sha256: configDataHash(GOOD_DATA) };
    const g = t.grant(h);
    expect(await t.configurer.callTool('update_config', { ...h, grant: g })).toMatchObject({ ok: true, data: { changed: true } });
    expect(t.twin.getConfigMap(NS, 'web-config')!.data).toEqual(a.data);
    await push(GOOD_DATA);
    // The same grant again: answered with its first outcome from the ledger, nothing written again.
    expect(await t.configurer.callTool('update_config', { ...h, grant: g })).toMatchObject({ ok: true, data: { changed: true }, raw: { response: { _meta: { [REPLAYED_META_KEY]: true } } } });
    expect(t.twin.getConfigMap(NS, 'web-config')!.data).toEqual(GOOD_DATA);
  });

  it('refuses a stale resourceVersion with "changed since proposed", and does not spend the grant or write', async () => {
    const a = args();
    await push({ ...GOOD_DATA, 'log.level': 'warn' });
    const out = await t.configurer.callTool('update_config', { ...a, grant: t.grant(a) });
    expect(out).toMatchObject({ ok: false, code: 'conflict' });
    expect(!out.ok && out.message).toMatch(/changed since proposed/);
    expect(t.twin.getConfigMap(NS, 'web-config')!.data).toEqual({ ...GOOD_DATA, 'log.level': 'warn' });
  });

  it('takes a data-hash precondition instead (for compensating actions decided before their version exists)', async () => {
    const a = { namespace: NS, name: 'web-config', data: { ...GOOD_DATA, 'log.level': 'debug' }, expected_data_sha256: configDataHash(GOOD_DATA) };
    expect(await t.configurer.callTool('update_config', { ...a, grant: t.grant(a) })).toMatchObject({ ok: true, data: { changed: true } });
    const again = { ...a, data: GOOD_DATA };
    expect(await t.configurer.callTool('update_config', { ...again, grant: t.grant(again) })).toMatchObject({ ok: false, code: 'conflict' });
    const both = { ...a, expected_resource_version: rvOf() };
    expect(await t.configurer.callTool('update_config', { ...both, grant: t.grant(both) })).toMatchObject({ ok: false, code: 'invalid_arguments' });
  });

  it('refuses namespaces outside the session, whatever the grant', async () => {
    const a = { namespace: OTHER_NS, name: 'billing-config', data: { 'cache.enabled': 'false' }, expected_resource_version: t.twin.getConfigMap(OTHER_NS, 'billing-config')!.metadata.resourceVersion };
    const g = t.grant(a, { namespace: OTHER_NS, tenant: 'globex' });
    expect(await t.configurer.callTool('update_config', { ...a, grant: g })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await t.configurer.callTool('get_config', { namespace: OTHER_NS, name: 'billing-config' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(await t.configurer.callTool('get_config_history', { namespace: OTHER_NS, name: 'billing-config' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    expect(t.twin.getConfigMap(OTHER_NS, 'billing-config')!.data).toEqual({ 'cache.enabled': 'true' });
    // The globex session sees its own map, and not acme's.
    const globex = await connectMcp({ url: t.mcp.url, token: GLOBEX_TOKEN, name: 'configurer' });
    try {
      expect(await globex.callTool('get_config', { namespace: OTHER_NS, name: 'billing-config' })).toMatchObject({ ok: true });
      expect(await globex.callTool('get_config', { namespace: NS, name: 'web-config' })).toMatchObject({ ok: false, code: 'tenant_forbidden' });
    } finally {
      await globex.close();
    }
  });

  it('rolls exactly the deployments that read a changed key, as kubectl rollout restart does', async () => {
    await t.clock.advance(90_000);
    const revisionOf = (name: string) => t.twin.getDeployment(NS, name)!.metadata.annotations?.['deployment.kubernetes.io/revision'];
    const before = { web: revisionOf('web'), api: revisionOf('api'), batch: revisionOf('batch') };

    const a = args({ data: { ...GOOD_DATA, 'log.level': 'debug' } });
    const out = await t.configurer.callTool('update_config', { ...a, grant: t.grant(a) });
    expect(out).toMatchObject({
      ok: true,
      data: {
        changed: true,
        changes: [{ key: 'log.level', before: 'info', after: 'debug' }],
        restarted: ['web'],
        not_restarted: [{ deployment: 'api', reason: 'reads none of the changed keys' }],
      },
    });
    expect(restartedAt('web')).toBe('2026-11-24T10:01:30Z');
    expect(restartedAt('api')).toBeUndefined();
    expect(restartedAt('batch')).toBeUndefined();
    expect(Number(revisionOf('web'))).toBeGreaterThan(Number(before.web));
    expect(revisionOf('batch')).toBe(before.batch);

    const b = args({ data: { ...GOOD_DATA, 'log.level': 'debug', 'pool.size': '96' } });
    const out2 = await t.configurer.callTool('update_config', { ...b, grant: t.grant(b) });
    expect(out2).toMatchObject({ ok: true, data: { restarted: ['api', 'web'], not_restarted: [] } });
    expect(restartedAt('api')).toBe('2026-11-24T10:01:30Z');
    await t.clock.advance(5 * 60_000);
    // The rollout finished: every pod of web runs the restarted template.
    const newest = t.twin
      .listReplicaSets(NS)
      .filter((rs) => rs.metadata.labels?.['app'] === 'web')
      .sort((x, y) => Number(y.metadata.annotations?.['deployment.kubernetes.io/revision']) - Number(x.metadata.annotations?.['deployment.kubernetes.io/revision']))[0]!;
    expect(newest.spec.template.metadata?.annotations?.[RESTARTED_AT_ANNOTATION]).toBe('2026-11-24T10:01:30Z');
    const pods = t.twin.listPods(NS).filter((p) => p.metadata.labels?.['app'] === 'web');
    expect(pods).toHaveLength(4);
    expect(pods.every((p) => p.metadata.labels?.['pod-template-hash'] === newest.metadata.labels?.['pod-template-hash'])).toBe(true);
  });

  it('refuses to remove a key a pod template names, and allows removing one only taken wholesale', async () => {
    const { 'pool.size': _named, ...withoutPool } = GOOD_DATA;
    const a = args({ data: withoutPool });
    const out = await t.configurer.callTool('update_config', { ...a, grant: t.grant(a) });
    expect(out).toMatchObject({ ok: false, code: 'safety_violation' });
    expect(!out.ok && out.message).toMatch(/pool\.size.*api/);
    expect(t.twin.getConfigMap(NS, 'web-config')!.data).toEqual(GOOD_DATA);

    const { 'log.level': _wholesale, ...withoutLog } = GOOD_DATA;
    const b = args({ data: withoutLog });
    expect(await t.configurer.callTool('update_config', { ...b, grant: t.grant(b) })).toMatchObject({ ok: true, data: { changes: [{ key: 'log.level', before: 'info', after: null }] } });
  });
});

describe('a bad config push and its revert, on the twin', () => {
  it('cache switched off raises p99; update_config restoring the previous data brings it back', async () => {
    await t.clock.advance(60_000);
    const healthy = t.twin.serviceMetrics(NS, 'web').p99_ms;
    await push({ ...GOOD_DATA, 'cache.enabled': 'false' });
    await t.clock.advance(2 * 60_000);
    const sick = t.twin.serviceMetrics(NS, 'web').p99_ms;
    expect(sick).toBeGreaterThan(healthy * 2.5);

    const history = await t.configurer.callTool<{ versions: Array<{ data: Record<string, string>; resource_version: string }> }>('get_config_history', { namespace: NS, name: 'web-config' });
    if (!history.ok) throw new Error(history.message);
    const [current, previous] = history.data.versions;
    const a = { namespace: NS, name: 'web-config', data: previous!.data, expected_resource_version: current!.resource_version };
    expect(await t.configurer.callTool('update_config', { ...a, grant: t.grant(a) })).toMatchObject({
      ok: true,
      data: { changes: [{ key: 'cache.enabled', before: 'false', after: 'true' }], restarted: ['web'] },
    });
    await t.clock.advance(5 * 60_000);
    expect(t.twin.serviceMetrics(NS, 'web').p99_ms).toBeLessThan(healthy * 1.3);
  });
});
