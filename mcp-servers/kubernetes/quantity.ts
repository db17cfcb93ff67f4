// Kubernetes resource quantities ("512Mi", "250m", "1.5", "12345n") as plain numbers in base units
// (bytes, cores, or the metric's own unit). It never guesses: an unparseable quantity is an error,
// because a wrong number here would feed a scaling decision.

const MULTIPLIERS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

// The exponent needs digits after the `e`, so "1E" stays exa and "1e3" stays a thousand.
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') {
    if (!Number.isFinite(q)) throw new RangeError(`quantity ${q} is not finite`);
    return q;
  }
  const m = QUANTITY.exec(q.trim());
  if (!m) throw new RangeError(`'${q}' is not a Kubernetes quantity`);
  return Number(m[1]) * MULTIPLIERS[m[2] ?? '']!;
}

/** Like parseQuantity, but null for a missing or unparseable value (optional fields of an object). */
export function quantityOrNull(q: string | number | undefined | null): number | null {
  if (q === undefined || q === null || q === '') return null;
  try {
    return parseQuantity(q);
  } catch {
    return null;
  }
}
