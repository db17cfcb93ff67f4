// Kubernetes resource quantities ("500m", "2Gi", "1532416Ki", "1.5") to numbers and back, for the
// subset the twin reads from pod templates and writes into metrics. Never guesses: an unparseable
// quantity is an error, as it would be for the API server.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

/** The quantity's value in base units (bytes, cores). Throws on anything Kubernetes would refuse. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = QUANTITY.exec(q.trim());
  if (!m) throw new RangeError(`quantities must match the regular expression '${QUANTITY.source}': ${JSON.stringify(q)}`);
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  return value * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/** CPU the way metrics-server reports it: whole millicores. */
export const formatMillicores = (millicores: number): string => `${Math.max(0, Math.round(millicores))}m`;

/** Memory the way metrics-server reports it: whole kibibytes. */
export const formatKibibytes = (bytes: number): string => `${Math.max(0, Math.round(bytes / 1024))}Ki`;

/** A metric value as custom-metrics adapters write it: plain when whole, else in milli-units. */
export function formatMetricValue(value: number): string {
  if (!Number.isFinite(value)) return '0';
  if (Number.isInteger(value)) return String(value);
  return `${Math.round(value * 1000)}m`;
}
