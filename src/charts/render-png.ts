// Rasterises a chart's SVG to PNG on the server: resvg (Rust, prebuilt for each platform, no native
// build, no browser). Text is set in DejaVu Sans from the `dejavu-fonts-ttf` package, so a chart
// looks the same on a bare container as on a laptop; it never depends on the system's fonts.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { barChartSvg, type BarChartSpec } from './bar-chart.ts';
import { chartGridSvg, lineChartSvg, type LineChartSpec, type SvgChart } from './line-chart.ts';

const require = createRequire(import.meta.url);
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONTS = [join(FONT_DIR, 'DejaVuSans.ttf'), join(FONT_DIR, 'DejaVuSans-Bold.ttf')];

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    font: { fontFiles: FONTS, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    background: '#ffffff',
  });
  return resvg.render().asPng();
}

/** `lineChart({ series, bands, thresholds, title, … })` → PNG. */
export function lineChart(spec: LineChartSpec): Buffer {
  return svgToPng(lineChartSvg(spec).svg);
}

/** Several line charts in one PNG, `columns` wide. */
export function chartGrid(specs: readonly LineChartSpec[], columns: number): Buffer {
  const charts: SvgChart[] = specs.map((s) => lineChartSvg(s));
  return svgToPng(chartGridSvg(charts, columns).svg);
}

/** `barChart({ categories, series, thresholds, title })` → PNG. */
export function barChart(spec: BarChartSpec): Buffer {
  return svgToPng(barChartSvg(spec).svg);
}
