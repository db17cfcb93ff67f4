// Kubernetes label selectors in their string form (`app=checkout,tier!=web,env in (prod,stage),!canary`),
// parsed once and matched against label maps. Used by the twin's reads and by its API server; a
// selector it cannot parse is refused, never read as "match everything".

export type Labels = Readonly<Record<string, string>>;

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export interface LabelSelector {
  readonly requirements: readonly Requirement[];
  matches(labels: Labels | undefined): boolean;
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export class LabelSelectorError extends Error {}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new LabelSelectorError(`invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value) || value.length > 63) throw new LabelSelectorError(`invalid label value "${value}"`);
  return value;
}

function parseRequirement(term: string): Requirement {
  let m = /^(\S+?)\s+(in|notin)\s+\((.*)\)$/.exec(term);
  if (m) {
    const values = m[3]!.split(',').map((v) => checkValue(v.trim()));
    return { op: m[2] === 'in' ? 'in' : 'notin', key: checkKey(m[1]!), values };
  }
  m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: checkKey(m[1]!), value: checkValue(m[3]!) };
  m = /^!\s*(\S+)$/.exec(term);
  if (m) return { op: 'notexists', key: checkKey(m[1]!) };
  if (/^\S+$/.test(term)) return { op: 'exists', key: checkKey(term) };
  throw new LabelSelectorError(`unable to parse requirement: "${term}"`);
}

export function parseLabelSelector(s: string | undefined | null): LabelSelector {
  const requirements = s ? splitTopLevel(s).map(parseRequirement) : [];
  return {
    requirements,
    matches(labels) {
      const l = labels ?? {};
      return requirements.every((r) => {
        const has = Object.prototype.hasOwnProperty.call(l, r.key);
        const v = l[r.key];
        switch (r.op) {
          case 'eq':
            return has && v === r.value;
          case 'neq':
            return !has || v !== r.value;
          case 'in':
            return has && r.values.includes(v!);
          case 'notin':
            return !has || !r.values.includes(v!);
          case 'exists':
            return has;
          case 'notexists':
            return !has;
        }
      });
    },
  };
}

/** A matchLabels map as a selector string, the form `status.selector` of a Scale carries. */
export const selectorString = (matchLabels: Labels): string =>
  Object.entries(matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
