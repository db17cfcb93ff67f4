// requireTenantMatcher: queries confined to the tenant pass, and no selector escapes — not an
// unrestricted one beside a restricted one, not a regex that reaches other namespaces or series
// without a namespace, not one hidden in a subquery, a comment or a second function argument. Then a
// randomised check against the store itself: whenever the check says yes, every selector of the
// query selects only the tenant's series.
import { describe, expect, it } from 'vitest';
import { GovernorError } from '../../../src/core/errors.ts';
import { assertTenantMatcher, requireTenantMatcher } from '../../../src/twin/metrics/query-api.ts';
import { literalAlternatives } from '../../../src/twin/metrics/tenant-matcher.ts';
import { SeriesStore } from '../../../src/twin/metrics/series-store.ts';
import { formatMatcher, type LabelMatcher } from '../../../src/twin/metrics/labels.ts';
import { Prng } from '../../../src/twin/prng.ts';

const scope = { namespaces: ['acme-prod', 'acme-staging'], tenants: ['acme'] };

describe('requireTenantMatcher', () => {
  it.each([
    'kube_deployment_spec_replicas{namespace="acme-prod"}',
    'rate(http_requests_total{namespace="acme-prod"}[5m])',
    'sum by (deployment) (rate(x{namespace=~"acme-prod|acme-staging"}[5m]))',
    'x{namespace=~"(acme-prod|acme-staging)"}',
    'x{namespace=~"(?:acme-prod)"}',
    'x{namespace=~"^acme-prod$"}',
    'x{namespace=~"acme\\\\-prod"}',
    'x{namespace="acme\\x2dprod"}', // the same string, escaped: Prometheus reads "acme-prod" too
    "x{namespace='acme-prod'}",
    'x{namespace=`acme-prod`}',
    'x{tenant="acme"}',
    'x{tenant=~"acme"}',
    '{__name__=~".+", namespace="acme-prod"}',
    '{"x", "namespace"="acme-prod"}',
    'x{namespace="acme-prod", namespace!="globex-prod", pod=~".*"}',
    'x{namespace="acme-prod"} / on(pod) y{tenant="acme"}',
    'x{namespace="acme-prod"} or y{namespace="acme-staging"}',
    'max_over_time(x{namespace="acme-prod"}[5m:1m])',
    'x{namespace="acme-prod"}[5m] offset 1h',
    'x{namespace="acme-prod"} @ end()',
    'label_replace(x{namespace="acme-prod"}, "namespace", "globex-prod", "", "")',
    'histogram_quantile(0.99, sum by (le) (rate(h_bucket{namespace="acme-prod"}[5m])))',
    'x{namespace="acme-prod"} # a comment',
  ])('accepts %s', (q) => {
    const r = requireTenantMatcher(q, scope);
    expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
  });

  it('accepts a query with no selector at all (it reads no series)', () => {
    expect(requireTenantMatcher('vector(1) + 2', scope)).toEqual({ ok: true, selectors: 0 });
    expect(requireTenantMatcher('x{namespace="acme-prod"} or y{tenant="acme"}', scope)).toEqual({ ok: true, selectors: 2 });
  });

  it.each([
    ['x', 'x'],
    ['{__name__=~".+"}', '{__name__=~".+"}'],
    ['x{namespace="acme-prod"} or y', 'y'],
    ['x{namespace="acme-prod"} # hidden?\nor y', 'y'],
    ['x{namespace="acme-prod"} and on() y', 'y'],
    ['x{namespace="acme-prod"} unless y{namespace="globex-prod"}', 'y{namespace="globex-prod"}'],
    ['sum(rate(x{namespace="acme-prod"}[5m])) / sum(rate(x[5m]))', 'x'],
    ['x{namespace="globex-prod"}', undefined],
    ['x{namespace=~"acme-.*"}', undefined],
    ['x{namespace=~"acme-prod.*"}', undefined],
    ['x{namespace=~"acme.prod"}', undefined],
    ['x{namespace=~"acme-pro[d]"}', undefined],
    ['x{namespace=~"acme-prod|globex-prod"}', undefined],
    ['x{namespace=~"acme-prod|"}', undefined], // the empty alternative matches series without a namespace
    ['x{namespace=~"(acme-prod)|(globex-prod)"}', undefined],
    ['x{namespace=~"(?i)ACME-PROD"}', undefined],
    ['x{namespace=~"acme-prod\\\\d"}', undefined],
    ['x{namespace!="globex-prod"}', undefined],
    ['x{namespace!~"globex-.*"}', undefined],
    ['x{namespace=""}', undefined],
    ['x{namespace="acme-prod\\u0000"}', undefined],
    ['x{tenant="globex"}', undefined],
    ['x{tenant=~".*"}', undefined],
    ['x{exported_namespace="acme-prod"}', undefined],
    ['x{Namespace="acme-prod"}', undefined],
    ['absent(x{namespace="globex-prod"})', undefined],
    ['max_over_time(x[5m:1m])', 'x'],
    ['count_values("v", x)', 'x'],
    ['info(x{namespace="acme-prod"}, {k8s_cluster_name=~".+"})', '{k8s_cluster_name=~".+"}'],
  ])('refuses %s', (q, selector) => {
    const r = requireTenantMatcher(q, scope);
    expect(r.ok, q).toBe(false);
    if (!r.ok && selector !== undefined) expect(r.selector).toBe(selector);
    if (!r.ok) expect(r.reason).toMatch(/not confined to the tenant/);
  });

  it('refuses what does not parse, and tenant="…" when the scope names no tenant', () => {
    expect(requireTenantMatcher('x{namespace="acme-prod"', scope)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not parse/) });
    expect(requireTenantMatcher('x{namespace="acme-prod"} or', scope)).toMatchObject({ ok: false });
    expect(requireTenantMatcher('x{namespace="acme-pr\\qod"}', scope)).toMatchObject({ ok: false });
    expect(requireTenantMatcher('', scope)).toMatchObject({ ok: false });
    expect(requireTenantMatcher('x{tenant="acme"}', ['acme-prod'])).toMatchObject({ ok: false });
    expect(requireTenantMatcher('x{namespace="acme-prod"}', ['acme-prod'])).toEqual({ ok: true, selectors: 1 });
    expect(requireTenantMatcher('x{namespace="acme-prod"}', [])).toMatchObject({ ok: false });
  });

  it('assertTenantMatcher throws a terminal tenant_forbidden error', () => {
    expect(() => assertTenantMatcher('x{namespace="acme-prod"}', scope)).not.toThrow();
    try {
      assertTenantMatcher('x{namespace="acme-prod"} or y', scope);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(GovernorError);
      expect((err as GovernorError).code).toBe('tenant_forbidden');
      expect((err as GovernorError).retryable).toBe(false);
    }
  });

  it('reads regexes as literal alternations only', () => {
    expect(literalAlternatives('a|b-c')).toEqual(['a', 'b-c']);
    expect(literalAlternatives('(?:a|b)')).toEqual(['a', 'b']);
    expect(literalAlternatives('^a\\.b$')).toEqual(['a.b']);
    expect(literalAlternatives('a|')).toEqual(['a', '']);
    for (const re of ['a.b', 'a+', '[ab]', 'a{2}', '(a)|(b)', 'a\\w', '(?i)a', 'a(b|c)']) expect(literalAlternatives(re), re).toBeUndefined();
  });
});

describe('requireTenantMatcher against the store', () => {
  it('never passes a query with a selector that reaches another namespace or a series without one', () => {
    const store = new SeriesStore();
    const ns = ['acme-prod', 'acme-staging', 'globex-prod', 'acme-prod-shadow', ''];
    store.append(
      1,
      ns.flatMap((n) =>
        ['x', 'y'].map((name) => ({
          labels: { __name__: name, namespace: n, tenant: n.startsWith('acme-prod-') ? 'globex' : n.split('-')[0]!, pod: `${name}-${n}` },
          value: 1,
        })),
      ),
    );
    const pool: LabelMatcher[] = [
      { name: 'namespace', op: '=', value: 'acme-prod' },
      { name: 'namespace', op: '=', value: 'globex-prod' },
      { name: 'namespace', op: '=', value: '' },
      { name: 'namespace', op: '!=', value: 'globex-prod' },
      { name: 'namespace', op: '=~', value: 'acme-prod|acme-staging' },
      { name: 'namespace', op: '=~', value: 'acme-prod.*' },
      { name: 'namespace', op: '=~', value: 'acme-prod|' },
      { name: 'namespace', op: '=~', value: '(acme-staging)' },
      { name: 'namespace', op: '!~', value: 'acme-.*' },
      { name: 'tenant', op: '=', value: 'acme' },
      { name: 'tenant', op: '=~', value: 'acme|globex' },
      { name: 'tenant', op: '!=', value: 'globex' },
      { name: 'pod', op: '=~', value: 'x-.*' },
      { name: 'pod', op: '!=', value: 'y-globex-prod' },
    ];
    const rng = new Prng(42);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.next() * xs.length)]!;
    let passed = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const selectors = Array.from({ length: 1 + Math.floor(rng.next() * 3) }, () => {
        const ms = Array.from({ length: Math.floor(rng.next() * 3) }, () => pick(pool));
        return [{ name: '__name__', op: '=', value: pick(['x', 'y']) }, ...ms] as LabelMatcher[];
      });
      const text = selectors.map((ms) => `{${ms.map(formatMatcher).join(', ')}}`);
      const query = text.length === 1 ? `sum(rate(${text[0]}[5m]))` : text.join(pick([' or ', ' and ', ' unless ', ' / ignoring(pod) ']));
      const r = requireTenantMatcher(query, scope);
      if (!r.ok) {
        refused++;
        continue;
      }
      passed++;
      for (const ms of selectors) {
        for (const s of store.select(ms)) expect(scope.namespaces, `${query} reaches ${JSON.stringify(s.labels)}`).toContain(s.labels.namespace);
      }
    }
    expect(passed).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });
});
