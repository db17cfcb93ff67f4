// Tenant isolation for PromQL (DESIGN §4): a query may run for a tenant only if every series
// selector in it — instant or range, however deeply nested, on either side of `or`, inside any
// function — carries a matcher that confines it to the tenant: `namespace="x"` or
// `namespace=~"a|b"` with every alternative one of the tenant's namespaces, or `tenant="t"` (or
// `tenant=~"t"`) for one of its tenants. Matchers of one selector are ANDed, so one confining matcher
// is enough, whatever the others say.
//
// It is a pure check that fails closed: a query it cannot parse, a regex it cannot prove confined (any
// metacharacter besides the alternation of plain names, an empty alternative that would match series
// without the label), a selector shape it does not recognise — all refused. It checks any PromQL the
// official grammar accepts, not only the twin's subset, because the Prometheus MCP server sends the
// same queries to a real Prometheus. It must never evaluate a query or do I/O.
import type { SyntaxNode } from '@lezer/common';
import { GovernorError } from '../../core/errors.ts';
import type { LabelMatcher } from './labels.ts';
import { parseTree, selectorMatchers } from './promql-parser.ts';

export interface TenantScope {
  /** The namespaces the session may read. */
  namespaces: readonly string[];
  /** Tenant names whose `tenant` label confines a selector too. */
  tenants?: readonly string[];
}

export type TenantCheck =
  | { ok: true; selectors: number }
  | { ok: false; reason: string; selector?: string };

/** Whether every selector in the query is confined to the scope (namespaces, or a scope object). */
export function requireTenantMatcher(query: string, scope: readonly string[] | TenantScope): TenantCheck {
  const s: TenantScope = Array.isArray(scope) ? { namespaces: scope as readonly string[] } : (scope as TenantScope);
  const namespaces = new Set(s.namespaces);
  const tenants = new Set(s.tenants ?? []);
  let tree;
  try {
    tree = parseTree(query);
  } catch (err) {
    return { ok: false, reason: `the query does not parse: ${(err as Error).message}` };
  }
  let selectors = 0;
  let failure: TenantCheck | undefined;
  const cursor = tree.cursor();
  do {
    const n = cursor.node;
    if (n.name === 'VectorSelector') {
      selectors++;
      const text = query.slice(n.from, n.to);
      let matchers: LabelMatcher[];
      try {
        matchers = selectorMatchers(query, n);
      } catch (err) {
        failure = { ok: false, reason: `cannot read the selector: ${(err as Error).message}`, selector: text };
        break;
      }
      if (!matchers.some((m) => confines(m, namespaces, tenants))) {
        failure = {
          ok: false,
          reason: `selector ${text} is not confined to the tenant: it needs namespace="…" or namespace=~"a|b" naming only ${describe(s)}`,
          selector: text,
        };
        break;
      }
    } else if ((n.name === 'Identifier' || n.name === 'LabelMatchers' || n.name === 'MetricName') && !insideSelector(n)) {
      // A series reference the grammar placed outside a VectorSelector: not one we can vouch for.
      failure = { ok: false, reason: `unrecognised series reference ${JSON.stringify(query.slice(n.from, n.to))}` };
      break;
    }
  } while (cursor.next());
  return failure ?? { ok: true, selectors };
}

/** requireTenantMatcher as a guard: throws GovernorError tenant_forbidden (terminal) on refusal. */
export function assertTenantMatcher(query: string, scope: readonly string[] | TenantScope): void {
  const r = requireTenantMatcher(query, scope);
  if (!r.ok) throw new GovernorError('tenant_forbidden', r.reason, { details: { selector: r.selector } });
}

function insideSelector(n: SyntaxNode): boolean {
  for (let p = n.parent; p; p = p.parent) if (p.name === 'VectorSelector') return true;
  return false;
}

function describe(s: TenantScope): string {
  const ns = s.namespaces.map((n) => JSON.stringify(n)).join(', ') || '(none)';
  const t = s.tenants?.length ? ` (or tenant=${s.tenants.map((x) => JSON.stringify(x)).join(' / ')})` : '';
  return `${ns}${t}`;
}

function confines(m: LabelMatcher, namespaces: ReadonlySet<string>, tenants: ReadonlySet<string>): boolean {
  const allowed = m.name === 'namespace' ? namespaces : m.name === 'tenant' ? tenants : undefined;
  if (!allowed) return false;
  if (m.op === '=') return m.value !== '' && allowed.has(m.value);
  if (m.op === '=~') {
    const names = literalAlternatives(m.value);
    return names !== undefined && names.length > 0 && names.every((x) => x !== '' && allowed.has(x));
  }
  return false; // != and !~ exclude, they never confine
}

/**
 * The strings a regex matches, if it is nothing but an alternation of literals (optionally in one
 * group, optionally with ^ and $); undefined for anything else.
 */
export function literalAlternatives(re: string): string[] | undefined {
  let body = re;
  if (body.startsWith('^')) body = body.slice(1);
  if (body.endsWith('$') && !body.endsWith('\\$')) body = body.slice(0, -1);
  const group = /^\((?:\?:)?(.*)\)$/s.exec(body);
  if (group && balanced(group[1]!)) body = group[1]!;
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\') {
      const next = body[i + 1];
      // An escaped punctuation character is itself; \d, \w, \n, \x… are classes or codes: refuse.
      if (next === undefined || /[0-9A-Za-z]/.test(next)) return undefined;
      cur += next;
      i++;
    } else if (ch === '|') {
      out.push(cur);
      cur = '';
    } else if ('.*+?()[]{}^$'.includes(ch)) {
      return undefined;
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function balanced(s: string): boolean {
  // The outer group only wraps everything if no ")" inside closes it early.
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth < 0) return false;
  }
  return depth === 0;
}
