// The chart module: what a reader needs is in the SVG (title, bands, threshold, every spike of a
// long series), and the PNG is a real PNG of the requested size.
import { describe, expect, it } from 'vitest';
import { chartGridSvg, lineChartSvg } from '../../src/charts/line-chart.ts';
import { lineChart } from '../../src/charts/render-png.ts';
import { niceTicks, timeTicks } from '../../src/charts/scale.ts';

const T0 = Date.UTC(2026, 0, 1);
const spec = {
  title: 'p99 <latency> & score',
  series: [{ name: 'p99', x: [T0, T0 + 60_000, T0 + 120_000], y: [100, 400, 120] }],
  bands: [{ from: T0 + 30_000, to: T0 + 90_000, label: 'incident' }],
  thresholds: [{ value: 300, label: 'SLO 300 ms' }],
};

describe('line chart', () => {
  it('escapes the title, draws the band, the threshold and the line', () => {
    const { svg } = lineChartSvg(spec);
    expect(svg).toContain('p99 &lt;latency&gt; &amp; score');
    expect(svg).toContain('incident');
    expect(svg).toContain('SLO 300 ms');
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg.match(/<path /g)).toHaveLength(1);
  });

  it('keeps a one-sample spike in a series far longer than the chart is wide', () => {
    const n = 100_000;
    const x = Array.from({ length: n }, (_, i) => T0 + i * 1000);
    const y = Array.from({ length: n }, (_, i) => (i === 54_321 ? 1000 : 1));
    const { svg } = lineChartSvg({ title: 't', series: [{ name: 'v', x, y }], width: 600 });
    const d = /d="([^"]+)"/.exec(svg)![1]!;
    const points = d.split(/[ML]/).filter(Boolean).map((p) => p.split(' ').map(Number));
    expect(points.length).toBeLessThan(4 * 600);
    // The spike is the only point drawn at the top of the plot.
    const top = Math.min(...points.map((p) => p[1]!));
    expect(points.filter((p) => p[1] === top)).toHaveLength(1);
  });

  it('draws a step series as steps', () => {
    const { svg } = lineChartSvg({ title: 'replicas', series: [{ name: 'r', x: [0, 10, 20], y: [2, 4, 4], step: true }], xAxis: { time: false } });
    const d = /d="([^"]+)"/.exec(svg)![1]!;
    expect(d.split('L')).toHaveLength(5);
  });

  it('renders a PNG of the requested size', () => {
    const png = lineChart({ ...spec, width: 400, height: 200 });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(400);
    expect(png.readUInt32BE(20)).toBe(200);
  });

  it('lays charts out in a grid', () => {
    const a = lineChartSvg({ ...spec, width: 300, height: 100 });
    expect(chartGridSvg([a, a, a], 2)).toMatchObject({ width: 600, height: 200 });
  });

  it('ticks at 1, 2, 5 × 10^k and at whole hours', () => {
    expect(niceTicks(0, 97, 5)).toEqual([0, 20, 40, 60, 80]);
    expect(timeTicks(T0, T0 + 6 * 3_600_000, 6)).toMatchObject({ stepMs: 3_600_000 });
  });
});
