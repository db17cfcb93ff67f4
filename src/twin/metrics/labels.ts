// Label sets and label matchers with Prometheus's semantics: a label with an empty value is the same
// as no label, regular expressions are anchored at both ends and `.` matches a newline, label sets
// sort and compare the way Prometheus orders result series. Pure functions, no I/O.
//
// Regular expressions: Prometheus uses Go's RE2; the twin uses JavaScript's RegExp. The common
// syntax (literals, classes, alternation, groups, repetition, \d \w \s) means the same in both. What
// differs is refused with a bad_data error rather than silently matched differently: lookaround and
// backreferences (RE2 has none), POSIX classes like [[:alpha:]], \p{…} classes, \A \z \Q…\E, and inline
// flags other than a leading (?i). RE2's (?P<name>…) is translated to (?<name>…).
import { PromQLError } from './promql-error.ts';

export type Labels = Readonly<Record<string, string>>;
export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

export const METRIC_NAME = '__name__';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const isValidLabelName = (name: string): boolean => LABEL_NAME.test(name);

/** A copy with the keys in Prometheus's order (byte order) and empty values dropped. */
export function normalizeLabels(labels: Record<string, string>): Labels {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort(compareStrings)) {
    const v = labels[k]!;
    if (v !== '') out[k] = v;
  }
  return out;
}

/** Byte-order comparison of two strings (Go's string comparison for the ASCII label names). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Prometheus's labels.Compare: label by label, name then value; the shorter set first on a tie. */
export function compareLabels(a: Labels, b: Labels): number {
  const ka = Object.keys(a).sort(compareStrings);
  const kb = Object.keys(b).sort(compareStrings);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(ka[i]!, kb[i]!);
    if (c !== 0) return c;
    const cv = compareStrings(a[ka[i]!]!, b[kb[i]!]!);
    if (cv !== 0) return cv;
  }
  return ka.length - kb.length;
}

/** A string that identifies the label set: equal sets give equal keys, whatever the key order. */
export function labelsKey(labels: Labels): string {
  let out = '';
  const keys = Object.keys(labels);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1]! < keys[i]!;
  for (const k of sorted ? keys : keys.sort(compareStrings)) {
    const v = labels[k]!;
    if (v !== '') out += `${k}\u0000${v}\u0001`;
  }
  return out;
}

export function withoutLabels(labels: Labels, drop: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (!drop.includes(k)) out[k] = v;
  return out;
}

export function onlyLabels(labels: Labels, keep: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (const k of keep) {
    const v = labels[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

const regexCache = new Map<string, RegExp>();

/** An anchored regular expression as Prometheus builds it (`^(?s:re)$`), or a bad_data error. */
export function compileRegex(source: string): RegExp {
  const cached = regexCache.get(source);
  if (cached) return cached;
  let body = source;
  let flags = 's';
  if (body.startsWith('(?i)')) {
    body = body.slice(4);
    flags += 'i';
  }
  const refuse = (what: string) =>
    new PromQLError('bad_data', `error parsing regexp ${JSON.stringify(source)}: ${what} is not supported by the twin's query API (JavaScript RegExp stands in for RE2)`);
  if (/\(\?<?[=!]/.test(body)) throw refuse('lookaround');
  if (/\\[1-9]/.test(body)) throw refuse('a backreference');
  if (/\[:\^?[a-z]+:\]/.test(body)) throw refuse('a POSIX character class');
  if (/\\[pPAzZQEC]/.test(body)) throw refuse('the escape ' + /\\[pPAzZQEC]/.exec(body)![0]);
  if (/\(\?[a-zA-Z-]+[:)]/.test(body)) throw refuse('an inline flag group');
  body = body.replace(/\(\?P</g, '(?<');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${body})$`, flags);
  } catch (err) {
    throw new PromQLError('bad_data', `error parsing regexp ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
  if (regexCache.size > 1000) regexCache.clear();
  regexCache.set(source, re);
  return re;
}

export type ValuePredicate = (value: string) => boolean;

/** The test a matcher applies to a label's value ("" when the series has no such label). */
export function matcherPredicate(m: LabelMatcher): ValuePredicate {
  switch (m.op) {
    case '=':
      return (v) => v === m.value;
    case '!=':
      return (v) => v !== m.value;
    case '=~': {
      const re = compileRegex(m.value);
      return (v) => re.test(v);
    }
    case '!~': {
      const re = compileRegex(m.value);
      return (v) => !re.test(v);
    }
  }
}

/** Whether the matcher accepts a series that lacks the label (Prometheus: the empty value). */
export function matchesEmpty(m: LabelMatcher): boolean {
  return matcherPredicate(m)('');
}

/** All matchers, compiled once, as one test of a label set. */
export function compileMatchers(matchers: readonly LabelMatcher[]): (labels: Labels) => boolean {
  const tests = matchers.map((m) => ({ name: m.name, test: matcherPredicate(m) }));
  return (labels) => tests.every(({ name, test }) => test(labels[name] ?? ''));
}

export function formatMatcher(m: LabelMatcher): string {
  return `${m.name}${m.op}${JSON.stringify(m.value)}`;
}
