// Watchtower's ranked hypotheses by rules, for an opening observation when no model answers: what the
// detector's signals and the correlated rollout point at, each with a rough confidence (the scores
// normalised to sum to 1), most likely first. They are text for people on the incident's thread; no
// agent plans from them (Elastik and the Configurer read the signals themselves).
import type { Hypothesis, Observation } from '../../src/contracts/events.ts';

/** At most this many, most likely first. */
const MAX = 4;

export function ruleHypotheses(o: Pick<Observation, 'signals' | 'correlated_change' | 'target'>): Hypothesis[] {
  const by = (metric: string) => o.signals.filter((s) => s.metric === metric);
  const gc = by('jvm_gc_pause_ms_per_min');
  const memory = by('memory_utilisation_ratio');
  const oom = by('container_oom_kills');
  const load = by('served_rps_per_pod').filter((s) => s.change_pct >= 20);
  const throttled = by('cpu_throttled_ratio');
  const podsUnderPressure = new Set([...gc, ...memory].map((s) => s.target)).size;
  const scored: { text: string; score: number }[] = [];

  const change = o.correlated_change;
  if (change) {
    const signature = podsUnderPressure > 0 ? 0.3 : 0;
    scored.push({
      text: `revision ${change.revision} of ${change.name} (${change.description}), rolled out ${Math.round(change.minutes_before)} min before the trouble began` +
        (podsUnderPressure > 0 ? `: ${podsUnderPressure} pod(s) under GC or memory pressure is the signature of a runtime or heap setting` : ''),
      score: 0.5 + signature + (oom.length ? 0.2 : 0),
    });
  }
  if (oom.length) {
    scored.push({ text: `${oom.length} pod(s) OOM-killed: memory grows past the limit (a leak, or a limit too low for the load)`, score: change ? 0.3 : 0.6 });
  } else if (podsUnderPressure > 0 && !change) {
    scored.push({ text: `${podsUnderPressure} pod(s) under GC or memory pressure while the others are not: heap or memory trouble on the pods that work hardest`, score: 0.5 });
  }
  if (throttled.length) {
    const t = throttled[0]!;
    scored.push({
      text: `${o.target.name}'s pods are throttled at their CPU limit in ${Math.round(t.value * 100)}% of CFS periods: the limit, not the number of pods, holds the requests back`,
      score: change ? 0.3 : 0.7,
    });
  }
  if (load.length) {
    const s = load[0]!;
    scored.push({ text: `more load per pod than ${o.target.name} serves within its SLO (${s.value} req/s a pod against ${s.baseline} when healthy): capacity`, score: change ? 0.3 : 0.6 });
  }
  scored.push({ text: 'a cause the signals do not show: a dependency, the network, or a node', score: scored.length ? 0.1 : 0.4 });

  const total = scored.reduce((t, h) => t + h.score, 0);
  return scored
    .sort((a, b) => b.score - a.score)
    .slice(0, MAX)
    .map((h) => ({ text: h.text, confidence: Math.round((h.score / total) * 100) / 100 }));
}
