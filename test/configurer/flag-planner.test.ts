// Configurer's flag planner as a pure function: which flag change is a suspect (in the hour before
// the incident, not after the observation, not already put back), what setting the revert restores
// (the one before the earliest change in the window), and the exact set_flag calls it proposes.
import { describe, expect, it } from 'vitest';
import { EVENT_VERSION, type Observation } from '../../src/contracts/events.ts';
import { flagRevertCandidates, suspectFlagChanges, type FlagFacts } from '../../agents/configurer/flag-planner.ts';
import type { FlagHistoryView, FlagSetting, FlagVersion } from '../../agents/configurer/flag-views.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
const OFF: FlagSetting = { state: 'ENABLED', default_variant: 'off' };
const ON: FlagSetting = { state: 'ENABLED', default_variant: 'on' };
const DISABLED: FlagSetting = { state: 'DISABLED', default_variant: 'off' };

const version = (min: number, before: FlagSetting | null, after: FlagSetting, rv: string): FlagVersion => ({
  resource_version: rv, observed_at: at(min), kind: before === null ? 'initial' : 'changed', before, after, definition: { variants: { on: true, off: false } },
});
const history = (flag: string, versions: FlagVersion[]): FlagHistoryView => ({ namespace: 'acme-prod', config_map: 'orders-flags', flag, tracking_since: at(-600), versions });
const facts = (flag: string, current: FlagSetting, versions: FlagVersion[]): FlagFacts => ({
  config_map: 'orders-flags', referenced_by: ['orders'], flag, current, served_value: current.state === 'ENABLED' ? current.default_variant === 'on' : null, history: history(flag, versions),
});
const obs = (min: number): Observation => ({
  id: 'obs-1', v: EVENT_VERSION, ts: at(min), incident_id: 'inc-1', type: 'observation', agent: 'watchtower', tenant: 'acme', namespace: 'acme-prod',
  severity: 'critical', summary: 'p99 of orders', target: { kind: 'Deployment', name: 'orders' },
  signals: [{ metric: 'http_request_duration_p99_ms', target: 'orders', value: 1400, baseline: 180, change_pct: 677, unit: 'ms' }],
});

describe('flag planner', () => {
  it('restores the setting before the earliest change in the window, and ignores changes after the observation', () => {
    const versions = [version(12, ON, OFF, '9'), version(5, DISABLED, ON, '8'), version(-30, OFF, DISABLED, '7'), version(-600, null, OFF, '1')];
    const s = suspectFlagChanges(history('f', versions), T0 - 60 * 60_000, T0 + 10 * 60_000);
    expect(s?.changes.map((c) => c.resource_version)).toEqual(['8', '7']);
    expect(s?.previous).toEqual(OFF);
  });

  it('proposes set_flag with only the fields that change, expected = now, and the compensation that re-applies the flip', () => {
    const [p, ...rest] = flagRevertCandidates({ observation: obs(8), flags: [facts('dynamic-pricing', ON, [version(5, DISABLED, ON, '8'), version(-600, null, DISABLED, '1')])], sloP99Ms: 500 });
    expect(rest).toEqual([]);
    expect(p).toMatchObject({
      action: 'set_feature_flag',
      tool_call: { server: 'feature-flags', tool: 'set_flag', args: { namespace: 'acme-prod', config_map: 'orders-flags', flag: 'dynamic-pricing', state: 'DISABLED', default_variant: 'off', expected: ON } },
      compensating_action: { tool: 'set_flag', args: { state: 'ENABLED', default_variant: 'on', expected: DISABLED } },
      blast_radius: { tenants: 1, services: 1, capacity_change_pct: 0 },
      verification: { metric: 'http_request_duration_p99_ms', slo_threshold: 500 },
    });
    expect(p!.reasoning[1]).toBe("feature flag dynamic-pricing (orders-flags) changed 3 min before the incident (seen 10:05:00 UTC, resourceVersion 8): DISABLED (default variant off) → serving 'on'");
  });

  it('takes the flag changed last first, naming the other; nothing for a change too old, an initial version, or a flag already put back', () => {
    const a = facts('a', ON, [version(2, OFF, ON, '5')]);
    const b = facts('b', ON, [version(6, OFF, ON, '6')]);
    const [first, second] = flagRevertCandidates({ observation: obs(8), flags: [a, b], sloP99Ms: 500 });
    expect([first!.params['flag'], second!.params['flag']]).toEqual(['b', 'a']);
    expect(first!.reasoning.some((l) => l.startsWith('flag a (orders-flags) also changed in the window'))).toBe(true);

    expect(flagRevertCandidates({ observation: obs(80), flags: [a], sloP99Ms: 500 })).toEqual([]);
    expect(flagRevertCandidates({ observation: obs(8), flags: [facts('c', OFF, [version(-600, null, OFF, '1')])], sloP99Ms: 500 })).toEqual([]);
    expect(flagRevertCandidates({ observation: obs(8), flags: [facts('d', OFF, [version(6, ON, OFF, '7'), version(4, OFF, ON, '6')])], sloP99Ms: 500 })).toEqual([]);
    expect(flagRevertCandidates({ observation: { ...obs(8), severity: 'info' }, flags: [b], sloP99Ms: 500 })).toEqual([]);
  });
});
