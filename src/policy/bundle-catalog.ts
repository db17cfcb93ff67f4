// What a compiled policy bundle holds, for people and for the OPA MCP server's list_policies and
// explain: its layers (one Rego package each), their files and the rules each can fire with the
// verdict each imposes, the bundle's manifest revision, the opa version it was built with, and its
// identity (the policy_version the engine reports, and the sha256 of the file). Read from the same
// bundle the engine evaluates; the rule table is read from the Rego sources the bundle carries, so it
// never drifts from what runs. It must never be used to decide anything: the engine decides.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GovernorError, describeError } from '../core/errors.ts';
import { DEFAULT_BUNDLE_PATH, bundleVersion, readBundle } from './wasm-policy-engine.ts';

export type RuleVerdict = 'deny' | 'require_approval';

export interface PolicyRule {
  layer: string;
  rule: string;
  /** The verdicts the rule can impose (one, for every rule of today's policies). */
  verdicts: RuleVerdict[];
}

export interface PolicyFile {
  path: string;
  package: string;
  /** The layer whose violations the file's package adds (safety, sla, operational, cost, autonomy), or `decision` / `library`. */
  role: string;
  sha256: string;
}

export interface BundleCatalog {
  path: string;
  /** The identity the engine reports as policy_version (wasm-policy-engine.ts bundleVersion). */
  policy_version: string;
  bundle_sha256: string;
  /** The manifest's revision (`opa-<version>` when built by scripts/build-policy.sh). */
  revision: string | null;
  /** The opa release that compiled the bundle, when the revision says it. */
  opa_version: string | null;
  rego_version: number | null;
  entrypoints: string[];
  files: PolicyFile[];
  layers: { layer: string; package: string; files: string[]; rules: PolicyRule[] }[];
  /** Top-level keys of the bundle's data.json (limits, tiers, supervised actions). */
  data_keys: string[];
}

/** The layer a Rego helper's violations belong to: `_violation(rule, …) := {"layer": "sla", …}`. */
const HELPER = /^(_\w+)\(rule(?:, verdict)?, msg\) := \{"layer": "(\w+)"[^\n]*?"verdict": (verdict|"(deny|require_approval)")/gm;
/** `violations contains _violation("rule", "deny", msg)` or, with a helper that fixes its verdict, `_violation("rule", msg)`. */
const RULE = /^violations contains (_\w+)\("([a-z0-9_]+)"(?:, "(deny|require_approval)")?, msg\)/gm;

export async function readBundleCatalog(path: string = DEFAULT_BUNDLE_PATH): Promise<BundleCatalog> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new GovernorError('policy_unavailable', `cannot read the policy bundle ${path}: ${describeError(err)}`, { cause: err });
  }
  const files = await readBundle(bytes, path);
  return catalogOf(path, bytes, files);
}

/** Pure: the catalog of a bundle's files. Exported for tests. */
export function catalogOf(path: string, bytes: Uint8Array, files: ReadonlyMap<string, Buffer>): BundleCatalog {
  const manifest = parseJson(files.get('.manifest')) as { revision?: unknown; rego_version?: unknown; wasm?: { entrypoint?: unknown }[] } | undefined;
  const data = parseJson(files.get('data.json'));
  const wasm = files.get('policy.wasm');
  const dataBytes = files.get('data.json');
  const revision = typeof manifest?.revision === 'string' && manifest.revision !== '' ? manifest.revision : null;
  const regoFiles = [...files.entries()].filter(([name]) => name.endsWith('.rego') && !name.endsWith('_test.rego')).sort(([a], [b]) => a.localeCompare(b));

  const out: PolicyFile[] = [];
  const byLayer = new Map<string, { layer: string; package: string; files: string[]; rules: Map<string, PolicyRule> }>();
  for (const [name, body] of regoFiles) {
    const text = body.toString('utf8');
    const pkg = /^package\s+([\w.]+)/m.exec(text)?.[1] ?? '';
    const helpers = new Map<string, { layer: string; fixed: RuleVerdict | undefined }>();
    for (const m of text.matchAll(HELPER)) helpers.set(m[1]!, { layer: m[2]!, fixed: m[4] as RuleVerdict | undefined });
    const rules: PolicyRule[] = [];
    for (const m of text.matchAll(RULE)) {
      const helper = helpers.get(m[1]!);
      const verdict = (m[3] as RuleVerdict | undefined) ?? helper?.fixed;
      if (!helper || !verdict) continue;
      rules.push({ layer: helper.layer, rule: m[2]!, verdicts: [verdict] });
    }
    const role = rules.length > 0 ? pkg.replace(/^governor\./, '') : pkg === 'governor.decision' ? 'decision' : 'library';
    out.push({ path: name, package: pkg, role, sha256: sha256(body) });
    for (const r of rules) {
      const key = r.layer;
      const entry = byLayer.get(key) ?? { layer: key, package: pkg, files: [], rules: new Map<string, PolicyRule>() };
      if (!entry.files.includes(name)) entry.files.push(name);
      const known = entry.rules.get(r.rule);
      if (known) known.verdicts = [...new Set([...known.verdicts, ...r.verdicts])].sort();
      else entry.rules.set(r.rule, r);
      byLayer.set(key, entry);
    }
  }
  const order = ['safety', 'sla', 'operational', 'cost', 'autonomy', 'blast_radius'];
  const rank = (l: string) => (order.includes(l) ? order.indexOf(l) : order.length);
  return {
    path,
    policy_version: wasm && dataBytes ? bundleVersion(wasm, dataBytes) : 'unknown',
    bundle_sha256: sha256(bytes),
    revision,
    opa_version: revision ? (/^opa-(\d+\.\d+\.\d+\S*)$/.exec(revision)?.[1] ?? null) : null,
    rego_version: typeof manifest?.rego_version === 'number' ? manifest.rego_version : null,
    entrypoints: (manifest?.wasm ?? []).map((w) => String(w.entrypoint ?? '')).filter(Boolean),
    files: out,
    layers: [...byLayer.values()]
      .sort((a, b) => rank(a.layer) - rank(b.layer) || a.layer.localeCompare(b.layer))
      .map((l) => ({ layer: l.layer, package: l.package, files: l.files, rules: [...l.rules.values()].sort((a, b) => a.rule.localeCompare(b.rule)) })),
    data_keys: data && typeof data === 'object' ? Object.keys(data).sort() : [],
  };
}

/** The verdict a rule imposes on its own, per the catalog; undefined when the catalog does not know it. */
export function ruleVerdict(catalog: BundleCatalog, layer: string, rule: string): RuleVerdict | undefined {
  const r = catalog.layers.find((l) => l.layer === layer)?.rules.find((x) => x.rule === rule);
  return r && r.verdicts.length === 1 ? r.verdicts[0] : undefined;
}

function parseJson(b: Buffer | undefined): unknown {
  if (!b) return undefined;
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return undefined;
  }
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
