// Execution grants: the gateway's signed permission for one exact tool call. A grant is bound to
// the proposal, the tool and a hash of the canonical arguments, and it expires. Mutating MCP tools
// verify it before they touch anything, so an agent cannot act beyond what was decided.
import { generateKeyPairSync, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, hashOf } from '../core/canonical-json.ts';
import { GovernorError } from '../core/errors.ts';
import { EVENT_VERSION, Grant, type AgentName } from '../contracts/events.ts';
import { newId } from '../core/ids.ts';

export interface GrantKeys {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateGrantKeys(keyId = 'sandbox'): GrantKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId, privateKey, publicKey };
}

export function grantKeysFromPem(keyId: string, privatePem: string): GrantKeys {
  const privateKey = createPrivateKey(privatePem);
  return { keyId, privateKey, publicKey: createPublicKey(privateKey) };
}

export const argsHash = (args: Record<string, unknown>): string => hashOf(args);

function signingBytes(grant: Omit<Grant, 'signature'>): Buffer {
  return Buffer.from(canonicalJson(grant), 'utf8');
}

export interface GrantRequest {
  proposal_id: string;
  incident_id?: string | undefined;
  agent: AgentName;
  tenant: string;
  namespace: string;
  server: string;
  tool: string;
  args: Record<string, unknown>;
  basis: Grant['basis'];
  nowMs: number;
  ttlMs: number;
}

export function issueGrant(keys: GrantKeys, req: GrantRequest): Grant {
  const unsigned: Omit<Grant, 'signature'> = {
    id: newId(),
    v: EVENT_VERSION,
    type: 'grant',
    ts: new Date(req.nowMs).toISOString(),
    ...(req.incident_id ? { incident_id: req.incident_id } : {}),
    proposal_id: req.proposal_id,
    agent: req.agent,
    tenant: req.tenant,
    namespace: req.namespace,
    server: req.server,
    tool: req.tool,
    args: req.args,
    args_hash: argsHash(req.args),
    expires_at: new Date(req.nowMs + req.ttlMs).toISOString(),
    key_id: keys.keyId,
    basis: req.basis,
  };
  const signature = sign(null, signingBytes(unsigned), keys.privateKey).toString('base64url');
  return Grant.parse({ ...unsigned, signature });
}

/**
 * Checks a grant for one concrete call. Throws a terminal GovernorError naming what is wrong:
 * bad signature, unknown key, expired, or a call other than the one granted.
 */
export function verifyGrant(
  publicKeys: ReadonlyMap<string, KeyObject>,
  grant: unknown,
  call: { tool: string; args: Record<string, unknown>; nowMs: number },
): Grant {
  const parsed = Grant.safeParse(grant);
  if (!parsed.success) throw new GovernorError('grant_invalid', 'grant is malformed');
  const g = parsed.data;
  const key = publicKeys.get(g.key_id);
  if (!key) throw new GovernorError('grant_invalid', `grant signed with unknown key '${g.key_id}'`);
  const { signature, ...unsigned } = g;
  let ok = false;
  try {
    ok = verify(null, signingBytes(unsigned), key, Buffer.from(signature, 'base64url'));
  } catch {
    ok = false;
  }
  if (!ok) throw new GovernorError('grant_invalid', 'grant signature does not verify');
  if (Date.parse(g.expires_at) <= call.nowMs) {
    throw new GovernorError('grant_expired', `grant ${g.id} expired at ${g.expires_at}`);
  }
  if (g.tool !== call.tool) {
    throw new GovernorError('grant_mismatch', `grant is for tool '${g.tool}', not '${call.tool}'`);
  }
  if (g.args_hash !== argsHash(call.args)) {
    throw new GovernorError('grant_mismatch', `grant ${g.id} does not cover these arguments`);
  }
  return g;
}
