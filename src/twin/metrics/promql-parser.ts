// PromQL text → the small AST the twin's engine evaluates. The grammar is Prometheus's own (the
// official Lezer grammar, @prometheus-io/lezer-promql); this module walks its syntax tree, refuses
// what the engine does not implement with a "not supported" bad_data error that names the construct,
// and type-checks what it accepts with Prometheus's messages. It must never evaluate anything.
//
// Order of refusals, as in Prometheus: a syntax error first, then the subset, then types.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode, Tree } from '@lezer/common';
import { METRIC_NAME, isValidLabelName, matchesEmpty, compileRegex, type LabelMatcher, type MatchOp } from './labels.ts';
import { PromQLError, unsupported } from './promql-error.ts';

export type ValueType = 'scalar' | 'instant vector' | 'range vector' | 'string';

export interface NumberLiteral {
  kind: 'number';
  value: number;
}

export interface VectorSelector {
  kind: 'vector';
  /** Every matcher, the metric name as a `__name__` = matcher. */
  matchers: LabelMatcher[];
  offsetMs: number;
  text: string;
}

export interface MatrixSelector {
  kind: 'matrix';
  selector: VectorSelector;
  rangeMs: number;
  text: string;
}

export const RANGE_FUNCTIONS = [
  'rate',
  'irate',
  'increase',
  'delta',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'last_over_time',
] as const;
export type RangeFunction = (typeof RANGE_FUNCTIONS)[number];

export interface Call {
  kind: 'call';
  fn: RangeFunction;
  arg: MatrixSelector;
}

export const AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count'] as const;
export type AggregateOp = (typeof AGGREGATIONS)[number];

export interface Aggregate {
  kind: 'aggregate';
  op: AggregateOp;
  /** by (…) labels, or without (…) labels when `without`. */
  grouping: string[];
  without: boolean;
  expr: Expr;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface Binary {
  kind: 'binary';
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  /** on (…) / ignoring (…); absent: match on all labels but the metric name. */
  matching: { on: boolean; labels: string[] } | undefined;
}

export interface Unary {
  kind: 'unary';
  op: '-' | '+';
  expr: Expr;
}

export type Expr = NumberLiteral | VectorSelector | MatrixSelector | Call | Aggregate | Binary | Unary;

export const isComparison = (op: BinaryOp): op is ComparisonOp => ['==', '!=', '>', '<', '>=', '<='].includes(op);
export const isSetOp = (op: BinaryOp): op is SetOp => op === 'and' || op === 'or' || op === 'unless';

export function typeOf(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'vector':
    case 'call':
    case 'aggregate':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    case 'unary':
      return typeOf(e.expr);
    case 'binary':
      return typeOf(e.lhs) === 'scalar' && typeOf(e.rhs) === 'scalar' ? 'scalar' : 'instant vector';
  }
}

// ---- the syntax tree ------------------------------------------------------------------------

/** The Lezer tree of a query, or a Prometheus-style parse error. Shared with the tenant check. */
export function parseTree(query: string): Tree {
  if (query.replace(/#[^\n]*/g, '').trim() === '') throw new PromQLError('bad_data', '1:1: parse error: no expression found in input');
  const tree = parser.parse(query);
  let error: { from: number } | undefined;
  let unknownFn: string | undefined;
  tree.iterate({
    enter: (n) => {
      if (error) return false;
      if (n.type.isError) {
        error = { from: n.from };
        // An unknown function name parses as a metric name followed by a stray "(".
        const prev = n.node.prevSibling;
        if (prev?.name === 'Identifier' && query.slice(n.from, n.from + 1) === '(') unknownFn = query.slice(prev.from, prev.to);
        return false;
      }
      return undefined;
    },
  });
  if (tree.topNode.firstChild === null || contentChildren(tree.topNode).length === 0) {
    throw new PromQLError('bad_data', '1:1: parse error: no expression found in input');
  }
  if (error) {
    const pos = position(query, error.from);
    if (unknownFn !== undefined) throw new PromQLError('bad_data', `${pos}: parse error: unknown function with name ${JSON.stringify(unknownFn)}`);
    const rest = query.slice(error.from).trimStart();
    const what = rest === '' ? 'end of input' : JSON.stringify(rest.length > 12 ? `${rest.slice(0, 12)}…` : rest);
    throw new PromQLError('bad_data', `${pos}: parse error: unexpected ${what}`);
  }
  return tree;
}

function position(query: string, offset: number): string {
  const before = query.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `${line}:${col}`;
}

/** A node's children without comments. */
export function contentChildren(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c);
  return out;
}

const EXPRESSION_NODES = new Set([
  'NumberDurationLiteral',
  'StringLiteral',
  'VectorSelector',
  'MatrixSelector',
  'OffsetExpr',
  'FunctionCall',
  'AggregateExpr',
  'BinaryExpr',
  'ParenExpr',
  'UnaryExpr',
  'SubqueryExpr',
  'StepInvariantExpr',
  'SmoothedExpr',
  'AnchoredExpr',
]);

const MATCH_OPS: Record<string, MatchOp> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

const BINARY_OPS: Record<string, BinaryOp> = {
  Pow: '^',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Add: '+',
  Sub: '-',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

// ---- strings, numbers, durations --------------------------------------------------------------

/** A PromQL string literal's value: Go's unquoting of "…" and '…' strings, `…` raw. */
export function unquote(literal: string): string {
  const q = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== q || (q !== '"' && q !== "'" && q !== '`')) {
    throw new PromQLError('bad_data', `invalid string literal ${literal}`);
  }
  const body = literal.slice(1, -1);
  if (q === '`') return body;
  const bytes: number[] = [];
  const pushString = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  const bad = (why: string) => new PromQLError('bad_data', `invalid string literal ${literal}: ${why}`);
  for (let i = 0; i < body.length; ) {
    const cp = body.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (ch !== '\\') {
      if (ch === q || ch === '\n') throw bad('unescaped quote or newline');
      pushString(ch);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
    if (e !== undefined && e in simple) bytes.push(simple[e]!);
    else if (e === q) bytes.push(q.charCodeAt(0));
    else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i, i + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw bad(`invalid \\${e} escape`);
      i += len;
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw bad('invalid Unicode code point');
        pushString(String.fromCodePoint(v));
      }
    } else if (e !== undefined && e >= '0' && e <= '7') {
      const oct = body.slice(i - 1, i + 2);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) throw bad('invalid octal escape');
      i += 2;
      bytes.push(parseInt(oct, 8));
    } else throw bad(`unknown escape sequence \\${e ?? ''}`);
  }
  return Buffer.from(bytes).toString('utf8');
}

const UNIT_MS: [string, number][] = [
  ['y', 365 * 86_400_000],
  ['w', 7 * 86_400_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** A Prometheus duration ("1h30m", "15s", "250ms") or a number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s);
  if (!m || s === '') throw new PromQLError('bad_data', `not a valid duration string: ${JSON.stringify(text)}`);
  let ms = 0;
  UNIT_MS.forEach(([, unit], i) => {
    if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * unit;
  });
  return ms;
}

/** A PromQL number literal, as Prometheus's lexer reads it (ParseInt with base prefixes, then ParseFloat). */
export function parseNumber(text: string): number {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/.test(lower)) return sign * parseInt(lower.slice(2), 16);
  if (/^0o[0-7]+$/.test(lower)) return sign * parseInt(lower.slice(2), 8);
  if (/^0b[01]+$/.test(lower)) return sign * parseInt(lower.slice(2), 2);
  if (/^0[0-7]+$/.test(lower)) return sign * parseInt(lower.slice(1), 8);
  if (/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(lower)) return sign * Number(lower);
  // Prometheus 3 reads a duration where a number is expected as seconds.
  return (sign * parseDuration(s)) / 1000;
}

/**
 * The matchers of a VectorSelector node, the metric name as a `__name__` = matcher first. Shared by
 * the engine and the tenant check, so that both read a selector the same way.
 */
export function selectorMatchers(query: string, n: SyntaxNode): LabelMatcher[] {
  const text = (x: SyntaxNode) => query.slice(x.from, x.to);
  const matchers: LabelMatcher[] = [];
  let name: string | undefined;
  const setName = (v: string) => {
    if (name !== undefined) throw new PromQLError('bad_data', `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(v)} in ${text(n)}`);
    name = v;
  };
  for (const c of contentChildren(n)) {
    if (c.name === 'Identifier') setName(text(c));
    else if (c.name === 'LabelMatchers') {
      for (const m of contentChildren(c)) {
        if (m.name === 'QuotedLabelName') setName(unquote(text(m.firstChild!)));
        else if (m.name === 'UnquotedLabelMatcher' || m.name === 'QuotedLabelMatcher') matchers.push(labelMatcher(query, m));
        else throw unsupported(`label matcher ${JSON.stringify(text(m))}`);
      }
    } else throw unsupported(`${c.name} in selector ${text(n)}`);
  }
  if (name !== undefined) {
    if (matchers.some((m) => m.name === METRIC_NAME)) {
      throw new PromQLError('bad_data', `metric name must not be set twice: ${JSON.stringify(name)} and a __name__ matcher in ${text(n)}`);
    }
    matchers.unshift({ name: METRIC_NAME, op: '=', value: name });
  }
  return matchers;
}

function labelMatcher(query: string, n: SyntaxNode): LabelMatcher {
  const text = (x: SyntaxNode) => query.slice(x.from, x.to);
  const [nameNode, opNode, valueNode] = contentChildren(n);
  if (!nameNode || !opNode || !valueNode || valueNode.name !== 'StringLiteral') throw unsupported(`label matcher ${JSON.stringify(text(n))}`);
  const name = nameNode.name === 'QuotedLabelName' ? unquote(text(nameNode.firstChild!)) : text(nameNode);
  const op = MATCH_OPS[opNode.firstChild?.name ?? ''];
  if (!op) throw unsupported(`match operator ${text(opNode)}`);
  return { name, op, value: unquote(text(valueNode)) };
}

// ---- the AST ----------------------------------------------------------------------------------

/** Parses and checks a query; throws PromQLError (bad_data) for syntax, subset and type errors. */
export function parsePromQL(query: string): Expr {
  const tree = parseTree(query);
  const top = contentChildren(tree.topNode);
  if (top.length !== 1) throw new PromQLError('bad_data', '1:1: parse error: unexpected input');
  return new Builder(query).expr(top[0]!);
}

class Builder {
  constructor(private readonly q: string) {}

  private text(n: SyntaxNode): string {
    return this.q.slice(n.from, n.to);
  }

  private exprChildren(n: SyntaxNode): SyntaxNode[] {
    return contentChildren(n).filter((c) => EXPRESSION_NODES.has(c.name));
  }

  expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case 'NumberDurationLiteral':
        return { kind: 'number', value: parseNumber(this.text(n)) };
      case 'StringLiteral':
        throw unsupported(`string literal ${this.text(n)}`);
      case 'ParenExpr': {
        const inner = this.exprChildren(n);
        if (inner.length !== 1) throw unsupported(`parenthesised expression ${this.text(n)}`);
        return this.expr(inner[0]!);
      }
      case 'VectorSelector':
        return this.vector(n, 0);
      case 'MatrixSelector':
        return this.matrix(n, 0);
      case 'OffsetExpr':
        return this.offset(n);
      case 'FunctionCall':
        return this.call(n);
      case 'AggregateExpr':
        return this.aggregate(n);
      case 'BinaryExpr':
        return this.binary(n);
      case 'UnaryExpr':
        return this.unary(n);
      case 'SubqueryExpr':
        throw unsupported(`subquery ${this.text(n)}`);
      case 'StepInvariantExpr':
        throw unsupported(`@ modifier in ${this.text(n)}`);
      case 'SmoothedExpr':
      case 'AnchoredExpr':
        throw unsupported(`${n.name === 'SmoothedExpr' ? 'smoothed' : 'anchored'} modifier in ${this.text(n)}`);
      default:
        throw unsupported(`${n.name} ${JSON.stringify(this.text(n))}`);
    }
  }

  private vector(n: SyntaxNode, offsetMs: number): VectorSelector {
    const matchers = selectorMatchers(this.q, n);
    for (const m of matchers) if (m.op === '=~' || m.op === '!~') compileRegex(m.value);
    if (matchers.every(matchesEmpty)) {
      throw new PromQLError('bad_data', `vector selector must contain at least one non-empty matcher: ${this.text(n)}`);
    }
    return { kind: 'vector', matchers, offsetMs, text: this.text(n) };
  }

  private rangeOf(d: SyntaxNode): number {
    const parts = contentChildren(d);
    if (parts.length !== 1 || parts[0]!.name !== 'NumberDurationLiteralInDurationContext') {
      throw unsupported(`duration expression ${JSON.stringify(this.text(d))}`);
    }
    const ms = parseDuration(this.text(parts[0]!));
    if (!(ms > 0)) throw new PromQLError('bad_data', `duration must be greater than 0: ${this.text(d)}`);
    return ms;
  }

  private matrix(n: SyntaxNode, offsetMs: number): MatrixSelector {
    const [sel, dur] = contentChildren(n);
    if (sel?.name === 'OffsetExpr') throw new PromQLError('bad_data', `no offset modifiers allowed before range: ${this.text(n)}`);
    if (sel?.name !== 'VectorSelector' || dur?.name !== 'DurationExpr') {
      throw new PromQLError('bad_data', `ranges only allowed for vector selectors: ${this.text(n)}`);
    }
    return { kind: 'matrix', selector: this.vector(sel, offsetMs), rangeMs: this.rangeOf(dur), text: this.text(n) };
  }

  private offsetMs(d: SyntaxNode): number {
    const parts = contentChildren(d);
    if (parts.length === 2 && parts[0]!.name === 'UnaryOp' && parts[1]!.name === 'OffsetDurationExpr') {
      const sign = this.text(parts[0]!) === '-' ? -1 : 1;
      return sign * this.offsetMs(parts[1]!);
    }
    if (parts.length !== 1 || parts[0]!.name !== 'NumberDurationLiteralInDurationContext') {
      throw unsupported(`offset expression ${JSON.stringify(this.text(d))}`);
    }
    return parseDuration(this.text(parts[0]!));
  }

  private offset(n: SyntaxNode): Expr {
    const [target, , dur] = contentChildren(n);
    if (!target || !dur) throw unsupported(`offset ${this.text(n)}`);
    const ms = this.offsetMs(dur);
    if (target.name === 'VectorSelector') return this.vector(target, ms);
    if (target.name === 'MatrixSelector') return this.matrix(target, ms);
    if (target.name === 'OffsetExpr') throw new PromQLError('bad_data', `offset may not be set multiple times: ${this.text(n)}`);
    if (target.name === 'SubqueryExpr' || target.name === 'StepInvariantExpr') return this.expr(target);
    throw new PromQLError('bad_data', `offset modifier must be preceded by an instant vector selector or range vector selector or a subquery: ${this.text(n)}`);
  }

  private call(n: SyntaxNode): Expr {
    const [ident, body] = contentChildren(n);
    const fn = this.text(ident!);
    if (!(RANGE_FUNCTIONS as readonly string[]).includes(fn)) throw unsupported(`function ${JSON.stringify(fn)}`);
    const args = this.exprChildren(body!);
    if (args.length !== 1) throw new PromQLError('bad_data', `expected 1 argument(s) in call to ${JSON.stringify(fn)}, got ${args.length}`);
    const arg = this.expr(args[0]!);
    if (arg.kind !== 'matrix') {
      throw new PromQLError('bad_data', `expected type range vector in call to function ${JSON.stringify(fn)}, got ${typeOf(arg)}`);
    }
    return { kind: 'call', fn: fn as RangeFunction, arg };
  }

  private aggregate(n: SyntaxNode): Expr {
    let op: string | undefined;
    let grouping: string[] = [];
    let without = false;
    let body: SyntaxNode | undefined;
    for (const c of contentChildren(n)) {
      if (c.name === 'AggregateOp') op = this.text(c).toLowerCase();
      else if (c.name === 'AggregateModifier') {
        for (const m of contentChildren(c)) {
          if (m.name === 'Without') without = true;
          else if (m.name === 'GroupingLabels') grouping = this.groupingLabels(m);
        }
      } else if (c.name === 'FunctionCallBody') body = c;
    }
    if (!op || !(AGGREGATIONS as readonly string[]).includes(op)) throw unsupported(`aggregation ${JSON.stringify(op ?? this.text(n))}`);
    const args = body ? this.exprChildren(body) : [];
    if (args.length !== 1) throw new PromQLError('bad_data', `wrong number of arguments for aggregate expression provided, expected 1, got ${args.length}`);
    const expr = this.expr(args[0]!);
    if (typeOf(expr) !== 'instant vector') {
      throw new PromQLError('bad_data', `expected type instant vector in aggregation expression, got ${typeOf(expr)}`);
    }
    return { kind: 'aggregate', op: op as AggregateOp, grouping, without, expr };
  }

  private groupingLabels(n: SyntaxNode): string[] {
    return contentChildren(n).map((l) => {
      const name = l.name === 'QuotedLabelName' ? unquote(this.text(l.firstChild!)) : this.text(l);
      if (!isValidLabelName(name)) throw unsupported(`label name ${JSON.stringify(name)} (UTF-8 label names)`);
      return name;
    });
  }

  private binary(n: SyntaxNode): Expr {
    const parts = contentChildren(n);
    const exprs = parts.filter((c) => EXPRESSION_NODES.has(c.name));
    const opNode = parts.find((c) => !EXPRESSION_NODES.has(c.name) && c.name !== 'BoolModifier' && c.name !== 'MatchingModifierClause');
    if (exprs.length !== 2 || !opNode) throw unsupported(`binary expression ${this.text(n)}`);
    const op = BINARY_OPS[opNode.name];
    if (!op) throw unsupported(`binary operator ${JSON.stringify(this.text(opNode))}`);
    const returnBool = parts.some((c) => c.name === 'BoolModifier');
    let matching: Binary['matching'];
    const clause = parts.find((c) => c.name === 'MatchingModifierClause');
    if (clause) {
      const cs = contentChildren(clause);
      if (cs.some((c) => c.name === 'GroupLeft' || c.name === 'GroupRight')) throw unsupported(`group_left/group_right in ${this.text(n)}`);
      if (cs.some((c) => c.name.startsWith('Fill'))) throw unsupported(`fill modifiers in ${this.text(n)}`);
      const labels = cs.find((c) => c.name === 'GroupingLabels');
      matching = { on: cs.some((c) => c.name === 'On'), labels: labels ? this.groupingLabels(labels) : [] };
    }
    if (parts.some((c) => c.name.startsWith('Fill'))) throw unsupported(`fill modifiers in ${this.text(n)}`);
    const lhs = this.expr(exprs[0]!);
    const rhs = this.expr(exprs[1]!);
    const lt = typeOf(lhs);
    const rt = typeOf(rhs);
    for (const t of [lt, rt]) {
      if (t !== 'scalar' && t !== 'instant vector') throw new PromQLError('bad_data', 'binary expression must contain only scalar and instant vector types');
    }
    if (returnBool && !isComparison(op)) throw new PromQLError('bad_data', 'bool modifier can only be used on comparison operators');
    if (isComparison(op) && lt === 'scalar' && rt === 'scalar' && !returnBool) {
      throw new PromQLError('bad_data', 'comparisons between scalars must use BOOL modifier');
    }
    if (isSetOp(op) && (lt === 'scalar' || rt === 'scalar')) throw new PromQLError('bad_data', `set operator ${JSON.stringify(op)} not allowed in binary scalar expression`);
    if (matching && (lt === 'scalar' || rt === 'scalar')) throw new PromQLError('bad_data', 'vector matching only allowed between instant vectors');
    return { kind: 'binary', op, lhs, rhs, returnBool, matching };
  }

  private unary(n: SyntaxNode): Expr {
    const [opNode, inner] = contentChildren(n);
    const expr = this.expr(inner!);
    const t = typeOf(expr);
    if (t !== 'scalar' && t !== 'instant vector') {
      throw new PromQLError('bad_data', `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(t)}`);
    }
    return { kind: 'unary', op: this.text(opNode!) === '-' ? '-' : '+', expr };
  }
}
