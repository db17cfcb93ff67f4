// The scenario files (scenarios/*.json, and the tests' fixtures in test/fixtures/scenarios/): every
// one parses, names what it needs, and a malformed file is refused with an error that names the file
// and the field.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { GovernorError } from '../../src/core/errors.ts';
import { DEFAULT_SCENARIOS_DIR, SCENARIOS, buildScenario, loadScenarioSpec } from '../../src/twin/scenarios/index.ts';
import { parseScenarioSpec } from '../../src/twin/scenarios/scenario-file.ts';
import { flipFlag } from '../../src/twin/scenarios/config-effects.ts';
import { fixturePath } from '../fixtures/scenario.ts';

const START = Date.parse('2026-11-24T10:00:00Z');
const REQUIRED = ['jvm-heap-regression', 'traffic-surge', 'noisy-neighbor', 'memory-leak', 'bad-config-push', 'flag-regression', 'node-pressure', 'cost-overprovisioned', 'quiet-day', 'steady-state', 'cpu-throttling'];

const base = () => JSON.parse(readFileSync(join(DEFAULT_SCENARIOS_DIR, 'traffic-surge.json'), 'utf8'));
const FIXTURES = readdirSync(join(fixturePath('x'), '..')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));

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

  it('names a name that is not the file\'s together with every other problem, in one refusal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    const raw = base();
    delete raw.seed;
    raw.faults[0].target = 'acme-prod/nonexistent';
    writeFileSync(join(dir, 'ours.json'), JSON.stringify(raw));
    const e = errorOf(() => loadScenarioSpec(join(dir, 'ours.json')));
    expect(e.message).toMatch(/ours\.json is invalid:\n {2}- name: 'traffic-surge' does not match the file name 'ours'\n {2}- seed: /);
    raw.seed = 1;
    writeFileSync(join(dir, 'ours.json'), JSON.stringify(raw));
    const cross = errorOf(() => loadScenarioSpec(join(dir, 'ours.json')));
    expect(cross.message).toContain("- name: 'traffic-surge' does not match the file name 'ours'");
    expect(cross.message).toContain("- faults.0: no deployment 'acme-prod/nonexistent' in the scenario");
  });

  it('reads a scenario by the path of its file, wherever it is, under its file\'s name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    const raw = base();
    raw.name = 'elsewhere';
    writeFileSync(join(dir, 'elsewhere.json'), JSON.stringify(raw));
    const s = buildScenario(join(dir, 'elsewhere.json'), new VirtualClock(START));
    expect(s.name).toBe('elsewhere');
    expect(s.targets).toEqual(buildScenario('traffic-surge', new VirtualClock(START)).targets);
    expect(errorOf(() => loadScenarioSpec(join(dir, 'missing.json'))).message).toMatch(/cannot read scenario file .*missing\.json/);
  });
});

describe('the tests\' fixture scenarios (test/fixtures/scenarios/)', () => {
  it.each(FIXTURES)('%s parses and builds', (name) => {
    const s = buildScenario(fixturePath(name), new VirtualClock(START));
    expect(s.name).toBe(name);
    expect(s.spec.description.length).toBeGreaterThan(80);
    expect(s.twin.listDeployments().length).toBeGreaterThan(0);
  });
});

describe('the scenario file format\'s node pools and config references', () => {
  const withNodes = (nodes: unknown[]) => ({ ...base(), nodes });
  const pool = { pool: 'web', cpu: 8, memory: '16Gi' };

  it('names nodes by count or by name, never both, and never twice', () => {
    const e = errorOf(() =>
      parseScenarioSpec(withNodes([{ ...pool }, { ...pool, pool: 'db', count: 2, names: ['db-a'] }, { ...pool, pool: 'x', names: ['n1'] }, { ...pool, pool: 'y', names: ['n1'] }]), 'nodes.json'),
    );
    expect(e.message).toContain('  - nodes.0: give exactly one of count, names');
    expect(e.message).toContain('  - nodes.1: give exactly one of count, names');
    const twice = errorOf(() => parseScenarioSpec(withNodes([{ ...pool, names: ['n1', 'n2'] }, { ...pool, pool: 'more', names: ['n2'] }]), 'nodes.json'));
    expect(twice.message).toContain("nodes: node 'n2' is declared twice");
  });

  it('adds a pool that joins at the start once the deployments are placed, and one that joins later', async () => {
    const clock = new VirtualClock(START);
    const raw = withNodes([
      { ...pool, names: ['web-a', 'web-b'] },
      { ...pool, pool: 'spare', names: ['spare-a'], added_at_s: 0 },
      { ...pool, pool: 'later', count: 1, added_at_s: 120 },
    ]);
    raw.faults = [];
    raw.expect = { incident: false };
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    writeFileSync(join(dir, 'traffic-surge.json'), JSON.stringify(raw));
    const s = buildScenario(join(dir, 'traffic-surge.json'), clock);
    expect(s.twin.listNodes().map((n) => n.metadata.name)).toEqual(['web-a', 'web-b', 'spare-a']);
    // Everything was placed before the spare node joined: it starts empty.
    expect(s.twin.listPods().filter((p) => p.spec.nodeName === 'spare-a')).toEqual([]);
    expect(s.twin.getNode('spare-a')!.metadata.labels).toMatchObject({ 'governor.io/node-pool': 'spare' });
    await clock.advance(120_000);
    expect(s.twin.getNode('later-01')!.metadata.creationTimestamp).toBe(new Date(START + 120_000).toISOString());
  });

  it('reads single config keys into environment variables, with or without a named effect', () => {
    const raw = base();
    const ns = raw.tenants[0].namespaces[0];
    ns.config_maps = [{ name: 'app-config', data: { 'pool.size': '8' } }];
    ns.deployments[0].config = { config_map: 'app-config', env: { POOL_SIZE: 'pool.size' } };
    ns.deployments[1].config = { config_map: 'app-config', env: { 'not a name': 'pool.size' } };
    const e = errorOf(() => parseScenarioSpec(raw, 'config.json'));
    expect(e.message).toContain('  - tenants.0.namespaces.0.deployments.1.config.env.not a name: ');
    delete ns.deployments[1].config;
    const dir = mkdtempSync(join(tmpdir(), 'scenarios-'));
    writeFileSync(join(dir, 'traffic-surge.json'), JSON.stringify(raw));
    const s = buildScenario(join(dir, 'traffic-surge.json'), new VirtualClock(START));
    const d = ns.deployments[0].name as string;
    const container = s.twin.getDeployment(ns.name, d)!.spec.template.spec.containers[0]!;
    expect(container.env).toContainEqual({ name: 'POOL_SIZE', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'pool.size' } } });
    expect(container['envFrom']).toBeUndefined();
  });
});

describe('feature flags in scenario files', () => {
  it('flag-regression: the flip at 2 min switches dynamic-pricing on and the service slows; the flag off again, it recovers', async () => {
    const clock = new VirtualClock(START);
    const s = buildScenario('flag-regression', clock);
    s.twin.start(1_000);
    try {
      await clock.advance(60_000);
      const healthy = s.twin.serviceMetrics('acme-prod', 'orders').p99_ms;
      expect(healthy).toBeLessThan(500);
      await clock.advance(120_000);
      const cm = s.twin.getConfigMap('acme-prod', 'orders-flags')!;
      expect(JSON.parse(cm.data!['flags.flagd.json']!).flags['dynamic-pricing']).toMatchObject({ state: 'ENABLED', defaultVariant: 'on' });
      expect(cm.metadata.annotations?.['kubernetes.io/change-cause']).toMatch(/CHG-5120/);
      expect(s.twin.serviceMetrics('acme-prod', 'orders').p99_ms).toBeGreaterThan(500);
      s.twin.replaceConfigMap('acme-prod', 'orders-flags', { ...cm, data: { 'flags.flagd.json': flipFlag(cm.data!['flags.flagd.json']!, 'dynamic-pricing', 'DISABLED', undefined) } });
      await clock.advance(60_000);
      expect(s.twin.serviceMetrics('acme-prod', 'orders').p99_ms).toBeLessThan(healthy * 1.3);
    } finally {
      s.twin.stop();
    }
  });

  it('refuses a flip of a flag or variant the file does not define, and a feature-flag effect without its flag', () => {
    const raw = JSON.parse(readFileSync(join(DEFAULT_SCENARIOS_DIR, 'flag-regression.json'), 'utf8'));
    raw.faults = [
      { ...raw.faults[0], flag: 'no-such-flag' },
      { ...raw.faults[0], default_variant: 'maybe' },
      { ...raw.faults[0], config_map: 'nope' },
      { kind: 'feature_flag_flip', namespace: 'acme-prod', config_map: 'orders-flags', flag: 'dynamic-pricing', at_s: 1, change_cause: 'x' },
    ];
    delete raw.tenants[0].namespaces[0].deployments[0].config.flag;
    const e = errorOf(() => parseScenarioSpec(raw, 'scenarios/flag-regression.json'));
    expect(e.message).toContain("faults.3: give state, default_variant or both");
    delete raw.faults[3];
    raw.faults = raw.faults.filter(Boolean);
    const e2 = errorOf(() => parseScenarioSpec(raw, 'scenarios/flag-regression.json'));
    expect(e2.message).toContain("faults.0.flag: no flag 'no-such-flag' in acme-prod/orders-flags");
    expect(e2.message).toContain("faults.1.default_variant: flag 'dynamic-pricing' has no variant 'maybe'");
    expect(e2.message).toContain("faults.2.config_map: no config map 'nope' in namespace 'acme-prod'");
    expect(e2.message).toContain('deployments.0.config.flag: the feature-flag effect needs the flag it models');
  });
});

