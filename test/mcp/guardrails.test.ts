import { describe, expect, it } from 'vitest';
import { cooldownViolation, scaleLimitViolations } from '../../mcp-servers/kubernetes/guardrails.ts';
import { parseQuantity, quantityOrNull } from '../../mcp-servers/kubernetes/quantity.ts';
import { readToolError, toolErrorResult } from '../../src/mcp/tool-error.ts';

const facts = { namespace: 'acme-prod', deployment: 'checkout', production: true };

describe('scale guardrails', () => {
  it('allows up to 3x and refuses beyond', () => {
    expect(scaleLimitViolations({ ...facts, currentReplicas: 8, requestedReplicas: 24 })).toEqual([]);
    const v = scaleLimitViolations({ ...facts, currentReplicas: 8, requestedReplicas: 32 });
    expect(v.map((x) => x.rule)).toEqual(['max_scale_up_factor']);
    expect(v[0]!.message).toMatch(/4\.0x/);
  });
  it('keeps at least 2 replicas in production only', () => {
    expect(scaleLimitViolations({ ...facts, currentReplicas: 8, requestedReplicas: 1 }).map((x) => x.rule)).toEqual(['min_production_replicas']);
    expect(scaleLimitViolations({ ...facts, production: false, currentReplicas: 8, requestedReplicas: 1 })).toEqual([]);
  });
  it('measures the factor from one replica when scaled to zero', () => {
    expect(scaleLimitViolations({ ...facts, production: false, currentReplicas: 0, requestedReplicas: 3 })).toEqual([]);
    expect(scaleLimitViolations({ ...facts, production: false, currentReplicas: 0, requestedReplicas: 4 })).toHaveLength(1);
  });
  it('names the cooldown and the time left', () => {
    expect(cooldownViolation('acme-prod/checkout', 1_000_000, 1_100_000).message).toMatch(/cooldown.*200 s remaining/);
  });
});

describe('quantities', () => {
  it.each([
    ['512Mi', 512 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['250m', 0.25],
    ['12345678n', 0.012345678],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['2k', 2000],
    ['940m', 0.94],
  ])('%s', (q, v) => expect(parseQuantity(q)).toBeCloseTo(v, 9));
  it('refuses what is not a quantity', () => {
    expect(() => parseQuantity('12 apples')).toThrow();
    expect(quantityOrNull('x')).toBeNull();
    expect(quantityOrNull(undefined)).toBeNull();
  });
});

describe('tool error wire format', () => {
  it('round-trips code, message and retryable, without structuredContent', () => {
    const r = toolErrorResult({ code: 'grant_used', message: 'grant g1 was already used', retryable: false });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toBeUndefined();
    expect(r.content[0]).toEqual({ type: 'text', text: 'grant_used: grant g1 was already used' });
    expect(readToolError(r)).toMatchObject({ code: 'grant_used', message: 'grant g1 was already used', retryable: false });
  });
  it('reads a code prefix and the SDK plain-text failures', () => {
    expect(readToolError({ content: [{ type: 'text', text: 'not_found: x' }] }).code).toBe('not_found');
    expect(readToolError({ content: [{ type: 'text', text: 'MCP error -32602: Input validation error: bad' }] }).code).toBe('invalid_arguments');
    expect(readToolError({ content: [{ type: 'text', text: 'MCP error -32602: Tool nope not found' }] }).code).toBe('unknown_tool');
  });
});

describe('HPA bounds guardrails', () => {
  const base = { namespace: 'acme-prod', hpa: 'checkout', currentReplicas: 8, currentMax: 16, production: true };
  it('a minimum within 3x of what runs and a ceiling no wider than 3x pass; each limit on its own is refused', async () => {
    const { hpaBoundsViolations } = await import('../../mcp-servers/kubernetes/guardrails.ts');
    expect(hpaBoundsViolations({ ...base, min: 12, max: 24 })).toEqual([]);
    expect(hpaBoundsViolations({ ...base, min: 25, max: 25 }).map((v) => v.rule)).toEqual(['max_scale_up_factor', 'max_scale_up_factor']);
    expect(hpaBoundsViolations({ ...base, min: 1, max: 16 }).map((v) => v.rule)).toEqual(['min_production_replicas']);
    expect(hpaBoundsViolations({ ...base, production: false, min: 1, max: 16 })).toEqual([]);
    expect(hpaBoundsViolations({ ...base, min: 12, max: 10 }).map((v) => v.rule)).toEqual(['hpa_bounds_order']);
    // A ceiling already wider than 3x may stay as it is.
    expect(hpaBoundsViolations({ ...base, currentMax: 40, min: 12, max: 40 })).toEqual([]);
  });
});

describe('resource guardrails', () => {
  const current = { requests: { cpu: 0.5, memory: 2 * 2 ** 30 }, limits: { cpu: 1, memory: 2 * 2 ** 30 } };
  const at = (over: Partial<{ requests: Partial<typeof current.requests>; limits: Partial<typeof current.limits> }>) => ({
    requests: { ...current.requests, ...over.requests }, limits: { ...current.limits, ...over.limits },
  });
  it('steps of at most 2x, ceilings, requests within limits, never a memory limit under live use', async () => {
    const { resourceViolations } = await import('../../mcp-servers/kubernetes/guardrails.ts');
    const rules = (next: ReturnType<typeof at>, use: number | null = 1.5 * 2 ** 30) => resourceViolations({ target: 't', current, next, maxPodMemoryBytes: use }).map((v) => v.rule);
    expect(rules(at({ limits: { memory: 3 * 2 ** 30 } }))).toEqual([]);
    expect(rules(at({ limits: { memory: 4 * 2 ** 30 } }))).toEqual([]);
    expect(rules(at({ limits: { memory: 4.5 * 2 ** 30 } }))).toEqual(['max_resource_change_factor']);
    expect(rules(at({ requests: { cpu: 0.2 } }))).toEqual(['max_resource_change_factor']);
    expect(rules(at({ requests: { memory: 3 * 2 ** 30 } }))).toEqual(['requests_within_limits']);
    expect(rules(at({ limits: { cpu: 17 } }))).toEqual(['max_resource_change_factor', 'max_container_resources']);
    expect(rules(at({ requests: { memory: 1.5 * 2 ** 30 }, limits: { memory: 1.6 * 2 ** 30 } }))).toEqual(['memory_limit_below_usage']);
    // Without metrics the usage rule cannot apply; the others still do.
    expect(rules(at({ requests: { memory: 1.5 * 2 ** 30 }, limits: { memory: 1.6 * 2 ** 30 } }), null)).toEqual([]);
  });
});
