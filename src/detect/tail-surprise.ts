// How rare a deviation is for this signal, judged by the signal's own history rather than by a
// normal distribution: a streaming histogram of past |z| values (log-spaced bins, exponentially
// forgotten) gives the share of the past that strayed at least as far. A signal that spikes every
// day learns that its spikes are routine; one that never moved finds its first spike rare.
// O(bins) per sample with a fixed 64 bins, no allocation; the state is written in place.

export const TAIL_BINS = 64;
const BASE = 0.25;
const PER_OCTAVE = 4;

export interface TailState {
  counts: Float64Array;
  /** Weight of the next sample: grows instead of decaying every bin (rescaled before overflow). */
  inc: number;
  total: number;
}

export function initialTail(): TailState {
  return { counts: new Float64Array(TAIL_BINS), inc: 1, total: 0 };
}

export function tailBin(absZ: number): number {
  if (!(absZ > BASE)) return 0;
  const b = Math.floor(PER_OCTAVE * Math.log2(absZ / BASE)) + 1;
  return b >= TAIL_BINS ? TAIL_BINS - 1 : b;
}

/**
 * Share of the remembered past (weighted) whose |z| fell in this bin or above, with `prior`
 * pseudo-samples added above everything so an empty history gives no certainty either way.
 */
export function tailShare(s: TailState, absZ: number, prior: number): number {
  const b = tailBin(absZ);
  let above = 0;
  for (let i = b; i < TAIL_BINS; i++) above += s.counts[i]!;
  const scale = s.inc;
  return (above / scale + prior) / (s.total / scale + prior);
}

/** Remembers one |z|, forgetting the past by `keep` per sample. */
export function remember(s: TailState, absZ: number, keep: number): void {
  s.inc /= keep;
  s.counts[tailBin(absZ)]! += s.inc;
  s.total += s.inc;
  if (s.inc > 1e200) {
    for (let i = 0; i < TAIL_BINS; i++) s.counts[i]! /= s.inc;
    s.total /= s.inc;
    s.inc = 1;
  }
}
