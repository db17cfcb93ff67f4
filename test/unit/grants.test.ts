import { describe, expect, it } from 'vitest';
import type { KeyObject } from 'node:crypto';
import { generateGrantKeys, issueGrant, verifyGrant } from '../../src/governance/grants.ts';

const keys = generateGrantKeys('k1');
const pub = new Map<string, KeyObject>([['k1', keys.publicKey]]);
const args = { namespace: 'acme-prod', deployment: 'checkout', replicas: 12 };
const grant = issueGrant(keys, {
  proposal_id: 'p1', agent: 'elastik', tenant: 'acme', namespace: 'acme-prod', server: 'kubernetes',
  tool: 'scale_deployment', args, basis: 'policy', nowMs: 1_000_000, ttlMs: 60_000,
});

describe('grants', () => {
  it('verifies for the exact call it was issued for', () => {
    expect(verifyGrant(pub, grant, { tool: 'scale_deployment', args: { replicas: 12, deployment: 'checkout', namespace: 'acme-prod' }, nowMs: 1_000_001 }).id).toBe(grant.id);
  });
  it('refuses other arguments, another tool, expiry, tampering and unknown keys', () => {
    const call = { tool: 'scale_deployment', args, nowMs: 1_000_001 };
    expect(() => verifyGrant(pub, grant, { ...call, args: { ...args, replicas: 13 } })).toThrow(/does not cover/);
    expect(() => verifyGrant(pub, grant, { ...call, tool: 'rollback_deployment' })).toThrow(/not 'rollback_deployment'/);
    expect(() => verifyGrant(pub, grant, { ...call, nowMs: 1_060_000 })).toThrow(/expired/);
    expect(() => verifyGrant(pub, { ...grant, args: { ...args, replicas: 40 }, args_hash: grant.args_hash }, call)).toThrow(/signature/);
    expect(() => verifyGrant(new Map(), grant, call)).toThrow(/unknown key/);
    const other = generateGrantKeys('k1');
    expect(() => verifyGrant(new Map([['k1', other.publicKey]]), grant, call)).toThrow(/signature/);
    expect(() => verifyGrant(pub, { nonsense: true }, call)).toThrow(/malformed/);
  });
});
