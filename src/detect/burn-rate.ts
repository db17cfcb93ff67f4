// Multi-window, multi-burn-rate SLO alerts (Google SRE Workbook, "Alerting on SLOs", approach 6):
// an alert fires when the error budget burns at least `factor` times the sustainable rate over a
// long window AND over a short one (the short window makes the alert stop soon after the burning
// does). The default rules are the workbook's for a 30-day, 99.9%-style SLO: page at 14.4x over
// 1 h and 5 min (2% of the budget in an hour) or 6x over 6 h and 30 min (5% in six hours); ticket
// at 3x over 1 day and 2 h, or 1x over 3 days and 6 h.
// Pure: `evaluateBurnRates` is a function of the windows' error ratios; `BurnWindows` keeps those
// ratios from a stream of (good, total) counts in O(1) per sample (minute buckets in a ring, one
// running sum per window), written in place. It never pages anyone; it says which rule fires.

export interface BurnRateRule {
  severity: 'page' | 'ticket';
  longS: number;
  shortS: number;
  factor: number;
}

export const SRE_WORKBOOK_RULES: readonly BurnRateRule[] = [
  { severity: 'page', longS: 3_600, shortS: 300, factor: 14.4 },
  { severity: 'page', longS: 21_600, shortS: 1_800, factor: 6 },
  { severity: 'ticket', longS: 86_400, shortS: 7_200, factor: 3 },
  { severity: 'ticket', longS: 259_200, shortS: 21_600, factor: 1 },
];

/** How many times faster than sustainable the budget burns at this error ratio. */
export function burnRate(errorRatio: number, sloTarget: number): number {
  return errorRatio / (1 - sloTarget);
}

export interface BurnRateVerdict {
  severity: 'page' | 'ticket' | 'none';
  firing: Array<BurnRateRule & { burnLong: number; burnShort: number }>;
}

/**
 * Which rules fire, given the error ratio over any window (undefined: not enough data for that
 * window yet, and a rule missing a window does not fire).
 */
export function evaluateBurnRates(sloTarget: number, errorRatioOver: (windowS: number) => number | undefined, rules: readonly BurnRateRule[] = SRE_WORKBOOK_RULES): BurnRateVerdict {
  if (!(sloTarget > 0 && sloTarget < 1)) throw new RangeError(`SLO target must be between 0 and 1, got ${sloTarget}`);
  const firing: BurnRateVerdict['firing'] = [];
  for (const r of rules) {
    const long = errorRatioOver(r.longS);
    const short = errorRatioOver(r.shortS);
    if (long === undefined || short === undefined) continue;
    const burnLong = burnRate(long, sloTarget);
    const burnShort = burnRate(short, sloTarget);
    if (burnLong >= r.factor && burnShort >= r.factor) firing.push({ ...r, burnLong, burnShort });
  }
  const severity = firing.some((f) => f.severity === 'page') ? 'page' : firing.length ? 'ticket' : 'none';
  return { severity, firing };
}

export interface BurnWindowsState {
  bucketS: number;
  windowsS: number[];
  bad: Float64Array;
  total: Float64Array;
  /** Absolute index of the newest bucket (-1: nothing seen). */
  head: number;
  /** Per window: running sums over its buckets, and how many buckets of data it has. */
  sumBad: Float64Array;
  sumTotal: Float64Array;
  filled: Float64Array;
}

/** Windows for the given rules, in buckets of `bucketS` (60 s by default). */
export function initialBurnWindows(rules: readonly BurnRateRule[] = SRE_WORKBOOK_RULES, bucketS = 60): BurnWindowsState {
  const windowsS = [...new Set(rules.flatMap((r) => [r.longS, r.shortS]))].sort((a, b) => a - b);
  const size = Math.ceil(windowsS.at(-1)! / bucketS);
  return {
    bucketS,
    windowsS,
    bad: new Float64Array(size),
    total: new Float64Array(size),
    head: -1,
    sumBad: new Float64Array(windowsS.length),
    sumTotal: new Float64Array(windowsS.length),
    filled: new Float64Array(windowsS.length),
  };
}

/** Adds `bad` failed of `total` requests seen at `ms` (times in order). */
export function addCounts(s: BurnWindowsState, ms: number, bad: number, total: number): void {
  const b = Math.floor(ms / 1000 / s.bucketS);
  const size = s.bad.length;
  if (s.head < 0) s.head = b - 1;
  // Advance bucket by bucket (a long gap clears at most the whole ring): each window drops the
  // bucket that falls out of it.
  const steps = Math.min(b - s.head, size + 1);
  if (b - s.head > size) {
    s.bad.fill(0);
    s.total.fill(0);
    s.sumBad.fill(0);
    s.sumTotal.fill(0);
    s.head = b - 1;
  }
  for (let k = 0; k < steps && s.head < b; k++) {
    s.head++;
    const slot = s.head % size;
    for (let w = 0; w < s.windowsS.length; w++) {
      const len = Math.ceil(s.windowsS[w]! / s.bucketS);
      const leaving = s.head - len;
      if (leaving >= 0 && s.head - leaving <= size) {
        const ls = leaving % size;
        s.sumBad[w]! -= s.bad[ls]!;
        s.sumTotal[w]! -= s.total[ls]!;
      }
      s.filled[w] = Math.min(len, s.filled[w]! + 1);
    }
    s.bad[slot] = 0;
    s.total[slot] = 0;
  }
  const slot = b % size;
  if (b === s.head) {
    s.bad[slot]! += bad;
    s.total[slot]! += total;
    for (let w = 0; w < s.windowsS.length; w++) {
      s.sumBad[w]! += bad;
      s.sumTotal[w]! += total;
    }
  }
}

/** The error ratio over a window, once the window has been covered by data and saw traffic. */
export function errorRatio(s: BurnWindowsState, windowS: number): number | undefined {
  const w = s.windowsS.indexOf(windowS);
  if (w < 0) return undefined;
  if (s.filled[w]! < Math.ceil(windowS / s.bucketS) || s.sumTotal[w]! <= 0) return undefined;
  return Math.max(0, s.sumBad[w]!) / s.sumTotal[w]!;
}
