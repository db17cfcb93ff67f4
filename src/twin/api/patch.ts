// The three patch formats the Kubernetes API accepts on a PATCH — JSON merge patch (RFC 7386),
// strategic merge patch (Kubernetes' own: lists of named things merge by key) and JSON patch
// (RFC 6902) — applied to plain JSON objects. Pure functions that return a new object; they never
// mutate their inputs. A patch that cannot apply throws PatchError rather than half-applying.
import { canonicalJson } from '../../core/canonical-json.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export class PatchError extends Error {}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v) as Json;
  }
  return out;
}

/**
 * The list fields of the objects the twin serves whose items merge by a key, as in the Kubernetes
 * API's `patchMergeKey` tags. Any other list is replaced whole, like a merge patch would.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  tolerations: 'key',
  conditions: 'type',
};

/** Kubernetes strategic merge patch for the fields above; `$patch: replace|delete` directives honoured. */
export function strategicMergePatch(target: unknown, patch: unknown, field?: string): unknown {
  if (Array.isArray(patch)) {
    const mergeKey = field ? MERGE_KEYS[field] : undefined;
    if (!mergeKey || !Array.isArray(target)) return patch.filter((p) => !(isObject(p) && p['$patch'] !== undefined)).map(clone);
    const out = clone(target) as Json[];
    for (const item of patch) {
      if (!isObject(item) || item[mergeKey] === undefined) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
      const at = out.findIndex((o) => isObject(o) && o[mergeKey] === item[mergeKey]);
      if (item['$patch'] === 'delete') {
        if (at >= 0) out.splice(at, 1);
        continue;
      }
      if (item['$patch'] === 'replace') {
        const { $patch: _, ...rest } = item;
        if (at >= 0) out[at] = rest;
        else out.push(rest);
        continue;
      }
      if (at >= 0) out[at] = strategicMergePatch(out[at], item) as Json;
      else out.push(strategicMergePatch({}, item) as Json);
    }
    return out;
  }
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const { $patch: _, ...rest } = patch;
    return strategicMergePatch({}, rest);
  }
  if (patch['$patch'] === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    // Directives about ordering and retained keys change nothing the twin keeps.
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else {
      const merged = strategicMergePatch(out[k], v, k);
      if (merged === undefined) delete out[k];
      else out[k] = merged as Json;
    }
  }
  return out;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: Json; last: string } {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)] as Json;
    else if (isObject(cur)) cur = cur[t] as Json;
    else cur = undefined as unknown as Json;
    if (cur === undefined) throw new PatchError(`path "${path}" does not exist`);
  }
  return { parent: cur, last: tokens[tokens.length - 1]! };
}

function get(doc: Json, path: string): Json {
  let cur: Json = doc;
  for (const t of pointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)] as Json;
    else if (isObject(cur)) cur = cur[t] as Json;
    else throw new PatchError(`path "${path}" does not exist`);
    if (cur === undefined) throw new PatchError(`path "${path}" does not exist`);
  }
  return cur;
}

function remove(doc: Json, path: string): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length) throw new PatchError(`path "${path}" does not exist`);
    return parent.splice(i, 1)[0] as Json;
  }
  if (!isObject(parent) || !(last in parent)) throw new PatchError(`path "${path}" does not exist`);
  const v = parent[last] as Json;
  delete parent[last];
  return v;
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length || (replace && i >= parent.length)) throw new PatchError(`path "${path}" does not exist`);
    if (replace) parent[i] = clone(value);
    else parent.splice(i, 0, clone(value));
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) throw new PatchError(`path "${path}" does not exist`);
    parent[last] = clone(value);
  } else throw new PatchError(`path "${path}" does not exist`);
  return doc;
}

/** RFC 6902, all six operations; the whole patch applies or none of it does. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch is an array of operations');
  let doc = clone(target) as Json;
  for (const raw of ops as JsonPatchOp[]) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new PatchError(`invalid operation ${JSON.stringify(raw)}`);
    switch (raw.op) {
      case 'add':
        doc = add(doc, raw.path, raw.value as Json, false);
        break;
      case 'replace':
        doc = add(doc, raw.path, raw.value as Json, true);
        break;
      case 'remove':
        remove(doc, raw.path);
        break;
      case 'move': {
        if (raw.from === undefined) throw new PatchError('move needs "from"');
        const v = remove(doc, raw.from);
        doc = add(doc, raw.path, v, false);
        break;
      }
      case 'copy':
        if (raw.from === undefined) throw new PatchError('copy needs "from"');
        doc = add(doc, raw.path, get(doc, raw.from), false);
        break;
      case 'test':
        if (canonicalJson(get(doc, raw.path)) !== canonicalJson(raw.value ?? null)) throw new PatchError(`test failed at "${raw.path}"`);
        break;
      default:
        throw new PatchError(`unknown operation "${(raw as { op: string }).op}"`);
    }
  }
  return doc;
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** Applies a patch of the given media type; undefined when the media type is not a patch type the twin serves. */
export function applyPatch(contentType: string, target: unknown, patch: unknown): unknown {
  switch (contentType) {
    case PATCH_TYPES.json:
      return jsonPatch(target, patch);
    case PATCH_TYPES.merge:
      return mergePatch(target, patch);
    case PATCH_TYPES.strategic:
      return strategicMergePatch(target, patch);
    default:
      return undefined;
  }
}
