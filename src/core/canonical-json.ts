// Canonical JSON (RFC 8785, through the `canonicalize` package) and hashes over it. Hash chains and
// grants depend on two parties serialising the same value to the same bytes.
import { createHash } from 'node:crypto';
import canonicalizeLib from 'canonicalize';

const canonicalizeFn = canonicalizeLib as unknown as (value: unknown) => string | undefined;

export function canonicalJson(value: unknown): string {
  const out = canonicalizeFn(value);
  if (out === undefined) throw new TypeError('value cannot be serialised as canonical JSON');
  return out;
}

export function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

export function hashOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
