// A line chart as SVG: series over time (or any x), shaded bands (labelled anomaly windows, incident
// spans), horizontal thresholds, markers (detections), a step style for series that hold their value
// (replicas, alert state), and an optional right-hand axis for a second unit (an anomaly score beside
// the value it scores). Generic on purpose: the benchmarks and the Slack cockpit's incident charts
// use the same builder. Pure: spec in, SVG text out; rasterising is `render-png.ts`'s job.
import { formatNumber, formatTime, linearScale, niceDomain, niceTicks, timeTicks, type Scale } from './scale.ts';
import { document, line, path, rect, text } from './svg.ts';

export interface ChartSeries {
  name: string;
  /** Epoch milliseconds on a time axis, else any number; ascending. */
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
  /** Drawn as steps: the value holds until the next point (replicas, labels, alert state). */
  step?: boolean;
  /** Plotted against the right-hand axis. */
  axis?: 'left' | 'right';
  width?: number;
  dash?: string;
}

export interface ChartBand {
  from: number;
  to: number;
  color?: string;
  label?: string;
}

export interface ChartThreshold {
  value: number;
  label?: string;
  color?: string;
  axis?: 'left' | 'right';
}

export interface ChartMarker {
  x: number;
  y: number;
  color?: string;
  axis?: 'left' | 'right';
}

export interface AxisSpec {
  label?: string;
  min?: number;
  max?: number;
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  series: ChartSeries[];
  bands?: ChartBand[];
  thresholds?: ChartThreshold[];
  markers?: ChartMarker[];
  /** `time` defaults to true when the x values look like epoch milliseconds. */
  xAxis?: { label?: string; time?: boolean };
  yAxis?: AxisSpec;
  rightAxis?: AxisSpec;
  width?: number;
  height?: number;
  /** A legend under the title (default: when there is more than one series). */
  legend?: boolean;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf'];

export interface SvgChart {
  svg: string;
  width: number;
  height: number;
}

export function lineChartSvg(spec: LineChartSpec): SvgChart {
  const width = spec.width ?? 960;
  const height = spec.height ?? 360;
  const hasRight = spec.series.some((s) => s.axis === 'right') || spec.rightAxis !== undefined;
  const legend = spec.legend ?? spec.series.length > 1;
  const top = 28 + (spec.subtitle ? 16 : 0) + (legend ? 18 : 0);
  const margin = { top, right: hasRight ? 64 : 20, bottom: 40, left: 64 };
  const plot = { x: margin.left, y: margin.top, w: width - margin.left - margin.right, h: height - margin.top - margin.bottom };

  const xs = spec.series.flatMap((s) => (s.x.length ? [s.x[0]!, s.x[s.x.length - 1]!] : []));
  const xMin = Math.min(...xs, ...(spec.bands ?? []).map((b) => b.from));
  const xMax = Math.max(...xs, ...(spec.bands ?? []).map((b) => b.to));
  const time = spec.xAxis?.time ?? xMin > 1e11;
  const x = linearScale([xMin, xMax], [plot.x, plot.x + plot.w]);
  const yLeft = yScale(spec, 'left', plot);
  const yRight = hasRight ? yScale(spec, 'right', plot) : yLeft;
  const yOf = (axis: 'left' | 'right' | undefined) => (axis === 'right' ? yRight : yLeft);

  const parts: string[] = [];
  parts.push(text(margin.left, 18, spec.title, { size: 14, weight: 'bold' }));
  if (spec.subtitle) parts.push(text(margin.left, 34, spec.subtitle, { size: 11, fill: '#555' }));

  // Bands first, so lines stay visible over them.
  for (const b of spec.bands ?? []) {
    const x0 = Math.max(plot.x, x.at(b.from));
    const x1 = Math.min(plot.x + plot.w, x.at(b.to));
    parts.push(rect(x0, plot.y, Math.max(1, x1 - x0), plot.h, b.color ?? '#f2b134', 0.25));
    if (b.label) parts.push(text(x0 + 2, plot.y + 11, b.label, { size: 10, fill: '#8a5a00' }));
  }

  // Grid and axes.
  for (const t of niceTicks(yLeft.min, yLeft.max, 5)) {
    const py = yLeft.at(t);
    parts.push(line(plot.x, py, plot.x + plot.w, py, '#e6e6e6'));
    parts.push(text(plot.x - 6, py + 4, formatNumber(t), { size: 11, anchor: 'end', fill: '#444' }));
  }
  if (hasRight) {
    for (const t of niceTicks(yRight.min, yRight.max, 5)) {
      parts.push(text(plot.x + plot.w + 6, yRight.at(t) + 4, formatNumber(t), { size: 11, fill: '#444' }));
    }
  }
  const xTicks = time ? timeTicks(x.min, x.max, Math.max(2, Math.floor(plot.w / 110))) : { ticks: niceTicks(x.min, x.max, Math.max(2, Math.floor(plot.w / 90))), stepMs: 0 };
  for (const t of xTicks.ticks) {
    const pxX = x.at(t);
    parts.push(line(pxX, plot.y + plot.h, pxX, plot.y + plot.h + 4, '#888'));
    parts.push(text(pxX, plot.y + plot.h + 17, time ? formatTime(t, xTicks.stepMs) : formatNumber(t), { size: 11, anchor: 'middle', fill: '#444' }));
  }
  parts.push(line(plot.x, plot.y + plot.h, plot.x + plot.w, plot.y + plot.h, '#888'));
  parts.push(line(plot.x, plot.y, plot.x, plot.y + plot.h, '#888'));
  if (spec.xAxis?.label) parts.push(text(plot.x + plot.w / 2, height - 6, spec.xAxis.label, { size: 11, anchor: 'middle', fill: '#444' }));
  if (spec.yAxis?.label) parts.push(text(14, plot.y + plot.h / 2, spec.yAxis.label, { size: 11, anchor: 'middle', fill: '#444', rotate: -90 }));
  if (hasRight && spec.rightAxis?.label) parts.push(text(width - 10, plot.y + plot.h / 2, spec.rightAxis.label, { size: 11, anchor: 'middle', fill: '#444', rotate: 90 }));

  for (const th of spec.thresholds ?? []) {
    const py = yOf(th.axis).at(th.value);
    parts.push(line(plot.x, py, plot.x + plot.w, py, th.color ?? '#d62728', 1, '6 4'));
    if (th.label) parts.push(text(plot.x + plot.w - 4, py - 4, th.label, { size: 10, anchor: 'end', fill: th.color ?? '#d62728' }));
  }

  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    const pts = pixelPoints(s, x, yOf(s.axis), plot.w);
    parts.push(path(pts, color, s.width ?? 1.5, s.dash));
  });

  for (const m of spec.markers ?? []) {
    const cx = x.at(m.x);
    const cy = Math.min(plot.y + plot.h, Math.max(plot.y, yOf(m.axis).at(m.y)));
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="4" fill="none" stroke="${m.color ?? '#d62728'}" stroke-width="2"/>`);
  }

  if (legend) {
    let lx = margin.left;
    const ly = top - 10;
    spec.series.forEach((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length]!;
      parts.push(line(lx, ly - 4, lx + 18, ly - 4, color, 3, s.dash));
      parts.push(text(lx + 22, ly, s.name, { size: 11, fill: '#333' }));
      lx += 30 + s.name.length * 6.5;
    });
  }
  return { svg: document(width, height, parts.join('')), width, height };
}

function yScale(spec: LineChartSpec, axis: 'left' | 'right', plot: { y: number; h: number }): Scale {
  const opts = axis === 'left' ? spec.yAxis : spec.rightAxis;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of spec.series) {
    if ((s.axis ?? 'left') !== axis) continue;
    for (let i = 0; i < s.y.length; i++) {
      const v = s.y[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  for (const t of spec.thresholds ?? []) {
    if ((t.axis ?? 'left') !== axis) continue;
    lo = Math.min(lo, t.value);
    hi = Math.max(hi, t.value);
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  const [dMin, dMax] = niceDomain(opts?.min ?? lo, opts?.max ?? hi);
  return linearScale([opts?.min ?? dMin, opts?.max ?? dMax], [plot.y + plot.h, plot.y]);
}

/**
 * Pixel points of a series. A long series is reduced to each pixel column's first, lowest, highest
 * and last values, so a 100,000-point series draws as fast as a 1,000-point one and no spike is lost.
 */
function pixelPoints(s: ChartSeries, x: Scale, y: Scale, plotWidth: number): Array<[number, number]> {
  const n = Math.min(s.x.length, s.y.length);
  const out: Array<[number, number]> = [];
  if (n <= plotWidth * 3) {
    for (let i = 0; i < n; i++) {
      const px = x.at(s.x[i]!);
      const py = y.at(s.y[i]!);
      if (s.step && i > 0) out.push([px, out[out.length - 1]![1]]);
      out.push([px, py]);
    }
    return out;
  }
  let col = NaN;
  let first = 0;
  let lo = 0;
  let hi = 0;
  let last = 0;
  const flush = () => {
    if (Number.isNaN(col)) return;
    const order = lo < hi ? [first, lo, hi, last] : [first, hi, lo, last];
    for (const i of order) out.push([x.at(s.x[i]!), y.at(s.y[i]!)]);
  };
  for (let i = 0; i < n; i++) {
    const c = Math.floor(x.at(s.x[i]!));
    if (c !== col) {
      flush();
      col = c;
      first = lo = hi = last = i;
    } else {
      last = i;
      if (s.y[i]! < s.y[lo]!) lo = i;
      if (s.y[i]! > s.y[hi]!) hi = i;
    }
  }
  flush();
  return out;
}

/** Several charts in one picture, `columns` wide, each at its own spec's size. */
export function chartGridSvg(charts: readonly SvgChart[], columns: number): SvgChart {
  const cols = Math.max(1, Math.min(columns, charts.length));
  const cellW = Math.max(...charts.map((c) => c.width));
  const cellH = Math.max(...charts.map((c) => c.height));
  const rows = Math.ceil(charts.length / cols);
  const width = cellW * cols;
  const height = cellH * rows;
  const body = charts
    .map((c, i) => {
      const inner = c.svg.replace(/^<svg[^>]*>/, '').replace(/<\/svg>$/, '');
      return `<svg x="${(i % cols) * cellW}" y="${Math.floor(i / cols) * cellH}" width="${c.width}" height="${c.height}">${inner}</svg>`;
    })
    .join('');
  return { svg: document(width, height, body), width, height };
}
