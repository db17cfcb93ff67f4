// One flagd flag-definition file (the OpenFeature flagd JSON format: {"flags": {name: {state,
// variants, defaultVariant, targeting?, metadata?}}, with optional "$schema", "$evaluators" and
// "metadata") as it is kept in a ConfigMap key. Parsing and validation are flagd's own
// (@openfeature/flagd-core, the evaluator flagd and its in-process providers run), so a file this
// module accepts is one flagd serves. Pure: no I/O, no clock. It must never turn a malformed file into
// a partial answer (the whole file is refused, with every problem named), and an edit changes only the
// one flag's `state` / `defaultVariant`: variants, targeting, metadata and every other flag stay as
// they are.
import { MemoryStorage } from '@openfeature/flagd-core';
import { hashOf } from '../../src/core/canonical-json.ts';
import { GovernorError } from '../../src/core/errors.ts';

/** The ConfigMap key that holds a flag file (as flagd's `--uri file:` source mounts it). */
export const FLAGS_KEY = 'flags.flagd.json';

export type FlagState = 'ENABLED' | 'DISABLED';
export type VariantValue = boolean | string | number | Record<string, unknown> | unknown[];

export interface FlagDefinition {
  state: FlagState;
  variants: Record<string, VariantValue>;
  defaultVariant: string;
  targeting?: unknown;
  metadata?: Record<string, unknown>;
}

/** What a flag serves to a caller no targeting rule matches: its default variant, or nothing when disabled. */
export interface FlagSetting {
  state: FlagState;
  default_variant: string;
}

export interface FlagFile {
  /** Every top-level key of the file, kept for the rewrite ($schema, $evaluators, metadata). */
  raw: Record<string, unknown>;
  flags: Record<string, FlagDefinition>;
}

const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/**
 * Parses and validates a flag file with flagd's own schema and evaluator. Throws `input_invalid`
 * naming the config map, the key and every problem (JSON syntax, schema, a default variant that is no
 * variant, unparseable targeting).
 */
export function parseFlagFile(text: string, where: string): FlagFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalidFile(where, [`not JSON: ${err instanceof Error ? err.message : String(err)}`]);
  }
  // flagd accepts some definitions that are mistakes, and refuses others with a bare message: what
  // we can name ourselves is named first (a default variant that is no variant cannot be restored).
  const problems = ownProblems(raw);
  const logged: string[] = [];
  const logger = { ...silent, error: (...args: unknown[]) => logged.push(args.map(String).join(' ')) };
  try {
    new MemoryStorage(logger).setConfigurations(text, true);
  } catch (err) {
    const theirs = [...schemaProblems(err), ...logged].filter((p) => !(problems.length > 0 && p === BARE_REFUSAL));
    throw invalidFile(where, [...problems, ...theirs]);
  }
  if (problems.length > 0) throw invalidFile(where, problems);
  const file = raw as { flags: Record<string, FlagDefinition> } & Record<string, unknown>;
  return { raw: file, flags: file.flags };
}

const BARE_REFUSAL = 'invalid flagd flag configuration';

function ownProblems(raw: unknown): string[] {
  const flags = (raw as { flags?: unknown } | null)?.flags;
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) return [];
  const out: string[] = [];
  for (const [name, f] of Object.entries(flags as Record<string, Partial<FlagDefinition>>)) {
    if (typeof f !== 'object' || f === null || typeof f.variants !== 'object' || f.variants === null || typeof f.defaultVariant !== 'string') continue;
    if (!Object.hasOwn(f.variants, f.defaultVariant)) out.push(`flags.${name}.defaultVariant: '${f.defaultVariant}' is not one of its variants (${Object.keys(f.variants).join(', ')})`);
  }
  return out;
}

function schemaProblems(err: unknown): string[] {
  const msg = err instanceof Error ? err.message : String(err);
  const at = msg.indexOf('[');
  if (at < 0) return [msg];
  try {
    const errors = JSON.parse(msg.slice(at)) as Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>;
    return errors.map((e) => {
      const path = (e.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') || '(file)';
      const allowed = Array.isArray(e.params?.['allowedValues']) ? ` (${(e.params['allowedValues'] as unknown[]).join(', ')})` : '';
      return `${path}: ${e.message ?? 'invalid'}${allowed}`;
    });
  } catch {
    return [msg];
  }
}

function invalidFile(where: string, problems: string[]): GovernorError {
  const unique = [...new Set(problems)];
  return new GovernorError('input_invalid', `${where} is not a valid flagd flag definition: ${unique.join('; ')}`, { details: { problems: unique } });
}

export const settingOf = (f: FlagDefinition): FlagSetting => ({ state: f.state, default_variant: f.defaultVariant });

/** SHA-256 of the canonical JSON of one flag's whole definition. */
export const flagHash = (f: FlagDefinition): string => hashOf(f as unknown as Record<string, unknown>);

/** The value a caller no targeting rule matches gets: the default variant's, or null when the flag is disabled (the caller's own default applies). */
export const servedValue = (f: FlagDefinition): VariantValue | null => (f.state === 'ENABLED' ? (f.variants[f.defaultVariant] ?? null) : null);

/**
 * The file with one flag's setting changed, as text (two-space JSON). Throws `not_found` for a flag
 * the file does not define and `input_invalid` for a variant it does not have: this never creates a
 * flag or a variant.
 */
export function withSetting(file: FlagFile, flag: string, setting: Partial<FlagSetting>, where: string): string {
  const current = file.flags[flag];
  if (!current) throw new GovernorError('not_found', `flag '${flag}' is not defined in ${where} (defined: ${Object.keys(file.flags).sort().join(', ') || 'none'})`);
  const next: FlagDefinition = { ...current };
  if (setting.state !== undefined) next.state = setting.state;
  if (setting.default_variant !== undefined) {
    if (!Object.hasOwn(current.variants, setting.default_variant)) {
      throw new GovernorError('input_invalid', `flag '${flag}' in ${where} has no variant '${setting.default_variant}' (variants: ${Object.keys(current.variants).join(', ')})`);
    }
    next.defaultVariant = setting.default_variant;
  }
  const text = JSON.stringify({ ...file.raw, flags: { ...file.flags, [flag]: next } }, null, 2) + '\n';
  parseFlagFile(text, where); // never write what flagd would refuse
  return text;
}

export interface FlagChange {
  flag: string;
  /** null: the flag was not defined before. */
  before: FlagDefinition | null;
  /** null: the flag was removed. */
  after: FlagDefinition | null;
}

/** Flags whose definition differs between two files, sorted by name. An unreadable file counts as no flags. */
export function diffFlags(before: FlagFile | null, after: FlagFile | null): FlagChange[] {
  const b = before?.flags ?? {};
  const a = after?.flags ?? {};
  const names = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
  const out: FlagChange[] = [];
  for (const flag of names) {
    const x = Object.hasOwn(b, flag) ? b[flag]! : null;
    const y = Object.hasOwn(a, flag) ? a[flag]! : null;
    if (x === null || y === null ? x !== y : flagHash(x) !== flagHash(y)) out.push({ flag, before: x, after: y });
  }
  return out;
}

/**
 * Reads a past version's flag file for history: JSON with a "flags" object, each flag with a state,
 * variants and a default variant; null when absent or not that (history shows what it can). Lighter
 * than parseFlagFile on purpose: it runs over every version the server has seen.
 */
export function tryParse(text: string | undefined): FlagFile | null {
  if (text === undefined) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const flags = (raw as { flags?: unknown } | null)?.flags;
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) return null;
  for (const f of Object.values(flags as Record<string, Partial<FlagDefinition>>)) {
    if (typeof f !== 'object' || f === null || (f.state !== 'ENABLED' && f.state !== 'DISABLED') || typeof f.defaultVariant !== 'string' || typeof f.variants !== 'object' || f.variants === null) return null;
  }
  return { raw: raw as Record<string, unknown>, flags: flags as Record<string, FlagDefinition> };
}
