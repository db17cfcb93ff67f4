// Configurer's planner as a pure function: a revert is proposed only for a config change seen in the
// hour before the incident, it restores exactly the data before that change, and it never proposes
// removing a key a pod template names.
import { describe, expect, it } from 'vitest';
import { hashOf } from '../../src/core/canonical-json.ts';
import { EVENT_VERSION, type Observation } from '../../src/contracts/events.ts';
import type { ConfigFacts } from '../../agents/configurer/planner.ts';
import { planConfigRevert, revertOf } from '../../agents/configurer/planner.ts';
import type { ConfigVersion } from '../../agents/configurer/config-views.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const MIN = 60_000;
const GOOD = { 'cache.enabled': 'true', 'pool.size': '64' };
const BAD = { 'cache.enabled': 'false', 'pool.size': '64' };

function observation(over: Partial<Observation> = {}): Observation {
  return {
    id: 'obs-1',
    v: EVENT_VERSION,
    ts: iso(T0),
    incident_id: 'inc-1',
    type: 'observation',
    agent: 'watchtower',
    tenant: 'acme',
    namespace: 'acme-prod',
    severity: 'critical',
    summary: 'p99 of web 410 ms',
    target: { kind: 'Deployment', name: 'web' },
    signals: [{ metric: 'http_request_duration_p99_ms', target: 'web', value: 410, baseline: 140, change_pct: 193, unit: 'ms' }],
    ...over,
  };
}

const version = (rv: string, atMs: number, kind: ConfigVersion['kind'], data: Record<string, string>, before: Record<string, string> = {}): ConfigVersion => ({
  resource_version: rv,
  observed_at: iso(atMs),
  kind,
  changes: revertOf(data, before).map((c) => ({ key: c.key, before: c.restored, after: c.current })),
  data,
});

/** web-config as web (envFrom) and api (names pool.size) read it, with versions newest first. */
function facts(versions: ConfigVersion[], name = 'web-config'): ConfigFacts {
  return {
    config: {
      namespace: 'acme-prod',
      name,
      resource_version: versions[0]!.resource_version,
      data: versions[0]!.data,
      referenced_by: [
        { deployment: 'api', wholesale: false, keys: ['pool.size'], via: ['env:POOL_SIZE'] },
        { deployment: 'web', wholesale: true, keys: [], via: ['envFrom'] },
      ],
    },
    history: { namespace: 'acme-prod', name, tracking_since: iso(T0 - 180 * MIN), versions },
  };
}

describe('planConfigRevert', () => {
  it('proposes restoring the data before a push 20 minutes before the incident', () => {
    const f = facts([version('12', T0 - 20 * MIN, 'changed', BAD, GOOD), version('7', T0 - 180 * MIN, 'initial', GOOD)]);
    const p = planConfigRevert({ observation: observation(), configs: [f], sloP99Ms: 250 })!;
    expect(p).not.toBeNull();
    expect(p.action).toBe('update_config');
    expect(p.tool_call).toEqual({
      server: 'configmap',
      tool: 'update_config',
      args: { namespace: 'acme-prod', name: 'web-config', data: GOOD, expected_resource_version: '12' },
    });
    expect(p.compensating_action).toEqual({
      server: 'configmap',
      tool: 'update_config',
      args: { namespace: 'acme-prod', name: 'web-config', data: BAD, expected_data_sha256: hashOf(GOOD) },
    });
    expect(p.params).toMatchObject({
      config_map: 'web-config',
      from_resource_version: '12',
      restore_resource_version: '7',
      keys: [{ key: 'cache.enabled', current: 'false', restored: 'true' }],
      restarts: ['web'],
    });
    expect(p.blast_radius).toEqual({ tenants: 1, services: 1, capacity_change_pct: 0 });
    expect(p.verification).toMatchObject({ metric: 'http_request_duration_p99_ms', slo_threshold: 250 });
    expect(p.reasoning.join('\n')).toMatch(/web-config changed 20 min before the incident/);
    expect(p.reasoning.join('\n')).toMatch(/cache\.enabled "true" → "false"/);
    expect(p.reasoning[0]).toBe('p99 latency of web is 410 ms against a 250 ms SLO (baseline 140 ms)');
  });

  it('proposes nothing when no config changed, or the change is older than the hour before the incident', () => {
    const unchanged = facts([version('7', T0 - 180 * MIN, 'initial', GOOD)]);
    expect(planConfigRevert({ observation: observation(), configs: [unchanged], sloP99Ms: 250 })).toBeNull();
    const old = facts([version('12', T0 - 61 * MIN, 'changed', BAD, GOOD), version('7', T0 - 180 * MIN, 'initial', GOOD)]);
    expect(planConfigRevert({ observation: observation(), configs: [old], sloP99Ms: 250 })).toBeNull();
    expect(planConfigRevert({ observation: observation(), configs: [], sloP99Ms: 250 })).toBeNull();
  });

  it('measures the hour from the start of the incident, and ignores changes after the observation', () => {
    const f = facts([version('12', T0 - 70 * MIN, 'changed', BAD, GOOD), version('7', T0 - 180 * MIN, 'initial', GOOD)]);
    // The incident began 15 minutes before this (later) observation: the push was 55 minutes before it.
    expect(planConfigRevert({ observation: observation(), configs: [f], sloP99Ms: 250, incidentStartMs: T0 - 15 * MIN })).not.toBeNull();
    const later = facts([version('12', T0 + 5 * MIN, 'changed', BAD, GOOD), version('7', T0 - 180 * MIN, 'initial', GOOD)]);
    expect(planConfigRevert({ observation: observation(), configs: [later], sloP99Ms: 250 })).toBeNull();
  });

  it('goes back to the version before the earliest change in the window, past a later tweak', () => {
    const tweaked = { ...BAD, 'log.level': 'debug' };
    const f = facts([
      version('15', T0 - 5 * MIN, 'changed', tweaked, BAD),
      version('12', T0 - 30 * MIN, 'changed', BAD, { ...GOOD, 'pool.size': '32' }),
      version('9', T0 - 120 * MIN, 'changed', { ...GOOD, 'pool.size': '32' }, GOOD),
      version('7', T0 - 180 * MIN, 'initial', GOOD),
    ]);
    const p = planConfigRevert({ observation: observation(), configs: [f], sloP99Ms: 250 })!;
    expect(p.tool_call.args).toMatchObject({ data: { ...GOOD, 'pool.size': '32' }, expected_resource_version: '15' });
    expect(p.params['keys']).toEqual([
      { key: 'cache.enabled', current: 'false', restored: 'true' },
      { key: 'log.level', current: 'debug', restored: null },
      { key: 'pool.size', current: '64', restored: '32' },
    ]);
    // pool.size is named by api: it is restarted too.
    expect(p.params['restarts']).toEqual(['api', 'web']);
    expect(p.blast_radius.services).toBe(2);
  });

  it('keeps a key a pod template names rather than proposing its removal', () => {
    const pushed = { ...GOOD, 'pool.size': '8', 'new.flag': 'on' };
    const f = facts([version('12', T0 - 10 * MIN, 'changed', pushed, { 'cache.enabled': 'true' }), version('7', T0 - 180 * MIN, 'initial', { 'cache.enabled': 'true' })]);
    const p = planConfigRevert({ observation: observation(), configs: [f], sloP99Ms: 250 })!;
    expect(p.tool_call.args['data']).toEqual({ 'cache.enabled': 'true', 'pool.size': '8' });
    expect(p.reasoning.join('\n')).toMatch(/keeping pool\.size/);
  });

  it('picks the most recently changed map, and says the other changed too', () => {
    const a = facts([version('12', T0 - 40 * MIN, 'changed', BAD, GOOD), version('7', T0 - 180 * MIN, 'initial', GOOD)], 'web-config');
    const b = facts([version('20', T0 - 10 * MIN, 'changed', { x: '2' }, { x: '1' }), version('8', T0 - 180 * MIN, 'initial', { x: '1' })], 'feature-config');
    const p = planConfigRevert({ observation: observation(), configs: [a, b], sloP99Ms: 250 })!;
    expect(p.params['config_map']).toBe('feature-config');
    expect(p.reasoning.join('\n')).toMatch(/web-config also changed in the window/);
  });

  it('proposes nothing for info observations, or when the map is already back to the previous data', () => {
    const f = facts([version('12', T0 - 20 * MIN, 'changed', BAD, GOOD), version('7', T0 - 180 * MIN, 'initial', GOOD)]);
    expect(planConfigRevert({ observation: observation({ severity: 'info' }), configs: [f], sloP99Ms: 250 })).toBeNull();
    const reverted = facts([version('13', T0 - 2 * MIN, 'changed', GOOD, BAD), version('12', T0 - 20 * MIN, 'changed', BAD, GOOD), version('7', T0 - 180 * MIN, 'initial', GOOD)]);
    // Both changes are in the window: the state before the earliest is what the map holds now.
    expect(planConfigRevert({ observation: observation(), configs: [reverted], sloP99Ms: 250 })).toBeNull();
  });
});
