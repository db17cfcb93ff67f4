// A grouped bar chart as SVG: one group per category (a scenario), one bar per series in each group
// (MTTD, MTTR), horizontal thresholds (the targets), and a mark for a value that is missing (not
// detected, never restored) rather than a bar of zero, which would read as "instant". Pure: spec in,
// SVG text out; rasterising is render-png.ts's job.
import { formatNumber, linearScale, niceDomain, niceTicks } from './scale.ts';
import { document, line, rect, text } from './svg.ts';
import { PALETTE, type ChartThreshold, type SvgChart } from './line-chart.ts';

export interface BarSeries {
  name: string;
  /** One value per category, in order; null: no value (drawn as a labelled gap, never as zero). */
  values: ReadonlyArray<number | null>;
  color?: string;
}

export interface BarChartSpec {
  title: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  yLabel?: string;
  thresholds?: readonly ChartThreshold[];
  /** What a missing value means, printed in its place ("n/a" by default). */
  missingLabel?: string;
  width?: number;
  height?: number;
}

export function barChartSvg(spec: BarChartSpec): SvgChart {
  const width = spec.width ?? Math.max(640, 90 + spec.categories.length * (24 + 22 * spec.series.length));
  const height = spec.height ?? 420;
  const m = { top: 48, right: 24, bottom: 110, left: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const values = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  const top = Math.max(1, ...values, ...(spec.thresholds ?? []).map((t) => t.value));
  const domain = niceDomain(0, top * 1.08);
  const scale = linearScale(domain, [m.top + plotH, m.top]);
  const y = (v: number) => scale.at(v);
  const parts: string[] = [text(width / 2, 22, spec.title, { size: 15, anchor: 'middle', weight: 'bold' })];

  for (const t of niceTicks(domain[0], domain[1])) {
    parts.push(line(m.left, y(t), m.left + plotW, y(t), '#e6e6e6'));
    parts.push(text(m.left - 6, y(t) + 4, formatNumber(t), { size: 11, anchor: 'end', fill: '#555' }));
  }
  if (spec.yLabel) parts.push(text(16, m.top + plotH / 2, spec.yLabel, { size: 12, anchor: 'middle', rotate: -90, fill: '#333' }));

  const groupW = plotW / Math.max(1, spec.categories.length);
  const barW = Math.min(28, (groupW * 0.8) / Math.max(1, spec.series.length));
  spec.categories.forEach((c, ci) => {
    const x0 = m.left + ci * groupW + (groupW - barW * spec.series.length) / 2;
    spec.series.forEach((s, si) => {
      const v = s.values[ci] ?? null;
      const x = x0 + si * barW;
      const color = s.color ?? PALETTE[si % PALETTE.length]!;
      if (v === null || !Number.isFinite(v)) {
        parts.push(text(x + barW / 2, y(0) - 4, spec.missingLabel ?? 'n/a', { size: 9, anchor: 'middle', fill: color, rotate: -90 }));
        return;
      }
      parts.push(rect(x + 1, y(v), barW - 2, y(0) - y(v), color));
      parts.push(text(x + barW / 2, y(v) - 3, String(Math.round(v)), { size: 9, anchor: 'middle', fill: '#333' }));
    });
    const cx = m.left + ci * groupW + groupW / 2;
    parts.push(text(cx, m.top + plotH + 14, c, { size: 11, anchor: 'end', rotate: -35 }));
  });
  parts.push(line(m.left, y(0), m.left + plotW, y(0), '#333'));

  for (const t of spec.thresholds ?? []) {
    const color = t.color ?? '#888';
    parts.push(line(m.left, y(t.value), m.left + plotW, y(t.value), color, 1.2, '6 4'));
    // On a light backing, so a bar behind it does not hide it.
    if (t.label) {
      const w = t.label.length * 6 + 6;
      parts.push(rect(m.left + plotW - w - 2, y(t.value) - 15, w, 13, '#ffffff', 0.85));
      parts.push(text(m.left + plotW - 4, y(t.value) - 5, t.label, { size: 10, anchor: 'end', fill: color }));
    }
  }

  // Legend, top right.
  let lx = m.left;
  spec.series.forEach((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length]!;
    parts.push(rect(lx, 32, 12, 10, color));
    parts.push(text(lx + 16, 41, s.name, { size: 11 }));
    lx += 26 + s.name.length * 7;
  });
  return { svg: document(width, height, parts.join('')), width, height };
}
