// The twin's metrics in the Prometheus text exposition format 0.0.4, served at GET /metrics for a
// real Prometheus to scrape. A careful writer rather than prom-client's metric classes: the values
// are the twin's (a summary's quantiles come computed, counters come integrated), and prom-client's
// Summary and Counter only accept observations and increments.
//
// Format rules kept here: one HELP and one TYPE line per family, a family's samples together, label
// values escaped (\\, \", \n), HELP text escaped (\\, \n), floats as Go writes them (NaN, +Inf, -Inf),
// no timestamps (the scraper stamps the scrape), a final newline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compareStrings, type Labels } from './labels.ts';
import { serveHandlers, type RequestHandler, type ServeOptions } from './http-serve.ts';
import { SeriesStore, type Sample } from './series-store.ts';
import { TWIN_METRIC_FAMILIES, TwinCollector, familyOf, type MetricFamily, type TwinReader } from './twin-collector.ts';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Where the current values come from: the twin itself (read at every scrape through a collector of
 * its own), a collector (share the sampler's, so that its counters and the store's agree), the newest
 * scrape in a store, or any function returning samples.
 */
export type ExpositionSource = TwinReader | TwinCollector | SeriesStore | (() => readonly Sample[]);

export function samplesOf(source: ExpositionSource): () => readonly Sample[] {
  if (source instanceof SeriesStore) return () => source.latest()?.samples ?? [];
  if (source instanceof TwinCollector) return () => source.collect().samples;
  if (typeof source === 'function') return source;
  const collector = new TwinCollector(source);
  return () => collector.collect().samples;
}

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabelValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** A float as Go's text format writes it. */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function formatSeries(labels: Labels): string {
  const name = labels.__name__ ?? '';
  const rest = Object.keys(labels)
    .filter((k) => k !== '__name__' && labels[k] !== '')
    .sort(compareStrings)
    .map((k) => `${k}="${escapeLabelValue(labels[k]!)}"`);
  return rest.length > 0 ? `${name}{${rest.join(',')}}` : name;
}

/** The exposition text of the samples; families in first-seen order, unknown families untyped. */
export function renderExposition(samples: readonly Sample[], families: readonly MetricFamily[] = TWIN_METRIC_FAMILIES): string {
  const known = new Map(families.map((f) => [f.name, f]));
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const name = s.labels.__name__;
    if (!name) continue;
    const fam = known.has(name) ? name : familyOf(name);
    let g = groups.get(fam);
    if (!g) groups.set(fam, (g = []));
    g.push(s);
  }
  let out = '';
  for (const [name, group] of groups) {
    const f = known.get(name);
    if (f) out += `# HELP ${name} ${escapeHelp(f.help)}\n# TYPE ${name} ${f.type}\n`;
    else out += `# TYPE ${name} untyped\n`;
    for (const s of group) out += `${formatSeries(s.labels)} ${formatSampleValue(s.value)}\n`;
  }
  return out;
}

/** Answers GET/HEAD `path` (default /metrics) with the exposition; leaves every other request alone. */
export function metricsHandler(source: ExpositionSource, opts: { path?: string } = {}): RequestHandler {
  const path = opts.path ?? '/metrics';
  const read = samplesOf(source);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = new URL(req.url ?? '/', 'http://twin');
    if (url.pathname !== path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return true;
    }
    const body = renderExposition(read());
    res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}

export interface MetricsServer {
  /** The scrape URL: http://127.0.0.1:PORT/metrics. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics on its own loopback port (a free one unless `port` is given). */
export async function startMetricsServer(source: ExpositionSource, opts: ServeOptions = {}): Promise<MetricsServer> {
  const server = await serveHandlers([metricsHandler(source)], opts);
  return { url: `${server.baseUrl}/metrics`, port: server.port, close: server.close };
}
