// Reading a request the way the API server does: label and field selectors (only the fields each
// resource supports; anything else is refused, 400), ?dryRun=All, a PUT or POST body (JSON only,
// 415 otherwise), a PATCH applied in its declared format (JSON, merge, strategic merge), and the
// checks every written body passes (its kind, its namespace against the URL's). Pure request
// handling: it must never read or change the twin.
import { LabelSelectorError, parseLabelSelector, type LabelSelector } from '../label-selector.ts';
import type { TwinObject } from '../twin-store.ts';
import { ApiError, type Request } from './http.ts';
import { PATCH_TYPES, PatchError, applyPatch } from './patch.ts';

const mediaType = (h: string | undefined): string => (h ?? '').split(';')[0]!.trim().toLowerCase();

export const isDryRun = (req: Request) => req.query.getAll('dryRun').includes('All');

export function selectorOf(req: Request): LabelSelector {
  try {
    return parseLabelSelector(req.query.get('labelSelector'));
  } catch (err) {
    if (err instanceof LabelSelectorError) throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${err.message}`);
    throw err;
  }
}

/** The value a field selector label reads from an object: a dotted path, with the API server's few aliases. */
function fieldValue(o: unknown, field: string): string | undefined {
  if (field === 'source') return (o as { source?: { component?: string } }).source?.component;
  let cur: unknown = o;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  if (field === 'spec.unschedulable') return String(cur === true);
  return cur === undefined || cur === null ? (field === 'spec.nodeName' ? '' : undefined) : String(cur);
}

/** Field selectors the resource supports; anything else is refused, as the API server does. */
export function fieldFilter(req: Request, allowed: readonly string[] = []): (o: TwinObject) => boolean {
  const raw = req.query.get('fieldSelector');
  if (!raw) return () => true;
  const fields = ['metadata.name', 'metadata.namespace', ...allowed];
  const terms = raw.split(',').map((t) => {
    const m = /^([a-zA-Z.]+)\s*(==|=|!=)\s*(.*)$/.exec(t.trim());
    if (!m || !fields.includes(m[1]!)) {
      throw new ApiError(400, 'BadRequest', `"${t}" is not a known field selector: only ${fields.map((f) => `"${f}"`).join(', ')}`);
    }
    return { field: m[1]!, neq: m[2] === '!=', value: m[3]! };
  });
  return (o) =>
    terms.every((t) => {
      const v = fieldValue(o, t.field);
      return t.neq ? v !== t.value : v === t.value;
    });
}

/** The body of a PUT or POST: JSON only. */
export async function putBody(req: Request): Promise<unknown> {
  const type = mediaType(req.headers['content-type']);
  if (type !== 'application/json') {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  return req.body();
}

/** `target` with the PATCH body applied in the format its content type declares. */
export async function patchBody(req: Request, target: unknown): Promise<unknown> {
  const type = mediaType(req.headers['content-type']);
  if (![PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic].includes(type as never)) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.json}, ${PATCH_TYPES.merge}, ${PATCH_TYPES.strategic}`,
    );
  }
  const patch = await req.body();
  try {
    return applyPatch(type, target, patch);
  } catch (err) {
    if (err instanceof PatchError) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`);
    throw err;
  }
}

export function checkBodyNamespace(body: unknown, ns: string | undefined): void {
  const bodyNs = (body as { metadata?: { namespace?: unknown } } | null)?.metadata?.namespace;
  if (ns !== undefined && bodyNs !== undefined && bodyNs !== '' && bodyNs !== ns) {
    throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
  }
}

export function checkKind(body: unknown, kind: string): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(400, 'BadRequest', `the body must be a ${kind} object`);
  const sent = (body as { kind?: unknown }).kind;
  if (sent !== undefined && sent !== kind) throw new ApiError(400, 'BadRequest', `the body is a ${String(sent)}, not a ${kind}`);
}

/** A write names the object on the URL; a body that names another is refused. */
export function checkBodyName(body: { metadata?: { name?: unknown } } | null | undefined, name: string): void {
  const sent = body?.metadata?.name;
  if (sent !== undefined && sent !== name) throw new ApiError(400, 'BadRequest', `the name of the object (${String(sent)}) does not match the name on the URL (${name})`);
}
