// How far Elastik scales in one step, on the launch-surge shapes: a 3-pod service in a small
// namespace beside two 2-pod services, all pods alike.
import { describe, expect, it } from 'vitest';
import { capacityChangePct, nextStep } from '../../agents/elastik/sizing.ts';

const namespace = (signup: number) => ({
  namespace: 'initech-prod',
  total_pods: signup + 4,
  deployments: [
    { name: 'signup', replicas: signup, cpu_request_millicores: 500, memory_request_bytes: 1 },
    { name: 'profile', replicas: 2, cpu_request_millicores: 500, memory_request_bytes: 1 },
    { name: 'mailer', replicas: 2, cpu_request_millicores: 500, memory_request_bytes: 1 },
  ],
});
const step = (current: number, needed: number | undefined, over: Partial<Parameters<typeof nextStep>[0]> = {}) =>
  nextStep({ deployment: 'signup', current, needed, maxReplicas: 24, capacity: namespace(current), supervisedAllowed: true, ...over });

describe('sizing one step', () => {
  it('takes what the demand needs at once when the level-3 blast radius allows it', () => {
    expect(step(20, 24)).toMatchObject({ kind: 'scale', to: 24, supervised: false, needed: 24 });
  });

  it('beyond the level-3 blast radius, the bigger step a human may approve (level 2), never above 3x', () => {
    // 3 → 8 needed: +5 of 7 pods is 71%; level 3 allows +2 (28.6%), level 2 +3 (42.9%).
    expect(capacityChangePct(namespace(3), 'signup', 3, 5)).toBe(28.6);
    expect(step(3, 8)).toMatchObject({ kind: 'scale', to: 6, supervised: true, needed: 8 });
    expect(step(3, 30)).toMatchObject({ kind: 'scale', to: 6, supervised: true });
  });

  it('once a supervised step was declined, the level-3 step now and the next after the cooldown', () => {
    const s = step(3, 8, { supervisedAllowed: false });
    expect(s).toMatchObject({ kind: 'scale', to: 5, supervised: false });
    expect(s.kind === 'scale' && s.reasons.join(' ')).toMatch(/the next step after the 300 s cooldown/);
  });

  it('never beyond the entitlement, and says so when that is what blocks it', () => {
    expect(step(20, 40, { maxReplicas: 22 })).toMatchObject({ kind: 'scale', to: 22 });
    expect(step(22, 40, { maxReplicas: 22 })).toMatchObject({ kind: 'blocked', reason: 'entitlement', needed: 40 });
  });

  it('says when one pod is already beyond any blast radius, and when there is enough', () => {
    const tiny = { namespace: 'x', total_pods: 1, deployments: [{ name: 'signup', replicas: 1, cpu_request_millicores: 500, memory_request_bytes: 1 }] };
    expect(nextStep({ deployment: 'signup', current: 1, needed: 3, maxReplicas: 24, capacity: tiny, supervisedAllowed: true })).toMatchObject({ kind: 'blocked', reason: 'blast_radius' });
    expect(step(8, 8)).toMatchObject({ kind: 'enough' });
  });
});
