// Which rollout started an incident, and which revision to roll back to: the one that was running
// before that rollout, i.e. before the incident's onset. A revision rolled out after the onset cannot
// have caused it (the trouble was already there), so it is never the one blamed — the newest revision
// is not the suspect merely for being newest.
// Pure: the rollout history and the onset in, the verdict and its reasons out. Shared by Watchtower
// (which change it correlates) and Elastik (which revision it rolls back to), so both say the same.
// It never guesses past the evidence: no rollout before the onset within the window → no suspect.
import type { RolloutHistory } from './cluster-views.ts';

/** When the incident began, as the detector saw it. */
export interface Onset {
  /** The first sample of the degradation that became the incident. */
  atMs: number;
  /**
   * The last healthy sample before it. Absent when the service was already degraded at the first
   * sample Watchtower took: the onset then lies somewhere before `atMs`, and cannot be pinned down.
   */
  lastHealthyMs?: number;
}

export interface RevisionRef {
  revision: number;
  atMs: number;
  description: string;
}

export type Blame =
  | {
      /** The rollout the incident is blamed on. */
      suspect: RevisionRef;
      /** The revision that ran before the suspect's rollout: what to roll back to; absent when none is left. */
      lastGood: number | undefined;
      /** Rollouts after the onset: not the cause, though a rollback to `lastGood` undoes them too. */
      afterOnset: RevisionRef[];
      /** Other rollouts before the onset within the window, when the onset could not be pinned down. */
      alsoBeforeOnset: RevisionRef[];
      reasons: string[];
    }
  | { suspect: undefined; afterOnset: RevisionRef[]; reasons: string[] };

const iso = (ms: number) => new Date(ms).toISOString();
const describe = (r: { revision: number; change_cause?: string | null | undefined }) => r.change_cause ?? `revision ${r.revision}`;

/**
 * Blames the rollout that was running at the incident's onset, if it was rolled out within
 * `windowMin` minutes before it. When the onset is only bounded above (degraded from the first
 * sample), every rollout in the window before it is a candidate, and the blame goes to the oldest of
 * them: rolling back to the revision before it is the one choice known to predate the incident.
 * A revision's time is its ReplicaSet's creation; revisions without one are never blamed.
 */
export function blameRollout(history: RolloutHistory, onset: Onset, windowMin: number): Blame {
  const timed: RevisionRef[] = history.revisions
    .map((r) => ({ revision: r.revision, atMs: r.created_at ? Date.parse(r.created_at) : NaN, description: describe(r) }))
    .filter((r) => Number.isFinite(r.atMs))
    .sort((a, b) => a.revision - b.revision);
  const afterOnset = timed.filter((r) => r.atMs > onset.atMs);
  const candidates = timed.filter((r) => r.atMs <= onset.atMs && onset.atMs - r.atMs <= windowMin * 60_000);
  const onsetWords = onset.lastHealthyMs !== undefined
    ? `the incident's onset at ${iso(onset.atMs)} (last healthy sample ${iso(onset.lastHealthyMs)})`
    : `the incident's onset, before ${iso(onset.atMs)} (degraded from the first sample watched)`;
  const exonerated = afterOnset.map((r) => `revision ${r.revision} (${r.description}) rolled out at ${iso(r.atMs)}, after ${onsetWords}: not the cause`);

  if (candidates.length === 0) {
    return {
      suspect: undefined,
      afterOnset,
      reasons: [...exonerated, `no rollout in the ${windowMin} min before ${onsetWords}: no rollback`],
    };
  }
  const bounded = onset.lastHealthyMs !== undefined;
  const suspect = bounded ? candidates[candidates.length - 1]! : candidates[0]!;
  const alsoBeforeOnset = candidates.filter((r) => r !== suspect);
  const lastGood = history.revisions
    .map((r) => r.revision)
    .filter((r) => r < suspect.revision)
    .sort((a, b) => b - a)[0];
  const minutes = Math.round((onset.atMs - suspect.atMs) / 60_000);
  const reasons = [
    bounded
      ? `revision ${suspect.revision} (${suspect.description}) was running at ${onsetWords}, rolled out ${minutes} min before it`
      : `revision ${suspect.revision} (${suspect.description}), rolled out ${minutes} min before ${onsetWords}, is the oldest rollout in the ${windowMin} min before it` +
        (alsoBeforeOnset.length ? `; revision(s) ${alsoBeforeOnset.map((r) => r.revision).join(', ')} came later and may be the cause as well` : ''),
    ...(bounded && alsoBeforeOnset.length
      ? [`revision(s) ${alsoBeforeOnset.map((r) => r.revision).join(', ')} were rolled out before it: the change nearest the onset is the suspect`]
      : []),
    ...exonerated,
    lastGood !== undefined
      ? `revision ${lastGood} ran before revision ${suspect.revision}: the last good revision` +
        (afterOnset.length ? ` (rolling back to it also undoes revision(s) ${afterOnset.map((r) => r.revision).join(', ')})` : '')
      : `no revision before ${suspect.revision} is left to roll back to`,
  ];
  return { suspect, lastGood, afterOnset, alsoBeforeOnset, reasons };
}
