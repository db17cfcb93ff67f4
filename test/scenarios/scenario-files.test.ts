// The scenario files (scenarios/*.json): every one parses, names what it needs, and a malformed file
// is refused with an error that names the file and the field.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { DEFAULT_SCENARIOS_DIR, SCENARIOS, buildScenario, loadScenarioSpec } from '../../src/twin/scenarios/index.ts';
import { parseScenarioSpec } from '../../src/twin/scenarios/scenario-file.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const REQUIRED = ['jvm-heap-regression', 'traffic-surge', 'noisy-neighbor', 'memory-leak', 'bad-config-push', 'node-pressure', 'cost-overprovisioned', 'quiet-day', 'steady-state'];

const base = () => JSON.parse(readFileSync(join(DEFAULT_SCENARIOS_DIR, 'traffic-surge.json'), 'utf8'));

function errorOf(fn: () => unknown): GovernorError {
  try {
    fn();
  } catch (err) {
    return err as GovernorError;
  }
  throw new Error('expected an error');
}

describe('scenario files', () => {
  it('are the names the CLI accepts, the issue\'s scenarios included', () => {
    for (const n of REQUIRED) expect(SCENARIOS).toContain(n);
  });

  it.each(REQUIRED)('%s parses, watches at least one service and declares its outcome', (name) => {
    const spec = loadScenarioSpec(name);
    expect(spec.name).toBe(name);
    expect(spec.description.length).toBeGreaterThan(80);
    expect(spec.tenants.some((t) => t.namespaces.some((n) => n.deployments.some((d) => d.watch)))).toBe(true);
    expect(typeof spec.expect.incident).toBe('boolean');
  });

  it('builds the gateway\'s tenants from the file, validated like config/tenants.json', () => {
    const s = buildScenario('noisy-neighbor', new VirtualClock(START));
    expect(Object.keys(s.tenants).sort()).toEqual(['acme', 'globex']);
    expect(s.tenants['globex']).toMatchObject({ tier: 'standard', environment: 'production', namespaces: ['globex-batch'], max_replicas: 24 });
    expect(s.targets).toEqual([{ tenant: 'acme', namespace: 'acme-prod', deployment: 'search-api', sloP99Ms: 400 }]);
    expect(s.spec.expect.required_actions).toEqual([{ agent: 'arbitrator', action: 'throttle_tenant', executed: true }]);
  });

  it('refuses an unknown scenario, listing the known ones', () => {
    const e = errorOf(() => loadScenarioSpec('no-such-day'));
    expect(e.code).toBe('config_invalid');
    expect(e.message).toMatch(/unknown scenario 'no-such-day'; known: .*quiet-day/);
  });

  it('names the file and every bad field of a malformed scenario', () => {
    const raw = base();
    delete raw.seed;
    raw.tenants[0].tier = 'platinum';
    raw.tenants[0].namespaces[0].deployments[0].replicas = -1;
    raw.faults[0].kind = 'meteor_strike';
    raw.expect.max_observation_severity = 'loud';
    const e = errorOf(() => parseScenarioSpec(raw, 'scenarios/broken.json'));
    expect(e.code).toBe('config_invalid');
    expect(e.message).toMatch(/^scenario scenarios\/broken\.json is invalid:/);
    expect(e.message).toContain('  - seed: ');
    expect(e.message).toContain('  - tenants.0.tier: ');
    expect(e.message).toContain('  - tenants.0.namespaces.0.deployments.0.replicas: ');
    expect(e.message).toContain('  - faults.0.kind: ');
    expect(e.message).toContain('  - expect.max_observation_severity: ');
  });

  it('checks references between parts of the file', () => {
    const raw = base();
    raw.faults[0].target = 'acme-prod/nonexistent';
    raw.tenants[0].namespaces[0].deployments[0].config = { config_map: 'missing', effect: 'flux-capacitor' };
    raw.tenants[0].namespaces[0].deployments[0].watch = false;
    const e = errorOf(() => parseScenarioSpec(raw, 'x.json'));
    expect(e.message).toContain("tenants.0.namespaces.0.deployments.0.config.config_map: no config map 'missing' in namespace 'acme-prod'");
    expect(e.message).toMatch(/config\.effect: unknown effect 'flux-capacitor'; known: db-connection-pool/);
    expect(e.message).toContain("faults.0: no deployment 'acme-prod/nonexistent' in the scenario");
    expect(e.message).toContain('no deployment has "watch": true');
  });

  it('refuses a file whose tenants the gateway would refuse', () => {
    const raw = base();
    raw.tenants.push({ ...raw.tenants[0], id: 'copycat' });
    const e = errorOf(() => parseScenarioSpec(raw, 'dup.json'));
    expect(e.message).toContain("namespace 'acme-prod' is declared twice");
  });

  it('reads a directory of files: unreadable JSON and a name that does not match are errors naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    writeFileSync(join(dir, 'half.json'), '{ "name": ');
    expect(errorOf(() => loadScenarioSpec('half', dir)).message).toMatch(/cannot read scenario file .*half\.json/);
    writeFileSync(join(dir, 'renamed.json'), JSON.stringify(base()));
    expect(errorOf(() => loadScenarioSpec('renamed', dir)).message).toMatch(/renamed\.json is invalid:\n {2}- name: 'traffic-surge' does not match the file name 'renamed'/);
  });
});
