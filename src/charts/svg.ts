// The few SVG pieces every chart is made of, as strings: text escaped, numbers rounded so files stay
// small and stable. It never lays anything out; the chart builders decide where things go.

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Pixel coordinates at a tenth of a pixel: more is invisible, less makes lines visibly jagged. */
export const px = (v: number): string => String(Math.round(v * 10) / 10);

export function text(x: number, y: number, s: string, attrs: { size?: number; anchor?: 'start' | 'middle' | 'end'; fill?: string; weight?: 'bold'; rotate?: number } = {}): string {
  const rot = attrs.rotate ? ` transform="rotate(${attrs.rotate} ${px(x)} ${px(y)})"` : '';
  return `<text x="${px(x)}" y="${px(y)}" font-size="${attrs.size ?? 12}" text-anchor="${attrs.anchor ?? 'start'}" fill="${attrs.fill ?? '#222'}"${attrs.weight ? ` font-weight="${attrs.weight}"` : ''}${rot}>${esc(s)}</text>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1, dash?: string): string {
  return `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" stroke="${stroke}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

export function rect(x: number, y: number, w: number, h: number, fill: string, opacity = 1): string {
  return `<rect x="${px(x)}" y="${px(y)}" width="${px(Math.max(0, w))}" height="${px(Math.max(0, h))}" fill="${fill}"${opacity < 1 ? ` fill-opacity="${opacity}"` : ''}/>`;
}

/** A polyline through pixel points; NaN breaks the line (a gap in the data stays a gap). */
export function path(points: ReadonlyArray<readonly [number, number]>, stroke: string, width = 1.5, dash?: string): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px(x)} ${px(y)}`;
    pen = true;
  }
  if (!d) return '';
  return `<path d="${d}" fill="none" stroke="${stroke}" stroke-width="${width}" stroke-linejoin="round"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

export function document(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif">${rect(0, 0, width, height, '#fff')}${body}</svg>`;
}
