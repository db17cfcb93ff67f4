// The autoscale bench runs a model of one twin service rather than the twin (a three-month trace,
// three times): it must say what the twin says. Same pod, same steady load, 40 simulated minutes,
// side by side: p99 and CPU per pod agree within 10% — a healthy JVM, a JVM whose heap has tipped
// into long old-generation pauses (the twin and the model tip between the same loads), and a
// service without a JVM near its knee.
import { describe, expect, it } from 'vitest';
import { ServiceModel, type ServiceKind } from '../../src/bench/autoscale/service-model.ts';
import type { Clock } from '../../src/core/clock.ts';
import { ClusterTwin } from '../../src/twin/cluster-twin.ts';
import { serviceTemplate } from '../../src/twin/scenarios/service-template.ts';

const JVM = '-XX:+UseG1GC -XX:MaxRAMPercentage=70 -XX:NewRatio=2 -XX:+ExitOnOutOfMemoryError';

function sideBySide(kind: ServiceKind, perPod: number) {
  const start = Date.parse('2026-06-30T00:00:00Z');
  let now = start;
  const clock: Clock = { now: () => now, setTimer: () => () => {}, sleep: () => Promise.resolve() };
  const twin = new ClusterTwin(clock, { seed: 7 });
  twin.addNamespace('ns', { 'governor.io/tenant': 't' }, start - 86_400_000);
  const template = serviceTemplate({ tenant: 't', name: 'svc', image: 'svc:1', jvmOptions: kind === 'jvm' ? JVM : null });
  twin.addDeployment({ namespace: 'ns', name: 'svc', replicas: 8, rps: perPod * 8, revisions: [{ template, changeCause: 'r', createdAtMs: start - 86_400_000 }] });
  const model = new ServiceModel({ replicas: 8, nowMs: start, kind });
  const out: { twin: { p99: number; cpu: number }; model: { p99: number; cpu: number } }[] = [];
  for (let t = 15_000; t <= 40 * 60_000; t += 15_000) {
    now = start + t;
    const m = model.advance(perPod * 8, now, 15_000);
    if (t % (20 * 60_000) === 0) {
      const pods = twin.podMetrics('ns', 'svc');
      out.push({
        twin: { p99: twin.serviceMetrics('ns', 'svc').p99_ms, cpu: pods.reduce((a, p) => a + p.cpu_millicores, 0) / pods.length },
        model: { p99: m.p99_ms, cpu: m.ready_cpu_millicores },
      });
    }
  }
  return out;
}

describe('the autoscale bench\'s service model against the twin', () => {
  it.each([
    ['jvm', 150, 'healthy'],
    ['jvm', 190, 'healthy, near the tipping point'],
    ['jvm', 230, 'tipped: old-generation pauses'],
    ['cpu', 350, 'no JVM, 60% of its CPU'],
  ] as const)('%s at %i requests/s a pod (%s): p99 and CPU within 10%%', (kind, perPod, _what) => {
    const points = sideBySide(kind, perPod);
    expect(points).toHaveLength(2);
    for (const p of points) {
      expect(Math.abs(p.model.p99 - p.twin.p99) / p.twin.p99, JSON.stringify(p)).toBeLessThan(0.1);
      expect(Math.abs(p.model.cpu - p.twin.cpu) / p.twin.cpu, JSON.stringify(p)).toBeLessThan(0.1);
    }
    if (perPod === 230) expect(points.every((p) => p.twin.p99 > 1000 && p.model.p99 > 1000)).toBe(true);
    if (perPod === 190) expect(points.every((p) => p.twin.p99 < 500 && p.model.p99 < 500)).toBe(true);
  }, 60_000);
});
