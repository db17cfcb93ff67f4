// The exposition format: a strict reader written from the 0.0.4 spec, Prometheus's own promtool, and
// the HTTP endpoint.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/clock.ts';
import { EXPOSITION_CONTENT_TYPE, metricsHandler, renderExposition, startMetricsServer } from '../../../src/twin/metrics/exposition.ts';
import { serveHandlers } from '../../../src/twin/metrics/http-serve.ts';
import { startSampler } from '../../../src/twin/metrics/sampler.ts';
import { TWIN_METRIC_FAMILIES, TwinCollector } from '../../../src/twin/metrics/twin-collector.ts';
import { buildScenario } from '../../../src/twin/scenarios/index.ts';
import { requireBinary } from './prometheus-process.ts';

const T0 = Date.parse('2026-11-24T10:00:00Z');

interface Parsed {
  families: Map<string, { type: string; help: string | undefined }>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** A strict reader of the text format 0.0.4 (what Prometheus's parser demands, and a bit more). */
function parseExposition(text: string): Parsed {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, { type: string; help: string | undefined }>();
  const samples: Parsed['samples'] = [];
  const done = new Set<string>();
  let current: string | undefined;
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (current !== name) {
        if (current) done.add(current);
        expect(done.has(name!), `family ${name} split`).toBe(false);
        current = name;
      }
      const f = families.get(name!) ?? { type: 'untyped', help: undefined };
      if (kind === 'TYPE') {
        expect(['counter', 'gauge', 'summary', 'histogram', 'untyped']).toContain(rest);
        f.type = rest!;
      } else f.help = rest!.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      families.set(name!, f);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `sample line ${JSON.stringify(line)}`).not.toBeNull();
    const [, name, , body, value] = m!;
    const labels: Record<string, string> = {};
    let rest = body ?? '';
    while (rest.length > 0) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
      expect(lm, `labels ${JSON.stringify(body)}`).not.toBeNull();
      expect(labels[lm![1]!], 'repeated label').toBeUndefined();
      labels[lm![1]!] = lm![2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(lm![0].length);
    }
    const family = [...families.keys()].find((f) => f === name || (families.get(f)!.type === 'summary' && (name === `${f}_sum` || name === `${f}_count`)));
    expect(family, `sample ${name} without a TYPE line before it`).toBe(current);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    const v = value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : value === 'NaN' ? NaN : Number(value);
    expect(Number.isNaN(v) && value !== 'NaN', `value ${value}`).toBe(false);
    samples.push({ name: name!, labels, value: v });
  }
  return { families, samples };
}

function seedTwin() {
  const clock = new VirtualClock(T0);
  const s = buildScenario('jvm-heap-regression', clock);
  s.twin.start();
  return { clock, ...s };
}

describe('renderExposition', () => {
  it('writes every family of the twin once, typed and documented, with the twin\'s values', async () => {
    const { clock, twin } = seedTwin();
    const collector = new TwinCollector(twin);
    collector.collect();
    await clock.advance(120_000);
    const text = renderExposition(collector.collect().samples);
    const parsed = parseExposition(text);
    expect([...parsed.families.keys()]).toEqual(TWIN_METRIC_FAMILIES.map((f) => f.name));
    for (const f of TWIN_METRIC_FAMILIES) expect(parsed.families.get(f.name)).toEqual({ type: f.type, help: f.help });
    const p99 = parsed.samples.find((s) => s.name === 'http_request_duration_seconds' && s.labels.deployment === 'checkout' && s.labels.quantile === '0.99')!;
    expect(p99.labels).toEqual({ deployment: 'checkout', namespace: 'acme-prod', quantile: '0.99', tenant: 'acme' });
    expect(p99.value).toBeCloseTo(twin.serviceMetrics('acme-prod', 'checkout').p99_ms / 1000, 12);
    const count = parsed.samples.find((s) => s.name === 'http_request_duration_seconds_count' && s.labels.deployment === 'checkout')!;
    expect(count.value / 120).toBeCloseTo(1600, -2); // two minutes of ~1,600 requests/s
    for (const s of parsed.samples) {
      expect(s.labels.namespace).toBeTruthy();
      expect(s.labels.tenant).toBeTruthy();
    }
  });

  it('escapes label values and help text, writes special floats as Go does, leaves unknown families untyped', () => {
    const text = renderExposition(
      [
        { labels: { __name__: 'kube_deployment_spec_replicas', namespace: 'a"b\\c\nd', tenant: 't' }, value: 3 },
        { labels: { __name__: 'custom_thing', x: '' }, value: NaN },
        { labels: { __name__: 'custom_thing', x: 'y' }, value: Infinity },
        { labels: { __name__: 'custom_thing', x: 'z' }, value: -Infinity },
        { labels: { __name__: 'custom_thing', x: 'w' }, value: 1e-7 },
      ],
      [{ name: 'kube_deployment_spec_replicas', type: 'gauge', help: 'back\\slash\nnewline', labels: [] }],
    );
    expect(text).toBe(
      [
        '# HELP kube_deployment_spec_replicas back\\\\slash\\nnewline',
        '# TYPE kube_deployment_spec_replicas gauge',
        'kube_deployment_spec_replicas{namespace="a\\"b\\\\c\\nd",tenant="t"} 3',
        '# TYPE custom_thing untyped',
        'custom_thing NaN',
        'custom_thing{x="y"} +Inf',
        'custom_thing{x="z"} -Inf',
        'custom_thing{x="w"} 1e-7',
        '',
      ].join('\n'),
    );
    const parsed = parseExposition(text);
    expect(parsed.samples[0]!.labels.namespace).toBe('a"b\\c\nd');
    expect(parsed.families.get('kube_deployment_spec_replicas')!.help).toBe('back\\slash\nnewline');
  });

  it('passes promtool check metrics (Prometheus\'s own parser and linter)', async () => {
    const promtool = requireBinary('promtool');
    const { clock, twin } = seedTwin();
    const sampler = startSampler(twin);
    await clock.advance(60_000);
    const text = renderExposition(sampler.store.latest()!.samples);
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(r.status).toBe(0);
    // And the checker does bite: a counter without _total is a lint problem.
    const bad = spawnSync(promtool, ['check', 'metrics'], { input: '# HELP x_seconds y\n# TYPE x_seconds counter\nx_seconds 1\n', encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  });
});

describe('GET /metrics', () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it('serves the exposition of the live twin with the 0.0.4 content type', async () => {
    const { twin } = seedTwin();
    const server = await startMetricsServer(twin);
    closers.push(server.close);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(EXPOSITION_CONTENT_TYPE);
    const parsed = parseExposition(await res.text());
    expect(parsed.samples.find((s) => s.name === 'kube_deployment_spec_replicas' && s.labels.deployment === 'checkout')!.value).toBe(8);
    twin.scale('acme-prod', 'checkout', 12);
    const again = parseExposition(await (await fetch(server.url)).text());
    expect(again.samples.find((s) => s.name === 'kube_deployment_spec_replicas' && s.labels.deployment === 'checkout')!.value).toBe(12);

    const head = await fetch(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
  });

  it('serves the newest scrape of a store, and mounts as a handler beside others', async () => {
    const { clock, twin } = seedTwin();
    const sampler = startSampler(twin);
    await clock.advance(30_000);
    let other = 0;
    const server = await serveHandlers([
      (req, res) => (req.url === '/healthz' ? (other++, res.end('ok'), true) : false),
      metricsHandler(sampler.store),
    ]);
    closers.push(server.close);
    const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(text).toBe(renderExposition(sampler.store.latest()!.samples));
    expect(await (await fetch(`${server.baseUrl}/healthz`)).text()).toBe('ok');
    expect(other).toBe(1);
  });
});
