// Key files named by configuration, read as the kind they must be. A variable that names a public
// key must never be given the private one: the process holding it (an MCP server, an auditor's
// verify) would then hold what signs grants, seals or checkpoints. A signing key must be of the
// algorithm its signatures are checked with. Problems are reported naming the variable and the
// path, never the key material.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GovernorError, describeError } from './errors.ts';

export interface KeyFileSpec {
  /** The environment variable that named the file, for the operator's benefit. */
  variable: string;
  half: 'private' | 'public';
  algorithm: 'ed25519' | 'rsa';
}

/** Key types as an operator reads them, with their article. */
const KIND: Record<string, string> = {
  ed25519: 'an Ed25519',
  ed448: 'an Ed448',
  rsa: 'an RSA',
  'rsa-pss': 'an RSA-PSS',
  ec: 'an EC',
  dsa: 'a DSA',
  dh: 'a DH',
  x25519: 'an X25519',
  x448: 'an X448',
};

/** RS256 below this is breakable; OPA's docs and every current guideline start here. */
const MIN_RSA_BITS = 2048;

// Every PEM label of a private key (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1, OpenSSH).
const PRIVATE_PEM = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/;

/** Reads and checks the key; throws `config_invalid` naming the variable and what is wrong. */
export function readKeyFile(path: string, spec: KeyFileSpec): KeyObject {
  const checked = checkKeyFile(path, spec);
  if ('problem' in checked) throw new GovernorError('config_invalid', `${spec.variable} (${path}) ${checked.problem}`);
  return checked.key;
}

/** The key, or what is wrong with the file in words that follow "VARIABLE (path) …". */
export function checkKeyFile(path: string, spec: KeyFileSpec): { key: KeyObject } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? 'does not exist' : `cannot be read: ${describeError(err)}` };
  }
  const want = KIND[spec.algorithm];
  let key: KeyObject;
  let half: 'private' | 'public';
  try {
    if (PRIVATE_PEM.test(text)) {
      key = createPrivateKey(text);
      half = 'private';
    } else {
      key = createPublicKey(text);
      half = 'public';
    }
  } catch (err) {
    return { problem: `does not hold a PEM key (${describeError(err)}); it must hold ${want} ${spec.half} key` };
  }
  if (half !== spec.half) {
    return spec.half === 'public'
      ? { problem: `holds a private key; it must hold only the public key (openssl pkey -in PRIVATE.pem -pubout), so that whoever reads it cannot sign` }
      : { problem: `holds a public key; it must hold ${want} private key, which signs` };
  }
  const type = key.asymmetricKeyType;
  if (type !== spec.algorithm) {
    return { problem: `holds ${(type && KIND[type]) ?? `a ${type ?? 'non-asymmetric'}`} key; it must hold ${want} ${spec.half} key` };
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (spec.algorithm === 'rsa' && (bits === undefined || bits < MIN_RSA_BITS)) {
    return { problem: `holds an RSA key of ${bits ?? 'unknown'} bits; at least ${MIN_RSA_BITS} are needed` };
  }
  return { key };
}
