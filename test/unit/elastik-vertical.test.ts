// Elastik tells a limit that binds from a load that does: CPU throttling with CPU to spare raises the
// CPU limit one step, OOM kills with no release to blame raise the memory limit, pods simply busy at
// their limit are left to replicas, and a release that lines up is rolled back rather than given
// more memory (DESIGN §6). The verifier judges a change of limits by the signal that blamed it too.
import { describe, expect, it } from 'vitest';
import { VERTICAL_STEP, verticalStep, quantity, type VerticalInput } from '../../agents/elastik/vertical.ts';
import { judge } from '../../agents/runtime/verifier.ts';
import { proposeLimitsInstead } from '../../agents/elastik/limits-work.ts';
import type { AuditRecord } from '../../src/audit/audit-store.ts';
import type { Recorder } from '../../src/audit/recorder.ts';
import { VirtualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { loadTenants } from '../../src/governance/tenants.ts';
import type { DeploymentMetrics } from '../../agents/runtime/cluster-views.ts';
import type { Proposal } from '../../src/contracts/events.ts';

function metrics(pod: Partial<DeploymentMetrics['pods'][number]>, opts: { pods?: number; p99?: number; cpuLimit?: string; memoryLimit?: string } = {}): DeploymentMetrics {
  const n = opts.pods ?? 12;
  return {
    pods: Array.from({ length: n }, (_, i) => ({
      pod: `risk-scoring-${i}`, ready: true, memory_bytes: 400 * 2 ** 20, memory_limit_bytes: 2 ** 30, memory_utilisation: 0.4,
      cpu_millicores: 300, cpu_limit_millicores: 500, cpu_throttled_ratio: 0.31, restart_count: 0, last_termination_reason: null, ...pod,
    })),
    service: { p50_ms: 200, p99_ms: opts.p99 ?? 550, rps: 48, error_ratio: 0 },
    deployment: {
      replicas: n,
      revision: 1,
      containers: [{ name: 'app', requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: opts.cpuLimit ?? '500m', memory: opts.memoryLimit ?? '1Gi' } }],
    },
  };
}

const input = (m: DeploymentMetrics, over: Partial<VerticalInput> = {}): VerticalInput => ({
  namespace: 'globex-prod', deployment: 'risk-scoring', metrics: m, sloP99Ms: 400, maxReplicas: 30, correlatedChange: false, ...over,
});

describe('verticalStep', () => {
  it('throttled at the CPU limit with CPU to spare: the CPU limit doubles, with its evidence, undone by the old limit', () => {
    const d = verticalStep(input(metrics({})));
    expect(d.kind).toBe('limits');
    if (d.kind !== 'limits') return;
    expect(d.cause).toBe('cpu_throttling');
    const a = d.action;
    expect(a.tool_call).toEqual({ server: 'kubernetes', tool: 'patch_resource_limits', args: { namespace: 'globex-prod', deployment: 'risk-scoring', container: 'app', limits: { cpu: '1000m' } } });
    expect(a.compensating_action.args).toEqual({ namespace: 'globex-prod', deployment: 'risk-scoring', container: 'app', limits: { cpu: '500m' } });
    expect(a.blast_radius).toEqual({ tenants: 1, services: 1, capacity_change_pct: 0 });
    expect(a.params).toMatchObject({ resource: 'cpu', from_limit: '500m', to_limit: '1000m', cause: 'cpu_throttling', evidence: { throttled_ratio: 0.31, cpu_saturation: 0.6, pods: 12 } });
    expect(a.verification).toMatchObject({ slo_threshold: 400, limits: { cause: 'cpu_throttling', max_throttled_ratio: 0.15 } });
    expect(a.reasoning.join('\n')).toMatch(/throttled at their CPU limit \(app: 500m\) in 31% of CFS periods/);
    expect(a.reasoning.join('\n')).toMatch(/more replicas spread a load that is not the problem/);
  });

  it('pods busy at their limit are a load per pod: replicas, not a bigger limit', () => {
    expect(verticalStep(input(metrics({ cpu_millicores: 480, cpu_throttled_ratio: 0.6 })))).toMatchObject({ kind: 'none', why: expect.stringMatching(/load per pod/) });
    // Throttling too rare to blame, or not served at all: nothing vertical.
    expect(verticalStep(input(metrics({ cpu_throttled_ratio: 0.05 }))).kind).toBe('none');
    expect(verticalStep(input(metrics({ cpu_throttled_ratio: null }))).kind).toBe('none');
    // Within the SLO: nothing to fix.
    expect(verticalStep(input(metrics({}, { p99: 300 })))).toMatchObject({ kind: 'none', why: expect.stringMatching(/within the 400 ms SLO/) });
  });

  it('stays within the server\'s ceiling per container and the tenant\'s entitlement', () => {
    const near = verticalStep(input(metrics({}, { cpuLimit: '12' })));
    expect(near.kind === 'limits' && near.action.params['to_limit']).toBe(`${VERTICAL_STEP.maxCpuCores * 1000}m`);
    expect(verticalStep(input(metrics({}, { cpuLimit: '16' })))).toMatchObject({ kind: 'none', why: expect.stringMatching(/ceiling/) });
    // 20 pods at twice the CPU are 40 of today's size; the tenant is entitled to 30.
    expect(verticalStep(input(metrics({}, { pods: 20 })))).toMatchObject({ kind: 'none', why: expect.stringMatching(/more than the 30 pods of today's size/) });
  });

  it('OOM kills with no release to blame: the memory limit grows by half', () => {
    const d = verticalStep(input(metrics({ cpu_throttled_ratio: 0, restart_count: 2, last_termination_reason: 'OOMKilled', memory_utilisation: 0.7 })));
    expect(d.kind === 'limits' && d.cause).toBe('memory_limit');
    if (d.kind !== 'limits') return;
    expect(d.action.tool_call.args).toMatchObject({ container: 'app', limits: { memory: '1536Mi' } });
    expect(d.action.compensating_action.args).toMatchObject({ limits: { memory: '1024Mi' } });
    expect(d.action.verification.limits).toEqual({ cause: 'memory_limit' });
    expect(quantity('1536Mi')).toBe(1.5 * quantity('1Gi')!);
  });

  it('memory trouble that lines up with a release is the release\'s: rolled back, never given more memory (the seed incident)', () => {
    const m = metrics({ cpu_throttled_ratio: 0, memory_utilisation: 0.94, last_termination_reason: 'OOMKilled' });
    expect(verticalStep(input(m, { correlatedChange: true }))).toMatchObject({ kind: 'none', why: expect.stringMatching(/rolled back/) });
  });
});

describe('the verifier judges a change of limits by its signal too', () => {
  const spec = (limits: NonNullable<Proposal['verification']['limits']>): Proposal['verification'] => ({ metric: 'http_request_duration_p99_ms', slo_threshold: 400, min_improvement_pct: 30, window_s: 180, limits });
  const cpu = spec({ cause: 'cpu_throttling', max_throttled_ratio: 0.15 });

  it('restored only once p99 is back and throttling is gone', () => {
    const sample = (atS: number, value: number, throttled: number | null) => ({ atMs: atS * 1000, value, limits: { throttled, oomKilled: 0 } });
    expect(judge(cpu, 550, [sample(15, 300, 0.3), sample(30, 290, 0.25)], 0, 300_000)).toBeUndefined();
    expect(judge(cpu, 550, [sample(15, 300, 0.05), sample(30, 290, 0.04)], 0, 300_000)).toBe('restored');
    // An older server without the signal: the SLO alone judges.
    expect(judge(cpu, 550, [sample(15, 300, null), sample(30, 290, null)], 0, 300_000)).toBe('restored');
    // Throttling gone but p99 still over the SLO: improved by the end of the window, undone only if not.
    expect(judge(cpu, 550, [sample(180, 420, 0.02)], 0, 300_000)).toBeUndefined();
    expect(judge(cpu, 550, [sample(180, 350, 0.3)], 0, 300_000)).toBe('improved');
    expect(judge(cpu, 550, [sample(300, 540, 0.3)], 0, 300_000)).toBe('not_helped');
  });

  it('a memory raise is restored only while no pod has been OOMKilled since', () => {
    const mem = spec({ cause: 'memory_limit' });
    const sample = (atS: number, oomKilled: number) => ({ atMs: atS * 1000, value: 300, limits: { throttled: null, oomKilled } });
    expect(judge(mem, 600, [sample(15, 1), sample(30, 1)], 0, 300_000)).toBeUndefined();
    expect(judge(mem, 600, [sample(45, 0), sample(60, 0)], 0, 300_000)).toBe('restored');
  });
});

describe('an incident being worked: the limit instead of the next scale', () => {
  const inc = { id: 'i1', tenant: 'acme', namespace: 'globex-prod', deployment: 'risk-scoring' };
  const tenant = { ...loadTenants()['acme']!, slo: { p99_latency_ms: 400 } };
  const deps = () => {
    const proposals: Proposal[] = [];
    const recorder = { recordAndPublish: async (_: unknown, m: { event: Proposal }) => void proposals.push(m.event) } as unknown as Recorder;
    return { proposals, deps: { recorder, clock: new VirtualClock(Date.parse('2026-11-24T10:05:00Z')), logger: silentLogger() } };
  };
  const record = (action: string): AuditRecord => ({ kind: 'proposal', payload: { proposal: { action, target: { kind: 'Deployment', name: 'risk-scoring' } } } }) as unknown as AuditRecord;

  it('proposes the CPU limit step once throttling has set in, and says so to the caller', async () => {
    const { proposals, deps: d } = deps();
    expect(await proposeLimitsInstead(d, inc, [record('scale_deployment')], metrics({}), tenant, false)).toBe(true);
    expect(proposals).toHaveLength(1);
    expect(proposals[0]).toMatchObject({ agent: 'elastik', action: 'patch_resource_limits', incident_id: 'i1', tool_call: { args: { limits: { cpu: '1000m' } } } });
  });

  it('never twice, never beside a cause being removed, and not when the pods are simply busy', async () => {
    const { proposals, deps: d } = deps();
    expect(await proposeLimitsInstead(d, inc, [record('patch_resource_limits')], metrics({}), tenant, false)).toBe(false);
    expect(await proposeLimitsInstead(d, inc, [record('rollback_deployment')], metrics({}), tenant, false)).toBe(false);
    expect(await proposeLimitsInstead(d, inc, [], metrics({ cpu_millicores: 480 }), tenant, false)).toBe(false);
    expect(proposals).toEqual([]);
  });
});
