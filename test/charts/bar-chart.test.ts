// The grouped bar chart: a bar per value, heights in proportion, a missing value marked as missing
// (never drawn as a zero-height bar that reads as "instant"), the targets as dashed lines; the PNG is a PNG.
import { describe, expect, it } from 'vitest';
import { barChartSvg } from '../../src/charts/bar-chart.ts';
import { barChart } from '../../src/charts/render-png.ts';

const spec = {
  title: 'MTTD & MTTR',
  categories: ['jvm-heap-regression', 'quiet-day'],
  series: [
    { name: 'MTTD (s)', values: [30, null] },
    { name: 'MTTR (s)', values: [240, null] },
  ],
  thresholds: [{ value: 300, label: 'MTTR target 300 s' }],
  missingLabel: 'no incident',
};

describe('bar chart', () => {
  it('draws one bar per value, in proportion, and names a missing one instead of drawing it', () => {
    const { svg } = barChartSvg(spec);
    expect(svg).toContain('MTTD &amp; MTTR');
    const bars = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#(1f77b4|d62728)"/g)];
    // Two values, two bars; the legend's swatches are 12 px wide and not counted.
    const valueBars = bars.filter((b) => Number(b[2]) !== 12);
    expect(valueBars).toHaveLength(2);
    const [mttd, mttr] = valueBars.map((b) => Number(b[3]));
    expect(mttr! / mttd!).toBeCloseTo(8, 0);
    expect(svg.match(/no incident/g)).toHaveLength(2);
    expect(svg).toContain('MTTR target 300 s');
    expect(svg).toContain('stroke-dasharray="6 4"');
  });

  it('renders a PNG', () => {
    const png = barChart(spec);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(1000);
  });
});
