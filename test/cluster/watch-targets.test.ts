// What Governor watches, from a cluster's own objects (DESIGN §8), as a pure function; and every
// scenario's twin carries the annotations and labels that make discovery find exactly its targets.
import type { V1Deployment, V1Namespace } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.ts';
import { discoverTargets } from '../../src/cluster/watch-targets.ts';
import { SCENARIOS, buildScenario } from '../../src/twin/scenarios/index.ts';

const ns = (name: string, labels: Record<string, string> = {}): V1Namespace => ({ metadata: { name, labels } });
const dep = (namespace: string, name: string, annotations: Record<string, string> = {}): V1Deployment => ({ metadata: { namespace, name, annotations } });
const tenants = { acme: { namespaces: ['acme-prod', 'acme-dev'] }, 'globex-prod': { namespaces: ['globex-prod'] } };

describe('discoverTargets', () => {
  it('watches annotated Deployments only, with the tenant and environment of their namespace', () => {
    const d = discoverTargets(
      [ns('acme-prod', { 'governor.io/tenant': 'acme' }), ns('acme-dev', { 'governor.io/tenant': 'acme', 'governor.io/environment': 'development' }), ns('globex-prod')],
      [
        dep('acme-prod', 'checkout', { 'governor.io/slo-p99-ms': '500', 'governor.io/slo-error-ratio': '0.001' }),
        dep('acme-prod', 'cart'),
        dep('acme-dev', 'checkout', { 'governor.io/slo-p99-ms': '900' }),
        // No tenant label: the namespace's own name is the tenant.
        dep('globex-prod', 'storefront', { 'governor.io/slo-p99-ms': '250' }),
      ],
      tenants,
    );
    expect(d.targets).toEqual([
      { tenant: 'acme', namespace: 'acme-dev', deployment: 'checkout', environment: 'development', sloP99Ms: 900 },
      { tenant: 'acme', namespace: 'acme-prod', deployment: 'checkout', environment: 'production', sloP99Ms: 500, sloErrorRatio: 0.001 },
      { tenant: 'globex-prod', namespace: 'globex-prod', deployment: 'storefront', environment: 'production', sloP99Ms: 250 },
    ]);
    expect(d.problems).toEqual([]);
  });

  it('reports what it cannot read, and never guesses: bad SLO, bad ratio, bad environment (production), unknown tenant, a namespace not the tenant\'s', () => {
    const d = discoverTargets(
      [ns('acme-prod', { 'governor.io/tenant': 'acme', 'governor.io/environment': 'prod' }), ns('initech', { 'governor.io/tenant': 'initech' }), ns('shadow', { 'governor.io/tenant': 'acme' })],
      [
        dep('acme-prod', 'a', { 'governor.io/slo-p99-ms': 'fast' }),
        dep('acme-prod', 'b', { 'governor.io/slo-p99-ms': '-5' }),
        dep('acme-prod', 'c', { 'governor.io/slo-p99-ms': '300', 'governor.io/slo-error-ratio': '2' }),
        dep('initech', 'tps', { 'governor.io/slo-p99-ms': '300' }),
        dep('shadow', 'x', { 'governor.io/slo-p99-ms': '300' }),
      ],
      tenants,
    );
    expect(d.targets).toEqual([
      { tenant: 'acme', namespace: 'acme-prod', deployment: 'c', environment: 'production', sloP99Ms: 300 },
      { tenant: 'initech', namespace: 'initech', deployment: 'tps', environment: 'production', sloP99Ms: 300, assumedTier: 'restricted' },
    ]);
    expect(d.unknownTenants).toEqual(['initech']);
    const text = d.problems.join('\n');
    expect(text).toMatch(/namespace acme-prod: governor.io\/environment=prod is not one of production, staging, development; treated as production/);
    expect(text).toMatch(/acme-prod\/a: governor.io\/slo-p99-ms="fast" is not a positive number/);
    expect(text).toMatch(/acme-prod\/b: governor.io\/slo-p99-ms="-5"/);
    expect(text).toMatch(/acme-prod\/c: governor.io\/slo-error-ratio="2" is not a ratio between 0 and 1; ignored/);
    expect(text).toMatch(/initech\/tps: tenant initech is not in the tenants file; watched under the most restrictive tier 'restricted'/);
    expect(text).toMatch(/shadow\/x: tenant acme's namespaces in the tenants file \(acme-prod, acme-dev\) do not include shadow; not watched/);
  });
});

describe('a tenant the tenants file does not name', () => {
  it('is watched under the most restrictive tier, labelled or not, and said so', () => {
    const d = discoverTargets(
      [ns('zeta-prod', { 'governor.io/tenant': 'zeta', 'governor.io/environment': 'staging' }), ns('loose')],
      [dep('zeta-prod', 'api', { 'governor.io/slo-p99-ms': '400' }), dep('loose', 'worker', { 'governor.io/slo-p99-ms': '900' })],
      tenants,
    );
    expect(d.targets).toEqual([
      { tenant: 'loose', namespace: 'loose', deployment: 'worker', environment: 'production', sloP99Ms: 900, assumedTier: 'restricted' },
      { tenant: 'zeta', namespace: 'zeta-prod', deployment: 'api', environment: 'staging', sloP99Ms: 400, assumedTier: 'restricted' },
    ]);
    expect(d.unknownTenants).toEqual(['loose', 'zeta']);
    expect(d.problems).toEqual([
      "zeta-prod/api: tenant zeta is not in the tenants file; watched under the most restrictive tier 'restricted' (every action needs a human approval)",
      "loose/worker: tenant loose is not in the tenants file; watched under the most restrictive tier 'restricted' (every action needs a human approval)",
    ]);
  });

  it('never takes a namespace the file gives to a known tenant, whatever its label says', () => {
    const d = discoverTargets([ns('acme-prod', { 'governor.io/tenant': 'mallory' })], [dep('acme-prod', 'checkout', { 'governor.io/slo-p99-ms': '500' })], tenants);
    expect(d.targets).toEqual([]);
    expect(d.problems).toEqual(['acme-prod/checkout: its namespace belongs to tenant acme in the tenants file, but is labelled for mallory; not watched']);
    // Unlabelled, the namespace's own name would be its tenant: the operator is told which label to set.
    const unlabelled = discoverTargets([ns('acme-dev')], [dep('acme-dev', 'checkout', { 'governor.io/slo-p99-ms': '500' })], tenants);
    expect(unlabelled.targets).toEqual([]);
    expect(unlabelled.problems).toEqual([
      'acme-dev/checkout: its namespace has no governor.io/tenant label, so its tenant would be acme-dev, but the tenants file gives it to acme (label it governor.io/tenant=acme); not watched',
    ]);
  });

  it('stays unknown once Governor has assumed an entry for it (the record the agents share)', () => {
    const withAssumed = { ...tenants, zeta: { namespaces: ['zeta-prod'], assumed: { tier: 'restricted' } } };
    const d = discoverTargets([ns('zeta-prod', { 'governor.io/tenant': 'zeta' })], [dep('zeta-prod', 'api', { 'governor.io/slo-p99-ms': '400' })], withAssumed);
    expect(d.targets).toEqual([{ tenant: 'zeta', namespace: 'zeta-prod', deployment: 'api', environment: 'production', sloP99Ms: 400, assumedTier: 'restricted' }]);
  });
});

describe('the twin is such a cluster', () => {
  it.each([...SCENARIOS])('scenario %s: discovery from the twin\'s objects finds exactly its targets', (name) => {
    const s = buildScenario(name, new VirtualClock(Date.parse('2026-11-24T10:00:00Z')));
    const d = discoverTargets(s.twin.namespaces(), s.twin.listDeployments(), s.tenants);
    expect(d.problems).toEqual([]);
    expect(d.targets.map(({ tenant, namespace, deployment, sloP99Ms }) => ({ tenant, namespace, deployment, sloP99Ms })).sort((a, b) => `${a.namespace}/${a.deployment}`.localeCompare(`${b.namespace}/${b.deployment}`)))
      .toEqual([...s.targets].sort((a, b) => `${a.namespace}/${a.deployment}`.localeCompare(`${b.namespace}/${b.deployment}`)));
  });
});
