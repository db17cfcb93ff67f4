// Signed policy bundles: checks a bundle's `.signatures.json` the way OPA does (`opa build
// --verification-key`, `opa run --verification-key`), before anything in the bundle is loaded.
// Whoever can write the bundle file could otherwise rewrite the policy: drop every supervised action
// from data.json, or ship a module that allows everything. The check is:
//   - exactly one JWT, RS256 (never `none`, never HMAC: the key is public), signature valid for the
//     policy public key, no scope (as OPA without --scope);
//   - its payload lists every file of the bundle, by path without the leading `/`, with the SHA-256
//     OPA computes: the raw bytes for most files, and for data.json / data.yaml / .manifest (OPA's
//     "structured" files) the hash of OPA's canonical form of the JSON (below);
//   - no file in the bundle is unlisted, and no listed file is missing.
// It must never accept a bundle it cannot check completely: anything it does not understand is a
// refusal, like a broken bundle.
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { GovernorError, describeError } from '../core/errors.ts';
import { readKeyFile } from '../core/key-files.ts';

export const SIGNATURES_FILE = '.signatures.json';

/** The public half of the committed development key (policies/signing/README.md). */
export const DEVELOPMENT_PUBLIC_KEY_PATH = fileURLToPath(new URL('../../policies/signing/development-public-key.pem', import.meta.url));

export interface PolicyPublicKey {
  key: KeyObject;
  /** True when it is the committed development key, which anyone with the repository can sign with. */
  development: boolean;
  source: string;
}

/** The key bundles must be signed for: GOVERNOR_POLICY_PUBLIC_KEY_FILE, else the development key. */
export function openPolicyPublicKey(file?: string): PolicyPublicKey {
  const development = createPublicKey(readFileSync(DEVELOPMENT_PUBLIC_KEY_PATH, 'utf8'));
  if (!file) return { key: development, development: true, source: DEVELOPMENT_PUBLIC_KEY_PATH };
  const key = readKeyFile(file, { variable: 'GOVERNOR_POLICY_PUBLIC_KEY_FILE', half: 'public', algorithm: 'rsa' });
  return { key, development: key.equals(development), source: file };
}

/** OPA treats files with these base names as JSON documents and hashes their canonical form. */
const STRUCTURED = new Set(['data.json', 'data.yaml', '.manifest', SIGNATURES_FILE]);

/**
 * The SHA-256 (hex) OPA records for a bundle file (v1/bundle/hash.go): the bytes themselves, or for
 * a structured file the canonical form of its JSON.
 */
export function opaFileHash(name: string, bytes: Buffer): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (!STRUCTURED.has(base)) return createHash('sha256').update(bytes).digest('hex');
  if (base === 'data.yaml') throw new Error(`${name}: YAML data is not supported; ship data.json`);
  return createHash('sha256').update(opaCanonicalJson(bytes), 'utf8').digest('hex');
}

/**
 * OPA's canonical form of a JSON document, as its hasher walks it: objects with keys in byte order
 * (`{"k":v,…}`), arrays in order, strings as Go's encoder writes them (HTML left unescaped), and
 * numbers exactly as written in the file (OPA decodes with UseNumber). Duplicate keys: the last wins.
 * Not RFC 8785 (src/core/canonical-json.ts), whose number and string forms differ.
 */
export function opaCanonicalJson(bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new Error('not valid UTF-8');
  }
  const parser = new CanonicalParser(text);
  const out = parser.value();
  parser.end();
  return out;
}

class CanonicalParser {
  private i = 0;
  constructor(private readonly s: string) {}

  end(): void {
    this.ws();
    if (this.i < this.s.length) this.fail('unexpected content after the document');
  }

  value(): string {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return goString(this.string());
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    for (const literal of ['true', 'false', 'null']) {
      if (this.s.startsWith(literal, this.i)) {
        this.i += literal.length;
        return literal;
      }
    }
    return this.fail('expected a value');
  }

  private object(): string {
    this.i++;
    const members = new Map<string, string>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return '{}';
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      members.set(key, this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') break;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
    // Go sorts keys as byte strings: compare UTF-8, not UTF-16 code units.
    const keys = [...members.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
    return `{${keys.map((k) => `${goString(k)}:${members.get(k)}`).join(',')}}`;
  }

  private array(): string {
    this.i++;
    const items: string[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return '[]';
    }
    for (;;) {
      items.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') break;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
    return `[${items.join(',')}]`;
  }

  private number(): string {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 1024));
    if (!m) this.fail('malformed number');
    this.i += m![0].length;
    return m![0];
  }

  /** A string token, decoded (escapes resolved; lone surrogates kept, as goString replaces them). */
  private string(): string {
    this.i++;
    let out = '';
    for (;;) {
      const c = this.s[this.i++];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') return out;
      if (c! < ' ') this.fail('control character in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i, this.i + 4))) {
        out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + 4), 16));
        this.i += 4;
      } else this.fail('bad escape');
    }
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  private fail(what: string): never {
    throw new Error(`not valid JSON: ${what} at offset ${this.i}`);
  }
}

/**
 * A string as Go's encoding/json writes it with HTML escaping off: `"` and `\` escaped; \b \f \n \r \t
 * by name; other control characters as \u00XX; U+2028 and U+2029 escaped; a lone surrogate as the
 * U+FFFD Go's decoder turned it into (a character, not an escape); the rest verbatim.
 */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (cp < 0x20) {
      const named: Record<number, string> = { 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };
      out += named[cp] ?? `\\u00${cp.toString(16).padStart(2, '0')}`;
    } else if (cp === 0x2028 || cp === 0x2029) out += `\\u${cp.toString(16)}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else out += ch;
  }
  return `${out}"`;
}

const SignaturesFile = z.object({ signatures: z.array(z.string()), plugin: z.string().optional() }).strict();
const JwtHeader = z.object({ alg: z.string(), kid: z.string().optional(), typ: z.string().optional() }).passthrough();
const JwtPayload = z
  .object({
    files: z.array(z.object({ name: z.string().min(1), hash: z.string().regex(/^[0-9a-fA-F]+$/), algorithm: z.string() }).strict()),
    keyid: z.string().optional(),
    scope: z.string().optional(),
  })
  .passthrough();

/**
 * Checks the bundle's files against its signature; returns the key id the JWT names. Throws
 * `policy_unavailable` saying what is wrong: unsigned, another key, a changed, unlisted or missing file.
 */
export function verifyBundleSignature(files: ReadonlyMap<string, Buffer>, publicKey: KeyObject, source: string): { kid: string | undefined } {
  const refuse = (why: string, cause?: unknown): never => {
    throw new GovernorError('policy_unavailable', `the policy bundle ${source} ${why}`, { ...(cause === undefined ? {} : { cause }) });
  };
  const raw = files.get(SIGNATURES_FILE);
  if (!raw) return refuse(`is not signed (no ${SIGNATURES_FILE}); build it with npm run policy:build, which signs it`);
  let token: string;
  try {
    const parsed = SignaturesFile.parse(JSON.parse(raw.toString('utf8')));
    if (parsed.plugin !== undefined && parsed.plugin !== '_default') return refuse(`names signature plugin '${parsed.plugin}'; only OPA's default is understood`);
    if (parsed.signatures.length !== 1) return refuse(`has ${parsed.signatures.length} signatures in ${SIGNATURES_FILE}; exactly one is expected`);
    token = parsed.signatures[0]!;
  } catch (err) {
    if (err instanceof GovernorError) throw err;
    return refuse(`has an unreadable ${SIGNATURES_FILE}: ${describeError(err)}`, err);
  }

  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return refuse(`has a signature that is not a compact JWT`);
  const [h, p, sig] = parts as [string, string, string];
  let header: z.infer<typeof JwtHeader>;
  let payload: z.infer<typeof JwtPayload>;
  try {
    header = JwtHeader.parse(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')));
    payload = JwtPayload.parse(JSON.parse(Buffer.from(p, 'base64url').toString('utf8')));
  } catch (err) {
    return refuse(`has a signature whose JWT does not read: ${describeError(err)}`, err);
  }
  // The algorithm is ours to decide, never the token's: `none` or HS256 with the public key as the secret would verify anything.
  if (header.alg !== 'RS256') return refuse(`is signed with ${header.alg}; only RS256 is accepted`);
  if ('crit' in header) return refuse('has a signature with critical header extensions, which are not understood');
  let valid = false;
  try {
    valid = verify('sha256', Buffer.from(`${h}.${p}`, 'ascii'), publicKey, Buffer.from(sig, 'base64url'));
  } catch {
    valid = false;
  }
  if (!valid) return refuse(`is not signed by the policy public key (its signature${header.kid ? `, key id '${header.kid}',` : ''} does not verify): signed by another key, or its signature was changed`);
  if (payload.scope) return refuse(`is signed for scope '${payload.scope}'; bundles for Governor carry no scope`);

  const listed = new Map<string, string>();
  for (const f of payload.files) {
    if (f.algorithm !== 'SHA-256') return refuse(`lists ${f.name} with hash algorithm ${f.algorithm}; only SHA-256 is accepted`);
    if (listed.has(f.name)) return refuse(`lists ${f.name} twice in its signature`);
    listed.set(f.name, f.hash.toLowerCase());
  }
  for (const [name, bytes] of files) {
    if (name === SIGNATURES_FILE) continue;
    const want = listed.get(name);
    if (want === undefined) return refuse(`holds ${name}, which its signature does not cover`);
    let have: string;
    try {
      have = opaFileHash(name, bytes);
    } catch (err) {
      return refuse(`holds ${name}, which cannot be hashed as OPA does: ${describeError(err)}`, err);
    }
    if (have !== want) return refuse(`holds ${name} changed after signing (digest ${have}, signed ${want})`);
  }
  for (const name of listed.keys()) if (!files.has(name)) return refuse(`lacks ${name}, which its signature lists`);
  return { kid: header.kid };
}
